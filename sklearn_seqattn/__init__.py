"""sklearn-seqattn: attention-LSTM sequence classification as a scikit-learn estimator."""

from ._classifier import SeqAttentionClassifier
from ._diagnosis import ChanceLevelWarning, FitDiagnosis, PredictionMismatchWarning
from ._onnx import onnx_inputs
from ._validation import InteriorPaddingWarning
from .inspection import relevance, relevance_by_feature, relevance_by_step
from .preprocessing import SequencePadder, SequenceScaler
from .report import FitReport, fit_report
from .resampling import SequenceResampler

__version__ = "0.1.0"

__all__ = [
    "ChanceLevelWarning",
    "FitDiagnosis",
    "FitReport",
    "InteriorPaddingWarning",
    "PredictionMismatchWarning",
    "SeqAttentionClassifier",
    "SequencePadder",
    "SequenceResampler",
    "SequenceScaler",
    "__version__",
    "fit_report",
    "onnx_inputs",
    "relevance",
    "relevance_by_feature",
    "relevance_by_step",
]
