"""SequencePadder: pad or truncate sequences to one fixed or learned length."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._layout import is_nan, keep_real_steps
from .._params import _check_int, _check_real
from .._validation import check_mask_value, check_sequences

__all__ = ["SequencePadder"]

SIDES = ("post", "pre")


class SequencePadder(TransformerMixin, BaseEstimator):
    """Pad or truncate sequences to a common length.

    Ragged lists become one array; arrays are re-padded (pre-, post- or
    interior padding in, the chosen layout out) and cut to ``length_``.

    Parameters
    ----------
    length : int or None, default=None
        Output length. None learns it in :meth:`fit` as the ``quantile``
        quantile of the training lengths (the longest sequence by default).
    quantile : float, default=1.0
        Quantile of the training lengths used when ``length=None``, in
        ``(0, 1]``; e.g. 0.95 truncates the longest 5% instead of padding
        everything to the longest sequence. Taken as an observed length
        (numpy's ``method="higher"``).
    padding : {"post", "pre"}, default="post"
        Put padding after (``"post"``) or before (``"pre"``) the real steps.
    truncating : {"post", "pre"}, default="post"
        Drop the steps beyond ``length_`` at the end (``"post"``, keeping
        the first steps) or at the start (``"pre"``, keeping the last steps).
    mask_value : float, default=0.0
        Marks padded steps of array input (a step whose features all equal
        it, NaN allowed) and fills the padded steps of the output. Use the
        classifier's ``mask_value``.

    Attributes
    ----------
    length_ : int
        Length of the output time axis.
    n_features_in_ : int
        Number of features per step.

    Notes
    -----
    The data contract: ``X`` is a float array ``(n_samples, n_timesteps,
    n_features)`` padded with ``mask_value``, a 2-D array read as univariate
    ``(n_samples, n_timesteps)``, or a list of ``(n_timesteps_i,
    n_features)`` arrays, whose steps are all real. The output is a float32
    array ``(n_samples, length_, n_features)``, or ``(n_samples, length_)``
    for 2-D input.

    A real step of a ragged list whose features all equal ``mask_value``
    would read as padding once in an array; its first feature is moved one
    float32 above ``mask_value`` so it stays real.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_seqattn.preprocessing import SequencePadder
    >>> X = [np.ones((3, 2)), np.ones((5, 2))]
    >>> SequencePadder().fit_transform(X).shape
    (2, 5, 2)
    >>> SequencePadder(length=4, padding="pre", truncating="pre").fit_transform(X)[0, :, 0]
    array([0., 1., 1., 1.], dtype=float32)
    """

    def __init__(
        self, *, length=None, quantile=1.0, padding="post", truncating="post", mask_value=0.0
    ):
        self.length = length
        self.quantile = quantile
        self.padding = padding
        self.truncating = truncating
        self.mask_value = mask_value

    def _check_params(self) -> None:
        if self.length is not None:
            _check_int("length", self.length, 1)
        _check_real("quantile", self.quantile, 0.0, 1.0, low_open=True)
        for name in ("padding", "truncating"):
            value = getattr(self, name)
            if value not in SIDES:
                raise ValueError(f"{name} must be one of {SIDES}, got {value!r}.")
        check_mask_value(self.mask_value)

    def fit(self, X, y=None):
        """Learn the output length (unless ``length`` is given).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences; see Notes for the data contract.
        y : None
            Ignored.

        Returns
        -------
        self : SequencePadder
        """
        self._check_params()
        seqs = check_sequences(X, mask_value=self.mask_value, estimator=self, reset=True)
        if self.length is not None:
            self.length_ = int(self.length)
        else:
            self.length_ = int(np.quantile(seqs.lengths, self.quantile, method="higher"))
        return self

    def transform(self, X):
        """Pad or truncate every sequence of ``X`` to ``length_`` steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences with the features seen in :meth:`fit`.

        Returns
        -------
        X_padded : ndarray of float32, shape (n_samples, ``length_``, n_features)
            Or ``(n_samples, length_)`` for 2-D input.
        """
        check_is_fitted(self, "length_")
        seqs = check_sequences(X, mask_value=self.mask_value, estimator=self, reset=False)
        n, width, n_features = seqs.data.shape
        length = self.length_
        kept = np.minimum(seqs.lengths, length)  # real steps left per sample
        # First kept source step, and first output step holding a real one.
        src_start = 0 if self.truncating == "post" else seqs.lengths - kept
        dst_start = 0 if self.padding == "post" else length - kept
        offset = np.arange(length)[None, :] - np.broadcast_to(dst_start, (n,))[:, None]
        real = (offset >= 0) & (offset < kept[:, None])  # (n, length)
        source = np.clip(offset + np.broadcast_to(src_start, (n,))[:, None], 0, width - 1)
        out = np.full((n, length, n_features), self.mask_value, dtype=np.float32)
        values = np.take_along_axis(seqs.data, source[:, :, None], axis=1)[real]
        out[real] = keep_real_steps(values, self.mask_value)
        return out[:, :, 0] if seqs.kind == "2d" else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = is_nan(self.mask_value)
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
