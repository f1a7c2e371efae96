"""Values of a fitted estimator as strict JSON, and back, checked.

Every ``decode_*`` takes what ``json.loads`` returned from a file that may be
hostile, and raises ``ValueError`` naming the field and the value (cut short)
unless the value is one its ``encode_*`` counterpart writes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from typing import Any

import numpy as np
import torch

from .._diagnosis import FitDiagnosis
from ._constants import CONFIG_FILE, HISTORY_FILE, MAX_DIM, MAX_HISTORY_BYTES, MAX_LABEL_BYTES

# JSON spells non-finite floats {"float": "nan"}: its numbers cannot be NaN nor infinite.
_NON_FINITE = ("nan", "inf", "-inf")
# dtype kinds of classes_ that JSON round-trips: bool, ints, floats, str, object of those.
_CLASS_KINDS = "biufUO"


def cut(text: str) -> str:
    """``text`` cut short: a hostile file's value may be megabytes long."""
    return text if len(text) <= 80 else text[:77] + "..."


def show(value: object) -> str:
    """``repr(value)``, cut short for an error message."""
    return cut(repr(value))


# ------------------------------------------------------------ strict JSON
def refuse_constant(name: str):
    """``parse_constant`` for ``json.loads``: NaN and Infinity are not JSON."""
    raise ValueError(f"non-standard JSON constant {name}")


def unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """``object_pairs_hook`` for ``json.loads``: a key given twice is refused."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {show(key)} appears twice in one object")
            seen.add(key)
    return result


# ----------------------------------------------------------------- numbers
def encode_float(value: float) -> float | dict:
    """``value`` as JSON: a number, or ``{"float": "nan" | "inf" | "-inf"}``."""
    value = float(value)
    return value if math.isfinite(value) else {"float": repr(value)}


def decode_float(value: object) -> float:
    """The float :func:`encode_float` wrote (an int is accepted as well)."""
    if isinstance(value, dict) and set(value) == {"float"} and value["float"] in _NON_FINITE:
        return float(value["float"])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number, got {show(value)}")


def _encode_scalar(value):
    """A JSON value for ``value``, or raise TypeError."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return encode_float(value)
    if isinstance(value, str):
        return value
    raise TypeError(type(value).__name__)


def _decode_scalar(value, field: str):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        try:
            return decode_float(value)
        except ValueError:
            pass
    raise ValueError(f"{field} must be a number, a string, true, false or null, got {show(value)}")


def encode_scores(scores: list | None) -> list | None:
    """``init_scores_`` as JSON: a list of numbers, or of lists of numbers (ensembles)."""
    if scores is None:
        return None
    return [
        [encode_float(float(v)) for v in item]
        if isinstance(item, list)
        else encode_float(float(item))
        for item in scores
    ]


