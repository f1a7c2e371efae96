"""Two weak events among many noise features: the class is which one comes first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

from ._synthetic import _check_counts, _class_counts

__all__ = ["make_event_order_classification"]


def make_event_order_classification(
    n_samples: int = 1500,
    n_timesteps: int = 100,
    n_features: int = 136,
    *,
    weights: Sequence[float] | None = (0.28, 0.72),
    min_length: int = 40,
    event_length: int = 3,
    n_event_features: int = 4,
    strength: float = 2.5,
    return_events: bool = False,
    random_state=None,
):
    """Generate zero post-padded noise sequences holding two weak events in a class-given order.

    Each sequence is standard Gaussian noise on ``n_features`` features, of a
    random length in ``[min_length, n_timesteps]``, post-padded with zeros.
    Two events, A and B, are planted at random, non-overlapping places of its
    real part: each adds ``strength`` (with a fixed random sign per feature)
    to ``n_event_features`` features (disjoint for A and B) for
    ``event_length`` steps. Class 0: A comes first; class 1: B comes first.
    Both classes hold both events, so anything blind to order (time averages,
    bag-of-steps models) stays at chance, and the events are weak compared
    with the noise of the other features.

    Parameters
    ----------
    n_samples : int, default=1500
        Number of sequences.
    n_timesteps : int, default=100
        Padded length.
    n_features : int, default=136
        Features per step.
    weights : sequence of float or None, default=(0.28, 0.72)
        Proportions of class 0 and class 1 (or of class 0 alone); None means
        balanced.
    min_length : int, default=40
        Shortest real length.
    event_length : int, default=3
        Steps per event.
    n_event_features : int, default=4
        Features each event lives on.
    strength : float, default=2.5
        Amplitude of an event on each of its features, in noise standard
        deviations.
    return_events : bool, default=False
        Also return a boolean ``(n_samples, n_timesteps)`` array marking the
        steps of both events.
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
    >>> from sklearn_seqattn.datasets import make_event_order_classification
    >>> X, y = make_event_order_classification(n_samples=20, n_features=10, random_state=0)
    >>> X.shape, int(y.sum())
    ((20, 100, 10), 14)
    """
    rng = check_random_state(random_state)
    _check_counts(
        n_samples=(n_samples, 1),
        event_length=(event_length, 1),
        n_event_features=(n_event_features, 1),
    )
    if 2 * n_event_features > n_features:
        raise ValueError(
            f"n_features={n_features} is too few for two events on n_event_features="
            f"{n_event_features} disjoint features each."
        )
    if not 2 * event_length <= min_length <= n_timesteps:
        raise ValueError(
            f"min_length must be in [{2 * event_length}, n_timesteps={n_timesteps}], "
            f"got {min_length}."
        )
    if not np.isfinite(strength):
        raise ValueError(f"strength must be finite, got {strength!r}.")

    counts = _class_counts(n_samples, 2, weights)
    y = rng.permutation(np.repeat(np.arange(2), counts))
    features = rng.choice(n_features, 2 * n_event_features, replace=False).reshape(2, -1)
    signs = rng.choice([-1.0, 1.0], size=(2, n_event_features))
    lengths = rng.randint(min_length, n_timesteps + 1, size=n_samples)
    X = rng.standard_normal((n_samples, n_timesteps, n_features)).astype(np.float32)
    events = np.zeros((n_samples, n_timesteps), dtype=bool)
    for i in range(n_samples):
        # Two distinct, ordered starts with room for both events.
        room = lengths[i] - 2 * event_length + 1
        first, second = np.sort(rng.choice(room, 2, replace=False))
        starts = (first, second + event_length)
        order = (0, 1) if y[i] == 0 else (1, 0)
        for event, start in zip(order, starts, strict=True):
            steps = slice(start, start + event_length)
            X[i][steps, features[event]] += strength * signs[event]  # (event_length, k)
            events[i, steps] = True
    X[np.arange(n_timesteps)[None, :] >= lengths[:, None]] = 0.0
    if return_events:
        return X, y, events
    return X, y
