"""Seeding that never touches the caller's global random state."""

from __future__ import annotations

import contextlib
import numbers
import os
import secrets
import threading

import numpy as np
import torch

__all__ = ["RNG_LOCK", "deterministic_algorithms", "draw_seed", "isolated_torch_rng"]

# torch's default generator and its deterministic flags are process-global: fits in
# threads of one process (ThreadPoolExecutor, Dask's threaded workers) take turns in
# the sections that own them, so each gives the result it gives alone.
RNG_LOCK = threading.RLock()


def draw_seed(random_state) -> int:
    """Turn ``random_state`` into a seed in ``[0, 2**32)``.

    ``None`` draws fresh OS entropy instead of numpy's global generator, so
    fitting with ``random_state=None`` leaves ``np.random``'s state untouched.
    An int is used as is (every int of the range gives its own model); a
    ``RandomState`` or ``Generator`` instance (owned by the caller, who passed
    it in) is advanced by one draw.
    """
    if random_state is None:
        return secrets.randbelow(2**31)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= int(random_state) < 2**32:
            raise ValueError(f"random_state must be in [0, 2**32), got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31))
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or Generator, "
        f"got {random_state!r}."
    )


@contextlib.contextmanager
def isolated_torch_rng(seed: int, device: str = "cpu"):
    """Seed torch inside the block and restore the caller's RNG state after it."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    with RNG_LOCK, torch.random.fork_rng(devices=devices):
        # Seed only the generators fork_rng restores (torch.manual_seed would
        # also reseed every CUDA device, leaking into the caller's state).
        torch.default_generator.manual_seed(seed)
        for index in devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool, device: str = "cpu"):
    """Ask torch for deterministic kernels inside the block, restoring the flags after.

    On CPU the package's results are reproducible without it. On CUDA, LSTM
    and attention kernels are only deterministic with
    ``CUBLAS_WORKSPACE_CONFIG`` set before the process starts.
    """
    if not enabled:
        yield
        return
    if str(device).startswith("cuda") and os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in (
        ":4096:8",
        ":16:8",
    ):
        raise ValueError(
            "deterministic=True on CUDA needs the environment variable "
            "CUBLAS_WORKSPACE_CONFIG=:4096:8 (or :16:8) set before Python starts."
        )
    cudnn = torch.backends.cudnn
    with RNG_LOCK:
        previous = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            cudnn.deterministic,
            cudnn.benchmark,
        )
        torch.use_deterministic_algorithms(True)
        cudnn.deterministic, cudnn.benchmark = True, False
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
            cudnn.deterministic, cudnn.benchmark = previous[2], previous[3]
