"""The report's verdict: one of six, decided from the scores, the baselines and the curves.

A pure function of :class:`Evidence`, so every rule can be tested on numbers
alone. The rules, in order (the first that holds decides):

1. **collapsed**: (almost) every validation sequence is predicted as one class
   while the truth is not one class; or the fit's own diagnosis said
   collapsed and the validation score is at chance.
2. **underfitting**: the fit's own diagnosis said "mismatch" (the network
   predicts its training sequences far worse than training fitted them).
3. **overfitting**: the training score is far above the validation score,
   and the validation loss rose after the best epoch (or the fit kept no
   validation curve, so the gap alone decides).
4. **chance**: the validation score is not clearly above chance, unless a
   baseline is clearly above chance on the same sequences while the network
   fits not even its training sequences: the data holds what the network
   misses, which is **underfitting** (rule 5).
5. **underfitting**: the training score itself is low (and, when baselines ran,
   below the best baseline's training score: a score every model is capped
   at, by label noise for instance, is no under-fitting).
6. With baselines: **learned** when the network beats every baseline (or sits
   at the ceiling of the score); **underfitting** when it trails the best
   baseline clearly; at or just below the best baseline, **plateau** when the
   validation curve is flat, else **underfitting** (a fit cut short).
7. Without baselines: **learned** (above chance, no over- or under-fitting seen).

A network that beats every baseline is never called "plateau".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._diagnosis import COLLAPSE_SHARE, N_SD_ABOVE_CHANCE
from ._evidence import CurveEvidence

__all__ = ["VERDICTS", "Evidence", "chance_threshold", "decide_verdict"]

VERDICTS = ("collapsed", "chance", "overfitting", "underfitting", "plateau", "learned")
# Training minus validation balanced accuracy above which the network fits its training
# sequences far better than new ones: 0.1 is several standard deviations of a validation
# split of a few hundred sequences (about 0.03 each), so noise alone does not reach it.
OVERFIT_GAP = 0.10
# A training score that closes less than this share of the way from chance to a perfect
# score is low (0.8 for two classes): a network of enough capacity that trained long enough
# fits most of its own training sequences. With baselines it must also fall below the
# training score of the best baseline, since label noise caps every model's training score.
LOW_TRAIN_SHARE = 0.6
# The network trails a baseline when its validation score is lower by more than this: two
# points of balanced accuracy, about the spread of one seed to the next on the package's
# benchmarks, so a closer gap is a tie, not a defeat.
TRAIL_MARGIN = 0.02
# A validation score at or above this leaves nothing to gain: a network there that only ties
# a baseline learned the task (which the baseline also solves).
CEILING = 0.99


@dataclass(frozen=True)
class Evidence:
    """Everything the verdict reads.

    Attributes
    ----------
    score : float
        Balanced accuracy of the network on the validation data.
    train_score : float or None
        On the training data, when given.
    chance : float
        ``1 / n_classes`` (classes present in the validation labels).
    threshold : float
        Validation score above which the network is better than chance.
    predicted_share : float
        Share of validation sequences predicted as the most predicted class.
    true_share : float
        Share of the most frequent class in the validation labels.
    diagnosis : str or None
        The fit's own verdict (``fit_diagnosis_.verdict``).
    curves : CurveEvidence
        What the training curves say.
    baselines : dict of str to float
        Validation balanced accuracy of each baseline run.
    baseline_train : dict of str to float
        Training balanced accuracy of each baseline run.
    """

    score: float
    train_score: float | None
    chance: float
    threshold: float
    predicted_share: float
    true_share: float
    diagnosis: str | None
    curves: CurveEvidence
    baselines: dict[str, float] = field(default_factory=dict)
    baseline_train: dict[str, float] = field(default_factory=dict)


def chance_threshold(y_idx: np.ndarray) -> tuple[float, float]:
    """Chance level and the balanced accuracy above which a model beats chance on ``y_idx``.

    As :func:`~sklearn_seqattn._diagnosis.diagnose_fit` judges a fit: chance
    plus ``N_SD_ABOVE_CHANCE`` standard deviations of the balanced accuracy
    of a uniform random guesser on labels with these class counts.
    """
    counts = np.bincount(y_idx)
    counts = counts[counts > 0]
    chance = 1.0 / len(counts)
    sd = np.sqrt(np.sum(chance * (1 - chance) / counts)) / len(counts)
    return chance, float(chance + N_SD_ABOVE_CHANCE * sd)


def _gap_text(train_score: float, score: float) -> str:
    return (
        f"training balanced accuracy {train_score:.3f} against {score:.3f} on validation "
        f"(gap {train_score - score:.3f} > {OVERFIT_GAP})"
    )


def _collapsed(e: Evidence) -> list[str] | None:
    one_class = e.predicted_share >= COLLAPSE_SHARE and e.true_share < COLLAPSE_SHARE
    if one_class:
        return [
            f"the network predicts one class for {e.predicted_share:.0%} of the validation "
            f"sequences, whose most frequent class is {e.true_share:.0%} of them"
        ]
    if e.diagnosis == "collapsed" and e.score <= e.threshold:
        return [
            "the fit's own diagnosis found a collapsed (near-constant) predictor, and the "
            f"validation score {e.score:.3f} is at chance ({e.chance:.3f})"
        ]
    return None


def _overfitting(e: Evidence) -> list[str] | None:
    if e.train_score is None or e.train_score - e.score <= OVERFIT_GAP:
        return None
    rising, rise = e.curves.valid_loss_rising, e.curves.valid_loss_rise
    if rising:
        by = "" if rise is None else f" {rise:.0%}"
        return [
            _gap_text(e.train_score, e.score),
            f"the validation loss rose{by} after the best epoch {e.curves.best_epoch}",
        ]
    if rising is None:
        return [
            _gap_text(e.train_score, e.score),
            "the fit held out no validation split (no validation curve), so the gap decides",
        ]
    return None


def _low_training_score(e: Evidence) -> list[str] | None:
    if e.train_score is None:
        return None
    low = e.chance + LOW_TRAIN_SHARE * (1 - e.chance)
    if e.train_score >= low:
        return None
    if not e.baselines:
        return [
            f"the training balanced accuracy {e.train_score:.3f} is low (below {low:.3f}): "
            "the network does not fit even the sequences it was trained on"
        ]
    name = max(e.baselines, key=e.baselines.__getitem__)
    reference = e.baseline_train.get(name, e.baselines[name])
    if e.train_score < reference - TRAIL_MARGIN:
        return [
            f"the training balanced accuracy {e.train_score:.3f} is low (below {low:.3f}), "
            f"and below that of the {name} baseline on the same sequences ({reference:.3f}): "
            "the network does not fit the sequences it was trained on"
        ]
    # Every model is capped there (label noise, an information limit): not under-fitting.
    return None


def _signal_missed(e: Evidence) -> list[str] | None:
    """Reasons for "underfitting" when the network is at chance but a baseline is not."""
    above = {name: score for name, score in e.baselines.items() if score > e.threshold}
    if not above:
        return None  # nothing beats chance: the data may hold no signal
    low = _low_training_score(e)
    if not low:
        return None  # the network fits its training data: a failure to generalise
    name = max(above, key=above.__getitem__)
    return [
        f"the validation balanced accuracy {e.score:.3f} is at chance ({e.chance:.3f}), "
        f"while the {name} baseline reaches {above[name]:.3f} on the same sequences: "
        "the data holds a signal the network misses",
        *low,
    ]


def _versus_baselines(e: Evidence) -> tuple[str, list[str]]:
    name, best = max(e.baselines.items(), key=lambda item: item[1])
    diff = e.score - best
    if diff > 0:
        margin = "" if diff >= TRAIL_MARGIN else f" (by less than {TRAIL_MARGIN})"
        return "learned", [
            f"the network ({e.score:.3f}) beats every baseline, the best being {name} "
            f"({best:.3f}){margin}"
        ]
    if e.score >= CEILING:
        return "learned", [
            f"the network ({e.score:.3f}) is at the ceiling, tied with {name} ({best:.3f}): "
            "the task is solved, and a cheap baseline solves it too"
        ]
    c = e.curves
    if diff < -TRAIL_MARGIN:
        reasons = [
            f"the network ({e.score:.3f}) trails the {name} baseline ({best:.3f}) by "
            f"{-diff:.3f} while not over-fitting: it misses what a cheap model finds"
        ]
        if c.flat is False:
            reasons.append(f"the {_curve_name(c)} was still improving at the last epoch")
        return "underfitting", reasons
    tie = f"the network ({e.score:.3f}) is level with the {name} baseline ({best:.3f})"
    if c.flat:
        how = (
            f"early stopping ended it at epoch {c.n_epochs}"
            if c.stopped_early or c.recent_gain is None
            else f"it gained {c.recent_gain:.3f} over the last {c.window} epochs"
        )
        return "plateau", [
            tie,
            f"the {_curve_name(c)} is flat: {how}",
            "a cheap model does as well: the limit may lie in the data (label noise, "
            "information the inputs do not hold) as much as in the network",
        ]
    if c.flat is None:
        return "underfitting", [
            tie,
            f"{c.n_epochs} epoch(s) are too few to tell a plateau from a fit cut short",
        ]
    gain = "" if c.recent_gain is None else f" ({c.recent_gain:+.3f} over the last {c.window})"
    return "underfitting", [
        tie,
        f"the {_curve_name(c)} was still improving at the last epoch{gain}: the fit was cut short",
    ]


def _curve_name(c: CurveEvidence) -> str:
    return "validation score" if c.has_validation else "training loss"


def decide_verdict(e: Evidence) -> tuple[str, tuple[str, ...]]:
    """The verdict and the reasons for it; see the module docstring for the rules.

    Parameters
    ----------
    e : Evidence

    Returns
    -------
    verdict : {"collapsed", "chance", "overfitting", "underfitting", "plateau", "learned"}
    reasons : tuple of str
    """
    reasons = _collapsed(e)
    if reasons:
        return "collapsed", tuple(reasons)
    if e.diagnosis == "mismatch":
        return "underfitting", (
            "the fit's own diagnosis found that the network predicts its training sequences "
            "far worse than training fitted them (fit_diagnosis_.verdict == 'mismatch'): "
            "dropout or batch normalisation acts too differently at prediction",
        )
    reasons = _overfitting(e)
    if reasons:
        return "overfitting", tuple(reasons)
    if e.score <= e.threshold:
        reasons = _signal_missed(e)
        if reasons:
            return "underfitting", tuple(reasons)
        return "chance", (
            f"the validation balanced accuracy {e.score:.3f} is not above chance "
            f"({e.chance:.3f}; above chance from {e.threshold:.3f} on this many sequences)",
        )
    reasons = _low_training_score(e)
    if reasons:
        return "underfitting", tuple(reasons)
    if e.baselines:
        verdict, reasons = _versus_baselines(e)
        return verdict, tuple(reasons)
    return "learned", (
        f"the validation balanced accuracy {e.score:.3f} is above chance ({e.chance:.3f}); "
        "no baseline was run (pass X_train and y_train), so a plateau cannot be told apart",
    )
