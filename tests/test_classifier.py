"""SeqAttentionClassifier: learning, labels, weights, training options, sklearn tooling."""

import pickle

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

# Six units: the two directions' 12 split into n_heads=3 (test_attention_layer_maps).
TINY = tiny(dense_units=6, lstm_units=6, early_stopping=False)


def _time_average(X):
    real = ~(X == 0).all(axis=-1)
    return X.sum(axis=1) / real.sum(axis=1, keepdims=True)


@pytest.mark.slow
def test_learns_the_order_task_that_an_order_blind_model_cannot(seq_data):
    X, y, _ = seq_data
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.33, stratify=y, random_state=0)
    clf = SeqAttentionClassifier(
        dense_units=16, lstm_units=16, lr=5e-3, max_epochs=40, n_iter_no_change=6, random_state=0
    ).fit(X_tr, y_tr)
    assert balanced_accuracy_score(y_te, clf.predict(X_te)) >= 0.95
    baseline = LogisticRegression(class_weight="balanced").fit(_time_average(X_tr), y_tr)
    assert balanced_accuracy_score(y_te, baseline.predict(_time_average(X_te))) < 0.65


@pytest.mark.slow
def test_class_weight_balanced_raises_minority_recall():
    X, y = make_sequence_classification(
        n_samples=300,
        n_timesteps=20,
        n_features=4,
        weights=[0.1, 0.9],
        signal=1.0,
        event_length=3,
        random_state=3,
    )
    recalls = {}
    for class_weight in (None, "balanced"):
        # The dense front end: in 12 epochs it misses the 10% minority unless weighted (the
        # plain stack that "auto" gives 4 features finds it either way).
        clf = SeqAttentionClassifier(
            n_conv_layers=0,
            dense_units=8,
            lstm_units=8,
            max_epochs=12,
            early_stopping=False,
            class_weight=class_weight,
            random_state=0,
        ).fit(X, y)
        recalls[class_weight] = recall_score(y, clf.predict(X), pos_label=0)
    assert recalls["balanced"] > recalls[None] + 0.3
    assert_allclose(clf.class_weight_, [300 / (2 * 30), 300 / (2 * 270)])


def test_class_weight_dict_is_keyed_by_original_labels(small_data):
    X, y = small_data
    labels = np.array(["minor", "major"])[y]
    clf = SeqAttentionClassifier(**TINY, class_weight={"major": 1.0, "minor": 3.0}).fit(X, labels)
    assert_array_equal(clf.classes_, ["major", "minor"])
    assert_allclose(clf.class_weight_, [1.0, 3.0])


@pytest.mark.parametrize(
    "labels", [np.array(["cat", "dog"]), np.array([-3, 7]), np.array([False, True])]
)
def test_any_binary_labels(small_data, labels):
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY).fit(X, labels[y])
    assert_array_equal(clf.classes_, np.sort(labels))
    assert set(clf.predict(X)) <= set(labels)
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, labels[y]) == np.mean(clf.predict(X) == labels[y])


def test_multiclass_labels_and_probabilities():
    X, y = make_sequence_classification(
        n_samples=90, n_timesteps=24, n_features=3, n_classes=3, event_length=2, random_state=0
    )
    names = np.array(["a", "b", "c"])[y]
    clf = SeqAttentionClassifier(**TINY).fit(X, names)
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    assert proba.dtype == np.float64
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])


def test_pickle_round_trip_gives_identical_probabilities(small_data):
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY, n_attention_layers=1, n_heads=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.attention_weights(X), clf.attention_weights(X))


