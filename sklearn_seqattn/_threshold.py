"""The decision threshold of a binary fit: given, or tuned on the validation split."""

from __future__ import annotations

import numbers

import numpy as np

from ._params import THRESHOLD_METRICS
from ._training import predict_proba_with

__all__ = ["decision_threshold"]


def decision_threshold(est, seqs, y_idx, valid_idx):
    """The threshold ``predict`` uses: given, chosen on the validation split, or None."""
    if est.decision_threshold is None:
        return None
    if len(est.classes_) != 2:
        raise ValueError(
            f"decision_threshold applies to binary problems; y has {len(est.classes_)} classes."
        )
    if est.decision_threshold != "auto":
        return float(est.decision_threshold)
    if valid_idx is None:
        raise ValueError(
            "decision_threshold='auto' is chosen on the validation split and needs "
            "early_stopping=True (or X_val and y_val)."
        )
    metric = THRESHOLD_METRICS.get(est.threshold_scoring, est.threshold_scoring)
    p = predict_proba_with(est, est.net_.module_, seqs, index=valid_idx)[:, 1]
    y_true = y_idx[valid_idx]
    # Candidates between consecutive distinct probabilities, and 0.5 itself.
    levels = np.unique(p)
    candidates = np.unique(np.r_[(levels[1:] + levels[:-1]) / 2, 0.5])
    scores = np.array([_threshold_score(est, metric, y_true, p >= t) for t in candidates])
    best = np.flatnonzero(scores == scores.max())
    # Ties: the candidate closest to 0.5, the untuned decision.
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


def _threshold_score(est, metric, y_true, positive) -> float:
    """``threshold_scoring`` of one candidate threshold, checked to be a finite number."""
    score = metric(y_true, positive.astype(int))
    if isinstance(score, (bool, np.bool_)) or not isinstance(score, (numbers.Real, np.number)):
        raise TypeError(
            f"threshold_scoring={est.threshold_scoring!r} must return a number, got {score!r}."
        )
    value = float(score)
    if not np.isfinite(value):
        raise ValueError(
            f"threshold_scoring={est.threshold_scoring!r} returned {score!r} on the "
            "validation split; it must return a finite number for every threshold."
        )
    return value
