"""Faults: interrupted training, prediction memory, no stray files."""

import copy
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_array_equal
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(max_epochs=12, batch_size=8, lr=0.05, validation_fraction=0.25, early_stopping=True)


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=64, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )


class Interrupt(Callback):
    """Record the weights after every epoch and raise KeyboardInterrupt (a Ctrl-C) at one point.

    ``at_epoch``: at the end of that epoch; with ``at_batch`` as well: after that
    training batch of that epoch, i.e. in the middle of it.
    """

    def __init__(self, at_epoch, at_batch=None):
        self.at_epoch = at_epoch
        self.at_batch = at_batch

    def initialize(self):
        self.snapshots, self.valid_losses, self.valid_scores = [], [], []
        self.batches = 0
        self.last_weights = None
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.batches = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.batches += 1
        if len(net.history) == self.at_epoch and self.batches == self.at_batch:
            self.last_weights = copy.deepcopy(net.module_.state_dict())
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        self.snapshots.append(copy.deepcopy(net.module_.state_dict()))
        self.valid_losses.append(net.history[-1].get("valid_loss"))
        self.valid_scores.append(net.history[-1].get("valid_score"))
        self.last_weights = self.snapshots[-1]
        if self.at_batch is None and len(net.history) == self.at_epoch:
            raise KeyboardInterrupt


def _best_epoch_index(interrupt):
    """The epoch early stopping keeps: best validation score, ties broken by lower loss."""
    pairs = list(zip(interrupt.valid_scores, interrupt.valid_losses, strict=True))
    return max(range(len(pairs)), key=lambda i: (pairs[i][0], -pairs[i][1]))


def _assert_weights_equal(module, state):
    for name, tensor in module.state_dict().items():
        assert torch.equal(tensor, state[name]), name


def _weights_differ(module, state):
    return any(not torch.equal(t, state[n]) for n, t in module.state_dict().items())


@pytest.mark.parametrize("at_epoch", [3, 6])
def test_interrupt_at_epoch_end_keeps_best_weights(data, at_epoch):
    X, y = data
    interrupt = Interrupt(at_epoch)
    clf = SeqAttentionClassifier(**TINY, callbacks=[interrupt]).fit(X, y)  # returns normally
    assert clf.n_iter_ == at_epoch
    assert len(clf.history_) == at_epoch
    best = _best_epoch_index(interrupt)
    _assert_weights_equal(clf.net_.module_, interrupt.snapshots[best])
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)


def test_interrupt_mid_epoch_restores_best_completed_epoch(data):
    X, y = data
    interrupt = Interrupt(at_epoch=4, at_batch=2)
    clf = SeqAttentionClassifier(**TINY, callbacks=[interrupt]).fit(X, y)
    assert len(interrupt.snapshots) == 3  # epochs 1-3 completed
    best = _best_epoch_index(interrupt)
    _assert_weights_equal(clf.net_.module_, interrupt.snapshots[best])
    # The half-trained weights of epoch 4 were discarded.
    assert _weights_differ(clf.net_.module_, interrupt.last_weights)
    assert clf.predict(X).shape == (len(X),)


def test_interrupt_without_early_stopping_keeps_latest_weights(data):
    X, y = data
    interrupt = Interrupt(at_epoch=2, at_batch=3)
    # Without a best epoch to restore (the multi-scale recipe restores the lowest loss).
    params = {**TINY, "early_stopping": False, "restore_best_weights": False}
    clf = SeqAttentionClassifier(**params, callbacks=[interrupt]).fit(X, y)
    _assert_weights_equal(clf.net_.module_, interrupt.last_weights)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_interrupt_in_first_batch_leaves_a_usable_model(data):
    X, y = data
    clf = SeqAttentionClassifier(**TINY, callbacks=[Interrupt(at_epoch=1, at_batch=1)]).fit(X, y)
    assert clf.n_iter_ == 1
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)


def test_prediction_runs_in_batches(data):
    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    clf.set_params(batch_size=5)
    sizes = []
    handle = clf.net_.module_.register_forward_pre_hook(lambda m, args: sizes.append(len(args[0])))
    try:
        clf.predict_proba(np.concatenate([X] * 3))
        clf.attention_weights(X)
    finally:
        handle.remove()
    assert max(sizes) == 5
    assert sum(sizes) == 4 * len(X)


_MEMORY_SCRIPT = """
import json, pickle, re
import numpy as np
import torch

torch.set_num_threads(1)
with open("model.pkl", "rb") as f:
    clf = pickle.load(f)


def status_mib(field):
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\\s+(\\d+)", f.read()).group(1)) / 1024


def peak_growth(call):
    \"\"\"Peak resident memory during ``call`` above the resident memory before it, in MiB.\"\"\"
    before = status_mib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current resident size
    call()
    return status_mib("VmHWM") - before


rng = np.random.default_rng(0)
X = (rng.standard_normal((12000, 32, 1)) + 5.0).astype(np.float32)  # 1.5 MiB, no padding
clf.predict_proba(X[:64])  # warm-up: lazy initialisation and allocator pools
growth = {
    "small": peak_growth(lambda: clf.predict_proba(X[:1500])),
    "large": peak_growth(lambda: clf.predict_proba(X)),
}
# Control: one batch of 4000 samples shows what an unbatched pass costs.
clf.batch_size = 4000
growth["control"] = peak_growth(lambda: clf.predict_proba(X[:4000]))
print(json.dumps(growth))
"""


def _can_reset_peak_memory():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


@pytest.mark.skipif(
    not _can_reset_peak_memory(), reason="needs Linux's /proc/self/clear_refs to reset peak RSS"
)
@pytest.mark.slow
def test_prediction_memory_stays_flat_as_n_grows(tmp_path):
    X, y = make_sequence_classification(
        n_samples=40, n_timesteps=32, n_features=1, event_length=2, random_state=0
    )
    clf = SeqAttentionClassifier(
        dense_units=16, lstm_units=16, max_epochs=1, batch_size=64, random_state=0
    ).fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_MEMORY_SCRIPT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    growth = json.loads(result.stdout)
    # 8x the samples (1500 -> 12000): only the validated copy of X (about 2.5x its 1.5 MiB)
    # grows with n; activations stay those of one batch of 64.
    assert growth["large"] - growth["small"] < 16, growth
    # The control shows the measure would catch an unbatched pass (about 60 MiB for 4000).
    assert growth["control"] > 32, growth


def test_fit_and_predict_write_no_files(data, tmp_path, monkeypatch):
    X, y = data
    monkeypatch.chdir(tmp_path)
    clf = SeqAttentionClassifier(
        **{**TINY, "max_epochs": 3}, lr_schedule="plateau", n_iter_no_change=2
    )
    clf.fit(X, y).predict_proba(X)
    clf.attention_weights(X)
    clf.set_params(warm_start=True).fit(X, y)
    assert os.listdir(tmp_path) == []


def test_interrupted_fit_can_be_pickled_and_reused(data):
    X, y = data
    clf = SeqAttentionClassifier(**TINY, callbacks=[Interrupt(at_epoch=2)]).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