def test_same_random_state_gives_identical_probabilities_and_leaves_global_rng_alone(small_data):
    X, y = small_data
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global RNG)
    torch_state = torch.get_rng_state().clone()
    params = {**TINY, "early_stopping": True, "validation_fraction": 0.2, "dropout": 0.3}
    first = SeqAttentionClassifier(**params).fit(X, y).predict_proba(X)
    second = SeqAttentionClassifier(**params).fit(X, y).predict_proba(X)
    SeqAttentionClassifier(**{**params, "random_state": None}).fit(X, y)
    assert_array_equal(first, second)
    assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_state)
    other = SeqAttentionClassifier(**{**params, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.allclose(first, other)


def test_clone_and_grid_search_with_stratified_folds(small_data):
    X, y = small_data
    fitted = SeqAttentionClassifier(**TINY).fit(X, y)
    unfitted = clone(fitted)
    assert not hasattr(unfitted, "net_") and unfitted.get_params() == fitted.get_params()
    search = GridSearchCV(
        SeqAttentionClassifier(**TINY),
        {"lstm_units": [4, 6], "pooling": ["attention", "mean"]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.isfinite(scores).all()
    best = search.best_estimator_
    # Refitted on all the data with the winning parameters.
    assert {k: best.get_params()[k] for k in search.best_params_} == search.best_params_
    assert best.net_.module_.pooling == search.best_params_["pooling"]
    assert best.net_.module_.lstm.hidden_size == search.best_params_["lstm_units"]
    assert best.predict(X).shape == (len(X),)


def test_set_params_then_refit(small_data):
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY).fit(X, y)
    clf.set_params(pooling="max", n_lstm_layers=2, bidirectional=False).fit(X, y)
    assert clf.net_.module_.pooling == "max"
    assert len(clf.net_.module_.lstm.forward_layers) == 2
    assert not clf.net_.module_.lstm.backward_layers


def test_history_early_stopping_and_best_weights(seq_data):
    from skorch.callbacks import Callback

    class KeepValidationSet(Callback):
        # The fitted net keeps no data; this callback keeps what skorch validated on.
        def on_epoch_end(self, net, dataset_valid=None, **kwargs):
            self.dataset_valid_ = dataset_valid

    X, y, _ = seq_data
    keep = KeepValidationSet()
    clf = SeqAttentionClassifier(
        **tiny(
            dense_units=8,
            lstm_units=8,
            lr=0.02,
            max_epochs=60,
            n_iter_no_change=3,
            early_stopping=True,
            callbacks=[("keep", keep)],
        )
    ).fit(X, y)
    history = clf.history_
    assert clf.n_iter_ == len(history) < 60
    assert {"train_loss", "valid_loss", "valid_score", "dur"} <= set(history[-1])
    valid_loss = np.array(history[:, "valid_loss"])
    scores = np.array(history[:, "valid_score"])
    assert ((scores >= 0) & (scores <= 1)).all()
    # Stopped once neither the loss nor the score had improved for 3 epochs.
    best_loss = np.minimum.accumulate(valid_loss)
    best_score = np.maximum.accumulate(scores)
    improved = np.r_[
        True, (valid_loss[1:] < best_loss[:-1] * (1 - 1e-4)) | (scores[1:] > best_score[:-1])
    ]
    assert not improved[-3:].any() and improved[-4]
    # The restored weights are those of the best-score epoch (ties: lower loss).
    best = max(range(len(scores)), key=lambda i: (scores[i], -valid_loss[i]))
    net = clf.net_
    valid_ds = keep.dataset_valid_
    losses, sizes = [], []
    for batch in net.get_iterator(valid_ds):
        losses.append(net.validation_step(batch)["loss"].item())
        sizes.append(len(batch[1]))
    assert np.average(losses, weights=sizes) == pytest.approx(valid_loss[best], rel=1e-4)


def test_warm_start_continues_training(small_data):
    X, y = small_data
    clf = SeqAttentionClassifier(**{**TINY, "warm_start": True}).fit(X, y)
    weights = clf.net_.module_.head[1].weight.detach().clone()
    clf.fit(X, y)
    assert len(clf.history_) == 4 and clf.n_iter_ == 2
    assert not torch.equal(weights, clf.net_.module_.head[1].weight)
    clf.set_params(max_epochs=1, lr=1e-4).fit(X, y)  # new loop settings are honoured
    assert clf.n_iter_ == 1 and len(clf.history_) == 5
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 1e-4
    with pytest.raises(ValueError, match="warm_start=True needs the classes"):
        clf.fit(X, np.where(y == 1, 5, y))


def test_sample_weight_zero_on_a_class_removes_it_from_training(small_data):
    X, y = small_data
    weights = (y == 1).astype(float)
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 6, "lr": 0.02})
    clf.fit(X, y, sample_weight=weights)
    assert_array_equal(clf.predict(X), 1)


def test_plateau_schedule_lowers_a_stalling_learning_rate(small_data):
    X, y = small_data
    # A learning rate far too high makes the loss stall, which "plateau" answers.
    params = {**TINY, "lr": 0.5, "max_epochs": 8, "n_iter_no_change": 2}
    clf = SeqAttentionClassifier(**params, lr_schedule="plateau").fit(X, y)
    rates = [group["lr"] for group in clf.net_.optimizer_.param_groups]
    assert rates[0] < 0.5 * 0.9


def test_cosine_schedule_follows_the_cosine_over_max_epochs(small_data):
    X, y = small_data
    params = {**TINY, "lr": 0.01, "max_epochs": 6, "early_stopping": False}
    clf = SeqAttentionClassifier(**params, lr_schedule="cosine").fit(X, y)
    expected = 0.01 * (1 + np.cos(np.pi * np.arange(6) / 6)) / 2
    np.testing.assert_allclose(clf.history_[:, "event_lr"], expected, rtol=1e-6)


def test_extra_skorch_callbacks_run_and_verbose_prints_the_epoch_table(small_data, capsys):
    X, y = small_data

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    clf = SeqAttentionClassifier(**TINY, callbacks=[CountEpochs()], verbose=1).fit(X, y)
    assert dict(clf.net_.callbacks_)["user_0"].epochs_ == 2
    assert "train_loss" in capsys.readouterr().out


def test_device_auto_and_missing_cuda(small_data):
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY, device="auto").fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(clf.net_.module_.parameters()).device.type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            SeqAttentionClassifier(**TINY, device="cuda").fit(X, y)


