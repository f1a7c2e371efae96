"""Loss weights: class weights, sample weights and their product, checked once."""

from __future__ import annotations

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

__all__ = ["check_sample_weight", "class_weights", "loss_weights"]


def class_weights(class_weight, classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The loss weight of each class of ``classes`` (``class_weight`` as scikit-learn reads it).

    A dict may omit classes (weight 1), as in scikit-learn, but every key
    must be a label of ``y``: a typo, or int keys for string labels, would
    otherwise be ignored without a word.
    """
    if isinstance(class_weight, dict):
        known = set(classes.tolist())
        unknown = [key for key in class_weight if key not in known]
        if unknown:
            raise ValueError(
                f"class_weight has key(s) {unknown!r} that are not labels of y; the labels "
                f"are {classes.tolist()!r}."
            )
    try:
        return compute_class_weight(class_weight, classes=classes, y=y)
    except ValueError as exc:
        raise ValueError(f"class_weight={class_weight!r} does not fit y: {exc}") from None


def check_sample_weight(sample_weight, n_samples: int, name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as finite, non-negative float64 of shape ``(n_samples,)``, not all zero.

    A scalar is broadcast. The message names ``name`` and the first bad entry.
    """
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must hold numbers: {exc}") from None
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},) to match X, got shape {sw.shape}.")
    bad = ~np.isfinite(sw) | (sw < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} must be finite and non-negative, got {name}[{first}]={float(sw[first])!r}."
        )
    if sw.sum() <= 0:
        raise ValueError(f"{name} is all zero: at least one weight must be positive.")
    return sw


def loss_weights(
    class_weight: np.ndarray, y_idx: np.ndarray, sample_weight=None, name: str = "sample_weight"
) -> np.ndarray:
    """Per-sample loss weight: its class's weight times its sample weight.

    Refuses weights that float32 (the loss's precision) cannot hold: too
    large (infinite), or all so small that they become zero, which would
    train on a loss of exactly 0.
    """
    weights = class_weight[y_idx].astype(np.float64)
    if sample_weight is not None:
        weights = weights * check_sample_weight(sample_weight, len(y_idx), name)
    if weights.sum() <= 0:
        raise ValueError(
            "class_weight gives every sample a weight of zero: nothing would be trained."
        )
    with np.errstate(over="ignore", under="ignore"):
        single = weights.astype(np.float32)
    too_large = ~np.isfinite(single)
    if too_large.any():
        bad = int(np.flatnonzero(too_large)[0])
        raise ValueError(
            f"The loss weight of sample {bad} (class_weight times {name}) is "
            f"{weights[bad]:.3g}, too large for float32; rescale the weights."
        )
    if not (single > 0).any():
        raise ValueError(
            f"Every loss weight (class_weight times {name}) is below float32's smallest "
            f"positive value (largest {weights.max():.3g}): the loss would be exactly 0. "
            "Rescale the weights."
        )
    return weights
