"""Settings "auto" resolves by the size of the training set (batch size, patience, tol)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from _helpers import tiny
from skorch.history import History

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._params import (
    AUTO_LARGE_FIT,
    AUTO_LARGE_PATIENCE,
    AUTO_LARGE_TOL,
    AUTO_PATIENCE,
    AUTO_SPLIT_PATIENCE,
    resolve_batch_size,
    resolve_n_iter_no_change,
    resolve_tol,
)
from sklearn_seqattn._stopping import LossOrScoreStopping


@pytest.mark.parametrize(
    ("n_train", "batch_size", "patience", "tol"),
    [
        (100, 8, AUTO_SPLIT_PATIENCE, 0.0),
        (1024, 64, AUTO_SPLIT_PATIENCE, 0.0),
        (AUTO_LARGE_FIT - 1, 64, AUTO_SPLIT_PATIENCE, 0.0),
        (AUTO_LARGE_FIT, 64, AUTO_LARGE_PATIENCE, AUTO_LARGE_TOL),
        (20_000, 64, AUTO_LARGE_PATIENCE, AUTO_LARGE_TOL),
    ],
)
def test_auto_choices_by_training_set_size(n_train, batch_size, patience, tol):
    assert resolve_batch_size("auto", n_train) == batch_size
    assert resolve_n_iter_no_change("auto", n_train, True) == patience
    assert resolve_tol("auto", n_train) == tol
    # Without a validation split the patience is only the plateau schedule's window.
    assert resolve_n_iter_no_change("auto", n_train, False) == AUTO_PATIENCE
    # Explicit settings are kept, whatever the size.
    assert resolve_batch_size(32, n_train) == 32
    assert resolve_n_iter_no_change(7, n_train, True) == 7
    assert resolve_tol(0.01, n_train) == 0.01


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6, 2)).astype(np.float32)
    y = (X[:, :3, 0].sum(axis=1) > X[:, 3:, 0].sum(axis=1)).astype(int)
    return X, y


def _patience(clf):
    return dict(clf.net_.callbacks_)["early_stopping"].patience


def _tol(clf):
    return dict(clf.net_.callbacks_)["early_stopping"].min_delta


def test_a_large_fit_resolves_and_uses_the_shorter_patience():
    # 2,276 sequences: 2,048 after the 10% validation split.
    X, y = _data(int(np.ceil(AUTO_LARGE_FIT / 0.9)))
    clf = SeqAttentionClassifier(**tiny(max_epochs=1)).fit(X, y)
    assert clf.batch_size_ == 64
    assert clf.n_iter_no_change_ == _patience(clf) == AUTO_LARGE_PATIENCE
    assert clf.tol_ == _tol(clf) == AUTO_LARGE_TOL


def test_a_small_fit_and_explicit_settings_keep_theirs():
    X, y = _data(400)
    clf = SeqAttentionClassifier(**tiny(max_epochs=1, early_stopping=True)).fit(X, y)
    assert clf.n_iter_no_change_ == _patience(clf) == AUTO_SPLIT_PATIENCE
    assert clf.tol_ == _tol(clf) == 0.0
    clf.set_params(n_iter_no_change=3, batch_size=16, tol=0.05).fit(X, y)
    assert clf.n_iter_no_change_ == _patience(clf) == 3
    assert clf.tol_ == _tol(clf) == 0.05
    assert clf.batch_size_ == 16


def test_bad_patience_is_refused():
    X, y = _data(60)
    with pytest.raises(ValueError, match="n_iter_no_change must be 'auto' or an int >= 1"):
        SeqAttentionClassifier(**tiny(n_iter_no_change="soon")).fit(X, y)
    with pytest.raises(ValueError, match="n_iter_no_change must be >= 1, got 0"):
        SeqAttentionClassifier(**tiny(n_iter_no_change=0)).fit(X, y)


def test_bad_tol_is_refused():
    X, y = _data(60)
    with pytest.raises(ValueError, match="tol must be 'auto' or a real number >= 0"):
        SeqAttentionClassifier(**tiny(tol="small")).fit(X, y)
    with pytest.raises(ValueError, match=r"tol must be in \[0.0, inf\), got -0.1"):
        SeqAttentionClassifier(**tiny(tol=-0.1)).fit(X, y)
    with pytest.raises(TypeError, match="tol must be a real number"):
        SeqAttentionClassifier(**tiny(tol=None)).fit(X, y)


def _epochs_run(losses, min_delta, patience=3):
    """Epochs that LossOrScoreStopping lets run on these validation losses (score flat)."""
    stopping = LossOrScoreStopping(patience, min_delta=min_delta, restore=False)
    # What the callback reads of a net; the module stands in for the weights it keeps.
    net = SimpleNamespace(history=History(), verbose=0, module_=torch.nn.Linear(1, 1))
    stopping.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        for key, value in (("epoch", epoch), ("valid_loss", loss), ("valid_score", 1.0)):
            net.history.record(key, value)
        try:
            stopping.on_epoch_end(net)
        except KeyboardInterrupt:
            return epoch
    return len(losses)


def test_tol_ignores_a_loss_that_creeps_down_by_less():
    # Ten-thousandths on a loss near zero: gains in relative terms, not above tol.
    creeping = [0.01, 0.0098, 0.0096, 0.0094, 0.0092, 0.0090, 0.0088, 0.0086, 0.0084]
    assert _epochs_run(creeping, min_delta=0.0) == len(creeping)  # every epoch a gain
    assert _epochs_run(creeping, min_delta=1e-3) == 4  # three epochs without a gain
    # Small gains that add up past tol within the patience still count.
    steady = [0.5 - 0.0006 * i for i in range(12)]
    assert _epochs_run(steady, min_delta=1e-3) == len(steady)


def test_without_a_split_the_patience_is_the_plateau_schedule_window():
    X, y = _data(100)
    clf = SeqAttentionClassifier(**tiny(max_epochs=1, lr_schedule="plateau")).fit(X, y)
    assert not clf.early_stopping_
    assert clf.n_iter_no_change_ == AUTO_PATIENCE
    assert dict(clf.net_.callbacks_)["lr_schedule"].patience == AUTO_PATIENCE // 2
