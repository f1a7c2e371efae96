"""Determinism on CPU: same seed, same model; the caller's random state is left alone."""

import random
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

# Dropout, shuffling, length bucketing and the early-stopping split all draw random numbers.
# Without the table's seed: every test here passes its own random_state (None included).
TINY = tiny(
    n_attention_layers=1,
    n_heads=2,
    dropout=0.2,
    max_epochs=3,
    batch_size=8,
    validation_fraction=0.2,
)
del TINY["random_state"]


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=48, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )


def _weights(clf):
    return {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _global_states():
    return (
        torch.get_rng_state(),
        np.random.get_state(),  # noqa: NPY002
        random.getstate(),
    )


def _assert_states_equal(before, after):
    assert torch.equal(before[0], after[0])
    assert before[1][0] == after[1][0]
    assert_array_equal(before[1][1], after[1][1])
    assert before[1][2:] == after[1][2:]
    assert before[2] == after[2]


def test_same_random_state_gives_identical_models(data):
    X, y = data
    a = SeqAttentionClassifier(**TINY, random_state=7).fit(X, y)
    b = SeqAttentionClassifier(**TINY, random_state=7).fit(X, y)
    _assert_same_weights(_weights(a), _weights(b))
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]


def test_other_random_state_gives_another_model(data):
    X, y = data
    a = SeqAttentionClassifier(**TINY, random_state=7).fit(X, y)
    b = SeqAttentionClassifier(**TINY, random_state=8).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), b.predict_proba(X))


def test_random_state_instance_is_reproducible(data):
    X, y = data
    a = SeqAttentionClassifier(**TINY, random_state=np.random.RandomState(3)).fit(X, y)
    b = SeqAttentionClassifier(**TINY, random_state=np.random.RandomState(3)).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))


_FIT_SCRIPT = """
import sys
import numpy as np
import torch
from safetensors.torch import save_file
from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

torch.set_num_threads(int(sys.argv[1]))
X, y = make_sequence_classification(
    n_samples=48, n_timesteps=12, n_features=3, event_length=2, random_state=0
)
clf = SeqAttentionClassifier(**{tiny}, random_state=7).fit(X, y)
np.save(sys.argv[2] + ".npy", clf.predict_proba(X))
save_file(clf.net_.module_.state_dict(), sys.argv[2] + ".safetensors")
"""


@pytest.mark.slow
def test_same_random_state_is_identical_across_processes(data, tmp_path):
    from safetensors.torch import load_file

    X, y = data
    script = textwrap.dedent(_FIT_SCRIPT).replace("{tiny}", repr(TINY))
    # Same thread count as here: the fit in this process is the other side of the comparison.
    threads = str(torch.get_num_threads())
    result = subprocess.run(
        [sys.executable, "-c", script, threads, str(tmp_path / "child")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    here = SeqAttentionClassifier(**TINY, random_state=7).fit(X, y)
    assert_array_equal(np.load(tmp_path / "child.npy"), here.predict_proba(X))
    _assert_same_weights(load_file(tmp_path / "child.safetensors"), _weights(here))


@pytest.mark.parametrize("random_state", [None, 0, np.random.RandomState(0)], ids=str)
def test_fit_and_predict_leave_global_rng_untouched(data, random_state):
    X, y = data
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    before = _global_states()
    clf = SeqAttentionClassifier(**TINY, random_state=random_state).fit(X, y)
    clf.predict_proba(X)
    clf.attention_weights(X, return_layer_maps=True)
    _assert_states_equal(before, _global_states())


def test_random_state_none_draws_a_fresh_seed(data):
    X, y = data
    a = SeqAttentionClassifier(**TINY).fit(X, y)
    b = SeqAttentionClassifier(**TINY).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), b.predict_proba(X))


class _RecordFlags(Callback):
    def initialize(self):
        self.seen = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.seen.append(torch.are_deterministic_algorithms_enabled())


class _Fail(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("failure inside training")


def _flags():
    cudnn = torch.backends.cudnn
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic,
        cudnn.benchmark,
    )


@pytest.mark.parametrize("caller", [(False, False), (True, True)], ids=["off", "warn-only"])
def test_deterministic_option_restores_global_flags(data, caller):
    X, y = data
    previous = _flags()
    try:
        torch.use_deterministic_algorithms(caller[0], warn_only=caller[1])
        before = _flags()
        record = _RecordFlags()
        a = SeqAttentionClassifier(**TINY, deterministic=True, callbacks=[record], random_state=0)
        a.fit(X, y)
        assert record.seen == [True] * a.n_iter_  # on during fit
        assert _flags() == before  # restored after it
        proba = a.predict_proba(X)
        assert _flags() == before
        b = SeqAttentionClassifier(**TINY, deterministic=True, random_state=0).fit(X, y)
        assert_array_equal(b.predict_proba(X), proba)
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])


def test_flags_and_rng_are_restored_when_fit_fails(data):
    X, y = data
    before_flags, before_rng = _flags(), _global_states()
    clf = SeqAttentionClassifier(**TINY, deterministic=True, callbacks=[_Fail()], random_state=0)
    with pytest.raises(RuntimeError, match="failure inside training"):
        clf.fit(X, y)
    assert _flags() == before_flags
    _assert_states_equal(before_rng, _global_states())
