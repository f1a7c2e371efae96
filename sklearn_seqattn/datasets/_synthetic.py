"""Synthetic padded sequences whose class lives in the temporal order of short events."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_sequence_classification"]


def _check_counts(**counts) -> None:
    """Each ``name=(value, low)`` must be an integer of at least ``low``."""
    for name, (value, low) in counts.items():
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")


def _class_counts(n_samples: int, n_classes: int, weights) -> np.ndarray:
    if weights is None:
        weights = np.full(n_classes, 1.0 / n_classes)
    weights = np.asarray(weights, dtype=float)
    if weights.shape == (n_classes - 1,):
        weights = np.append(weights, 1.0 - weights.sum())
    if weights.shape != (n_classes,) or (weights < 0).any() or not np.isclose(weights.sum(), 1):
        raise ValueError(
            f"weights must hold {n_classes} (or {n_classes - 1}) non-negative class "
            f"proportions summing to 1, got {weights.tolist()}."
        )
    counts = np.floor(weights * n_samples).astype(int)
    # Hand out the remainder to the largest fractional parts.
    remainder = n_samples - counts.sum()
    counts[np.argsort(-(weights * n_samples - counts), kind="stable")[:remainder]] += 1
    return counts


def make_sequence_classification(
    n_samples: int = 1000,
    n_timesteps: int = 100,
    n_features: int = 32,
    *,
    n_classes: int = 2,
    weights: Sequence[float] | None = None,
    min_length: int | None = None,
    event_length: int = 5,
    n_informative: int | None = None,
    signal: float = 1.5,
    padding: str = "post",
    mask_value: float = 0.0,
    return_events: bool = False,
    random_state=None,
):
    """Generate padded multivariate sequences with an order-dependent class signal.

    Every sequence is Gaussian noise of random length in
    ``[min_length, n_timesteps]``, padded with ``mask_value``. Somewhere in
    its real part, short events ("motifs") are planted one after the other;
    every class contains the *same* motifs, only their order differs
    (class 0: A then B, class 1: B then A, and further permutations of more
    motifs for more classes). Time-averaged features therefore carry no class
    information: an order-blind model stays near chance, while a sequence
    model that notices the order can be near perfect.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    n_timesteps : int, default=100
        Padded length.
    n_features : int, default=32
        Features per step.
    n_classes : int, default=2
        Number of classes (the number of motifs ``m`` is the smallest with
        ``m! >= n_classes``).
    weights : sequence of float or None, default=None
        Class proportions (``n_classes`` or ``n_classes - 1`` values, as in
        :func:`sklearn.datasets.make_classification`); None means balanced.
        ``[0.28, 0.72]`` mimics one class against several merged ones.
    min_length : int or None, default=None
        Shortest real length; None means ``max(0.4 * n_timesteps, room for the
        events)``.
    event_length : int, default=5
        Steps per motif.
    n_informative : int or None, default=None
        Features a motif lives on; None means ``min(n_features, 8)``.
    signal : float, default=1.5
        Amplitude of a motif relative to the unit noise.
    padding : {"post", "pre"}, default="post"
        Where padding goes.
    mask_value : float, default=0.0
        Value of padded steps (NaN allowed).
    return_events : bool, default=False
        Also return a boolean ``(n_samples, n_timesteps)`` array marking the
        steps where motifs were planted.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, n_timesteps, n_features)
    y : ndarray of int, shape (n_samples,)
    events : ndarray of bool, shape (n_samples, n_timesteps)
        Only with ``return_events=True``.

    Examples
    --------
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=50, n_timesteps=30, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((50, 30, 32), [0, 1])
    """
    rng = check_random_state(random_state)
    _check_counts(
        n_samples=(n_samples, 1),
        n_timesteps=(n_timesteps, 2),
        n_features=(n_features, 1),
        n_classes=(n_classes, 2),
        event_length=(event_length, 1),
    )
    if padding not in ("post", "pre"):
        raise ValueError(f"padding must be 'post' or 'pre', got {padding!r}.")
    n_motifs = next(m for m in itertools.count(2) if math.factorial(m) >= n_classes)
    span = n_motifs * event_length * 2  # motifs plus room for the gaps between them
    if span > n_timesteps:
        raise ValueError(
            f"n_timesteps={n_timesteps} is too short for {n_motifs} events of "
            f"event_length={event_length}: at least {span} steps are needed."
        )
    if min_length is None:
        min_length = max(int(0.4 * n_timesteps), span)
    if not span <= min_length <= n_timesteps:
        raise ValueError(f"min_length must be in [{span}, {n_timesteps}], got {min_length}.")
    n_informative = min(n_features, 8) if n_informative is None else n_informative
    if not 1 <= n_informative <= n_features:
        raise ValueError(f"n_informative must be in [1, {n_features}], got {n_informative}.")

    counts = _class_counts(n_samples, n_classes, weights)
    y = rng.permutation(np.repeat(np.arange(n_classes), counts))
    orders = list(itertools.permutations(range(n_motifs)))[:n_classes]
    informative = rng.choice(n_features, n_informative, replace=False)
    motifs = rng.choice([-1.0, 1.0], size=(n_motifs, n_informative)) * signal

    lengths = rng.randint(min_length, n_timesteps + 1, size=n_samples)
    X = rng.standard_normal((n_samples, n_timesteps, n_features)).astype(np.float32)
    events = np.zeros((n_samples, n_timesteps), dtype=bool)
    for i in range(n_samples):
        gaps = rng.randint(0, event_length + 1, size=n_motifs)
        start = rng.randint(0, lengths[i] - span + 1)
        for motif in orders[y[i]]:
            start += gaps[motif]
            steps = slice(start, start + event_length)
            X[i][steps, informative] += motifs[motif]
            events[i, steps] = True
            start += event_length
    real = np.arange(n_timesteps)[None, :] < lengths[:, None]
    if padding == "pre":
        shift = n_timesteps - lengths
        index = (np.arange(n_timesteps)[None, :] - shift[:, None]) % n_timesteps
        X = np.take_along_axis(X, index[:, :, None], axis=1)
        events = np.take_along_axis(events, index, axis=1)
        real = np.take_along_axis(real, index, axis=1)
    X[~real] = mask_value
    if return_events:
        return X, y, events
    return X, y
