"""sklearn-seqattn: attention-LSTM sequence classification as a scikit-learn estimator."""

from ._classifier import SeqAttentionClassifier
from ._diagnosis import ChanceLevelWarning, FitDiagnosis
from .preprocessing import SequencePadder, SequenceScaler
from .resampling import SequenceResampler

__version__ = "0.1.0"

__all__ = [
    "ChanceLevelWarning",
    "FitDiagnosis",
    "SeqAttentionClassifier",
    "SequencePadder",
    "SequenceResampler",
    "SequenceScaler",
    "__version__",
]
