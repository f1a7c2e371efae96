"""Cheap baselines a sequence network should beat, fitted and scored on the report's splits.

Three baselines, each blind to something the network can see:

* ``"order_blind"``: the mean and standard deviation of every feature over a
  sequence's real steps -> ``StandardScaler`` -> ``LogisticRegression``. It
  sees levels and spreads, never the order of steps.
* ``"binned"``: the mean of every feature in ``N_BINS`` consecutive bins of
  each sequence's own real steps -> ``StandardScaler`` ->
  ``LogisticRegression``. It sees where in a sequence a level is (beginning,
  middle, end): a slow contour, not a short event at a random place.
* ``"minirocket"``: aeon's MiniRocket (random convolutional features and a
  ridge classifier), the usual strong, cheap time-series baseline. Used only
  when aeon imports.

The first two read real steps only, so padding never changes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._data import standardization
from .._validation import Sequences

__all__ = [
    "BASELINES",
    "N_BINS",
    "BaselineResult",
    "binned_features",
    "check_baselines",
    "fit_baselines",
    "order_blind_features",
]

BASELINES = ("order_blind", "binned", "minirocket")
# Bins of the "binned" baseline: enough to tell the beginning, middle and end of a
# sequence apart (a rise-then-fall from a fall-then-rise), few enough that a linear model
# on 5 x 136 features stays well-posed on a few hundred training sequences.
N_BINS = 5
# lbfgs on standardised features converges far within this; the default 100 does not
# always on hundreds of correlated bin features.
MAX_ITER = 2000

_DESCRIPTIONS = {
    "order_blind": "per-feature mean and sd over real steps -> logistic regression",
    "binned": f"per-feature means in {N_BINS} time bins of each sequence -> logistic regression",
    "minirocket": "aeon MiniRocket (random convolutions -> ridge)",
}


@dataclass(frozen=True)
class BaselineResult:
    """One baseline, fitted on the training data and scored on both splits.

    Attributes
    ----------
    name : {"order_blind", "binned", "minirocket"}
        Which baseline.
    description : str
        What it computes, in a few words.
    balanced_accuracy : float
        On the validation data.
    train_balanced_accuracy : float
        On the training data it was fitted on.
    seconds : float
        Wall time of its features, fit and scoring.
    """

    name: str
    description: str
    balanced_accuracy: float
    train_balanced_accuracy: float
    seconds: float


def check_baselines(baselines) -> tuple[str, ...]:
    """Validate the ``baselines`` argument: names out of :data:`BASELINES`, no repeats."""
    if isinstance(baselines, str):
        baselines = (baselines,)
    try:
        names = tuple(baselines)
    except TypeError:
        raise TypeError(
            f"baselines must be a sequence of names out of {BASELINES}, got {baselines!r}."
        ) from None
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise ValueError(f"baselines must name baselines out of {BASELINES}, got {unknown!r}.")
    return tuple(dict.fromkeys(names))


def _cumulative(seqs: Sequences) -> tuple[np.ndarray, np.ndarray]:
    """Running sums of the values and their squares along time, with a leading zero step.

    Float64: sums of many float32 steps would lose digits. Padded steps of
    ``seqs.data`` are zero, so they add nothing.
    """
    data = seqs.data.astype(np.float64)  # (n, width, features)
    zero = np.zeros((len(seqs), 1, data.shape[2]))
    return (
        np.concatenate([zero, np.cumsum(data, axis=1)], axis=1),  # (n, width + 1, features)
        np.concatenate([zero, np.cumsum(data**2, axis=1)], axis=1),
    )


def _window_sums(cum: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sum of steps ``[start_i, end_i)`` of each sequence: ``(n, features)``."""
    rows = np.arange(len(cum))
    return cum[rows, end] - cum[rows, start]


def order_blind_features(seqs: Sequences) -> np.ndarray:
    """Per-feature mean and standard deviation over each sequence's real steps.

    Parameters
    ----------
    seqs : Sequences
        Parsed sequences (:func:`~sklearn_seqattn._validation.check_sequences`).

    Returns
    -------
    ndarray of shape (n_samples, 2 * n_features)
        Means first, then standard deviations.
    """
    total, squares = _cumulative(seqs)
    lengths = seqs.lengths
    start = np.zeros_like(lengths)
    count = lengths[:, None].astype(np.float64)
    mean = _window_sums(total, start, lengths) / count
    var = np.clip(_window_sums(squares, start, lengths) / count - mean**2, 0.0, None)
    return np.concatenate([mean, np.sqrt(var)], axis=1)


