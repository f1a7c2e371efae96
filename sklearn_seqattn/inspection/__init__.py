"""Which inputs moved a decision: relevance per step and feature (integrated gradients).

Needs captum, installed with the ``explain`` extra:
``pip install "sklearn-seqattn[explain]"``.
"""

from ._relevance import relevance, relevance_by_feature, relevance_by_step

__all__ = ["relevance", "relevance_by_feature", "relevance_by_step"]
