"""Padding helpers: lengths <-> masks, compacting padded steps, taking rows.

Everything here is numpy-only. The package's internal layout is *post-padded*:
the real steps of sample ``i`` occupy ``X[i, :lengths[i]]`` and every later
step is zero. User data in any other layout (pre-padding, masked steps in the
middle, ragged lists) is converted to it by :func:`compact_padding` or
:func:`pad_sequences`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._differences import append_differences_np

__all__ = [
    "compact_padding",
    "lengths_to_mask",
    "pad_sequences",
    "padding_mask",
    "series_levels",
    "standardization",
    "take_rows",
]


def padding_mask(X: np.ndarray, mask_value: float = 0.0) -> np.ndarray:
    """Return a boolean ``(n_samples, n_timesteps)`` array, True on padded steps.

    A step is padding when *all* its features equal ``mask_value``; NaN as
    ``mask_value`` marks steps whose features are all NaN.
    """
    if np.isnan(mask_value):
        return np.isnan(X).all(axis=-1)
    return (X == mask_value).all(axis=-1)


def lengths_to_mask(lengths: np.ndarray, n_timesteps: int) -> np.ndarray:
    """Return a boolean ``(n_samples, n_timesteps)`` array, True on real steps."""
    return np.arange(n_timesteps)[None, :] < np.asarray(lengths)[:, None]


def compact_padding(
    X: np.ndarray, is_padding: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move the real steps of every sample to the front, keeping their order.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
    is_padding : ndarray of bool, shape (n_samples, n_timesteps)

    Returns
    -------
    X_compact : ndarray of shape (n_samples, n_timesteps, n_features)
        Post-padded; padded steps are zero. When the real steps are already
        first, this is ``X`` itself with its padded steps zeroed in place
        (no copy); otherwise a copy.
    lengths : ndarray of int64, shape (n_samples,)
        Number of real steps per sample.
    positions : ndarray of int64, shape (n_samples, n_timesteps)
        ``positions[i, j]`` is the original time index of compact step ``j``,
        so results per step can be scattered back onto the caller's time axis.
    """
    lengths = (~is_padding).sum(axis=1).astype(np.int64)
    post_padded = lengths_to_mask(lengths, X.shape[1])
    if (post_padded != is_padding).all():
        # Real steps already first (no padding, or padding only at the end): nothing
        # to move, and padded steps are set to zero in place, in the caller's copy.
        X[is_padding] = 0.0
        positions = np.broadcast_to(np.arange(X.shape[1]), is_padding.shape)
        return X, lengths, np.ascontiguousarray(positions, dtype=np.int64)
    # A stable sort on the padding flag puts real steps first, in their order.
    positions = np.argsort(is_padding, axis=1, kind="stable").astype(np.int64)
    X_compact = np.take_along_axis(X, positions[:, :, None], axis=1)
    X_compact[~lengths_to_mask(lengths, X.shape[1])] = 0.0
    return X_compact, lengths, positions


