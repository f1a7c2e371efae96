"""Validation the user controls: their own validation set, or a split of whole groups."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_array_equal
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier

TINY = tiny(dense_units=6, lstm_units=6, n_init=1)


class _RecordSplit(Callback):
    """Keeps the lengths seen in training and in validation batches."""

    def initialize(self):
        self.train, self.valid = [], []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        X, _ = batch
        (self.train if training else self.valid).append(X["x"][:, :, 0].sum(dim=1).numpy())


def _tagged(X):
    """A copy of X whose first feature's sum identifies each sequence."""
    X = X.copy()
    X[:, 0, 0] = np.arange(len(X)) * 1000.0 + 500.0
    return X


def test_user_validation_set_is_used_and_everything_else_trained_on(seq_data):
    X, y, _ = seq_data
    record = _RecordSplit()
    clf = SeqAttentionClassifier(**TINY, standardize=False, callbacks=[record])
    clf.fit(X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    n_train = sum(len(b) for b in record.train) // 2  # two epochs
    n_valid = sum(len(b) for b in record.valid) // 2
    assert (n_train, n_valid) == (300, 60)
    assert clf.fit_diagnosis_.basis == "validation" and clf.fit_diagnosis_.n_samples == 60
    assert "valid_loss" in clf.history_[-1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X_val="X"), "X_val is passed to fit, but y_val is not"),
        (dict(y_val="y"), "y_val is passed to fit, but X_val is not"),
    ],
)
def test_validation_set_needs_both_parts(seq_data, kwargs, match):
    X, y, _ = seq_data
    values = {"X": X[300:], "y": y[300:]}
    kwargs = {k: values[v] for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        SeqAttentionClassifier(**TINY).fit(X[:300], y[:300], **kwargs)


def test_validation_set_errors(seq_data):
    X, y, _ = seq_data
    for off in (False, np.False_):
        with pytest.raises(ValueError, match="early_stopping=False"):
            SeqAttentionClassifier(**TINY, early_stopping=off).fit(
                X[:300], y[:300], X_val=X[300:], y_val=y[300:]
            )
    with pytest.raises(ValueError, match=r"y_val holds classes that y does not: \[5\]"):
        SeqAttentionClassifier(**TINY).fit(X[:300], y[:300], X_val=X[300:], y_val=y[300:] * 5)
    with pytest.raises(ValueError, match="X_val has 5 features per step"):
        SeqAttentionClassifier(**TINY).fit(X[:300], y[:300], X_val=X[300:, :, :5], y_val=y[300:])


def test_group_split_never_puts_a_group_on_both_sides(seq_data):
    X, y, _ = seq_data
    groups = np.arange(len(X)) % 24  # 24 "speakers"
    X = _tagged(X)
    record = _RecordSplit()
    clf = SeqAttentionClassifier(**TINY, standardize=False, early_stopping=True, callbacks=[record])
    clf.fit(X, y, groups=groups)
    ids = lambda batches: {int(v // 1000) for b in batches for v in b}  # noqa: E731
    train_ids, valid_ids = ids(record.train), ids(record.valid)
    assert train_ids and valid_ids and not train_ids & valid_ids
    assert not set(groups[list(train_ids)]) & set(groups[list(valid_ids)])
    assert_array_equal(sorted(train_ids | valid_ids), np.arange(len(X)))


def test_groups_must_fit_x(seq_data):
    X, y, _ = seq_data
    with pytest.raises(ValueError, match="groups must have one entry per sequence"):
        SeqAttentionClassifier(**TINY).fit(X, y, groups=np.zeros(3))  # checked with no split
    with pytest.raises(ValueError, match="a single group"):
        SeqAttentionClassifier(**TINY, early_stopping=True).fit(X, y, groups=np.zeros(len(X)))


def test_sampler_resamples_only_the_training_part(seq_data):
    from imblearn.over_sampling import SMOTE, RandomOverSampler

    X, y, _ = seq_data
    X = _tagged(X)
    record = _RecordSplit()
    clf = SeqAttentionClassifier(
        **TINY,
        standardize=False,
        early_stopping=True,
        sampler=RandomOverSampler(),
        callbacks=[record],
    )
    clf.fit(X, y)
    ids = lambda batches: [int(v // 1000) for b in batches for v in b]  # noqa: E731
    train_ids, valid_ids = ids(record.train), set(ids(record.valid))
    assert valid_ids and not set(train_ids) & valid_ids  # no copy of a validation sequence
    assert len(valid_ids) == 36  # 10% of 360 held out, before resampling
    training = np.setdiff1d(np.arange(len(X)), list(valid_ids))
    majority = int((y[training] == 1).sum())
    assert len(train_ids) // 2 == 2 * majority  # per epoch: both classes at the majority count
    smote = SeqAttentionClassifier(**TINY, sampler=SMOTE(k_neighbors=3)).fit(X, y)
    assert smote.predict_proba(X).shape == (len(X), 2)


def test_sampler_must_be_a_sampler(seq_data):
    X, y, _ = seq_data
    with pytest.raises(TypeError, match="sampler must be None or an imbalanced-learn sampler"):
        SeqAttentionClassifier(**TINY, sampler="smote").fit(X, y)


def _has_validation(clf) -> bool:
    return "valid_loss" in clf.history_[-1]


@pytest.mark.parametrize(
    "n_samples, params, expected",
    [
        (490, {}, False),  # a split of 49 samples: too small to be worth holding out
        (500, {}, True),  # 50 samples
        (250, {"validation_fraction": 0.2}, True),
        (60, {"n_init": 2}, True),  # n_init keeps the best on the split
        (60, {"decision_threshold": "auto"}, True),  # chosen on the split
        (300, {"early_stopping": False}, False),
        (60, {"early_stopping": True}, True),
    ],
)
def test_auto_early_stopping_holds_out_a_split_only_when_it_can_judge(n_samples, params, expected):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 6, 4)).astype(np.float32)
    y = np.arange(n_samples) % 2
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1, **params}).fit(X, y)
    assert _has_validation(clf) is expected
    seen = clf.history_[-1]["batches"]
    n_trained = sum(b["train_batch_size"] for b in seen if "train_batch_size" in b)
    assert (n_trained == n_samples) is not expected  # without a split, all samples train


def test_early_stopping_rejects_other_values(seq_data):
    X, y, _ = seq_data
    with pytest.raises(TypeError, match="early_stopping must be True, False or 'auto'"):
        SeqAttentionClassifier(**TINY, early_stopping="yes").fit(X, y)
