"""What a fit trains and judges on: the validation split, fine labels, datasets.

Functions of the estimator being fitted (its parameters and the fitted
attributes set so far): the hold-out for early stopping (stratified, or of
whole groups), the user's own validation set appended to the data, the fine
labels checked against the classes, and the datasets the nets read (rows of
one shared copy, or the training part resampled by ``sampler``).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import column_or_1d

from ._batching import SequenceDataset
from ._params import AUTO_MIN_VALIDATION, is_auto, is_off
from ._validation import check_classification_y, check_sequences
from ._weights import loss_weights

__all__ = [
    "append_validation_set",
    "fine_labels",
    "holds_out",
    "resampled_dataset",
    "subset_dataset",
    "validation_split",
]


def holds_out(est, n_valid: int) -> bool:
    """Whether fit holds out a validation split (of ``n_valid`` samples)."""
    if not is_auto(est.early_stopping):
        return bool(est.early_stopping)
    # Options that need a validation split keep it, however small.
    needs_split = est.decision_threshold == "auto" or (est.n_init != "auto" and est.n_init > 1)
    return needs_split or n_valid >= AUTO_MIN_VALIDATION


def validation_split(est, y_idx: np.ndarray, seed: int, groups=None):
    """Stratified (and grouped) hold-out for early stopping; (all, None) without it."""
    indices = np.arange(len(y_idx))
    # Checked whether or not a split is held out: a mismatch is the caller's mistake.
    groups = None if groups is None else _checked_groups(groups, len(y_idx))
    n_valid = int(np.ceil(est.validation_fraction * len(indices)))
    if not holds_out(est, n_valid):
        return indices, None
    if groups is not None:
        return _group_split(est, y_idx, seed, groups)
    if n_valid < 1 or len(indices) - n_valid < 1:
        raise ValueError(
            f"early_stopping with validation_fraction={est.validation_fraction} leaves "
            f"an empty split of {len(indices)} samples; use more data or "
            "early_stopping=False."
        )
    try:
        return train_test_split(indices, test_size=n_valid, stratify=y_idx, random_state=seed)
    except ValueError:
        # Too few members of some class to stratify (e.g. a rare class in a CV fold).
        warnings.warn(
            "The validation split for early stopping could not be stratified "
            "(too few samples of some class); using a random split.",
            UserWarning,
            stacklevel=3,
        )
        return train_test_split(indices, test_size=n_valid, random_state=seed)


def _checked_groups(groups, n_samples: int) -> np.ndarray:
    """``groups`` as a 1-D array of comparable labels, one per sequence."""
    groups = column_or_1d(groups)
    try:
        np.unique(groups)
    except TypeError:
        kinds = sorted({type(g).__name__ for g in groups})
        raise TypeError(
            f"groups must hold labels of one comparable type (ints or strings), got "
            f"{', '.join(kinds)}."
        ) from None
    if len(groups) != n_samples:
        raise ValueError(
            f"groups must have one entry per sequence: X has {n_samples}, groups has {len(groups)}."
        )
    return groups


def _group_split(est, y_idx: np.ndarray, seed: int, groups: np.ndarray):
    """A validation split of whole groups, stratified as far as the groups allow."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_groups = len(np.unique(groups))
    n_splits = min(n_groups, max(2, round(1 / est.validation_fraction)))
    if n_groups < 2:
        raise ValueError(
            "groups holds a single group: a validation split of whole groups needs at least 2."
        )
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    return next(splitter.split(np.zeros(len(y_idx)), y_idx, groups))


def append_validation_set(
    est, seqs, y_idx, weights, classes, class_weight, y_fine, X_val, y_val, sample_weight_val
):
    """Append the user's validation set to the training data; indices of both parts."""
    if X_val is None or y_val is None:
        given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(f"{given} is passed to fit, but {missing} is not.")
    if is_off(est.early_stopping):
        raise ValueError(
            "X_val and y_val are passed to fit while early_stopping=False; they are "
            "used for early stopping only: set early_stopping=True."
        )
    if y_fine is not None:
        raise ValueError("y_fine cannot be combined with X_val and y_val.")
    val = check_sequences(X_val, mask_value=est.mask_value, estimator=est, input_name="X_val")
    y_val = check_classification_y(y_val, len(val), type(est).__name__, "y_val")
    unseen = sorted(set(np.unique(y_val).tolist()) - set(classes.tolist()))
    if unseen:
        raise ValueError(f"y_val holds classes that y does not: {unseen}.")
    y_val_idx = np.searchsorted(classes, y_val)
    val_weights = loss_weights(class_weight, y_val_idx, sample_weight_val, "sample_weight_val")
    n = len(seqs)
    return (
        seqs.concat(val),
        np.concatenate([y_idx, y_val_idx]),
        np.concatenate([weights, val_weights]),
        np.arange(n),
        np.arange(n, n + len(val)),
    )