def binned_features(seqs: Sequences, n_bins: int = N_BINS) -> np.ndarray:
    """Per-feature means over ``n_bins`` consecutive bins of each sequence's real steps.

    Bin ``k`` of a sequence of ``L`` real steps covers steps
    ``[floor(k L / n_bins), floor((k + 1) L / n_bins))``, widened to one step
    when ``L < n_bins``, so every bin has a value and a sequence's bins follow
    its own length.

    Parameters
    ----------
    seqs : Sequences
        Parsed sequences.
    n_bins : int, default=N_BINS
        Number of bins.

    Returns
    -------
    ndarray of shape (n_samples, n_bins * n_features)
        Bin by bin: the features of bin 0, then of bin 1, ...
    """
    total, _ = _cumulative(seqs)
    lengths = seqs.lengths
    parts = []
    for k in range(n_bins):
        start = (k * lengths) // n_bins
        end = np.maximum(((k + 1) * lengths) // n_bins, start + 1)
        parts.append(_window_sums(total, start, end) / (end - start)[:, None])
    return np.concatenate(parts, axis=1)


def _linear_model(random_state):
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=MAX_ITER, random_state=random_state),
    )


def _fit_linear(features, train, y_train, val, y_val, random_state):
    model = _linear_model(random_state).fit(features(train), y_train)
    return (
        balanced_accuracy_score(y_val, model.predict(features(val))),
        balanced_accuracy_score(y_train, model.predict(features(train))),
    )


def _channels_first(train: Sequences, val: Sequences) -> tuple[np.ndarray, np.ndarray]:
    """Both splits as ``(n, n_features, width)`` arrays of one width, for MiniRocket.

    MiniRocket needs equal lengths: each feature is standardised with the mean
    and standard deviation of the real training steps, then every sequence is
    post-padded with zeros (the training mean) to the longest sequence of
    either split. Unlike the other baselines, this one sees the padding.
    """
    mean, scale = standardization(train, np.arange(len(train)))
    width = max(train.data.shape[1], val.data.shape[1])

    def prepare(seqs: Sequences) -> np.ndarray:
        real = np.arange(seqs.data.shape[1])[None, :] < seqs.lengths[:, None]
        data = np.where(real[:, :, None], (seqs.data - mean) / scale, 0.0).astype(np.float32)
        data = np.pad(data, [(0, 0), (0, width - data.shape[1]), (0, 0)])
        return np.ascontiguousarray(data.transpose(0, 2, 1))  # (n, features, width)

    return prepare(train), prepare(val)


def _fit_minirocket(train, y_train, val, y_val, random_state):
    from aeon.classification.convolution_based import MiniRocketClassifier

    X_train, X_val = _channels_first(train, val)
    seed = random_state if isinstance(random_state, (int, np.integer)) else None
    model = MiniRocketClassifier(n_jobs=1, random_state=seed, class_weight="balanced")
    # aeon sets numba's (and with it OpenMP's) thread count while it runs, which torch
    # then inherits; the caller's setting is put back.
    threads = _torch_threads()
    try:
        model.fit(X_train, y_train)
        scores = (
            balanced_accuracy_score(y_val, model.predict(X_val)),
            balanced_accuracy_score(y_train, model.predict(X_train)),
        )
    finally:
        _set_torch_threads(threads)
    return scores


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    return torch.get_num_threads()


def _set_torch_threads(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def aeon_available() -> bool:
    """Whether aeon's MiniRocket imports here."""
    try:
        from aeon.classification.convolution_based import MiniRocketClassifier  # noqa: F401
    except ImportError:
        return False
    return True


def fit_baselines(
    names: tuple[str, ...],
    train: Sequences,
    y_train: np.ndarray,
    val: Sequences,
    y_val: np.ndarray,
    random_state=0,
) -> tuple[list[BaselineResult], dict[str, str]]:
    """Fit each named baseline on ``train`` and score it on ``val`` and ``train``.

    Returns the results and, for each baseline left out, why (MiniRocket
    without aeon).
    """
    results, skipped = [], {}
    for name in names:
        if name == "minirocket" and not aeon_available():
            skipped[name] = "aeon is not installed (pip install aeon)"
            continue
        start = time.perf_counter()
        if name == "minirocket":
            val_score, train_score = _fit_minirocket(train, y_train, val, y_val, random_state)
        else:
            features = order_blind_features if name == "order_blind" else binned_features
            val_score, train_score = _fit_linear(features, train, y_train, val, y_val, random_state)
        results.append(
            BaselineResult(
                name=name,
                description=_DESCRIPTIONS[name],
                balanced_accuracy=float(val_score),
                train_balanced_accuracy=float(train_score),
                seconds=time.perf_counter() - start,
            )
        )
    return results, skipped
