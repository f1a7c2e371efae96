"""Settings "auto" resolves by the size of the training set (batch size, patience)."""

import numpy as np
import pytest
from _helpers import tiny

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._params import (
    AUTO_LARGE_FIT,
    AUTO_LARGE_PATIENCE,
    AUTO_PATIENCE,
    resolve_batch_size,
    resolve_n_iter_no_change,
)


@pytest.mark.parametrize(
    ("n_train", "batch_size", "patience"),
    [
        (100, 8, AUTO_PATIENCE),
        (1024, 64, AUTO_PATIENCE),
        (AUTO_LARGE_FIT - 1, 64, AUTO_PATIENCE),
        (AUTO_LARGE_FIT, 64, AUTO_LARGE_PATIENCE),
        (20_000, 64, AUTO_LARGE_PATIENCE),
    ],
)
def test_auto_choices_by_training_set_size(n_train, batch_size, patience):
    assert resolve_batch_size("auto", n_train) == batch_size
    assert resolve_n_iter_no_change("auto", n_train) == patience
    # Explicit settings are kept, whatever the size.
    assert resolve_batch_size(32, n_train) == 32
    assert resolve_n_iter_no_change(7, n_train) == 7


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6, 2)).astype(np.float32)
    y = (X[:, :3, 0].sum(axis=1) > X[:, 3:, 0].sum(axis=1)).astype(int)
    return X, y


def _patience(clf):
    return dict(clf.net_.callbacks_)["early_stopping"].patience


def test_a_large_fit_resolves_and_uses_the_shorter_patience():
    # 2,276 sequences: 2,048 after the 10% validation split.
    X, y = _data(int(np.ceil(AUTO_LARGE_FIT / 0.9)))
    clf = SeqAttentionClassifier(**tiny(max_epochs=1)).fit(X, y)
    assert clf.batch_size_ == 64
    assert clf.n_iter_no_change_ == _patience(clf) == AUTO_LARGE_PATIENCE


def test_a_small_fit_and_explicit_settings_keep_theirs():
    X, y = _data(400)
    clf = SeqAttentionClassifier(**tiny(max_epochs=1, early_stopping=True)).fit(X, y)
    assert clf.n_iter_no_change_ == _patience(clf) == AUTO_PATIENCE
    clf.set_params(n_iter_no_change=3, batch_size=16).fit(X, y)
    assert clf.n_iter_no_change_ == _patience(clf) == 3
    assert clf.batch_size_ == 16


def test_bad_patience_is_refused():
    X, y = _data(60)
    with pytest.raises(ValueError, match="n_iter_no_change must be 'auto' or an int >= 1"):
        SeqAttentionClassifier(**tiny(n_iter_no_change="soon")).fit(X, y)
    with pytest.raises(ValueError, match="n_iter_no_change must be >= 1, got 0"):
        SeqAttentionClassifier(**tiny(n_iter_no_change=0)).fit(X, y)
