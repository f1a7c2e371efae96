"""A slow contour on a few of many features: the class is its shape (rise-then-fall or not)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_random_state

from ._synthetic import _check_counts, _class_counts

__all__ = ["make_contour_classification"]


def make_contour_classification(
    n_samples: int = 3000,
    n_timesteps: int = 100,
    n_features: int = 136,
    *,
    weights: Sequence[float] | None = (0.28, 0.72),
    min_length: int = 60,
    n_contour_features: int = 4,
    amplitude: float = 0.18,
    n_speakers: int = 30,
    speaker_scale: float = 1.0,
    return_groups: bool = False,
    random_state=None,
):
    """Generate noise sequences whose class is the slow shape of a contour on a few features.

    Every sequence is standard Gaussian noise on ``n_features`` features,
    plus a per-speaker offset on every feature (``speaker_scale`` standard
    deviations, drawn once per speaker), of a random length in
    ``[min_length, n_timesteps]``, zero post-padded. On ``n_contour_features``
    features a smooth contour spanning the whole real part is added: class 0
    rises then falls (``+amplitude * sin(2 pi t)``, ``t`` from 0 to 1 over
    the sequence's own length), class 1 falls then rises (the opposite sign),
    each with a random phase shift of up to a tenth of the length and an
    amplitude jittered by 20%. No single step says much (the contour moves by
    ``amplitude`` noise deviations at most); its mean over the sequence is
    zero, so order-blind features stay near chance, while any model that
    sees the shape across many steps can tell the classes apart. This is the
    "slow contour" case where attention pooling has no step to single out.

    Parameters
    ----------
    n_samples : int, default=3000
        Number of sequences.
    n_timesteps : int, default=100
        Padded length.
    n_features : int, default=136
        Features per step.
    weights : sequence of float or None, default=(0.28, 0.72)
        Proportions of class 0 and class 1; None means balanced.
    min_length : int, default=60
        Shortest real length.
    n_contour_features : int, default=4
        Features the contour lives on.
    amplitude : float, default=0.18
        Peak of the contour, in noise standard deviations.
    n_speakers : int, default=30
        Number of speakers; each sequence belongs to one (``groups``).
    speaker_scale : float, default=1.0
        Standard deviation of the per-speaker offsets.
    return_groups : bool, default=False
        Also return the speaker of each sequence, for grouped splits.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, n_timesteps, n_features)
    y : ndarray of int, shape (n_samples,)
    groups : ndarray of int, shape (n_samples,)
        Only with ``return_groups=True``.

    Examples
    --------
    >>> from sklearn_seqattn.datasets import make_contour_classification
    >>> X, y = make_contour_classification(n_samples=20, n_features=10, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((20, 100, 10), [0, 1])
    """
    rng = check_random_state(random_state)
    _check_counts(
        n_samples=(n_samples, 1),
        n_contour_features=(n_contour_features, 1),
        n_speakers=(n_speakers, 1),
    )
    if n_contour_features > n_features:
        raise ValueError(
            f"n_contour_features={n_contour_features} exceeds n_features={n_features}."
        )
    if not 2 <= min_length <= n_timesteps:
        raise ValueError(f"min_length must be in [2, n_timesteps={n_timesteps}], got {min_length}.")
    for name, value in (("amplitude", amplitude), ("speaker_scale", speaker_scale)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be finite and non-negative, got {value!r}.")

    counts = _class_counts(n_samples, 2, weights)
    y = rng.permutation(np.repeat(np.arange(2), counts))
    features = rng.choice(n_features, n_contour_features, replace=False)
    speakers = rng.randint(n_speakers, size=n_samples)
    offsets = speaker_scale * rng.standard_normal((n_speakers, n_features))
    lengths = rng.randint(min_length, n_timesteps + 1, size=n_samples)
    X = rng.standard_normal((n_samples, n_timesteps, n_features))
    X += offsets[speakers][:, None, :]
    for i in range(n_samples):
        n = lengths[i]
        phase = rng.uniform(-0.1, 0.1)
        t = np.clip(np.linspace(0.0, 1.0, n) + phase, 0.0, 1.0)
        sign = 1.0 if y[i] == 0 else -1.0
        scale = amplitude * rng.uniform(0.8, 1.2)
        X[i, :n][:, features] += (sign * scale * np.sin(2 * np.pi * t))[:, None]
    X[np.arange(n_timesteps)[None, :] >= lengths[:, None]] = 0.0
    X = X.astype(np.float32)
    if return_groups:
        return X, y, speakers
    return X, y