def fine_labels(y_fine, y_idx, classes, n_samples):
    """Fine labels, their indices and each one's class index; identity without ``y_fine``."""
    if y_fine is None:
        return classes, None, np.arange(len(classes))
    y_fine = check_classification_y(y_fine, n_samples, "SeqAttentionClassifier", "y_fine")
    fine_classes, fine_idx = np.unique(y_fine, return_inverse=True)
    pairs = np.unique(np.stack([fine_idx, y_idx], axis=1), axis=0)
    owners = np.bincount(pairs[:, 0], minlength=len(fine_classes))
    if (owners > 1).any():
        shared = np.flatnonzero(owners > 1)[0]
        coarse = classes[pairs[pairs[:, 0] == shared, 1]]
        raise ValueError(
            f"y_fine must refine y (each fine label inside one class of y): fine label "
            f"{fine_classes[shared].item()!r} occurs with classes {coarse.tolist()} of y."
        )
    fine_to_coarse = np.empty(len(fine_classes), dtype=np.int64)
    fine_to_coarse[pairs[:, 0]] = pairs[:, 1]
    return fine_classes, fine_idx, fine_to_coarse


def subset_dataset(data, lengths, y_idx, fine_idx, weights, index) -> SequenceDataset:
    """The samples at ``index``, as rows of ``data`` (shared, never copied)."""
    targets = y_idx if fine_idx is None else fine_idx
    rows = None if len(index) == len(lengths) else index  # np.arange(n): all rows
    return SequenceDataset(data, lengths, y_idx, weights, targets, rows=rows)


def resampled_dataset(est, seqs, y_idx, fine_idx, weights, train_idx, seed):
    """The training part resampled by ``sampler``, after the validation split.

    The sampler runs on the training sequences only (through
    :class:`~sklearn_seqattn.resampling.SequenceResampler`), so no copy or
    interpolation of a validation sequence is trained on. Original rows keep
    their loss weight; a synthetic row gets the mean weight of its class's
    training rows. With fine labels, the fine labels are resampled.
    """
    from imblearn.over_sampling import RandomOverSampler

    from .resampling import SequenceResampler

    resampler = est.sampler
    if not isinstance(resampler, SequenceResampler):
        resampler = SequenceResampler(resampler, mask_value=est.mask_value)
    resampler = clone(resampler)
    inner = resampler.sampler
    if inner is None:  # SequenceResampler's default, seeded by this fit
        resampler.set_params(sampler=RandomOverSampler(random_state=seed))
    elif inner.get_params().get("random_state", 0) is None:
        resampler.set_params(sampler__random_state=seed)
    targets = (y_idx if fine_idx is None else fine_idx)[train_idx]
    part = [seqs.data[i, : seqs.lengths[i]] for i in train_idx]
    # The resampler carries the weights along its rows (sample_weight_).
    try:
        X_res, t_res = resampler.fit_resample(part, targets, sample_weight=weights[train_idx])
    except ValueError as exc:
        counts = np.bincount(targets)
        raise ValueError(
            f"sampler={resampler.sampler!r} failed on the training part of the data "
            f"({len(part)} sequences after the validation split, the smallest class "
            f"{int(counts[counts > 0].min())}): {exc}"
        ) from None
    t_res = np.asarray(t_res, dtype=np.int64)
    w_res = resampler.sample_weight_
    res = check_sequences(X_res, mask_value=est.mask_value)
    coarse = t_res if fine_idx is None else est.fine_to_coarse_[t_res]
    return SequenceDataset(
        res.data, res.lengths, coarse, w_res, None if fine_idx is None else t_res
    )
