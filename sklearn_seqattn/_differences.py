"""Differences over time as further input channels (``input_differences``).

A derivative shows the shape of a series where its level hides it; MultiRocket
reads a series and its first difference for that reason, and speech front
ends append delta features. Pure torch, on the package's post-padded layout.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["MAX_INPUT_DIFFERENCES", "append_differences", "append_differences_np"]

# Orders 1-3: the first, second and third differences (speech's delta, delta-delta).
MAX_INPUT_DIFFERENCES = 3


def append_differences(x: torch.Tensor, real: torch.Tensor, order: int) -> torch.Tensor:
    """Each feature's first ``order`` differences over time, appended as channels.

    Parameters
    ----------
    x : tensor, shape (batch, time, features)
        Post-padded steps.
    real : bool tensor, shape (batch, time)
        True on real steps.
    order : int
        How many differences (0 returns ``x``).

    Returns
    -------
    tensor, shape (batch, time, features * (1 + order))
        ``x``, its difference over time, the difference of that, ...: the
        ``k``-th block at step ``t`` is ``d_{k-1}[t] - d_{k-1}[t - 1]``, 0 at the
        first step and on padding, so padding never reaches a real step.
    """
    if order == 0:
        return x
    keep = real.unsqueeze(-1).to(x.dtype)
    parts = [x]
    for _ in range(order):
        last = parts[-1]
        step = last[:, 1:] - last[:, :-1]
        parts.append(torch.cat([torch.zeros_like(last[:, :1]), step], dim=1) * keep)
    return torch.cat(parts, dim=-1)


def append_differences_np(data: np.ndarray, real: np.ndarray, order: int) -> np.ndarray:
    """:func:`append_differences` on arrays (float64 kept), for statistics over the data."""
    if order == 0:
        return data
    return append_differences(torch.from_numpy(data), torch.from_numpy(real), order).numpy()
