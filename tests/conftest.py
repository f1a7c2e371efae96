"""Shared tiny data sets for the test suite."""

import pytest
import torch

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
