"""Returning sequences in the caller's layout after working on the compact one.

Transformers and resamplers parse ``X`` with
:func:`~sklearn_seqattn._validation.check_sequences`, which yields post-padded
real steps plus the original time index of each step. The functions here put
results back: as an array padded with ``mask_value`` at the caller's step
positions, as a 2-D array for univariate input, or as a ragged list.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._data import lengths_to_mask
from .._validation import Sequences

__all__ = [
    "format_like",
    "input_kind",
    "is_nan",
    "keep_real_steps",
    "scatter_to_layout",
    "to_list",
]


def is_nan(value) -> bool:
    """Whether ``value`` is a NaN real number (False for anything else)."""
    return isinstance(value, numbers.Real) and bool(np.isnan(value))


def input_kind(X) -> str:
    """How :func:`check_sequences` read ``X``: ``"list"``, ``"list1d"``, ``"2d"`` or ``"3d"``.

    ``"list1d"`` is a ragged list whose items are all 1-D (univariate).
    Call it after ``check_sequences`` has accepted ``X``.
    """
    if isinstance(X, (list, tuple)) and not np.isscalar(X[0]):
        return "list1d" if all(np.ndim(item) == 1 for item in X) else "list"
    ndim = getattr(X, "ndim", None)
    if not isinstance(ndim, int):
        ndim = np.asarray(X).ndim
    return "2d" if ndim == 2 else "3d"


def keep_real_steps(values: np.ndarray, mask_value: float) -> np.ndarray:
    """Move real steps that would read as padding just off ``mask_value``.

    A real step whose every feature equals ``mask_value`` after a
    transformation (a step exactly at the mean, a ragged step of zeros) would
    be skipped as padding downstream. Its first feature is nudged to the
    next float32 above ``mask_value`` (the smallest normal float32 above
    zero), so real steps stay real.

    Parameters
    ----------
    values : ndarray of float32, shape (n_steps, n_features)
        Real steps only; modified in place and returned.
    mask_value : float
    """
    if np.isnan(mask_value):
        return values  # finite values never read as NaN padding
    collide = (values == np.float32(mask_value)).all(axis=-1)
    if collide.any():
        # From zero, step to the smallest normal float rather than a subnormal,
        # which flush-to-zero arithmetic would read as zero again.
        mask = np.float32(mask_value)
        nudged = np.finfo(np.float32).tiny if mask == 0 else np.nextafter(mask, np.float32(np.inf))
        values[collide, 0] = nudged
    return values


def scatter_to_layout(
    data: np.ndarray,
    lengths: np.ndarray,
    positions: np.ndarray,
    n_timesteps: int,
    mask_value: float,
) -> np.ndarray:
    """Place post-padded real steps at ``positions`` on a time axis filled with ``mask_value``.

    Parameters
    ----------
    data : ndarray of shape (n_samples, width, n_features)
        Real steps first.
    lengths : ndarray of int, shape (n_samples,)
    positions : ndarray of int, shape (n_samples, width)
        Target time index of each compact step.
    n_timesteps : int
        Length of the output time axis.
    mask_value : float
        Fill value of padded steps.

    Returns
    -------
    ndarray of float32, shape (n_samples, n_timesteps, n_features)
    """
    n, width, n_features = data.shape
    out = np.full((n, n_timesteps, n_features), mask_value, dtype=np.float32)
    real = lengths_to_mask(lengths, width)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, width))
    values = data[real].astype(np.float32)
    out[rows[real], positions[:, :width][real]] = keep_real_steps(values, mask_value)
    return out


def to_list(data: np.ndarray, lengths: np.ndarray, univariate: bool = False) -> list[np.ndarray]:
    """Split post-padded ``data`` into a list of ``(length_i, n_features)`` float32 arrays.

    With ``univariate=True`` the items are 1-D ``(length_i,)`` arrays.
    """
    items = [np.array(data[i, :length], dtype=np.float32) for i, length in enumerate(lengths)]
    return [item[:, 0] for item in items] if univariate else items


def format_like(X, seqs: Sequences, data: np.ndarray, mask_value: float):
    """Return compact per-step ``data`` (aligned with ``seqs``) in the form of the caller's ``X``.

    Arrays keep their shape and padding positions, 2-D stays 2-D, and a ragged
    list gives a list (of 1-D arrays when its items were 1-D).
    """
    kind = input_kind(X)
    if kind.startswith("list"):
        return to_list(data, seqs.lengths, univariate=kind == "list1d")
    out = scatter_to_layout(data, seqs.lengths, seqs.positions, seqs.n_timesteps, mask_value)
    return out[:, :, 0] if kind == "2d" else out
