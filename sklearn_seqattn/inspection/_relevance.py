"""Relevance of every input value to a decision: integrated gradients through the fitted network.

Attention weights say where the pooling layer read the recurrent outputs;
each of those outputs already summarises the whole sequence. Integrated
gradients (Sundararajan et al., 2017) attribute a class score to the input
values themselves: the path integral of the gradient from a baseline input
to the actual one, times their difference. The attributions of a sequence
sum to the score's change from the baseline to the input (completeness).

The baseline is the training data's per-feature mean: zero in the network's
standardised space (``(x - input_shift) / input_scale``). Padded steps are
identical in input and baseline, and their relevance is set to exactly zero.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import torch

from .._inference import merge_fine_logits
from .._validation import Sequences, check_sequences
from ..plotting._base import find_classifier

__all__ = ["METHODS", "relevance", "relevance_by_feature", "relevance_by_step"]

METHODS = ("integrated_gradients",)
# Rows of one forward and backward pass: sequences attributed together times n_steps.
# About the memory of a training batch of 64 sequences at n_steps=16.
MAX_ROWS = 1024


def _integrated_gradients():
    try:
        from captum.attr import IntegratedGradients
    except ImportError as exc:
        raise ImportError(
            "relevance with method='integrated_gradients' needs captum, which is not "
            "installed; install it with 'pip install \"sklearn-seqattn[explain]\"' (or "
            "'pip install captum')."
        ) from exc
    return IntegratedGradients


def _check_n_steps(n_steps) -> int:
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
        raise TypeError(
            f"n_steps must be an int, got {n_steps!r} of type {type(n_steps).__name__}."
        )
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}.")
    return int(n_steps)


def _target_indices(clf, target, Xt, n: int) -> np.ndarray:
    """Index into ``classes_`` of the class to attribute, per sequence."""
    classes = clf.classes_
    if target is None:
        # The class predict returns (a fitted decision threshold applies).
        return np.searchsorted(classes, clf.predict(Xt)).astype(np.int64)
    labels = np.asarray(target)
    if labels.ndim == 0:
        labels = np.repeat(labels, n)
    elif labels.shape != (n,):
        raise ValueError(
            f"target must be one class label or one per sequence ({n}), got shape {labels.shape}."
        )
    known = np.isin(labels, classes)
    if not known.all():
        raise ValueError(
            f"target holds {labels[~known][0]!r}, which is not a class of the classifier; "
            f"classes_ is {classes.tolist()}."
        )
    return np.searchsorted(classes, labels).astype(np.int64)


def _input_shift(module) -> torch.Tensor:
    """The per-feature mean the module subtracts first (ensembles: their first member's)."""
    if hasattr(module, "input_shift"):
        return module.input_shift
    return module.members[0].input_shift


def _attribute_chunk(ig, forward_of, module, seqs: Sequences, rows, targets, n_steps):
    """Integrated gradients of ``seqs[rows]``: ``(len(rows), width, features)`` float32."""
    device = _input_shift(module).device
    lengths = torch.from_numpy(seqs.lengths[rows])
    width = int(lengths.max())
    x = torch.from_numpy(seqs.data[rows, :width]).to(device)  # (batch, time, features)
    real = (torch.arange(width)[None, :] < lengths[:, None]).to(device)[:, :, None]
    # The features' own means (with input_differences the shift also covers the channels
    # the network appends; a constant series has zero differences).
    shift = _input_shift(module)[: x.shape[-1]].to(x.dtype)
    # Zero in the standardised space on real steps; padding equal in input and baseline.
    baseline = torch.where(real, shift.expand_as(x), x)
    attribution = ig(forward_of(lengths)).attribute(
        x,
        baselines=baseline,
        target=torch.from_numpy(targets[rows]).to(device),
        n_steps=n_steps,
    )
    return (attribution * real).detach().cpu().numpy().astype(np.float32)


def relevance(
    estimator,
    X,
    *,
    method: str = "integrated_gradients",
    n_steps: int = 32,
    target=None,
) -> np.ndarray:
    """Relevance of every step and feature of ``X`` to the class score: integrated gradients.

    For each sequence, the class score (the logit of ``target``) is
    attributed to its input values by integrated gradients, from a baseline
    equal to the training data's per-feature mean (zero in the network's
    standardised space) to the sequence. Positive values pushed the score
    up, negative values down; each sequence's relevance sums approximately
    to its score minus the baseline's score. Padded steps get exactly zero.
    Unlike attention weights, relevance says which *inputs* moved the
    decision, step by step and feature by feature.

    Needs captum (the ``explain`` extra). The fitted module stays in
    evaluation mode; gradients are taken with respect to the inputs only.

    Parameters
    ----------
    estimator : estimator instance
        A fitted :class:`~sklearn_seqattn.SeqAttentionClassifier`, or a fitted
        pipeline, search or meta-estimator holding one (``X`` then goes through
        the pipeline's transformers first, and relevance is for the
        transformed values).
    X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
        Sequences, as the classifier takes them.
    method : {"integrated_gradients"}, default="integrated_gradients"
        Attribution method.
    n_steps : int, default=32
        Points of the path integral (Gauss-Legendre); more is more exact and
        proportionally slower.
    target : class label, array-like of shape (n_samples,) or None, default=None
        Class whose score is attributed, for all sequences or per sequence;
        None takes each sequence's predicted class.

    Returns
    -------
    ndarray of float32, shape (n_samples, n_timesteps, n_features)
        Aligned with the time axis of ``X`` (pre-padding included; a ragged
        list gives its longest length, a 2-D array one feature); zero on
        padded steps.

    See Also
    --------
    relevance_by_step, relevance_by_feature : Shares of absolute relevance.
    SeqAttentionClassifier.attention_weights : Where the pooling read.

    Examples
    --------
    >>> from sklearn_seqattn import SeqAttentionClassifier, relevance
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=60, n_timesteps=12, n_features=3,
    ...                                     event_length=2, random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=4, dense_units=4, max_epochs=2,
    ...                              random_state=0).fit(X, y)
    >>> R = relevance(clf, X[:4], n_steps=8)
    >>> R.shape
    (4, 12, 3)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    n_steps = _check_n_steps(n_steps)
    IntegratedGradients = _integrated_gradients()
    clf, Xt = find_classifier(estimator, X)
    seqs = check_sequences(Xt, mask_value=clf.mask_value, estimator=clf)
    targets = _target_indices(clf, target, Xt, len(seqs))
    module = clf.net_.module_
    if module.training:
        # A fitted module is in evaluation mode; one that is not (a look during fit) is
        # left alone and a copy is put in evaluation mode instead.
        module = copy.deepcopy(module).eval()
    fine_to_coarse, n_classes = clf.fine_to_coarse_, len(clf.classes_)

    def forward_of(lengths: torch.Tensor):
        def forward(x: torch.Tensor) -> torch.Tensor:
            # captum stacks the n_steps points of the path along the batch axis.
            reps = x.shape[0] // len(lengths)
            logits = module(x, lengths.repeat(reps))  # (reps * batch, n_outputs)
            return merge_fine_logits(logits, fine_to_coarse, n_classes)

        return forward

    chunk = max(1, MAX_ROWS // n_steps)
    # Sorted by length, each chunk stops at its own longest sequence.
    order = np.argsort(seqs.lengths, kind="stable")
    out = np.zeros(seqs.data.shape, dtype=np.float32)
    # cuDNN's recurrent kernels take no backward pass in evaluation mode; the native ones do.
    with torch.enable_grad(), torch.backends.cudnn.flags(enabled=False):
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            values = _attribute_chunk(
                IntegratedGradients, forward_of, module, seqs, rows, targets, n_steps
            )
            out[rows, : values.shape[1]] = values
    return seqs.scatter_steps(out)


def _shares(values: np.ndarray, normalize: bool) -> np.ndarray:
    if not normalize:
        return values
    total = values.sum(axis=1, keepdims=True)
    return np.divide(values, total, out=np.zeros_like(values), where=total > 0)


def relevance_by_step(relevance: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """Absolute relevance of each step, summed over its features.

    Parameters
    ----------
    relevance : ndarray of shape (n_samples, n_timesteps, n_features)
        From :func:`relevance`.
    normalize : bool, default=True
        Divide by each sequence's total, so a row sums to one over its real
        steps (comparable with attention weights).

    Returns
    -------
    ndarray of shape (n_samples, n_timesteps)
        Zero on padded steps.
    """
    values = np.abs(_check_relevance(relevance)).sum(axis=2)
    return _shares(values, normalize)


def relevance_by_feature(relevance: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """Absolute relevance of each feature, summed over a sequence's steps.

    Parameters
    ----------
    relevance : ndarray of shape (n_samples, n_timesteps, n_features)
        From :func:`relevance`.
    normalize : bool, default=True
        Divide by each sequence's total, so a row sums to one.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    values = np.abs(_check_relevance(relevance)).sum(axis=1)
    return _shares(values, normalize)


def _check_relevance(relevance) -> np.ndarray:
    values = np.asarray(relevance, dtype=np.float64)
    if values.ndim != 3:
        raise ValueError(
            "relevance must be a 3-D (n_samples, n_timesteps, n_features) array, got shape "
            f"{values.shape}."
        )
    return values
