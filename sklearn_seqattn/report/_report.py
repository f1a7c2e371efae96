"""``fit_report``: why a fitted network scores what it scores, and what to try next."""

from __future__ import annotations

import json
import numbers
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils import check_random_state

from .._diagnosis import FitDiagnosis
from .._validation import Sequences, check_classification_y, check_sequences
from ..plotting._base import find_classifier
from ._baselines import BASELINES, BaselineResult, check_baselines, fit_baselines
from ._evidence import CurveEvidence, curve_evidence, history_columns
from ._suggestions import Suggestion, facts_of, suggest
from ._verdict import CEILING, Evidence, chance_threshold, decide_verdict

__all__ = ["FitReport", "fit_report"]


@dataclass(frozen=True)
class FitReport:
    """What a fitted network achieved, against cheap baselines, and what to try next.

    Returned by :func:`fit_report`; read its text form with ``print(report)``,
    its curves and scores with :meth:`plot`, and everything as JSON with
    :meth:`to_dict`.

    Attributes
    ----------
    verdict : {"collapsed", "chance", "overfitting", "underfitting", "plateau", "learned"}
        "collapsed": one class predicted for almost every sequence;
        "chance": not clearly better than chance on the validation data;
        "overfitting": the training score far above the validation score
        while the validation loss rose after the best epoch;
        "underfitting": the training score itself low, or the network
        trailing a cheap baseline (or level with one and still improving);
        "plateau": validation score flat while the network is at or below
        the best baseline; "learned": the network beats every baseline (or
        is at the ceiling). See :mod:`sklearn_seqattn.report._verdict`.
    reasons : tuple of str
        The facts that decided the verdict.
    balanced_accuracy : float
        The network's balanced accuracy on the validation data.
    train_balanced_accuracy : float or None
        On the training data, when given.
    chance_level : float
        ``1 / n_classes`` of the validation labels.
    chance_threshold : float
        Validation score above which the network counts as better than chance.
    predicted_share : float
        Share of validation sequences predicted as the most predicted class.
    n_val, n_train : int, int or None
        Sequences in each split.
    baselines : tuple of BaselineResult
        Each baseline run, fitted on the training data.
    skipped_baselines : dict of str to str
        Baselines asked for but not run, and why.
    curves : CurveEvidence
        What the training curves say (flat, validation loss rising...).
    history : dict of str to list of float or None
        ``epoch``, ``train_loss``, ``valid_loss``, ``valid_score``, ``dur`` per
        epoch, from the estimator's ``history_``.
    fit_diagnosis : FitDiagnosis or None
        The fit's own verdict (``fit_diagnosis_``).
    init_scores : list or None
        Best validation score of each initialisation (``init_scores_``).
    n_iter : int
        Epochs of the last fit (``n_iter_``).
    suggestions : tuple of Suggestion
        Measured parameter changes for this verdict and these data.
    seconds : float
        Wall time the report took.
    """

    verdict: str
    reasons: tuple[str, ...]
    balanced_accuracy: float
    train_balanced_accuracy: float | None
    chance_level: float
    chance_threshold: float
    predicted_share: float
    n_val: int
    n_train: int | None
    baselines: tuple[BaselineResult, ...]
    skipped_baselines: dict[str, str]
    curves: CurveEvidence
    history: dict[str, list[float] | None]
    fit_diagnosis: FitDiagnosis | None
    init_scores: list | None
    n_iter: int
    suggestions: tuple[Suggestion, ...]
    seconds: float = field(default=0.0, compare=False)

    @property
    def gap(self) -> float | None:
        """Training minus validation balanced accuracy (None without training data)."""
        if self.train_balanced_accuracy is None:
            return None
        return self.train_balanced_accuracy - self.balanced_accuracy

    @property
    def best_baseline(self) -> BaselineResult | None:
        """The baseline with the highest validation score, if any ran."""
        if not self.baselines:
            return None
        return max(self.baselines, key=lambda b: b.balanced_accuracy)

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-compatible values (``json.dumps`` takes it)."""
        out = {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "balanced_accuracy": self.balanced_accuracy,
            "train_balanced_accuracy": self.train_balanced_accuracy,
            "gap": self.gap,
            "chance_level": self.chance_level,
            "chance_threshold": self.chance_threshold,
            "predicted_share": self.predicted_share,
            "n_val": self.n_val,
            "n_train": self.n_train,
            "baselines": [asdict(b) for b in self.baselines],
            "skipped_baselines": dict(self.skipped_baselines),
            "curves": asdict(self.curves),
            "history": {k: None if v is None else list(v) for k, v in self.history.items()},
            "fit_diagnosis": None if self.fit_diagnosis is None else asdict(self.fit_diagnosis),
            "init_scores": self.init_scores,
            "n_iter": self.n_iter,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "seconds": self.seconds,
        }
        # Round trip through JSON: numpy scalars and tuples become plain values.
        return json.loads(json.dumps(out, default=_plain))

    def __str__(self) -> str:
        lines = [f"Fit report: {self.verdict.upper()}"]
        lines += [f"  - {reason}" for reason in self.reasons]
        lines.append("")
        lines.append(
            f"Network (balanced accuracy): validation {self.balanced_accuracy:.3f} on "
            f"{self.n_val} sequences (chance {self.chance_level:.3f}, better than chance "
            f"above {self.chance_threshold:.3f})"
        )
        if self.train_balanced_accuracy is not None:
            lines.append(
                f"  training {self.train_balanced_accuracy:.3f} on {self.n_train} sequences "
                f"(gap {self.gap:+.3f})"
            )
        lines.append(
            f"  most predicted class: {self.predicted_share:.0%} of the validation sequences"
        )
        if self.baselines or self.skipped_baselines:
            lines.append("Baselines (fitted on the training data, balanced accuracy):")
            for b in self.baselines:
                lines.append(
                    f"  {b.name:<12} validation {b.balanced_accuracy:.3f}, training "
                    f"{b.train_balanced_accuracy:.3f}, {b.seconds:.1f} s  ({b.description})"
                )
            for name, why in self.skipped_baselines.items():
                lines.append(f"  {name:<12} not run: {why}")
        lines.append(f"Curves: {_curves_text(self.curves)}")
        if self.init_scores is not None:
            lines.append(f"  initialisations' best validation scores: {_rounded(self.init_scores)}")
        if self.fit_diagnosis is not None:
            lines.append(f"Fit diagnosis: {self.fit_diagnosis}")
        lines.append("")
        if self.suggestions:
            lines.append("Next steps (measured by this package):")
            for i, s in enumerate(self.suggestions, 1):
                lines.append(f"  {i}. {s.change}")
                lines.append(f"     gained: {s.gain}")
                lines.append(f"     cost: {s.cost}")
                lines.append(f"     source: {s.source}")
        else:
            lines.append("Next steps: no measured change applies to this verdict and these data.")
        lines.append(f"(report computed in {self.seconds:.1f} s)")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Draw the learning curves and the network's score beside each baseline's.

        Left: training and validation loss and the validation score per epoch,
        the best epoch marked (a
        :class:`~sklearn_seqattn.plotting.HistoryDisplay`). Right: validation
        (bars) and training (dots) balanced accuracy of the network and of
        each baseline, with the chance level. matplotlib is imported here
        only (the ``plot`` extra).

        Parameters
        ----------
        ax : sequence of two matplotlib Axes, default=None
            Where to draw the curves and the bars; None creates a figure.

        Returns
        -------
        ax : ndarray of two matplotlib Axes
            The curves' axes and the bars' axes (``ax[0].figure`` is the figure).
        """
        from ._plot import plot_report

        return plot_report(self, ax)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _floats(values):
    """Nested lists of plain floats (``init_scores_`` holds one list per ensemble member)."""
    if isinstance(values, (list, tuple, np.ndarray)):
        return [_floats(v) for v in values]
    return float(values)


