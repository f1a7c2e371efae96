"""Data sets: a synthetic generator shaped like padded, imbalanced sequence tasks."""

from ._synthetic import make_sequence_classification

__all__ = ["make_sequence_classification"]
