"""SequenceResampler: imbalanced-learn samplers on sequences."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from imblearn.base import BaseSampler
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone

from .._layout import is_nan, scatter_to_layout, to_list
from .._validation import Sequences, check_classification_y, check_mask_value, check_sequences
from ._encoding import RowCodec, interpolated_lengths

__all__ = ["SequenceResampler"]

UNEQUAL_LENGTHS = ("warp", "raise")


class SequenceResampler(BaseSampler):
    """Run an imbalanced-learn sampler on sequences.

    imbalanced-learn samplers work on ``(n_samples, n_features)`` tables.
    This adapter gives them sequences and returns sequences, in the form they
    came in (an array padded with ``mask_value``, a 2-D univariate array, or
    a ragged list). Inside :func:`imblearn.pipeline.make_pipeline` it
    resamples the training data during ``fit`` only.

    How the sampler sees the sequences:

    * ``RandomOverSampler`` (without ``shrinkage``) and
      ``RandomUnderSampler`` only pick rows. They run on a column of sample
      indices, and the chosen sequences are returned whole, whatever their
      lengths.
    * Every other sampler looks at the values. It runs on one flat row per
      sequence: its real steps, step after step (padding is never part of a
      row). Rows the sampler returns unchanged are mapped back to the input
      sequences (through the sampler's ``sample_indices_`` where it has
      one, else by exact equality), which come out intact (NearMiss, TomekLinks,
      EditedNearestNeighbours and other cleaning methods). New rows
      (SMOTE, BorderlineSMOTE, ADASYN, SVMSMOTE, KMeansSMOTE, cluster
      centroids) are read back as sequences: interpolating two rows
      interpolates two sequences step by step.
    * Sequences of different lengths have no common steps. With
      ``unequal_lengths="warp"`` each is resampled in time (linear
      interpolation between its real steps) to the longest length before it
      becomes a row, so neighbours are compared and interpolated at the same
      relative position in time. A synthetic row that lies between two
      input rows (as SMOTE makes them) gets their lengths interpolated with
      the same factor, any other the length of the nearest input row, and is
      resampled back to that length. ``unequal_lengths="raise"`` refuses such
      data instead.
      Padding is never interpolated either way.

    Parameters
    ----------
    sampler : imblearn sampler or None, default=None
        Any object with ``fit_resample(X, y)`` on 2-D data, cloned before
        use. None means ``RandomOverSampler()``.
    mask_value : float, default=0.0
        A step of an array ``X`` whose features all equal ``mask_value`` is
        padding (NaN allowed); the padded steps of the output hold it.
    unequal_lengths : {"warp", "raise"}, default="warp"
        What a sampler that looks at the values does with sequences of
        different lengths (see above). Ignored by the row-picking samplers.

    Attributes
    ----------
    sampler_ : imblearn sampler
        The fitted clone of ``sampler``.
    sampling_strategy_ : dict or None
        The fitted sampler's ``sampling_strategy_``: class -> number of
        samples to generate or keep.
    source_indices_ : ndarray of int, shape (n_samples_resampled,)
        Index in ``X`` of each returned sequence, or -1 for a synthetic one.
    sample_weight_ : ndarray of shape (n_samples_resampled,) or None
        The weights given to ``fit_resample``, following their rows (see
        there); None when none were given.
    n_features_in_ : int
        Number of features per step.

    Notes
    -----
    The data contract: ``X`` is a float array ``(n_samples, n_timesteps,
    n_features)`` (a step is padding when all its features equal
    ``mask_value``; pre-, post- and interior padding are understood), a 2-D
    array read as univariate ``(n_samples, n_timesteps)``, or a list of
    ``(n_timesteps_i, n_features)`` arrays. Returned arrays are float32 with
    the input's time axis; returned input sequences keep their padding
    layout, and synthetic ones are post-padded, or pre-padded when all input
    sequences end on the last step. Lists come back as lists of float32
    ``(n_timesteps_i, n_features)`` arrays (``(n_timesteps_i,)`` when the input
    items were 1-D).

    Examples
    --------
    >>> from imblearn.over_sampling import SMOTE
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> from sklearn_seqattn.resampling import SequenceResampler
    >>> X, y = make_sequence_classification(
    ...     n_samples=40, n_timesteps=20, n_features=3, weights=[0.25, 0.75], random_state=0
    ... )
    >>> X_res, y_res = SequenceResampler(SMOTE(k_neighbors=3, random_state=0)).fit_resample(X, y)
    >>> X_res.shape, [int((y_res == c).sum()) for c in (0, 1)]
    ((60, 20, 3), [30, 30])
    """

    def __init__(self, sampler=None, *, mask_value=0.0, unequal_lengths="warp"):
        self.sampler = sampler
        self.mask_value = mask_value
        self.unequal_lengths = unequal_lengths

    # imbalanced-learn's fit_resample template reads the strategy from here; the
    # wrapped sampler holds the real one ("bypass": not checked against y).
    _sampling_type = "bypass"
    sampling_strategy = "auto"
    # Parameters are checked by _check_params, with messages that name the fix.
    _parameter_constraints: ClassVar[dict] = {}

    def _check_params(self):
        check_mask_value(self.mask_value)
        if self.unequal_lengths not in UNEQUAL_LENGTHS:
            raise ValueError(
                f"unequal_lengths must be one of {UNEQUAL_LENGTHS}, got {self.unequal_lengths!r}."
            )
        if self.sampler is None:
            return RandomOverSampler()
        if isinstance(self.sampler, type) or not hasattr(self.sampler, "fit_resample"):
            raise TypeError(
                "sampler must be an imbalanced-learn sampler instance with a fit_resample "
                f"method, such as SMOTE(), got {self.sampler!r}."
            )
        return clone(self.sampler)

    def _check_X_y(self, X, y, accept_sparse=None):
        """imbalanced-learn's validation hook: ``X`` parsed as sequences, ``y`` as labels."""
        seqs = check_sequences(X, mask_value=self.mask_value, estimator=self, reset=True)
        return seqs, check_classification_y(y, len(seqs), type(self).__name__, warn=False), False

    def fit_resample(self, X, y, sample_weight=None):
        """Resample the sequences ``X`` and their labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences; see Notes for the data contract.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the sequences. They follow their rows into
            ``sample_weight_``: a kept or repeated sequence keeps its weight,
            a synthetic one gets the mean weight of its class's input
            sequences. Pass ``sample_weight_`` on to the classifier's ``fit``.

        Returns
        -------
        X_resampled : ndarray of float32 or list of ndarray
            Resampled sequences, in the form of ``X``.
        y_resampled : ndarray of shape (n_samples_resampled,)
            Their labels (a list when ``y`` is a list).
        """
        self._check_params()
        if y is None:  # before imbalanced-learn's own check, which would not name y
            check_classification_y(y, 0, type(self).__name__)
        X_res, y_res = super().fit_resample(X, y, sample_weight=sample_weight)
        if isinstance(X_res, np.ndarray) and X_res.dtype == object:  # ragged input
            X_res = list(X_res)
        return X_res, y_res

    def fit(self, X, y):
        """Fit the sampler on ``X`` and ``y``; use :meth:`fit_resample` to get the samples.

        Unlike imbalanced-learn's samplers, whose ``fit`` only checks the
        input, this runs the resampling, so that ``source_indices_`` and the
        other fitted attributes describe it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : SequenceResampler
        """
        self.fit_resample(X, y)
        return self

    def _fit_resample(self, X: Sequences, y: np.ndarray, sample_weight=None):
        """Resample validated sequences; return them in the caller's form, and the labels."""
        sampler = self._check_params()
        weights = _check_weights(sample_weight, len(X))
        data, lengths, positions, y_res = self._resample(sampler, X, y)
        self.sample_weight_ = (
            None if weights is None else _follow_rows(weights, y, y_res, self.source_indices_)
        )
        self.sampler_ = sampler
        self.sampling_strategy_ = getattr(sampler, "sampling_strategy_", None)
        if X.kind.startswith("list"):
            items = to_list(data, lengths, univariate=X.kind == "list1d")
            # An object array, which imbalanced-learn's template passes through.
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out, y_res
        out = scatter_to_layout(data, lengths, positions, X.n_timesteps, self.mask_value)
        return (out[:, :, 0] if X.kind == "2d" else out), y_res

    def _resample(self, sampler, seqs: Sequences, y):
        """Run ``sampler``; return compact data, lengths, positions and labels."""
        if _picks_rows_blindly(sampler):
            # It chooses rows without reading them: a column of indices stands in.
            stand_in = np.arange(len(seqs), dtype=np.float64)[:, None]
            _, y_res = sampler.fit_resample(stand_in, y)
            source = np.asarray(sampler.sample_indices_, dtype=np.int64)
            self.source_indices_ = source
            return (
                seqs.data[source],
                seqs.lengths[source],
                seqs.positions[source],
                np.asarray(y_res),
            )

        codec = RowCodec.for_lengths(seqs.lengths, seqs.data.shape[2])
        if codec.warped and self.unequal_lengths == "raise":
            raise ValueError(
                f"X holds sequences of different lengths ({seqs.lengths.min()} to "
                f"{seqs.lengths.max()} real steps), which {type(sampler).__name__} would have to "
                "compare step by step; set unequal_lengths='warp' to resample them in time to "
                "one length, or crop them with SequencePadder(length=<shortest length>)."
            )
        flat = codec.encode(seqs.data, seqs.lengths)
        rows, y_res = sampler.fit_resample(flat, y)
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != flat.shape[1]:
            raise ValueError(
                f"{type(sampler).__name__}.fit_resample returned X of shape {rows.shape}; "
                f"SequenceResampler needs rows of {flat.shape[1]} columns, as given."
            )
        source = _source_rows(sampler, flat, rows)
        self.source_indices_ = source
        new = source < 0
        data = np.zeros((len(rows), *seqs.data.shape[1:]), dtype=np.float64)
        lengths = np.empty(len(rows), dtype=np.int64)
        positions = np.empty((len(rows), seqs.data.shape[1]), dtype=np.int64)
        data[~new] = seqs.data[source[~new]]
        lengths[~new] = seqs.lengths[source[~new]]
        positions[~new] = seqs.positions[source[~new]]
        if new.any():
            lengths[new] = interpolated_lengths(flat, seqs.lengths, rows[new])
            data[new] = codec.decode(rows[new], lengths[new])
            positions[new] = _new_positions(seqs, lengths[new])
        return data, lengths, positions, np.asarray(y_res)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        tags.input_tags.allow_nan = is_nan(self.mask_value)
        return tags


