"""The one place that parses user input ``X`` into padded sequences.

The data contract
-----------------
``X`` is one of

* a float array ``(n_samples, n_timesteps, n_features)``; a step is padding
  when all its features equal ``mask_value`` (NaN allowed as a mask value).
  Pre-, post- and interior padding are all understood (padded steps are
  skipped, as Keras' ``Masking`` layer does);
* a 2-D array ``(n_samples, n_timesteps)``, read as univariate sequences;
* a list of ``(n_timesteps_i, n_features)`` (or ``(n_timesteps_i,)``) arrays
  whose every step is real, whatever its values.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._data import compact_padding, pad_sequences, padding_mask

__all__ = [
    "InteriorPaddingWarning",
    "Sequences",
    "check_classification_y",
    "check_mask_value",
    "check_sequences",
]


@dataclass(frozen=True)
class Sequences:
    """Validated sequences in the package's internal, post-padded layout.

    Attributes
    ----------
    data : ndarray of float32, shape (n_samples, max_length, n_features)
        Real steps first, zeros after.
    lengths : ndarray of int64, shape (n_samples,)
    positions : ndarray of int64, shape (n_samples, max_length)
        Original time index of each step of ``data``.
    n_timesteps : int
        Length of the caller's time axis (outputs per step use it).
    kind : {"3d", "2d", "list", "list1d"}
        The input read: a 3-D array, a 2-D array of univariate sequences, a
        ragged list, or a ragged list of 1-D (univariate) items. Outputs in
        the caller's form follow it.
    """

    data: np.ndarray
    lengths: np.ndarray
    positions: np.ndarray
    n_timesteps: int
    kind: str = "3d"

    def __len__(self) -> int:
        return len(self.lengths)

    def concat(self, other: Sequences) -> Sequences:
        """These sequences followed by ``other`` (padded to the longer width)."""
        width = max(self.data.shape[1], other.data.shape[1])

        def widen(a, fill=0):
            pad = [(0, 0), (0, width - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
            return np.pad(a, pad, constant_values=fill)

        return Sequences(
            np.concatenate([widen(self.data), widen(other.data)]),
            np.concatenate([self.lengths, other.lengths]),
            np.concatenate([widen(self.positions), widen(other.positions)]),
            max(self.n_timesteps, other.n_timesteps),
            self.kind,
        )

    def take(self, indices) -> Sequences:
        """Return the samples at ``indices``."""
        return Sequences(
            self.data[indices],
            self.lengths[indices],
            self.positions[indices],
            self.n_timesteps,
            self.kind,
        )

    def scatter_steps(self, values: np.ndarray) -> np.ndarray:
        """Place per-step ``values`` (n, max_length, ...) on the caller's time axis.

        Padded steps receive zero.
        """
        n, width = values.shape[:2]
        out = np.zeros((n, self.n_timesteps, *values.shape[2:]), dtype=values.dtype)
        real = np.arange(width)[None, :] < self.lengths[:, None]
        rows = np.broadcast_to(np.arange(n)[:, None], (n, width))
        out[rows[real], self.positions[:, :width][real]] = values[real]
        return out

    def scatter_pairs(self, values: np.ndarray) -> np.ndarray:
        """Place step-by-step maps ``(n, max_length, max_length)`` on the caller's time axes.

        Rows and columns of padded steps receive zero.
        """
        n, width = values.shape[:2]
        out = np.zeros((n, self.n_timesteps, self.n_timesteps), dtype=values.dtype)
        real = np.arange(width)[None, :] < self.lengths[:, None]  # (n, width)
        pairs = real[:, :, None] & real[:, None, :]  # (n, width, width)
        sample, q, k = np.nonzero(pairs)
        pos = self.positions[:, :width]
        out[sample, pos[sample, q], pos[sample, k]] = values[sample, q, k]
        return out


def check_mask_value(mask_value) -> float:
    """Validate ``mask_value``: a real number within float32's range, or NaN."""
    if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
        raise TypeError(
            f"mask_value must be a real number or NaN, got {mask_value!r} "
            f"of type {type(mask_value).__name__}."
        )
    value = float(mask_value)
    if np.isinf(value) or (np.isfinite(value) and abs(value) > np.finfo(np.float32).max):
        raise ValueError(
            f"mask_value must be NaN or a finite number within the float32 range, got "
            f"{mask_value!r}: data are compared with it as float32."
        )
    return value