def test_bf16_autocast_trains_and_predicts(small_data):
    X, y = small_data
    params = {**TINY, "early_stopping": True, "validation_fraction": 0.2}  # scores bf16 output
    clf = SeqAttentionClassifier(**params, autocast=True).fit(X, y)
    assert np.isfinite(clf.history_[:, "valid_score"]).all()
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    assert_allclose(proba.sum(1), 1.0)


@pytest.mark.parametrize("native", [True, False])
def test_autocast_auto_follows_native_bf16_of_the_cpu(small_data, monkeypatch, native):
    import sklearn_seqattn._params as params_code

    monkeypatch.setattr(params_code, "cpu_has_native_bf16", lambda: native)
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY, autocast="auto").fit(X, y)
    assert clf.net_.autocast is native
    assert clf.get_params()["autocast"] == "auto"  # the parameter is left as given
    calls = []
    real = params_code.resolve_autocast
    monkeypatch.setattr(
        "sklearn_seqattn._training.resolve_autocast",
        lambda a, d: calls.append((a, d.type)) or real(a, d),
    )
    clf.predict_proba(X[:3])
    assert calls == [("auto", "cpu")]


@pytest.mark.parametrize("capability, expected", [((7, 5), False), ((8, 0), True), ((9, 0), True)])
def test_autocast_auto_on_cuda_needs_compute_capability_8(monkeypatch, capability, expected):
    from sklearn_seqattn._params import resolve_autocast

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert resolve_autocast("auto", "cuda") is expected
    assert resolve_autocast(False, "cuda") is False and resolve_autocast(True, "cpu") is True


def test_attention_layer_maps(small_data):
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY, n_attention_layers=2, n_heads=3).fit(X, y)
    weights, maps = clf.attention_weights(X, return_layer_maps=True)
    real = ~(X == 0).all(axis=-1)
    assert len(maps) == 2 and maps[0].shape == (len(X), X.shape[1], X.shape[1])
    for layer_map in maps:
        pairs = real[:, :, None] & real[:, None, :]
        assert_array_equal(layer_map[~pairs], 0)
        assert_allclose(layer_map.sum(axis=2)[real], 1.0, atol=1e-5)
    assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


def test_verbose_shows_a_progress_bar_and_the_epoch_table(small_data, capsys):
    X, y = small_data
    SeqAttentionClassifier(**{**TINY, "early_stopping": True}, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert "it/s" in captured.err or "s/it" in captured.err  # tqdm's bar
    assert "valid_score" in captured.out and "train_loss" in captured.out
    SeqAttentionClassifier(**TINY, verbose=0).fit(X, y)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
