"""Did the fit learn anything? A verdict on every fit, and a warning when it did not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "ChanceLevelWarning",
    "FitDiagnosis",
    "PredictionMismatchWarning",
    "diagnose_fit",
    "prior_loss",
]

# A model whose predictions fall on one class this often is called collapsed.
COLLAPSE_SHARE = 0.98
# Balanced accuracy must beat chance by this many standard deviations of a
# chance-level predictor's balanced accuracy on the same samples.
N_SD_ABOVE_CHANCE = 2.0
# Training loss within this share of the prior's loss never left the prior.
PRIOR_LOSS_SHARE = 0.97
# A split decides "chance" alone only when a model halfway between chance and
# perfect would clear its threshold; smaller splits need the training loss too.
DECISIVE_SHARE = 0.5
# The training series' loss at prediction above this multiple of the kept epoch's
# training loss, and above this share of the class prior's loss, is a network that
# predicts differently than it trained (see FitDiagnosis, verdict "mismatch").
MISMATCH_RATIO = 3.0
MISMATCH_PRIOR_SHARE = 0.5


class ChanceLevelWarning(ConvergenceWarning):
    """The fitted model predicts at chance level or a single class.

    A subclass of :class:`sklearn.exceptions.ConvergenceWarning`, so both
    ``warnings.filterwarnings("ignore", category=ChanceLevelWarning)`` and
    filters on ``ConvergenceWarning`` silence it.
    """


class PredictionMismatchWarning(ChanceLevelWarning):
    """The fitted model predicts its own training series far worse than it fitted them.

    Issued for the fit verdict "mismatch": the loss on the training series
    at prediction is many times the loss that training measured on them,
    so a layer that acts differently in training (dropout, batch
    normalisation) broke the model at prediction. A subclass of
    :class:`ChanceLevelWarning`: filters on either silence it.
    """


@dataclass(frozen=True)
class FitDiagnosis:
    """What a fit achieved, stored as ``SeqAttentionClassifier.fit_diagnosis_``.

    Attributes
    ----------
    verdict : {"learned", "inconclusive", "chance", "collapsed", "mismatch"}
        "mismatch": the model predicts its own training series far worse
        than training fitted them (``prediction_train_loss`` above
        ``MISMATCH_RATIO`` times ``kept_train_loss`` and above
        ``MISMATCH_PRIOR_SHARE`` of ``prior_loss``), whatever its balanced
        accuracy; "collapsed": (almost) every sample is predicted as one class;
        "chance": balanced accuracy is not clearly above chance, on a split
        large enough to show learning (or the training loss never left the
        prior's); "inconclusive": the split is too small to tell, while the
        training loss fell; "learned": clearly above chance.
    basis : {"validation", "training"}
        Samples the verdict was computed on (the early-stopping split, or the
        training data without early stopping).
    n_samples : int
        Number of those samples.
    balanced_accuracy : float
        Of the fitted model on those samples.
    chance_level : float
        ``1 / n_classes``.
    threshold : float
        Balanced accuracy above which the model counts as better than chance:
        chance plus two standard deviations of a chance-level predictor's
        balanced accuracy on these samples.
    majority_share : float
        Share of the samples predicted as the most predicted class.
    min_train_loss, prior_loss : float
        Lowest training loss over the epochs, and the loss of the best
        constant predictor (the class prior) under the same weights.
    kept_train_loss : float
        Training loss of the epoch whose weights the model kept, as training
        measured it (dropout active, batch normalisation on each batch's
        statistics). NaN in diagnoses saved before it was recorded.
    prediction_train_loss : float
        The same loss of the fitted model at prediction (dropout off, batch
        normalisation on its running estimates), on the same training series.
        NaN where a ``sampler`` resampled them (training read other rows).
    message : str
        Empty when the model learned; otherwise what was seen, likely causes
        and what to try.
    """

    verdict: str
    basis: str
    n_samples: int
    balanced_accuracy: float
    chance_level: float
    threshold: float
    majority_share: float
    min_train_loss: float
    prior_loss: float
    message: str = ""
    kept_train_loss: float = float("nan")
    prediction_train_loss: float = float("nan")

    @property
    def learned(self) -> bool:
        """True when the verdict is "learned"."""
        return self.verdict == "learned"

    @property
    def failed(self) -> bool:
        """True when the verdict is "chance", "collapsed" or "mismatch" (``fit`` then warns)."""
        return self.verdict in ("chance", "collapsed", "mismatch")

    def __str__(self) -> str:
        head = (
            f"{self.verdict}: balanced accuracy {self.balanced_accuracy:.3f} on "
            f"{self.n_samples} {self.basis} samples (chance {self.chance_level:.3f}, "
            f"better than chance above {self.threshold:.3f})"
        )
        return head if not self.message else f"{head}. {self.message}"


def prior_loss(y_idx: np.ndarray, weights: np.ndarray, n_classes: int, smoothing: float) -> float:
    """Weighted cross-entropy of the best constant predictor, as the training loop averages it.

    The loop's loss is ``mean(weight_i * loss_i)``; the best constant
    prediction under it is the weight-share of each class.
    """
    totals = np.bincount(y_idx, weights=weights, minlength=n_classes)
    prior = np.clip(totals / totals.sum(), 1e-12, None)
    log_prior = np.log(prior)
    per_sample = -(1 - smoothing) * log_prior[y_idx] - smoothing * log_prior.mean()
    return float(np.mean(weights * per_sample))


def _balanced_accuracy(y_true, y_pred, n_classes) -> tuple[float, np.ndarray]:
    present = np.flatnonzero(np.bincount(y_true, minlength=n_classes))
    recalls = np.array([np.mean(y_pred[y_true == k] == k) for k in present])
    return float(recalls.mean()), present


def diagnose_fit(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    basis: str,
    train_losses,
    prior: float,
    log_loss_vs_prior: tuple[float, float] | None = None,
    training_vs_prediction: tuple[float, float] | None = None,
) -> FitDiagnosis:
    """Judge a fit from its predictions on ``basis`` samples and its training losses.

    ``log_loss_vs_prior`` is the (weighted) log-loss of the model's
    probabilities on those samples and that of predicting the training class
    prior; on a split too small for the accuracy to tell, a model no better
    than the prior in log-loss is at chance. ``training_vs_prediction`` is the
    training loss of the kept epoch and the same loss at prediction on the
    same training series.
    """
    n = len(y_true)
    accuracy, present = _balanced_accuracy(y_true, y_pred, n_classes)
    counts = np.bincount(y_true, minlength=n_classes)[present]
    shares = np.bincount(y_pred, minlength=n_classes) / n
    # A predictor independent of the truth, with the model's predicted-class shares q,
    # has recall_k ~ Binomial(n_k, q_k) / n_k: mean 1/K on average, variance below.
    chance = 1.0 / len(present)
    q = shares[present]
    sd = np.sqrt(np.sum(q * (1 - q) / counts)) / len(present)
    threshold = chance + N_SD_ABOVE_CHANCE * max(sd, 1e-12)
    majority = float(shares.max())
    finite_losses = [float(v) for v in train_losses if np.isfinite(v)]
    min_loss = min(finite_losses) if finite_losses else float("nan")
    stuck = not finite_losses or min_loss >= PRIOR_LOSS_SHARE * prior
    true_majority = counts.max() / counts.sum()
    # Whether the split could show learning at all: judged with a uniform guesser's
    # spread, which (unlike the model's own) does not vanish for constant predictions.
    sd_uniform = np.sqrt(np.sum(chance * (1 - chance) / counts)) / len(present)
    decisive = N_SD_ABOVE_CHANCE * sd_uniform <= DECISIVE_SHARE * (1 - chance)
    kept, at_prediction = training_vs_prediction or (float("nan"), float("nan"))
    if _mismatch(kept, at_prediction, prior):
        verdict = "mismatch"
    elif accuracy > threshold:
        verdict = "learned"
    elif not (decisive or stuck or _no_better_than_prior(log_loss_vs_prior)):
        verdict = "inconclusive"
    elif majority >= COLLAPSE_SHARE and true_majority < COLLAPSE_SHARE:
        verdict = "collapsed"
    else:
        verdict = "chance"
    if verdict == "mismatch":
        message = _mismatch_advice(kept, at_prediction)
    elif verdict == "inconclusive":
        message = (
            f"The {n} {basis} samples are too few to tell a model that learned from one at "
            "chance, and the training loss fell below that of the class prior; judge the "
            "model on more held-out data (cross-validation, or X_val)"
        )
    else:
        message = "" if verdict == "learned" else _advice(verdict, basis, n, stuck, majority)
    return FitDiagnosis(
        verdict=verdict,
        basis=basis,
        n_samples=n,
        balanced_accuracy=accuracy,
        chance_level=chance,
        threshold=float(threshold),
        majority_share=majority,
        min_train_loss=min_loss,
        prior_loss=float(prior),
        message=message,
        kept_train_loss=kept,
        prediction_train_loss=at_prediction,
    )


def _mismatch(kept: float, at_prediction: float, prior: float) -> bool:
    """Whether the training series' loss at prediction is far above training's own."""
    if not (np.isfinite(kept) and np.isfinite(at_prediction)):
        return False
    return at_prediction > max(MISMATCH_RATIO * kept, MISMATCH_PRIOR_SHARE * prior)


def _mismatch_advice(kept: float, at_prediction: float) -> str:
    return (
        f"The model predicts its own training series far worse than it fitted them: their "
        f"loss at prediction is {at_prediction:.3f}, against {kept:.3f} when training "
        "measured it (the kept epoch). Layers that act differently in training and at "
        "prediction disagree: dropout, and batch normalisation (batch statistics in "
        "training, running estimates at prediction). Likely causes: input dropout before "
        "batch-normalised convolutions on steps of few features, dropout too strong, or "
        "batches too small for stable statistics. Try input_dropout=0, a lower dropout, "
        "or a larger batch_size; new initialisations (n_init) do not fix it."
    )


def _no_better_than_prior(log_loss_vs_prior) -> bool:
    if log_loss_vs_prior is None:
        return False
    model, prior = log_loss_vs_prior
    return not model < prior


def _advice(verdict: str, basis: str, n: int, stuck: bool, majority: float) -> str:
    if verdict == "collapsed":
        seen = f"The model predicts one class for {majority:.0%} of the {n} {basis} samples"
    else:
        seen = f"The model's balanced accuracy on the {n} {basis} samples is not above chance"
    if stuck:
        seen += (
            ", and the training loss never fell below that of always predicting the "
            "class prior: the network learned nothing at all"
        )
        causes = (
            "regularisation too strong (weight_decay, dropout, or an activity penalty "
            "in custom callbacks), a learning rate too low or too high (lr), too few "
            "epochs (max_epochs, n_iter_no_change), or features on very different "
            "scales (keep standardize=True or scale X)"
        )
    else:
        seen += ", although the training loss fell: the network memorised the training data"
        causes = (
            "too little data for the model's size, too little regularisation (raise dropout "
            "or weight_decay, lower the widths), or too few epochs for the pattern to "
            "emerge after memorisation (n_iter_no_change)"
        )
    tries = (
        "Try n_init=3 (several initialisations, the best on the validation split kept), "
        "lr=1e-3, a longer patience (n_iter_no_change; weak order can take 100 epochs or "
        "more to appear), class_weight='balanced' for imbalanced classes, "
        "and check that the classes are separable at all (e.g. with a simple baseline)"
    )
    if basis == "validation" and n < 50:
        tries += f"; the validation split holds only {n} samples, so this verdict is noisy"
    return f"{seen}. Likely causes: {causes}. {tries}."
