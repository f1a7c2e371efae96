"""Flat, fixed-width rows for samplers that look at the content of sequences.

An imbalanced-learn sampler sees ``(n_samples, n_columns)``. Sequences of one
length ``L`` become their ``L * n_features`` real values, so SMOTE-like
interpolation works step by step. Sequences of different lengths are first
resampled in time to a common grid of ``L = max length`` steps (linear
interpolation between neighbouring real steps; padding is never read), and
their length is appended as one more, down-weighted column: a sampler that
interpolates rows also interpolates lengths with the same factor, which is
how a synthetic sequence gets its length back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._data import lengths_to_mask

__all__ = ["RowCodec", "resample_steps"]

# Weight of the length column: small enough to leave neighbour searches to the
# sequence values, large enough to keep float64 precision after division.
LENGTH_WEIGHT = 1e-6


def resample_steps(data: np.ndarray, lengths: np.ndarray, new_lengths: np.ndarray, width: int):
    """Linearly resample each sequence in time from ``lengths`` to ``new_lengths`` steps.

    Parameters
    ----------
    data : ndarray of shape (n_samples, max_length, n_features)
        Post-padded; only the first ``lengths[i]`` steps of sample ``i`` are read.
    lengths, new_lengths : ndarray of int, shape (n_samples,)
        Current and target numbers of real steps (at least 1).
    width : int
        Output time axis, at least ``new_lengths.max()``.

    Returns
    -------
    ndarray of float64, shape (n_samples, width, n_features)
        Post-padded with zeros. The first and last real steps map onto the
        first and last new steps; a sequence whose length does not change is
        returned exactly.
    """
    lengths = np.asarray(lengths, dtype=np.int64)[:, None]
    new_lengths = np.asarray(new_lengths, dtype=np.int64)[:, None]
    step = np.arange(width)[None, :]
    # Fractional source position of each new step; an integer multiple divided
    # exactly, so an unchanged length gives whole positions.
    position = step * (lengths - 1) / np.maximum(new_lengths - 1, 1)
    lower = np.minimum(np.floor(position).astype(np.int64), lengths - 1)
    upper = np.minimum(lower + 1, lengths - 1)
    frac = (position - lower)[:, :, None]
    data = data.astype(np.float64)
    below = np.take_along_axis(data, lower[:, :, None], axis=1)
    above = np.take_along_axis(data, upper[:, :, None], axis=1)
    out = below + frac * (above - below)
    out[~lengths_to_mask(new_lengths[:, 0], width)] = 0.0
    return out


@dataclass(frozen=True)
class RowCodec:
    """Turns post-padded sequences into flat rows and flat rows back into sequences.

    Attributes
    ----------
    width : int
        Steps per encoded sequence (the longest length).
    n_features : int
    warped : bool
        Whether lengths differ, so rows hold time-resampled sequences plus a
        length column.
    """

    width: int
    n_features: int
    warped: bool

    @classmethod
    def for_lengths(cls, lengths: np.ndarray, n_features: int) -> RowCodec:
        return cls(int(lengths.max()), int(n_features), bool(lengths.min() != lengths.max()))

    def encode(self, data: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Rows of shape ``(n_samples, width * n_features [+ 1])``, float64."""
        n = len(lengths)
        if not self.warped:
            return data[:, : self.width].reshape(n, -1).astype(np.float64)
        grid = resample_steps(data, lengths, np.full(n, self.width), self.width)
        return np.hstack([grid.reshape(n, -1), LENGTH_WEIGHT * lengths[:, None].astype(float)])

    def decode(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Post-padded ``(n, width, n_features)`` sequences and their lengths from rows."""
        n = len(rows)
        values = rows[:, : self.width * self.n_features].reshape(n, self.width, self.n_features)
        if not self.warped:
            return values, np.full(n, self.width, dtype=np.int64)
        lengths = np.rint(rows[:, -1] / LENGTH_WEIGHT)
        lengths = np.clip(np.nan_to_num(lengths, nan=1.0), 1, self.width).astype(np.int64)
        full = np.full(n, self.width)
        return resample_steps(values, full, lengths, self.width), lengths
