"""sklearn-seqattn: attention-LSTM sequence classification as a scikit-learn estimator."""

from ._classifier import SeqAttentionClassifier

__version__ = "0.1.0"

__all__ = ["SeqAttentionClassifier", "__version__"]
