"""Returning sequences in the caller's layout after working on the compact one.

:func:`~sklearn_seqattn._validation.check_sequences` (the one parser of ``X``)
yields post-padded real steps, the original time index of each step and the
kind of input it read (:attr:`Sequences.kind`). The functions here put results
back: as an array padded with ``mask_value`` at the caller's step positions,
as a 2-D array for univariate input, or as a ragged list. Transformers,
resamplers and displays share them.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._data import lengths_to_mask
from ._validation import Sequences

__all__ = [
    "format_like",
    "is_nan",
    "keep_real_steps",
    "scatter_to_layout",
    "to_list",
]


def is_nan(value) -> bool:
    """Whether ``value`` is a NaN real number (False for anything else)."""
    return isinstance(value, numbers.Real) and bool(np.isnan(float(value)))


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


def format_like(seqs: Sequences, data: np.ndarray, mask_value: float):
    """Return compact per-step ``data`` (aligned with ``seqs``) in the form ``seqs`` was read from.

    Arrays keep their shape and padding positions, 2-D stays 2-D, and a ragged
    list gives a list (of 1-D arrays when its items were 1-D).
    """
    if seqs.kind.startswith("list"):
        return to_list(data, seqs.lengths, univariate=seqs.kind == "list1d")
    out = scatter_to_layout(data, seqs.lengths, seqs.positions, seqs.n_timesteps, mask_value)
    return out[:, :, 0] if seqs.kind == "2d" else out


def padded_like_input(seqs: Sequences) -> tuple[np.ndarray, np.ndarray]:
    """The sequences on the caller's time axis, zero on padding, and the padding mask.

    Returns ``(values, padding)``: ``values`` of shape
    ``(n_samples, n_timesteps, n_features)`` holds each real step at its
    original time index; ``padding`` of shape ``(n_samples, n_timesteps)`` is
    True where no real step is.
    """
    values = seqs.scatter_steps(seqs.data)
    real = seqs.scatter_steps(lengths_to_mask(seqs.lengths, seqs.data.shape[1]))
    return values, ~real
