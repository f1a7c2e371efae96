"""
===============================================
Distributed search and multi-process training
===============================================

Two kinds of parallelism, run from the command line (this script is not run
by the documentation build):

* ``python examples/distributed_search.py`` starts a local Dask cluster of two
  worker processes and runs a grid search over architecture parameters on it
  through joblib's Dask backend. Point ``Client`` at a real scheduler to use a
  cluster. Needs ``pip install "sklearn-seqattn[distributed]"``.
* ``python examples/distributed_search.py --accelerate`` trains one model
  through Hugging Face Accelerate. Started with
  ``accelerate launch --multi_gpu --num_processes 2 examples/distributed_search.py --accelerate``
  it trains data-parallel on two GPUs; without GPUs,
  ``torchrun --nproc_per_node 2 examples/distributed_search.py --accelerate --cpu``
  runs the same code on two CPU processes. Needs ``pip install accelerate``.

Both take a few seconds with the small settings below.
"""

import argparse
import time

import joblib
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

SMALL = dict(
    dense_units=8,
    lstm_units=8,
    n_heads=2,
    max_epochs=20,
    batch_size=32,
    lr=1e-2,
    early_stopping=False,
    random_state=0,
)


def dask_search(X, y) -> None:
    from distributed import Client, LocalCluster

    # One thread per worker: several torch threads per worker on the same cores
    # only slow each other down.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers")
        search = GridSearchCV(
            SeqAttentionClassifier(**SMALL),
            {"lstm_units": [4, 8], "pooling": ["attention", "mean"]},
            cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
            scoring="balanced_accuracy",
            n_jobs=-1,
        )
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
        print(
            f"{len(search.cv_results_['params'])} candidates x 2 folds in "
            f"{time.perf_counter() - start:.1f} s"
        )
    results = search.cv_results_
    for params, score in zip(results["params"], results["mean_test_score"], strict=True):
        print(f"  {score:.3f}  {params}")
    print("best:", search.best_params_)


def accelerated_fit(X, y, cpu: bool) -> None:
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=cpu)
    clf = SeqAttentionClassifier(**dict(SMALL, early_stopping=True), accelerator=accelerator)
    clf.fit(X, y)  # each process trains on its shard of the batches
    # Prediction is not sharded: every process would predict all of X.
    if accelerator.is_main_process:
        print(f"{accelerator.num_processes} process(es) on {accelerator.device}")
        print(f"epochs: {clf.n_iter_}, final valid loss {clf.history_[-1, 'valid_loss']:.3f}")
        print(f"training accuracy: {clf.score(X, y):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accelerate", action="store_true", help="train with Accelerate")
    parser.add_argument("--cpu", action="store_true", help="force CPU (with --accelerate)")
    args = parser.parse_args()
    X, y = make_sequence_classification(
        n_samples=200, n_timesteps=20, n_features=4, event_length=3, signal=3.0, random_state=0
    )
    if args.accelerate:
        accelerated_fit(X, y, cpu=args.cpu)
    else:
        dask_search(X, y)
