"""Flat, fixed-width rows for samplers that look at the content of sequences.

An imbalanced-learn sampler sees ``(n_samples, n_columns)``. Sequences of one
length ``L`` become their ``L * n_features`` real values, so SMOTE-like
interpolation works step by step. Sequences of different lengths are first
resampled in time to a common grid of ``L = max length`` steps (linear
interpolation between neighbouring real steps; padding is never read). Rows
hold sequence values only. A synthetic row gets its length from the input
rows it was made from: when it lies on the segment between two input rows
(SMOTE and its kin interpolate so), its length is interpolated with the same
factor; otherwise it takes the length of the nearest input row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._data import lengths_to_mask

__all__ = ["RowCodec", "interpolated_lengths", "resample_steps"]

# Input rows searched, nearest first, for the segment a synthetic row lies on.
N_CANDIDATES = 10
# Distance from a segment, relative to the row's scale, that still counts as on it.
ON_SEGMENT_TOLERANCE = 1e-6


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
        Whether lengths differ, so rows hold time-resampled sequences.
    """

    width: int
    n_features: int
    warped: bool

    @classmethod
    def for_lengths(cls, lengths: np.ndarray, n_features: int) -> RowCodec:
        return cls(int(lengths.max()), int(n_features), bool(lengths.min() != lengths.max()))

    def encode(self, data: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Rows of shape ``(n_samples, width * n_features)``, float64."""
        n = len(lengths)
        if not self.warped:
            return data[:, : self.width].reshape(n, -1).astype(np.float64)
        grid = resample_steps(data, lengths, np.full(n, self.width), self.width)
        return grid.reshape(n, -1)

    def decode(self, rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Post-padded ``(n, width, n_features)`` sequences of ``lengths`` steps from rows."""
        n = len(rows)
        values = rows.reshape(n, self.width, self.n_features)
        if not self.warped:
            return values
        return resample_steps(values, np.full(n, self.width), lengths, self.width)


def interpolated_lengths(flat: np.ndarray, lengths: np.ndarray, new_rows: np.ndarray) -> np.ndarray:
    """Lengths of synthetic rows, from the input rows they were made from.

    For each new row ``r``, the input row ``a`` nearest to it and the
    ``N_CANDIDATES`` nearest rows ``b`` are tried as the ends of a segment:
    when ``r = a + t * (b - a)`` holds (to ``ON_SEGMENT_TOLERANCE``) with
    ``0 <= t <= 1``, the length is ``round(len_a + t * (len_b - len_a))``.
    Otherwise (a prototype or centroid) it is ``len_a``.

    Parameters
    ----------
    flat : ndarray of shape (n_samples, n_columns)
        The input rows.
    lengths : ndarray of int, shape (n_samples,)
        Their sequences' lengths.
    new_rows : ndarray of shape (n_new, n_columns)

    Returns
    -------
    ndarray of int64, shape (n_new,)
    """
    from sklearn.neighbors import NearestNeighbors

    k = min(N_CANDIDATES + 1, len(flat))
    _, near = NearestNeighbors(n_neighbors=k).fit(flat).kneighbors(new_rows)
    out = lengths[near[:, 0]].astype(np.float64)
    for i, (r, candidates) in enumerate(zip(new_rows, near, strict=True)):
        a = flat[candidates[0]]
        d = flat[candidates[1:]] - a  # (k - 1, n_columns): segments from a
        norm = np.einsum("ij,ij->i", d, d)
        t = np.where(norm > 0, d @ (r - a) / np.maximum(norm, 1e-300), 0.0)
        miss = np.abs(a + t[:, None] * d - r).max(axis=1)
        scale = max(np.abs(r).max(), np.abs(a).max(), 1.0)
        fits = (t >= 0) & (t <= 1) & (miss <= ON_SEGMENT_TOLERANCE * scale) & (norm > 0)
        if fits.any():
            j = np.flatnonzero(fits)[np.argmin(miss[fits])]
            out[i] += t[j] * (lengths[candidates[1 + j]] - out[i])
    return np.clip(np.rint(out), 1, None).astype(np.int64)
