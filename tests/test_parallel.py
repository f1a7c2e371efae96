"""Restarts and ensemble members trained in worker processes (n_jobs)."""

import pickle

import numpy as np
import pytest
import torch
from _helpers import tiny
from sklearn.base import clone

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._batching import SequenceDataset
from sklearn_seqattn._parallel import n_workers, run_tasks

# Six epochs on 160 sequences need not learn; only equality with the serial fit matters.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn_seqattn.ChanceLevelWarning")

TINY = tiny(dense_units=8, lstm_units=8, max_epochs=6)


def _losses(history):
    return [(row["train_loss"], row.get("valid_loss")) for row in history]


@pytest.mark.parametrize("shape", [dict(n_estimators=2, n_init=1), dict(n_init=2)])
def test_parallel_fit_equals_the_serial_fit(seq_data, shape):
    X, y, _ = seq_data
    X, y = X[:160], y[:160]
    # The suite runs torch on one thread, so each of the two workers gets one too.
    assert torch.get_num_threads() == 1
    serial = SeqAttentionClassifier(**{**TINY, **shape}, n_jobs=1).fit(X, y)
    parallel = clone(serial).set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(parallel.predict_proba(X), serial.predict_proba(X))
    np.testing.assert_array_equal(parallel.init_scores_, serial.init_scores_)
    assert _losses(parallel.history_) == _losses(serial.history_)
    assert parallel.n_init_ == serial.n_init_ == 2
    assert parallel.fit_diagnosis_ == serial.fit_diagnosis_
    assert torch.get_num_threads() == 1  # the parent's threads are left as they were


def test_n_workers_runs_in_parallel_only_where_it_pays():
    assert n_workers(2, 5, "cpu") == 2
    assert n_workers(8, 3, "cpu") == 3  # no more workers than tasks
    assert n_workers(None, 5, "cpu") == 1  # joblib's default: serial
    assert n_workers(2, 1, "cpu") == 1
    assert n_workers(2, 5, "cuda") == 1  # the processes would share one GPU
    assert n_workers(-1, 5, "cpu") >= 1


def _pid_and_threads(_):
    import os

    return os.getpid(), torch.get_num_threads()


def test_run_tasks_keeps_order_and_gives_workers_their_share_of_threads():
    import os

    assert run_tasks(divmod, [(7, 2), (9, 4)], workers=1) == [(3, 1), (2, 1)]
    assert run_tasks(divmod, [(7, 2), (9, 4), (5, 5)], workers=2) == [(3, 1), (2, 1), (1, 0)]
    results = run_tasks(_pid_and_threads, [(i,) for i in range(4)], workers=2)
    assert all(pid != os.getpid() for pid, _ in results)
    assert all(threads == 1 for _, threads in results)


def test_a_dataset_pickles_its_data_as_an_array():
    data = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    ds = SequenceDataset(data, np.array([3, 2]), np.array([0, 1]), rows=np.array([1]))
    back = pickle.loads(pickle.dumps(ds))
    assert isinstance(back.x, torch.Tensor)
    torch.testing.assert_close(back.x, ds.x)
    X, y = back[0]
    torch.testing.assert_close(X["x"], torch.from_numpy(data[1:2, :2]))
    assert y.tolist() == [1]


@pytest.mark.parametrize(
    ("n_jobs", "error", "message"),
    [
        (0, ValueError, "n_jobs must be None, a positive int or a negative int; got 0"),
        (1.5, TypeError, "n_jobs must be an int"),
        ("2", TypeError, "n_jobs must be an int"),
    ],
)
def test_bad_n_jobs_is_refused_before_training(small_data, n_jobs, error, message):
    X, y = small_data
    clf = SeqAttentionClassifier(**TINY, n_jobs=n_jobs)
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