class InteriorPaddingWarning(UserWarning):
    """Steps equal to ``mask_value`` were found between real steps and skipped."""


def _from_tensor(X):
    """A torch tensor (any device, dtype, requires_grad) as a numpy array; others as they are."""
    if type(X).__module__.split(".")[0] == "torch" and hasattr(X, "detach"):
        X = X.detach().cpu()
        if X.is_floating_point():
            X = X.float()  # bfloat16 and half have no numpy dtype
        return X.numpy()
    return X


def _from_masked(X, mask_value: float, input_name: str):
    """A masked array's fully masked steps become padding; partly masked steps are refused."""
    if not isinstance(X, np.ma.MaskedArray):
        return X
    mask = np.ma.getmaskarray(X)
    if not mask.any():
        return X.data
    steps = mask if mask.ndim == 2 else mask.all(axis=-1)
    partly = mask.any(axis=-1) & ~steps if mask.ndim == 3 else np.zeros_like(steps)
    if partly.any():
        sample, step = np.argwhere(partly)[0]
        raise ValueError(
            f"{input_name} is a masked array with steps masked on some features only (first "
            f"at sample {sample}, step {step}); mask whole steps to mark padding."
        )
    return np.where(mask, mask_value, X.data)


def _as_numeric(array, input_name: str) -> np.ndarray:
    """Convert to a numeric ndarray, with errors that name the input."""
    try:
        array = np.asarray(array)
    except ValueError as exc:  # e.g. inhomogeneous nested lists
        raise ValueError(f"{input_name} could not be read as an array: {exc}") from None
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {input_name} has dtype {array.dtype}.")
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{input_name} must hold numbers; converting its object array failed: {exc}"
            ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{input_name} must hold numbers, got an array of dtype {array.dtype}.")
    return array


def _check_ragged(X, input_name: str) -> tuple[np.ndarray, np.ndarray]:
    items = []
    n_features = None
    for i, item in enumerate(X):
        item = _as_numeric(item, f"{input_name}[{i}]")
        if item.ndim == 1:
            item = item[:, None]
        if item.ndim != 2:
            raise ValueError(
                f"{input_name}[{i}] must be a 2-D (n_timesteps, n_features) array, "
                f"got shape {item.shape}."
            )
        if item.shape[0] == 0:
            raise ValueError(f"{input_name}[{i}] has 0 timesteps; every sequence needs one.")
        if n_features is None:
            n_features = item.shape[1]
        elif item.shape[1] != n_features:
            raise ValueError(
                f"Sequences in {input_name} must share one feature count: {input_name}[0] has "
                f"{n_features} features per step, {input_name}[{i}] has {item.shape[1]}."
            )
        with np.errstate(over="ignore"):
            bad = ~np.isfinite(item.astype(np.float32))
        if bad.any():
            step, feature = np.argwhere(bad)[0]
            found = repr(float(item[step, feature]))
            if np.isfinite(item[step, feature]):
                found += ", beyond the float32 range"
            raise ValueError(
                f"{input_name}[{i}] contains NaN or infinity (first at step {step}, feature "
                f"{feature}: {found}); in a list every step is real."
            )
        items.append(item)
    return pad_sequences(items)


def _check_features(
    estimator, n_features: int, reset: bool, univariate_shape=None, input_name: str = "X"
) -> None:
    if estimator is None:
        return
    if reset:
        estimator.n_features_in_ = n_features
        return
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and n_features != expected:
        hint = ""
        if univariate_shape is not None:
            n, t = univariate_shape[:2]
            hint = (
                f" {input_name} is 2-D and was read as {n} univariate sequence(s) of {t} steps; "
                f"for one sequence of shape (n_timesteps, n_features) pass "
                f"{input_name}[None] or [{input_name}]."
            )
        raise ValueError(
            f"{input_name} has {n_features} features per step, but "
            f"{type(estimator).__name__} was fitted with {expected}.{hint}"
        )


