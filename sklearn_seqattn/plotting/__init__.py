"""Plots of attention weights, input relevance and training histories.

matplotlib is imported only when a plot is drawn; install it with the ``plot``
extra: ``pip install "sklearn-seqattn[plot]"``.
"""

from ._attention import AttentionDisplay
from ._history import HistoryDisplay
from ._relevance import RelevanceDisplay

__all__ = ["AttentionDisplay", "HistoryDisplay", "RelevanceDisplay"]
