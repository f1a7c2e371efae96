"""imbalanced-learn samplers on sequences ``(n_samples, n_timesteps, n_features)``.

:class:`SequenceResampler` wraps any imbalanced-learn sampler so that it
accepts padded arrays and ragged lists, keeps sequences whole, and never
interpolates into padding.
"""

from ._resampler import SequenceResampler

__all__ = ["SequenceResampler"]
