"""Data sets: synthetic generators shaped like padded, imbalanced sequence tasks."""

from ._contour import make_contour_classification
from ._event_order import make_event_order_classification
from ._synthetic import make_sequence_classification

__all__ = [
    "make_contour_classification",
    "make_event_order_classification",
    "make_sequence_classification",
]
