#!/usr/bin/env bash
# Set up (first run only) and run the test suite.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "dev"
# The tests train tiny models: one thread per process is as fast and never oversubscribes
# the CPU when tests start worker processes (n_jobs=2, Dask).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# Every test, the slow ones included (a plain `pytest` leaves them out), spread over one
# worker process per core (at most 4: each worker imports torch).
exec .venv/bin/python -m pytest -m "slow or not slow" -n auto --maxprocesses 4 "$@"
