"""SequenceScaler: per-feature scaling learned from real steps only."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._data import lengths_to_mask, unit_scale_if_constant
from .._layout import format_like, is_nan
from .._validation import check_mask_value, check_sequences

__all__ = ["SequenceScaler"]

METHODS = ("standard", "robust")


class SequenceScaler(TransformerMixin, BaseEstimator):
    """Scale each feature of sequences, ignoring padding.

    Statistics are computed over the real steps of all sequences pooled
    together (a padded step never counts), and applied to every real step.
    Padded steps keep exactly ``mask_value``, so a downstream
    :class:`~sklearn_seqattn.SeqAttentionClassifier` with the same
    ``mask_value`` sees the same padding.

    Parameters
    ----------
    method : {"standard", "robust"}, default="standard"
        "standard" centres on the mean and divides by the standard deviation;
        "robust" centres on the median and divides by the interquantile
        range ``quantile_range``.
    with_centering : bool, default=True
        Whether to subtract the centre.
    with_scaling : bool, default=True
        Whether to divide by the scale.
    quantile_range : tuple of float, default=(25.0, 75.0)
        Percentiles ``(q_min, q_max)`` whose difference is the scale of
        ``method="robust"``; unused otherwise.
    mask_value : float, default=0.0
        A step of an array ``X`` whose features all equal ``mask_value`` is
        padding (NaN allowed); padded steps of the output hold it. Ignored for
        reading ragged lists, whose steps are all real.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Subtracted from each feature (zeros without centering).
    scale_ : ndarray of shape (n_features,)
        Divides each centred feature (ones without scaling). Features with
        (near) zero spread get a scale of 1.
    n_steps_seen_ : int
        Number of real steps the statistics were computed from.
    n_features_in_ : int
        Number of features per step.

    Notes
    -----
    The data contract: ``X`` is a float array ``(n_samples, n_timesteps,
    n_features)`` padded with ``mask_value`` (pre-, post- or interior
    padding), a 2-D array read as univariate ``(n_samples, n_timesteps)``, or
    a list of ``(n_timesteps_i, n_features)`` arrays. The output has the
    input's form: an array of the same shape with padding where it was, or a
    list of float32 ``(n_timesteps_i, n_features)`` arrays (1-D when the input
    items were 1-D). Output arrays are float32.

    A real step that the transformation maps exactly onto ``mask_value`` on
    every feature would read as padding downstream; its first feature is
    moved to the next float32 above ``mask_value`` so it stays real.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_seqattn.preprocessing import SequenceScaler
    >>> X = np.array([[[1.0], [3.0], [0.0]], [[5.0], [7.0], [9.0]]])  # 0 marks padding
    >>> SequenceScaler().fit_transform(X)[0, :, 0]  # padding stays 0
    array([-1.4142135 , -0.70710677,  0.        ], dtype=float32)
    """

    def __init__(
        self,
        *,
        method="standard",
        with_centering=True,
        with_scaling=True,
        quantile_range=(25.0, 75.0),
        mask_value=0.0,
    ):
        self.method = method
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.quantile_range = quantile_range
        self.mask_value = mask_value

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}.")
        for name in ("with_centering", "with_scaling"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r}.")
        q = self.quantile_range
        if (
            not isinstance(q, (tuple, list))
            or len(q) != 2
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in q)
            or not 0 <= q[0] < q[1] <= 100
        ):
            raise ValueError(
                f"quantile_range must be a pair (q_min, q_max) with 0 <= q_min < q_max <= 100, "
                f"got {q!r}."
            )
        check_mask_value(self.mask_value)

    def fit(self, X, y=None):
        """Learn per-feature centre and scale from the real steps of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences; see Notes for the data contract.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
        """
        self._check_params()
        seqs = check_sequences(X, mask_value=self.mask_value, estimator=self, reset=True)
        steps = seqs.data[lengths_to_mask(seqs.lengths, seqs.data.shape[1])].astype(np.float64)
        n_features = steps.shape[1]
        center = np.zeros(n_features)
        scale = np.ones(n_features)
        if self.method == "standard":
            if self.with_centering:
                center = steps.mean(axis=0)
            if self.with_scaling:
                scale = steps.std(axis=0)
        else:
            if self.with_centering:
                center = np.median(steps, axis=0)
            if self.with_scaling:
                q_min, q_max = np.percentile(steps, self.quantile_range, axis=0)
                scale = q_max - q_min
        self.center_ = center
        self.scale_ = unit_scale_if_constant(center, scale)
        self.n_steps_seen_ = int(steps.shape[0])
        return self

    def _apply(self, X, forward: bool):
        check_is_fitted(self, "scale_")
        seqs = check_sequences(X, mask_value=self.mask_value, estimator=self, reset=False)
        data = seqs.data.astype(np.float64)
        if forward:
            data = (data - self.center_) / self.scale_
        else:
            data = data * self.scale_ + self.center_
        overflow = ~np.isfinite(data)
        if overflow.any():
            raise ValueError(
                f"{type(self).__name__} maps {int(overflow.sum())} value(s) of X to infinity: "
                "X is far outside the range seen in fit."
            )
        return format_like(seqs, data, self.mask_value)

    def transform(self, X):
        """Scale the real steps of ``X``; padding stays ``mask_value``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences with the features seen in :meth:`fit`.

        Returns
        -------
        X_scaled : ndarray of float32 of the shape of ``X``, or list of ndarray
            Same form as ``X``.
        """
        return self._apply(X, forward=True)

    def inverse_transform(self, X):
        """Undo :meth:`transform` on the real steps of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Scaled sequences.

        Returns
        -------
        X_original : ndarray of float32 of the shape of ``X``, or list of ndarray
            Same form as ``X``.
        """
        return self._apply(X, forward=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = is_nan(self.mask_value)
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