def _warn_interior_padding(is_padding: np.ndarray, mask_value: float, input_name: str) -> None:
    """Warn once when padded steps lie between real steps (they are skipped)."""
    real = ~is_padding  # (n, T)
    seen_real = np.cumsum(real, axis=1)
    interior = is_padding & (seen_real > 0) & (seen_real < real.sum(axis=1, keepdims=True))
    count = int(interior.sum())
    if count:
        n_samples = int(interior.any(axis=1).sum())
        warnings.warn(
            f"{count} step(s) of {input_name} in {n_samples} sequence(s) equal "
            f"mask_value={mask_value} between real steps and are skipped as padding. If "
            "they are real data (e.g. all-zero frames), pass a list of arrays (every listed "
            "step is real) or a mask_value real steps never take, such as NaN.",
            InteriorPaddingWarning,
            stacklevel=3,
        )


def check_sequences(
    X,
    *,
    mask_value: float = 0.0,
    estimator=None,
    reset: bool = False,
    input_name: str = "X",
) -> Sequences:
    """Validate ``X`` and return it as post-padded float32 sequences.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of arrays of shape (n_timesteps_i, n_features)
        Padded sequences, univariate sequences, or a ragged list.
    mask_value : float, default=0.0
        Value that marks a padded step (on every feature) in array input.
    estimator : estimator instance, default=None
        When given, ``n_features_in_`` is set (``reset=True``) or checked.
    reset : bool, default=False
        Whether to set ``estimator.n_features_in_`` rather than check it.
    input_name : str, default="X"
        Name used in error messages.

    Returns
    -------
    Sequences
        ``data``, ``lengths``, ``positions`` and ``n_timesteps``.

    Raises
    ------
    ValueError
        Wrong number of dimensions, empty input, NaN or infinity inside real
        steps, a sequence made only of padding, or a feature-count mismatch.
    TypeError
        Non-numeric input.
    """
    mask_value = check_mask_value(mask_value)
    X = _from_tensor(X)
    if isinstance(X, (list, tuple)):
        X = [_from_tensor(item) for item in X]
    X = _from_masked(X, mask_value, input_name)
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(f"{input_name} is an empty list; at least one sequence is needed.")
    if isinstance(X, (list, tuple)) and not np.isscalar(X[0]):
        data, lengths = _check_ragged(X, input_name)
        n, width = lengths.shape[0], data.shape[1]
        positions = np.broadcast_to(np.arange(width, dtype=np.int64), (n, width))
        _check_features(estimator, data.shape[2], reset, input_name=input_name)
        kind = "list1d" if all(np.ndim(item) == 1 for item in X) else "list"
        return Sequences(data, lengths, np.ascontiguousarray(positions), width, kind)

    if sparse.issparse(X):
        raise TypeError(
            f"Sparse data was passed for {input_name}, but dense data is required: sparse "
            "input is not supported. Use X.toarray() to convert to a dense array."
        )
    X = _as_numeric(X, input_name)
    univariate = X.ndim == 2
    if X.ndim == 2:
        if X.shape[1] == 0:
            raise ValueError(
                f"0 feature(s) (shape={X.shape}) while a minimum of 1 is required: a 2-D "
                f"{input_name} holds univariate sequences and needs at least one timestep."
            )
        X = X[:, :, None]
    if X.ndim != 3:
        raise ValueError(
            f"{input_name} must be a 3-D array (n_samples, n_timesteps, n_features), a 2-D "
            f"array of univariate sequences or a list of 2-D arrays; got an array with "
            f"ndim={X.ndim} and shape {X.shape}. Reshape your data, e.g. X.reshape(1, -1) "
            "for a single univariate sequence."
        )
    n_samples, n_timesteps, n_features = X.shape
    if n_samples == 0:
        raise ValueError(f"{input_name} has 0 sample(s) (shape {X.shape}); at least 1 is needed.")
    if n_timesteps == 0:
        raise ValueError(f"{input_name} has 0 timesteps (shape {X.shape}); at least 1 is needed.")
    if n_features == 0:
        raise ValueError(
            f"{input_name} has 0 feature(s) per step (shape {X.shape}); at least 1 is needed."
        )
    original = X
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        X = np.array(X, dtype=np.float32, order="C")  # always a private copy
    is_padding = padding_mask(X, mask_value)
    bad = ~np.isfinite(X)
    if np.isnan(mask_value):
        bad &= ~is_padding[:, :, None]
    if bad.any():
        sample, step, feature = np.argwhere(bad)[0]
        value = original[sample, step, feature]
        found = repr(float(value))
        if np.isfinite(value):
            found += ", beyond the float32 range"
        raise ValueError(
            f"{input_name} contains NaN or infinity inside real steps (first at sample "
            f"{sample}, step {step}, feature {feature}: {found}); real steps must be finite. "
            f"A step is padding only when every feature equals mask_value={mask_value}."
        )
    empty = np.flatnonzero(is_padding.all(axis=1))
    if empty.size:
        raise ValueError(
            f"{empty.size} sequence(s) of {input_name} contain only padding (every step equals "
            f"mask_value={mask_value}), e.g. sample {empty[0]}; each needs a real step."
        )
    _check_features(estimator, n_features, reset, X.shape if univariate else None, input_name)
    _warn_interior_padding(is_padding, mask_value, input_name)
    data, lengths, positions = compact_padding(X, is_padding)
    # Cut the time axis to the longest real sequence: trailing padding costs nothing.
    width = int(lengths.max())
    return Sequences(
        np.ascontiguousarray(data[:, :width]),
        lengths,
        np.ascontiguousarray(positions[:, :width]),
        n_timesteps,
        "2d" if univariate else "3d",
    )