def _check_weights(sample_weight, n_samples: int):
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (n_samples,) or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            f"sample_weight must hold {n_samples} finite, non-negative weights, one per "
            f"sequence; got shape {weights.shape}."
        )
    return weights


def _follow_rows(weights, y, y_res, source) -> np.ndarray:
    """Each output row's weight: its source row's, or its class's mean for a new row."""
    out = np.empty(len(source))
    kept = source >= 0
    out[kept] = weights[source[kept]]
    y_res = np.asarray(y_res)
    for label in np.unique(y_res[~kept]):
        out[~kept & (y_res == label)] = weights[np.asarray(y) == label].mean()
    return out


def _picks_rows_blindly(sampler) -> bool:
    """Whether the sampler chooses rows without looking at their values."""
    if isinstance(sampler, RandomUnderSampler):
        return True
    return isinstance(sampler, RandomOverSampler) and sampler.shrinkage is None


def _source_rows(sampler, flat: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Index of the input row behind each output row, or -1 for a new row.

    Samplers that select rows say which in ``sample_indices_``; a row that
    differs from the one named there (a smoothed bootstrap adds noise) is
    new. The others (SMOTE and its kin, combinations, prototype generation)
    do not: their output rows are matched to input rows by exact equality.
    """
    indices = getattr(sampler, "sample_indices_", None)
    if indices is not None and len(indices) == len(rows):
        source = np.asarray(indices, dtype=np.int64)
        return np.where((rows == flat[source]).all(axis=1), source, -1)
    first = {}
    for i in range(len(flat) - 1, -1, -1):
        first[flat[i].tobytes()] = i
    return np.array([first.get(row.tobytes(), -1) for row in rows], dtype=np.int64)


def _new_positions(seqs: Sequences, lengths: np.ndarray) -> np.ndarray:
    """Time positions of synthetic sequences: from the start, or up to the end for pre-padded X."""
    steps = np.broadcast_to(np.arange(seqs.data.shape[1]), (len(lengths), seqs.data.shape[1]))
    last = seqs.positions[np.arange(len(seqs)), seqs.lengths - 1]
    if (last == seqs.n_timesteps - 1).all():
        return steps + (seqs.n_timesteps - lengths)[:, None]
    return steps.copy()
