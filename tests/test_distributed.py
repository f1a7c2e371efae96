"""Hyper-parameter search on a local Dask cluster through joblib's dask backend."""

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

TINY = tiny(max_epochs=3, batch_size=16, early_stopping=False)

# Starts a Dask cluster: seconds per test.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_grid_search_on_dask_cluster(client):
    X, y = make_sequence_classification(
        n_samples=60, n_timesteps=20, n_features=3, event_length=3, random_state=0
    )
    grid = {"lstm_units": [4, 8], "pooling": ["attention", "mean"]}
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        search = GridSearchCV(SeqAttentionClassifier(**TINY), grid, cv=cv, n_jobs=-1).fit(X, y)
    # The 8 fits (4 candidates x 2 folds) ran as tasks in the cluster's worker processes.
    assert len(stream.data) >= 8
    assert {task["worker"] for task in stream.data} <= set(client.scheduler_info()["workers"])
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.isfinite(scores).all()

    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # as the workers: same arithmetic, same numbers
    try:
        local = GridSearchCV(SeqAttentionClassifier(**TINY), grid, cv=cv, n_jobs=1).fit(X, y)
    finally:
        torch.set_num_threads(previous)
    assert_allclose(scores, local.cv_results_["mean_test_score"])
    assert search.best_estimator_.predict(X).shape == (len(X),)
