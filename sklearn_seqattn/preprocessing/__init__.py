"""Mask-aware transformers for sequences ``(n_samples, n_timesteps, n_features)``.

:class:`SequenceScaler` scales features using real steps only and leaves
padding untouched; :class:`SequencePadder` pads or truncates sequences (ragged
lists included) to one length; :class:`ChannelsFirst` reads aeon / sktime
data, ``(n_samples, n_channels, n_timesteps)`` or lists of
``(n_channels, n_timesteps_i)`` arrays.
"""

from ._channels_first import ChannelsFirst
from ._padder import SequencePadder
from ._scaler import SequenceScaler

__all__ = ["ChannelsFirst", "SequencePadder", "SequenceScaler"]