def _rounded(values):
    if isinstance(values, list):
        return [_rounded(v) for v in values]
    return round(values, 3)


def _curves_text(c: CurveEvidence) -> str:
    budget = f" of {c.max_epochs}" if c.max_epochs is not None else ""
    parts = [f"{c.n_epochs} epochs{budget}"]
    if c.stopped_early:
        parts.append("stopped early")
    if c.best_epoch is not None:
        parts.append(f"best epoch {c.best_epoch}")
    if c.recent_gain is not None:
        what = "validation score" if c.has_validation else "training loss (relative fall)"
        state = "flat" if c.flat else "still improving"
        parts.append(f"{what} {c.recent_gain:+.3f} over the last {c.window} epochs ({state})")
    if c.valid_loss_rise is not None:
        parts.append(f"validation loss {c.valid_loss_rise:+.0%} after the best epoch")
    return "; ".join(parts)


def _predict_scores(estimator, X, y) -> tuple[float, np.ndarray]:
    pred = np.asarray(estimator.predict(X))
    return float(balanced_accuracy_score(y, pred)), pred


def _parse(estimator, X, y, name: str) -> tuple[Sequences, np.ndarray]:
    """``X`` through the estimator's transformers, parsed as the classifier parses it."""
    clf, Xt = find_classifier(estimator, X)
    seqs = check_sequences(Xt, mask_value=clf.mask_value, estimator=clf, input_name=name)
    y = check_classification_y(y, len(seqs), "fit_report", f"y_{name.split('_')[1]}")
    return seqs, y