def pad_sequences(
    sequences: Sequence[np.ndarray], n_timesteps: int | None = None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``(T_i, F)`` arrays into a post-padded ``(n, T, F)`` array.

    Returns the padded array (zeros after each sequence) and the lengths.
    Sequences longer than ``n_timesteps`` are not allowed here; truncation is a
    modelling choice left to :class:`~sklearn_seqattn.preprocessing.SequencePadder`.
    """
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if n_timesteps is None:
        n_timesteps = int(lengths.max()) if len(lengths) else 0
    n_features = sequences[0].shape[1] if len(sequences) else 0
    out = np.zeros((len(sequences), n_timesteps, n_features), dtype=dtype)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq
    return out, lengths


def take_rows(X, indices):
    """Take samples ``indices`` from a padded array or a ragged list."""
    indices = np.asarray(indices)
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


# Values per chunk of samples read by ``standardization`` (16 MiB in float64).
STANDARDIZATION_CHUNK_VALUES = 2**21


def _chunks(seqs, index, chunk: int | None):
    """``(start, rows, real)`` for consecutive chunks of ``index``: the rows' positions, their
    indices and their real-step mask cut to their longest sequence. ``chunk`` samples each,
    by default as many as hold ``STANDARDIZATION_CHUNK_VALUES`` values."""
    if chunk is None:
        chunk = max(1, STANDARDIZATION_CHUNK_VALUES // (seqs.data.shape[1] * seqs.data.shape[2]))
    for start in range(0, len(index), chunk):
        rows = index[start : start + chunk]
        lengths = seqs.lengths[rows]
        yield start, rows, lengths_to_mask(lengths, int(lengths.max()))


def standardization(
    seqs, index, chunk: int | None = None, differences: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of the real steps of ``seqs[index]``.

    Two passes in chunks of ``chunk`` samples (by default as many as hold
    ``STANDARDIZATION_CHUNK_VALUES`` values), accumulated in float64, so no
    copy of the data is made. Features that are constant get a scale of 1.
    With ``differences`` the statistics are those of the steps widened by
    that many differences over time, as the network reads them.
    """
    n_features = seqs.data.shape[2] * (1 + differences)
    total, count = np.zeros(n_features), 0
    for pass_ in ("mean", "var"):
        acc = np.zeros(n_features)
        for _, rows, real in _chunks(seqs, index, chunk):
            data = seqs.data[rows, : real.shape[1]].astype(np.float64)
            steps = append_differences_np(data, real, differences)[real]  # (steps, features)
            if pass_ == "mean":
                acc += steps.sum(axis=0)
                count += len(steps)
            else:
                acc += ((steps - total) ** 2).sum(axis=0)
        if pass_ == "mean":
            total = acc / count
    mean, std = total, np.sqrt(acc / count)
    return mean.astype(np.float32), unit_scale_if_constant(mean, std).astype(np.float32)


class SeriesLevels(NamedTuple):
    """Medians over the features of how the series' own levels vary (:func:`series_levels`)."""

    nuisance: float  # share of a feature's variance in levels that do not tell classes apart
    by_class: float  # share of the variance of the levels that the class explains


def series_levels(seqs, index, y_idx: np.ndarray, chunk: int | None = None) -> SeriesLevels:
    """How much each series holds a level of its own, and how much of it is the class.

    Per feature, with each series' level its mean over its real steps:
    ``nuisance`` is the variance of the levels about their class's mean (a
    speaker's or a recording's offset), less what the noise within a series
    of that length gives a mean, as a share of that plus the mean variance
    within a series (an intraclass correlation): about 0 for independent
    noise around a common level, whatever the lengths, 0.5 for offsets as
    large as the noise. ``by_class`` is the share of the levels' variance
    that the class means explain. Both are medians over the features of
    ``seqs[index]``, computed in chunks in float64 like
    :func:`standardization`.
    """
    n_features = seqs.data.shape[2]
    means = np.empty((len(index), n_features))
    within = np.zeros(n_features)
    noise_of_means = np.zeros(n_features)
    # Sums of squares about a real step of the data rather than zero: far-from-zero levels
    # would otherwise cancel out the noise in float64.
    shift = seqs.data[index[0], 0].astype(np.float64)
    for start, rows, real in _chunks(seqs, index, chunk):
        lengths = seqs.lengths[rows][:, None]
        steps = (seqs.data[rows, : real.shape[1]] - shift) * real[..., None]
        mean = steps.sum(axis=1) / lengths  # (rows, features)
        spread = np.maximum((steps**2).sum(axis=1) / lengths - mean**2, 0.0)
        within += spread.sum(axis=0)
        # The variance a mean of n independent steps has: spread / (n - 1), unbiased.
        noise_of_means += (spread / np.maximum(lengths - 1, 1)).sum(axis=0)
        means[start : start + len(rows)] = mean
    within /= len(index)
    noise_of_means /= len(index)
    levels = means.var(axis=0)
    labels = y_idx[index]
    for label in np.unique(labels):
        of_class = labels == label
        means[of_class] -= means[of_class].mean(axis=0)
    about_class = means.var(axis=0)
    nuisance = np.maximum(about_class - noise_of_means, 0.0)
    total = nuisance + within
    share = np.divide(nuisance, total, out=np.zeros(n_features), where=total > 0)
    by_class = np.divide(levels - about_class, levels, out=np.zeros(n_features), where=levels > 0)
    return SeriesLevels(float(np.median(share)), float(np.median(by_class)))


def unit_scale_if_constant(center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``scale`` with 1 for features that float32 holds as constant.

    A spread below a millionth of the feature's magnitude (at least 1) is
    below float32's resolution there: dividing by it would only amplify
    rounding noise, or overflow. Such features are centred, not scaled
    (as scikit-learn's scalers leave constant features unscaled).
    """
    scale = np.array(scale, dtype=np.float64)
    scale[scale <= 1e-6 * np.maximum(1.0, np.abs(center))] = 1.0
    return scale
