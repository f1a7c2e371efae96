"""Training several networks at once: restarts and ensemble members in worker processes.

One network's training is serial work that a small model cannot spread over
many cores (its intra-op parallelism saturates early), while the ``n_init``
restarts and the ensemble members of a fit are independent. They run as
joblib tasks (processes by default: the loky backend, or whatever
``joblib.parallel_config`` selects), each worker on its share of the
process's torch threads. The arrays of a fit reach the workers through
joblib's memory mapping (one file shared by every worker, not a copy each).

A task's result depends only on its seed and the number of torch threads it
runs on: with the threads per worker equal to the serial fit's, the parallel
fit equals the serial one exactly (tested).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
from joblib import Parallel, delayed, effective_n_jobs

from ._random import deterministic_algorithms

__all__ = ["n_workers", "run_tasks"]


def n_workers(n_jobs: int | None, n_tasks: int, device: torch.device | str) -> int:
    """Worker processes for ``n_tasks`` trainings: 1 (serial) unless parallel pays.

    Only CPU training runs in parallel: the processes of one GPU would
    contend for it.
    """
    if n_tasks < 2 or torch.device(device).type != "cpu":
        return 1
    return max(1, min(n_tasks, effective_n_jobs(n_jobs)))


def _in_worker(func: Callable, parent: int, threads: int, args: tuple, deterministic: bool):
    if os.getpid() != parent:
        # A worker process: its share of the threads (a thread backend shares the
        # parent's settings and is left alone).
        torch.set_num_threads(threads)
    with deterministic_algorithms(deterministic, "cpu"):
        return func(*args)


def run_tasks(
    func: Callable, tasks: Sequence[tuple], workers: int, *, deterministic: bool = False
) -> list[Any]:
    """``[func(*args) for args in tasks]``, over ``workers`` joblib workers, in task order.

    Parameters
    ----------
    func : callable
        Importable (top-level) function, so the workers can unpickle it.
    tasks : sequence of tuple
        Positional arguments of each call.
    workers : int
        Number of workers; 1 runs the calls here, one after the other.
    deterministic : bool
        Enter :func:`~sklearn_seqattn._random.deterministic_algorithms` in
        each worker (the parent's setting does not cross processes).
    """
    if workers <= 1:
        return [func(*args) for args in tasks]
    threads = max(1, torch.get_num_threads() // workers)
    parent = os.getpid()
    parallel = Parallel(n_jobs=workers, prefer="processes")
    return parallel(
        delayed(_in_worker)(func, parent, threads, args, deterministic) for args in tasks
    )
