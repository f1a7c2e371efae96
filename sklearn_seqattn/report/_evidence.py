"""What the training curves say: flat or still improving, validation loss rising or not.

Read from the estimator's fitted state (``history_``, ``best_epoch_``,
``n_iter_``, ``early_stopping_``), never recomputed from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CurveEvidence", "curve_evidence", "history_columns"]

# Epochs at the end of training that must show no gain for a curve to count as flat:
# at most the patience "auto" gives (20 epochs, 10 on large fits), so a curve that early
# stopping ended qualifies, and a run of 200 epochs is judged on its last few dozen at most.
FLAT_WINDOW = 10
# Fewer epochs than this cannot tell a plateau from a fit cut short.
MIN_EPOCHS = 4
# A validation score (balanced accuracy) that gains at most this much over the last
# FLAT_WINDOW epochs is flat: one point of balanced accuracy is below the sampling noise of
# a validation split of a few hundred sequences (about 0.03 at 200 sequences).
FLAT_SCORE_GAIN = 0.01
# Without a validation split the training loss decides: a relative fall of at most 2% over
# the window is flat (a loss still falling faster is a fit still learning).
FLAT_LOSS_DROP = 0.02
# The validation loss counts as rising after the best epoch when the last epochs average
# at least 5% above its value there (the epoch-to-epoch wobble of a settled curve is smaller).
VALID_LOSS_RISE = 0.05
# Epochs averaged at the end of the curve for that comparison.
TAIL = 3


@dataclass(frozen=True)
class CurveEvidence:
    """Facts about a fit's training curves.

    Attributes
    ----------
    n_epochs : int
        Epochs in the history of the kept network.
    max_epochs : int or None
        The epoch budget.
    best_epoch : int or None
        The estimator's ``best_epoch_`` (with a validation split).
    has_validation : bool
        Whether the history holds validation losses and scores.
    stopped_early : bool
        Early stopping ended training before ``max_epochs``.
    window : int
        Epochs at the end judged for flatness.
    recent_gain : float or None
        With validation: the best validation score of the last ``window``
        epochs minus the best before them. Without: the relative fall of the
        lowest training loss over the window. None with too few epochs.
    flat : bool or None
        Whether the curve stopped improving (see the module's thresholds);
        None with fewer than ``MIN_EPOCHS`` epochs.
    valid_loss_rise : float or None
        Relative rise of the validation loss from the best epoch to the
        average of the last epochs; None without a validation loss.
    valid_loss_rising : bool or None
        ``valid_loss_rise >= VALID_LOSS_RISE``; None without a validation loss.
    """

    n_epochs: int
    max_epochs: int | None
    best_epoch: int | None
    has_validation: bool
    stopped_early: bool
    window: int
    recent_gain: float | None
    flat: bool | None
    valid_loss_rise: float | None
    valid_loss_rising: bool | None


def history_columns(history) -> dict[str, list[float] | None]:
    """``epoch``, ``train_loss``, ``valid_loss`` and ``valid_score`` as lists (None if absent)."""
    rows = list(history)
    columns: dict[str, list[float] | None] = {}
    for key in ("epoch", "train_loss", "valid_loss", "valid_score", "dur"):
        values = [row.get(key) for row in rows]
        columns[key] = (
            None if not values or any(v is None for v in values) else [float(v) for v in values]
        )
    if columns["epoch"] is None:
        columns["epoch"] = [float(i) for i in range(1, len(rows) + 1)]
    return columns


def curve_evidence(clf) -> CurveEvidence:
    """Judge the curves of a fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`."""
    columns = history_columns(clf.history_)
    train_loss = columns["train_loss"] or []
    valid_loss, valid_score = columns["valid_loss"], columns["valid_score"]
    n_epochs = len(train_loss)
    has_validation = valid_loss is not None and valid_score is not None
    max_epochs = getattr(clf, "max_epochs", None)
    max_epochs = int(max_epochs) if isinstance(max_epochs, (int, np.integer)) else None
    n_iter = int(getattr(clf, "n_iter_", n_epochs))
    stopped_early = bool(has_validation and max_epochs is not None and n_iter < max_epochs)
    best = getattr(clf, "best_epoch_", None)
    window = min(FLAT_WINDOW, max(1, n_epochs // 2))
    gain = flat = None
    if n_epochs >= MIN_EPOCHS:
        if has_validation:
            scores = np.asarray(valid_score)
            gain = float(scores[-window:].max() - scores[:-window].max())
            # Early stopping ends a run only after n_iter_no_change epochs without gain.
            flat = stopped_early or gain <= FLAT_SCORE_GAIN
        else:
            losses = np.asarray(train_loss)
            before = float(losses[:-window].min())
            gain = float((before - losses[-window:].min()) / max(abs(before), 1e-12))
            flat = gain <= FLAT_LOSS_DROP
    rise = rising = None
    if valid_loss is not None and n_epochs:
        losses = np.asarray(valid_loss)
        first = (columns["epoch"] or [1.0])[0]
        at = int(np.argmin(losses)) if best is None else int(best) - int(first)
        at = min(max(at, 0), n_epochs - 1)
        after = losses[at + 1 :]
        at_best = max(float(losses[at]), 1e-12)
        rise = 0.0 if not len(after) else float(after[-TAIL:].mean() / at_best - 1.0)
        rising = rise >= VALID_LOSS_RISE
    return CurveEvidence(
        n_epochs=n_epochs,
        max_epochs=max_epochs,
        best_epoch=None if best is None else int(best),
        has_validation=has_validation,
        stopped_early=stopped_early,
        window=window,
        recent_gain=gain,
        flat=flat,
        valid_loss_rise=rise,
        valid_loss_rising=rising,
    )
