"""ChannelsFirst: aeon / sktime sequences ``(n, channels, time)`` in this package's layout."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["ChannelsFirst"]


class ChannelsFirst(TransformerMixin, BaseEstimator):
    """Turn channels-first sequences (aeon, sktime) into time-major ones.

    aeon and sktime hold multivariate series as ``(n_samples, n_channels,
    n_timesteps)`` arrays, or, for unequal lengths, as lists of
    ``(n_channels, n_timesteps_i)`` arrays. This package reads
    ``(n_samples, n_timesteps, n_features)`` arrays and lists of
    ``(n_timesteps_i, n_features)`` arrays. Put this transformer first in a
    pipeline to use such data directly::

        make_pipeline(ChannelsFirst(), SeqAttentionClassifier())

    Nothing is learned; values are not changed, only the axes are swapped. A
    ragged list stays a list (every step of it is real), an array stays an
    array. A 2-D array ``(n_samples, n_timesteps)`` is univariate in both
    layouts and is returned as it is.

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_seqattn.preprocessing import ChannelsFirst
    >>> X = np.zeros((5, 3, 40))                  # aeon: 5 series, 3 channels, 40 steps
    >>> ChannelsFirst().fit_transform(X).shape
    (5, 40, 3)
    >>> ragged = [np.zeros((3, 40)), np.zeros((3, 25))]
    >>> [x.shape for x in ChannelsFirst().fit_transform(ragged)]
    [(40, 3), (25, 3)]
    """

    def fit(self, X, y=None):
        """Record the number of channels.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_channels, n_timesteps) or \
(n_samples, n_timesteps), or list of arrays of shape (n_channels, n_timesteps_i)
            Channels-first sequences.
        y : ignored

        Returns
        -------
        self : ChannelsFirst
        """
        self.n_features_in_ = self._channels(X)
        return self

    def transform(self, X):
        """Swap the channel and time axes.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_channels, n_timesteps) or \
(n_samples, n_timesteps), or list of arrays of shape (n_channels, n_timesteps_i)
            Channels-first sequences with the channels seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_timesteps, n_channels) or list of arrays \
of shape (n_timesteps_i, n_channels)
        """
        check_is_fitted(self)
        channels = self._channels(X)
        if channels != self.n_features_in_:
            raise ValueError(
                f"X has {channels} channels, but ChannelsFirst was fitted with "
                f"{self.n_features_in_}."
            )
        X = self._validated(X)
        if isinstance(X, list):
            return [np.ascontiguousarray(x.T) for x in X]
        return X if X.ndim == 2 else np.ascontiguousarray(X.transpose(0, 2, 1))

    @staticmethod
    def _validated(X):
        """``X`` as a numeric, finite array or list of 2-D arrays (sparse, empty refused)."""
        if isinstance(X, (list, tuple)) and len(X) and not np.isscalar(X[0]):
            items = []
            for i, x in enumerate(X):
                try:
                    items.append(check_array(x, input_name=f"X[{i}]"))
                except ValueError as exc:
                    raise ValueError(
                        f"X[{i}] must be a 2-D (n_channels, n_timesteps) array: {exc}"
                    ) from None
            return items
        return check_array(X, allow_nd=True, input_name="X")

    def _channels(self, X) -> int:
        """Channels per series; refuses what is not channels-first sequences."""
        X = self._validated(X)
        if isinstance(X, list):
            channels = {x.shape[0] for x in X}
            if len(channels) > 1:
                raise ValueError(
                    f"Series in X must share one channel count, got {sorted(channels)}."
                )
            return channels.pop()
        if X.ndim == 2:
            return 1
        if X.ndim != 3:
            raise ValueError(
                "X must be a (n_samples, n_channels, n_timesteps) array, a 2-D univariate "
                f"array or a list of (n_channels, n_timesteps_i) arrays; got shape {X.shape}."
            )
        return X.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags
