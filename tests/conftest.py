"""Shared tiny data sets, and one tiny model fitted on them, for the test suite."""

import pytest
import torch
from _helpers import FITTED_TINY

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

# The suite's models are tiny: one thread is as fast as two and never oversubscribes
# the CPU when the suite runs beside other work (or n_jobs=2 searches).
torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where torch sees a CUDA device."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def seq_data():
    """Order-dependent binary task, 28/72 imbalance, variable lengths, zero post-padding."""
    X, y, events = make_sequence_classification(
        n_samples=360,
        n_timesteps=30,
        n_features=6,
        weights=[0.28, 0.72],
        signal=2.0,
        return_events=True,
        random_state=0,
    )
    return X, y, events


@pytest.fixture(scope="session")
def small_data():
    """Very small multivariate set for contract tests (60 x 12 x 3)."""
    X, y = make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, random_state=1
    )
    return X, y


@pytest.fixture(scope="session")
def fitted_tiny(seq_data):
    """``SeqAttentionClassifier(**FITTED_TINY)`` fitted on ``seq_data``, shared by every test
    that only reads a fitted model (predictions, attention, attributes).

    A test that refits, warm-starts, calls ``set_params`` or writes attributes takes
    ``clone(fitted_tiny)`` or fits its own. The teardown checks that no test changed it.
    """
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**FITTED_TINY).fit(X, y)
    params = clf.get_params()
    weights = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    attributes = sorted(vars(clf))
    yield clf
    assert clf.get_params() == params, "a test changed the shared fitted_tiny's parameters"
    assert sorted(vars(clf)) == attributes, "a test added attributes to the shared fitted_tiny"
    state = clf.net_.module_.state_dict()
    assert all(torch.equal(state[k], v) for k, v in weights.items()), (
        "a test changed the shared fitted_tiny's weights"
    )
