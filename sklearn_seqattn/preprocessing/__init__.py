"""Mask-aware transformers for sequences ``(n_samples, n_timesteps, n_features)``.

:class:`SequenceScaler` scales features using real steps only and leaves
padding untouched; :class:`SequencePadder` pads or truncates sequences (ragged
lists included) to one length.
"""

from ._padder import SequencePadder
from ._scaler import SequenceScaler

__all__ = ["SequencePadder", "SequenceScaler"]