def check_classification_y(
    y, n_samples: int, owner: str, input_name: str = "y", *, warn: bool = True
) -> np.ndarray:
    """Validate class labels ``y`` against ``n_samples`` sequences.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    n_samples : int
        Number of sequences in ``X``.
    owner : str
        Name of the estimator, used in the error for a missing ``y``.
    input_name : str, default="y"
        Name of the labels in messages.
    warn : bool, default=True
        Warn (as scikit-learn does) when a column vector is passed.
    """
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    y_array = np.asarray(y)
    if y_array.ndim == 2 and y_array.shape[1] > 1:
        one_hot = np.isin(y_array, (0, 1)).all() and (y_array.sum(axis=1) == 1).all()
        hint = " It looks one-hot encoded: pass y.argmax(axis=1)." if one_hot else ""
        raise ValueError(
            f"{input_name} must hold one class label per sequence, shape (n_samples,); got "
            f"shape {y_array.shape}.{hint}"
        )
    y = column_or_1d(y, warn=warn)
    if len(y) != n_samples:
        raise ValueError(
            f"X and {input_name} have inconsistent numbers of samples: X has {n_samples}, "
            f"{input_name} has {len(y)}."
        )
    if y.dtype == object:
        kinds = {"str" if isinstance(v, str) else type(v).__name__ for v in y}
        if "str" in kinds and len(kinds) > 1:
            raise TypeError(
                f"{input_name} mixes label types ({', '.join(sorted(kinds))}); labels must be "
                "all numbers or all strings, e.g. y.astype(str)."
            )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(
            f"{input_name} must hold class labels, got {input_name}[{bad}]={float(y[bad])!r}: "
            "NaN or infinity is no label."
        )
    try:
        check_classification_targets(y)
    except ValueError as exc:
        # scikit-learn's message speaks of "y" whatever the labels are called here.
        raise ValueError(f"{input_name}: {exc}") from None
    return y
