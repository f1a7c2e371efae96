"""The plateau doctor: a fitted network against cheap baselines, a verdict and next steps.

:func:`fit_report` scores a fitted
:class:`~sklearn_seqattn.SeqAttentionClassifier` on held-out data, fits
cheap baselines (order-blind statistics, time-binned means, MiniRocket) on
the training data, reads the training curves, and returns a
:class:`FitReport` with a verdict and the parameter changes this package
measured for it.
"""

from ._baselines import BASELINES, BaselineResult
from ._evidence import CurveEvidence
from ._report import FitReport, fit_report
from ._suggestions import SUGGESTIONS, Suggestion
from ._verdict import VERDICTS

__all__ = [
    "BASELINES",
    "SUGGESTIONS",
    "VERDICTS",
    "BaselineResult",
    "CurveEvidence",
    "FitReport",
    "Suggestion",
    "fit_report",
]