def fit_report(
    estimator,
    X_val,
    y_val,
    *,
    X_train=None,
    y_train=None,
    baselines=BASELINES,
    random_state=0,
) -> FitReport:
    """Diagnose a fitted network: its scores, cheap baselines, its curves, a verdict, next steps.

    The network is scored on ``(X_val, y_val)`` (and on the training data
    when given); cheap baselines are fitted on ``(X_train, y_train)`` and
    scored on the same validation data; the estimator's fitted state
    (``history_``, ``best_epoch_``, ``n_iter_``, ``init_scores_``,
    ``fit_diagnosis_``) says how training went. From these the report
    decides a verdict ("collapsed", "chance", "overfitting", "underfitting",
    "plateau" or "learned") and lists parameter changes that this package
    measured for that situation, with their gains and costs.

    Parameters
    ----------
    estimator : estimator instance
        A fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`, or a fitted
        pipeline (or search) ending in one; its ``predict`` scores the
        network, and the baselines read ``X`` after the pipeline's
        transformers.
    X_val : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
        Held-out sequences (padding marked by the classifier's
        ``mask_value``; ragged lists allowed).
    y_val : array-like of shape (n_samples,)
        Their labels.
    X_train, y_train : array-like, default=None
        The training data the estimator was fitted on (with any
        early-stopping split included). Needed for the baselines and for the
        training score; without them no baseline runs and the verdict cannot
        be "overfitting" or "plateau".
    baselines : sequence of {"order_blind", "binned", "minirocket"}, \
default=("order_blind", "binned", "minirocket")
        Which baselines to fit: per-feature mean and standard deviation over
        real steps, or per-feature means in 5 time bins of each sequence,
        each into a balanced logistic regression; or aeon's MiniRocket
        (skipped when aeon is not installed).
    random_state : int, RandomState instance or None, default=0
        Seed of the baselines.

    Returns
    -------
    FitReport

    Examples
    --------
    >>> from sklearn_seqattn import SeqAttentionClassifier, fit_report
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=200, n_timesteps=20, n_features=4,
    ...                                     signal=2.0, random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=8, dense_units=8, max_epochs=15,
    ...                              random_state=0).fit(X[:150], y[:150])
    >>> report = fit_report(clf, X[150:], y[150:], X_train=X[:150], y_train=y[:150],
    ...                     baselines=("order_blind", "binned"))
    >>> [(b.name, round(b.balanced_accuracy, 2)) for b in report.baselines]
    [('order_blind', 0.58), ('binned', 1.0)]
    >>> report.verdict  # at the ceiling, tied with the binned baseline
    'learned'
    >>> print(report)  # doctest: +ELLIPSIS
    Fit report: LEARNED
    ...
    """
    start = time.perf_counter()
    names = check_baselines(baselines)
    if (X_train is None) != (y_train is None):
        given, missing = ("X_train", "y_train") if y_train is None else ("y_train", "X_train")
        raise ValueError(f"{given} is passed to fit_report, but {missing} is not.")
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        seed = int(random_state)
    else:  # None or a RandomState instance, as scikit-learn reads them
        seed = int(check_random_state(random_state).randint(2**31 - 1))
    clf, _ = find_classifier(estimator)
    val, y_val = _parse(estimator, X_val, y_val, "X_val")
    score, pred = _predict_scores(estimator, X_val, y_val)
    _, y_idx = np.unique(y_val, return_inverse=True)
    chance, threshold = chance_threshold(y_idx)
    _, pred_counts = np.unique(pred, return_counts=True)
    train = train_score = None
    if X_train is not None:
        train, y_train = _parse(estimator, X_train, y_train, "X_train")
        train_score, _ = _predict_scores(estimator, X_train, y_train)
    results: list[BaselineResult] = []
    skipped: dict[str, str] = {}
    if train is not None:
        results, skipped = fit_baselines(names, train, y_train, val, y_val, seed)
    else:
        skipped = {name: "needs X_train and y_train" for name in names}
    curves = curve_evidence(clf)
    diagnosis = getattr(clf, "fit_diagnosis_", None)
    evidence = Evidence(
        score=score,
        train_score=train_score,
        chance=chance,
        threshold=threshold,
        predicted_share=float(pred_counts.max() / len(pred)),
        true_share=float(np.bincount(y_idx).max() / len(y_idx)),
        diagnosis=None if diagnosis is None else diagnosis.verdict,
        curves=curves,
        baselines={b.name: b.balanced_accuracy for b in results},
        baseline_train={b.name: b.train_balanced_accuracy for b in results},
    )
    verdict, reasons = decide_verdict(evidence)
    labels = y_train if y_train is not None else y_val
    _, label_counts = np.unique(labels, return_counts=True)
    lengths = val.lengths if train is None else np.concatenate([val.lengths, train.lengths])
    facts = facts_of(
        clf,
        n_features=int(val.data.shape[2]),
        max_length=int(lengths.max()),
        n_train=None if train is None else len(train),
        minority_share=float(label_counts.min() / label_counts.sum()),
        best_baseline=max(results, key=lambda b: b.balanced_accuracy).name if results else None,
    )
    init_scores = getattr(clf, "init_scores_", None)
    return FitReport(
        verdict=verdict,
        reasons=reasons,
        balanced_accuracy=score,
        train_balanced_accuracy=train_score,
        chance_level=chance,
        chance_threshold=threshold,
        predicted_share=evidence.predicted_share,
        n_val=len(val),
        n_train=facts.n_train,
        baselines=tuple(results),
        skipped_baselines=skipped,
        curves=curves,
        history=history_columns(clf.history_),
        fit_diagnosis=diagnosis,
        init_scores=None if init_scores is None else _floats(init_scores),
        n_iter=int(getattr(clf, "n_iter_", curves.n_epochs)),
        # A score at the ceiling leaves nothing to suggest.
        suggestions=() if score >= CEILING else suggest(verdict, facts),
        seconds=time.perf_counter() - start,
    )