def decode_scores(value: object) -> list | None:
    """Saved ``init_scores_``, as :func:`encode_scores` writes them."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_DIM:
        raise ValueError(f"init_scores must be a list, got {show(value)}")
    try:
        return [
            [decode_float(v) for v in item] if isinstance(item, list) else decode_float(item)
            for item in value
        ]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"init_scores: {exc}") from None


# ------------------------------------------------------------- diagnoses
def encode_diagnosis(diagnosis: FitDiagnosis | None) -> dict | None:
    """A :class:`FitDiagnosis` as a JSON object (None stays None)."""
    if diagnosis is None:
        return None
    return {
        k: encode_float(v) if isinstance(v, float) else v
        for k, v in dataclasses.asdict(diagnosis).items()
    }


def decode_diagnosis(spec: object) -> FitDiagnosis | None:
    """The saved verdict of the fit; None when absent or malformed (it is informative only)."""
    if not isinstance(spec, dict):
        return None
    fields = {f.name: f.type for f in dataclasses.fields(FitDiagnosis)}
    required = {
        f.name
        for f in dataclasses.fields(FitDiagnosis)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    # Older saves lack the fields added since (they keep their defaults).
    if not required <= set(spec) <= set(fields):
        return None
    try:
        values: dict[str, Any] = {
            k: decode_float(v) if fields[k] == "float" else v for k, v in spec.items()
        }
    except (TypeError, ValueError):
        return None
    if not all(isinstance(values[k], str) for k in ("verdict", "basis", "message")):
        return None
    if not isinstance(values["n_samples"], int):
        return None
    return FitDiagnosis(**values)


def decode_member_diagnoses(value: object) -> list | None:
    """Saved ``member_diagnoses_`` (informative only: malformed entries read as None)."""
    if not isinstance(value, list) or len(value) > MAX_DIM:
        return None
    return [decode_diagnosis(item) for item in value]


# -------------------------------------------------------- hyper-parameters
def allowed_optimizers() -> dict[str, type]:
    """The optimizers a config may name: the public classes of ``torch.optim``."""
    allowed = {}
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer):
            if obj is not torch.optim.Optimizer:
                allowed[f"torch.optim.{name}"] = obj
    return allowed


def encode_optimizer(value: object) -> str:
    """The dotted ``torch.optim`` name of the optimizer class ``value``."""
    dotted = next((key for key, cls in allowed_optimizers().items() if cls is value), None)
    if dotted is None:
        raise ValueError(
            f"save() stores the optimizer by name and accepts torch.optim classes only; "
            f"got optimizer={value!r}. Set a torch.optim optimizer before saving."
        )
    return dotted


def decode_optimizer(value: object) -> type:
    """The ``torch.optim`` class a config names; nothing else is ever imported."""
    allowed = allowed_optimizers()
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"optimizer {show(value)} in {CONFIG_FILE} is not one of the torch.optim "
            f"classes a saved model may name: {sorted(allowed)}."
        )
    return allowed[value]


def encode_param(name: str, value: object):
    """The hyper-parameter ``name`` as JSON; TypeError if JSON cannot hold it.

    The optimizer goes through :func:`encode_optimizer` instead.
    """
    if name == "class_weight" and isinstance(value, dict):
        return {"dict": [[_encode_scalar(k), encode_float(v)] for k, v in value.items()]}
    if name == "device" and isinstance(value, torch.device):
        return str(value)
    return _encode_scalar(value)


def decode_param(name: str, value: object):
    """The hyper-parameter ``name`` as :func:`encode_param` writes it."""
    if name == "class_weight" and isinstance(value, dict):
        pairs = value.get("dict") if set(value) == {"dict"} else None
        if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in pairs
        ):
            raise ValueError(
                "params.class_weight must be null, 'balanced' or {'dict': [[label, weight], ...]}, "
                f"got {show(value)}"
            )
        try:
            return {_decode_scalar(k, "label"): decode_float(w) for k, w in pairs}
        except ValueError as exc:
            raise ValueError(f"params.class_weight: {exc}") from None
    return _decode_scalar(value, f"params.{name}")


# ------------------------------------------------------------------ labels
def encode_classes(classes: np.ndarray) -> dict:
    """Labels as ``{"dtype": str, "values": [...]}``; TypeError if JSON cannot hold them."""
    if classes.dtype.kind not in _CLASS_KINDS:
        raise TypeError(f"classes_ of dtype {classes.dtype} cannot be saved")
    values = [_encode_scalar(c) for c in classes.tolist()]
    return {"dtype": classes.dtype.str, "values": values}


def _decode_label(value, dtype: np.dtype, field: str):
    """A label of ``dtype`` as ``encode_classes`` writes it."""
    kind = dtype.kind
    finite_float = isinstance(value, float) and math.isfinite(value)
    if kind == "b":
        ok = isinstance(value, bool)
    elif kind in "iu":
        info = np.iinfo(dtype)
        ok = (
            isinstance(value, int) and not isinstance(value, bool) and info.min <= value <= info.max
        )
    elif kind == "f":
        ok = finite_float
    elif kind == "U":
        ok = isinstance(value, str)
    else:  # object: any JSON scalar, numbers finite (labels are never NaN)
        ok = value is None or isinstance(value, (bool, int, str)) or finite_float
    if not ok:
        raise ValueError(f"{field} of dtype {dtype.str} cannot hold the value {show(value)}")
    return value


def decode_classes(spec: object, field: str = "classes") -> np.ndarray:
    """Labels as :func:`encode_classes` writes them: unique, of their dtype, of bounded size."""
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("dtype"), str)
        or not isinstance(spec.get("values"), list)
    ):
        raise ValueError(f"{field} must be {{'dtype': str, 'values': [...]}}, got {show(spec)}")
    name, values = spec["dtype"], spec["values"]
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        dtype = None
    # Only the spelling save() writes: no structured, sub-array or zero-width dtypes.
    if dtype is None or dtype.str != name or dtype.kind not in _CLASS_KINDS or dtype.itemsize == 0:
        raise ValueError(
            f"{field}.dtype must be a dtype of bools, numbers or str, got {show(name)}"
        )
    size = len(values) * dtype.itemsize
    if size > MAX_LABEL_BYTES:
        raise ValueError(
            f"{field} ({len(values)} labels of dtype {name}) would take {size:,} bytes; "
            f"saved labels take at most {MAX_LABEL_BYTES:,}"
        )
    if len(values) < 2:
        raise ValueError(f"{field} must hold at least 2 labels, got {show(values)}")
    decoded = [_decode_label(v, dtype, field) for v in values]
    if dtype.kind == "O":
        labels = np.empty(len(decoded), dtype=object)
        labels[:] = decoded
    else:
        labels = np.array(decoded, dtype=dtype)
    # A str longer than the dtype, or ending in NUL, would come back changed.
    if labels.tolist() != decoded:
        raise ValueError(f"{field} holds values that dtype {name} cannot hold exactly")
    seen = set()
    for label in decoded:
        if label in seen:
            raise ValueError(f"{field} holds the label {show(label)} more than once")
        seen.add(label)
    return labels


# ----------------------------------------------------------------- history
def _to_json(value):
    """History records as JSON: numbers, strings, lists, dicts; anything else becomes None."""
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    try:
        return _encode_scalar(value)
    except TypeError:
        return None


def from_json(value: object):
    """History records as :func:`encode_history` wrote them, non-finite floats restored."""
    if isinstance(value, dict):
        if set(value) == {"float"} and value["float"] in _NON_FINITE:
            return float(value["float"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def encode_history(history) -> bytes:
    """``history_`` as JSON, without the per-batch records if it would exceed the limit."""
    records = _to_json(list(history))
    data = json.dumps(records, allow_nan=False).encode()
    if len(data) > MAX_HISTORY_BYTES:
        records = [{k: v for k, v in record.items() if k != "batches"} for record in records]
        data = json.dumps(records, allow_nan=False).encode()
        warnings.warn(
            f"history_ is over the {MAX_HISTORY_BYTES:,} bytes a saved {HISTORY_FILE} may "
            "hold; it is saved without its per-batch records.",
            UserWarning,
            stacklevel=4,
        )
    if len(data) > MAX_HISTORY_BYTES:
        raise ValueError(
            f"history_ takes {len(data):,} bytes of JSON even without its per-batch records; "
            f"a saved {HISTORY_FILE} holds at most {MAX_HISTORY_BYTES:,}."
        )
    return data
