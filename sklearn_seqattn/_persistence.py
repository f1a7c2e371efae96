"""Saving a fitted :class:`SeqAttentionClassifier` without pickle.

A saved model is a folder of three files:

``config.json``
    Format name and version, package and library versions, the
    hyper-parameters that JSON can hold (the optimizer as a dotted
    ``torch.optim`` name), the fitted state that is not a tensor
    (``classes_`` with their dtype, fine labels, ``n_features_in_``,
    ``class_weight_``, ``n_iter_``...), the SHA-256 of the two other files,
    and ``config_sha256``: the SHA-256 of the config itself (all its fields
    but this one, as ``json.dumps(..., sort_keys=True, separators=(",", ":"))``).
``weights.safetensors``
    The torch module's ``state_dict``.
``history.json``
    The per-epoch training records (``history_``).

Loading reads only these three files, with ``json`` and ``safetensors``:
nothing is unpickled and no name is imported, so opening a model from an
untrusted source cannot run code. Nor can it exhaust memory: the files' sizes
are capped before they are read, every field is checked (type, range,
consistency: unique labels of their dtype, finite non-negative class weights,
finite weights), and the network the config describes is compared with the
weights file's header (names, dtypes, shapes, sizes) before anything is
allocated. The digests detect corruption and edits; they are no signature (an
editor can recompute them), which is why the content checks apply whatever
the digests say. ``save`` runs the same checks on the bytes it writes, so it
never writes a folder that ``load`` refuses. Other files in the folder are
ignored.

``save`` is crash-safe: it writes a new folder beside the target and renames
it into place, so the target holds either the previous model or the new one,
never a mixture; it replaces only an empty folder or a saved model.

``callbacks`` and ``accelerator`` are not saved (they are live objects); the
loaded estimator has ``None`` for both, and its optimizer state starts afresh
if training is continued with ``warm_start=True``.

Format version 1 (no ``config_sha256`` nor ``history_sha256``) is still read,
with all the content checks; its history stays informative (unreadable: a
warning and an empty ``history_``). Releases that read version 1 only refuse
version 2 with a message asking to upgrade.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import stat
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._diagnosis import FitDiagnosis
from ._params import MAX_LAYERS, MAX_WIDTH

__all__ = ["FORMAT_VERSION", "load_estimator", "read_config", "save_estimator"]

FORMAT_NAME = "sklearn-seqattn"
FORMAT_VERSION = 3
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
HISTORY_FILE = "history.json"
# What save() may replace: its own files, and those a format-1 save left when it crashed.
_OWN_FILES = frozenset(
    name + suffix for name in (CONFIG_FILE, WEIGHTS_FILE, HISTORY_FILE) for suffix in ("", ".tmp")
)

# Limits checked before anything is read or built, by load and by save alike.
_MAX_CONFIG_BYTES = 4 * 2**20
_MAX_HISTORY_BYTES = 64 * 2**20
_MAX_HEADER_BYTES = 16 * 2**20  # the safetensors header: names, dtypes and shapes
_MAX_DIM = MAX_WIDTH  # n_features_in, number of labels, every width of the network
_MAX_LAYERS = MAX_LAYERS  # each n_*_layers
_MAX_LABEL_BYTES = 16 * 2**20  # classes_ (or fine_classes_) in memory: n_labels * itemsize

# Live objects, documented as not saved.
_NOT_SAVED = ("callbacks", "accelerator")
# dtype kinds of classes_ that JSON round-trips: bool, ints, floats, str, object of those.
_CLASS_KINDS = "biufUO"
_SAFETENSORS_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def _allowed_optimizers() -> dict[str, type]:
    """The optimizers a config may name: the public classes of ``torch.optim``."""
    allowed = {}
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer):
            if obj is not torch.optim.Optimizer:
                allowed[f"torch.optim.{name}"] = obj
    return allowed


def _cut(text: str) -> str:
    """``text`` cut short: a hostile file's value may be megabytes long."""
    return text if len(text) <= 80 else text[:77] + "..."


def _show(value) -> str:
    return _cut(repr(value))


def _config_digest(config: dict) -> str:
    """SHA-256 of a config's canonical JSON, all fields but ``config_sha256``.

    Parameters
    ----------
    config : dict
        The content of a ``config.json``.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    body = {key: value for key, value in config.items() if key != "config_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# ---------------------------------------------------------------- encoding
def _encode_float(value: float):
    value = float(value)
    return value if math.isfinite(value) else {"float": repr(value)}


_NON_FINITE = ("nan", "inf", "-inf")


def _decode_float(value) -> float:
    if isinstance(value, dict) and set(value) == {"float"} and value["float"] in _NON_FINITE:
        return float(value["float"])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number, got {_show(value)}")


def _encode_scalar(value):
    """A JSON value for ``value``, or raise TypeError."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _encode_float(value)
    if isinstance(value, str):
        return value
    raise TypeError(type(value).__name__)


def _decode_scalar(value, field: str):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        try:
            return _decode_float(value)
        except ValueError:
            pass
    raise ValueError(f"{field} must be a number, a string, true, false or null, got {_show(value)}")


def _encode_diagnosis(diagnosis) -> dict | None:
    if diagnosis is None:
        return None
    return {
        k: _encode_float(v) if isinstance(v, float) else v
        for k, v in dataclasses.asdict(diagnosis).items()
    }


def _decode_diagnosis(spec) -> FitDiagnosis | None:
    """The saved verdict of the fit; None when absent or malformed (it is informative only)."""
    if not isinstance(spec, dict):
        return None
    fields = {f.name: f.type for f in dataclasses.fields(FitDiagnosis)}
    if set(spec) != set(fields):
        return None
    try:
        values: dict[str, Any] = {
            k: _decode_float(v) if fields[k] == "float" else v for k, v in spec.items()
        }
    except (TypeError, ValueError):
        return None
    if not all(isinstance(values[k], str) for k in ("verdict", "basis", "message")):
        return None
    if not isinstance(values["n_samples"], int):
        return None
    return FitDiagnosis(**values)


def _decode_scores(value) -> list | None:
    """Saved ``init_scores_``: a list of numbers, or of lists of numbers (ensembles)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > _MAX_DIM:
        raise ValueError(f"init_scores must be a list, got {_show(value)}")
    try:
        return [
            [_decode_float(v) for v in item] if isinstance(item, list) else _decode_float(item)
            for item in value
        ]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"init_scores: {exc}") from None


def _optional_bool(value, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{field} must be true, false or null, got {_show(value)}")


def _decode_member_diagnoses(value) -> list | None:
    """Saved ``member_diagnoses_`` (informative only: malformed entries read as None)."""
    if not isinstance(value, list) or len(value) > _MAX_DIM:
        return None
    return [_decode_diagnosis(item) for item in value]


def _encode_scores(scores) -> list | None:
    if scores is None:
        return None
    return [
        [_encode_float(float(v)) for v in item]
        if isinstance(item, list)
        else _encode_float(float(item))
        for item in scores
    ]


def _encode_param(name: str, value):
    if name == "class_weight" and isinstance(value, dict):
        return {"dict": [[_encode_scalar(k), _encode_float(v)] for k, v in value.items()]}
    if name == "device" and isinstance(value, torch.device):
        return str(value)
    return _encode_scalar(value)


def _decode_param(name: str, value):
    if name == "class_weight" and isinstance(value, dict):
        pairs = value.get("dict") if set(value) == {"dict"} else None
        if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in pairs
        ):
            raise ValueError(
                "params.class_weight must be null, 'balanced' or {'dict': [[label, weight], ...]}, "
                f"got {_show(value)}"
            )
        try:
            return {_decode_scalar(k, "label"): _decode_float(w) for k, w in pairs}
        except ValueError as exc:
            raise ValueError(f"params.class_weight: {exc}") from None
    return _decode_scalar(value, f"params.{name}")


def _encode_classes(classes: np.ndarray) -> dict:
    if classes.dtype.kind not in _CLASS_KINDS:
        raise TypeError(f"classes_ of dtype {classes.dtype} cannot be saved")
    values = [_encode_scalar(c) for c in classes.tolist()]
    return {"dtype": classes.dtype.str, "values": values}


def _decode_label(value, dtype: np.dtype, field: str):
    """A label of ``dtype`` as ``_encode_classes`` writes it."""
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
        raise ValueError(f"{field} of dtype {dtype.str} cannot hold the value {_show(value)}")
    return value


def _decode_classes(spec, field: str = "classes") -> np.ndarray:
    """Labels as ``_encode_classes`` writes them: unique, of their dtype, of bounded size."""
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("dtype"), str)
        or not isinstance(spec.get("values"), list)
    ):
        raise ValueError(f"{field} must be {{'dtype': str, 'values': [...]}}, got {_show(spec)}")
    name, values = spec["dtype"], spec["values"]
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        dtype = None
    # Only the spelling save() writes: no structured, sub-array or zero-width dtypes.
    if dtype is None or dtype.str != name or dtype.kind not in _CLASS_KINDS or dtype.itemsize == 0:
        raise ValueError(
            f"{field}.dtype must be a dtype of bools, numbers or str, got {_show(name)}"
        )
    size = len(values) * dtype.itemsize
    if size > _MAX_LABEL_BYTES:
        raise ValueError(
            f"{field} ({len(values)} labels of dtype {name}) would take {size:,} bytes; "
            f"saved labels take at most {_MAX_LABEL_BYTES:,}"
        )
    if len(values) < 2:
        raise ValueError(f"{field} must hold at least 2 labels, got {_show(values)}")
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
            raise ValueError(f"{field} holds the label {_show(label)} more than once")
        seen.add(label)
    return labels


def _int(value, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be an int, got {_show(value)}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{field} must be {bound}, got {value}")
    return value


def _sha256_field(config: dict, field: str) -> str:
    value = config[field]
    if not (isinstance(value, str) and len(value) == 64 and set(value) <= set("0123456789abcdef")):
        raise ValueError(f"{field} must be 64 hexadecimal digits, got {_show(value)}")
    return value


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


def _from_json(value):
    if isinstance(value, dict):
        if set(value) == {"float"} and value["float"] in _NON_FINITE:
            return float(value["float"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _encode_history(history) -> bytes:
    """``history_`` as JSON, without the per-batch records if it would exceed the limit."""
    records = _to_json(list(history))
    data = json.dumps(records, allow_nan=False).encode()
    if len(data) > _MAX_HISTORY_BYTES:
        records = [{k: v for k, v in record.items() if k != "batches"} for record in records]
        data = json.dumps(records, allow_nan=False).encode()
        warnings.warn(
            f"history_ is over the {_MAX_HISTORY_BYTES:,} bytes a saved {HISTORY_FILE} may "
            "hold; it is saved without its per-batch records.",
            UserWarning,
            stacklevel=4,
        )
    if len(data) > _MAX_HISTORY_BYTES:
        raise ValueError(
            f"history_ takes {len(data):,} bytes of JSON even without its per-batch records; "
            f"a saved {HISTORY_FILE} holds at most {_MAX_HISTORY_BYTES:,}."
        )
    return data


# ------------------------------------------------------------ reading files
def _refuse_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _unique_keys(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {_show(key)} appears twice in one object")
            seen.add(key)
    return result


def _open_regular(path: Path, where: str):
    """``path`` opened for reading in binary, refused unless it is a regular file.

    Non-blocking, so a FIFO planted in the folder cannot hang the open; the
    type is checked on the descriptor, before a file object is made of it
    (a folder opens too, and would fail later with a bare errno).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path.name} in {where} is not a regular file.")
    return os.fdopen(fd, "rb")


def _read_file(path: Path, limit: int, where: str) -> bytes:
    """The bytes of the regular file ``path``; more than ``limit`` is refused unread."""
    with _open_regular(path, where) as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(limit + 1) if size <= limit else b""
    size = max(size, len(data))
    if size > limit:
        raise ValueError(
            f"{path.name} in {where} is {size:,} bytes; a saved model's {path.name} is at most "
            f"{limit:,} bytes."
        )
    return data


# -------------------------------------------------------------- the config
@dataclasses.dataclass
class _Saved:
    """The content of a config.json, checked."""

    version: int
    params: dict
    classes: np.ndarray
    fine_classes: np.ndarray
    fine_to_coarse: np.ndarray
    downsample: int
    n_conv_layers: int
    front_end: str
    fixed_filters: bool
    conv_skip: bool | None
    restore_best_weights: bool | None
    best_epoch: int | None
    init_scores: list | None
    member_diagnoses: list | None
    autocast: bool | None
    n_init_trained: int | None
    batch_size: int
    threshold: float | None
    n_features: int
    class_weight: np.ndarray
    n_iter: int | None
    diagnosis: FitDiagnosis | None
    weights_sha256: str
    history_sha256: str | None


def _parse_config(data: bytes, where: str) -> _Saved:
    """Check a config.json's size, JSON, format, version, digest and every field."""
    from . import __version__

    if len(data) > _MAX_CONFIG_BYTES:
        raise ValueError(
            f"{CONFIG_FILE} in {where} is {len(data):,} bytes; a saved model's {CONFIG_FILE} is "
            f"at most {_MAX_CONFIG_BYTES:,} bytes (are its class labels many or long?)."
        )
    try:
        config = json.loads(
            data.decode("utf-8"), parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
        )
        digest = _config_digest(config) if isinstance(config, dict) else None
    except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested JSON
        raise ValueError(f"{CONFIG_FILE} in {where} is not valid JSON: {_cut(str(exc))}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{CONFIG_FILE} in {where} is not a {FORMAT_NAME} model config "
            f"(format={_show(config.get('format') if isinstance(config, dict) else None)})."
        )
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{CONFIG_FILE} has an invalid format_version: {_show(version)}.")
    if version > FORMAT_VERSION:
        versions = config.get("versions")
        saved_by = versions.get("sklearn_seqattn") if isinstance(versions, dict) else None
        raise ValueError(
            f"The model in {where} was saved in format version {version} "
            f"(by sklearn-seqattn {saved_by if isinstance(saved_by, str) else 'a newer version'}); "
            f"this sklearn-seqattn {__version__} reads format versions up to {FORMAT_VERSION}. "
            "Upgrade sklearn-seqattn to load it."
        )
    if version >= 2 and config.get("config_sha256") != digest:
        raise ValueError(
            f"{CONFIG_FILE} in {where} does not match its config_sha256: the file was edited or "
            "is corrupt. Save the model again rather than editing the file."
        )
    try:
        return _decode_config(config, version)
    except ValueError as exc:
        raise ValueError(f"{CONFIG_FILE} in {where} is invalid: {exc}.") from None


def read_config(path: str | os.PathLike) -> dict:
    """The checked ``config.json`` of a saved model, as a dict (for display).

    The file goes through the same size, JSON, format, digest and field
    checks as in :func:`load_estimator`; the weights are not read.

    Raises
    ------
    FileNotFoundError
        If the folder holds no config.json.
    ValueError
        If the config is too large, not JSON, edited or invalid.
    """
    folder = Path(os.fspath(path))
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(
            f"{str(folder)!r} is not a saved SeqAttentionClassifier: it has no {CONFIG_FILE}."
        )
    data = _read_file(config_path, _MAX_CONFIG_BYTES, repr(str(folder)))
    _parse_config(data, repr(str(folder)))
    return json.loads(data.decode("utf-8"))


def _threshold(value) -> float | None:
    """The saved decision threshold: None, or a number strictly between 0 and 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"threshold must be null or a number in (0, 1), got {_show(value)}")
    return float(value)


def _decode_config(config: dict, version: int) -> _Saved:
    # Format 1 had no digests, and its first releases no fine labels, downsample nor batch_size.
    required = ["params", "classes", "n_features_in", "class_weight", "weights_sha256"]
    if version >= 2:
        required += ["fine_classes", "fine_to_coarse", "downsample", "batch_size", "n_classes"]
        required += ["n_iter", "history_sha256"]
    missing = [name for name in required if name not in config]
    if missing:
        raise ValueError(f"the field(s) {missing} are missing")
    if not isinstance(config["params"], dict):
        raise ValueError(f"params must be a JSON object, got {_show(config['params'])}")
    classes = _decode_classes(config["classes"])
    n_classes = _int(config.get("n_classes", len(classes)), "n_classes", 2)
    if n_classes != len(classes):
        raise ValueError(f"n_classes is {n_classes}, but classes holds {len(classes)} labels")
    if "fine_classes" in config:
        fine_classes = _decode_classes(config["fine_classes"], "fine_classes")
        fine_to_coarse = config.get("fine_to_coarse")
        if not isinstance(fine_to_coarse, list) or len(fine_to_coarse) != len(fine_classes):
            raise ValueError(
                f"fine_to_coarse must be a list of {len(fine_classes)} class indices, "
                f"got {_show(fine_to_coarse)}"
            )
        for k, i in enumerate(fine_to_coarse):
            _int(i, f"fine_to_coarse[{k}]", 0, n_classes - 1)
        if len(set(fine_to_coarse)) != n_classes:
            raise ValueError("fine_to_coarse must map some fine label to every class")
        fine_to_coarse = np.array(fine_to_coarse, dtype=np.int64)
    else:
        fine_classes, fine_to_coarse = classes, np.arange(n_classes)
    class_weight = config["class_weight"]
    if not isinstance(class_weight, list) or len(class_weight) != n_classes:
        raise ValueError(
            f"class_weight must be a list of {n_classes} weights, got {_show(class_weight)}"
        )
    try:
        class_weight = np.array([_decode_float(w) for w in class_weight])
    except ValueError as exc:
        raise ValueError(f"class_weight: {exc}") from None
    if not (np.isfinite(class_weight).all() and (class_weight >= 0).all()):
        raise ValueError(f"class_weight must be finite and >= 0, got {class_weight.tolist()}")
    n_iter = config.get("n_iter")
    n_conv_layers = _int(
        # Saved before n_conv_layers could be "auto": the parameter itself is the count.
        config.get("n_conv_layers", config["params"].get("n_conv_layers", 0)),
        "n_conv_layers",
        0,
        _MAX_LAYERS,
    )
    # Format 3 added the multi-scale front end; earlier saves had plain convolutions or none.
    front_end = config.get("front_end", "conv" if n_conv_layers else "none")
    if front_end not in ("multiscale", "conv", "none"):
        raise ValueError(
            f"front_end must be 'multiscale', 'conv' or 'none', got {_show(front_end)}"
        )
    fixed_filters = config.get("fixed_filters", False)
    restore = config.get("restore_best_weights")
    for name, value in (("fixed_filters", fixed_filters), ("restore_best_weights", restore)):
        if not isinstance(value, bool) and not (name == "restore_best_weights" and value is None):
            raise ValueError(f"{name} must be true or false, got {_show(value)}")
    best = config.get("best_epoch")
    return _Saved(
        version=version,
        params=config["params"],
        classes=classes,
        fine_classes=fine_classes,
        fine_to_coarse=fine_to_coarse,
        downsample=_int(config.get("downsample", 1), "downsample", 1, _MAX_DIM),
        n_conv_layers=n_conv_layers,
        front_end=front_end,
        fixed_filters=fixed_filters,
        conv_skip=_optional_bool(config.get("conv_skip"), "conv_skip"),
        restore_best_weights=restore,
        best_epoch=None if best is None else _int(best, "best_epoch", 1),
        init_scores=_decode_scores(config.get("init_scores")),
        member_diagnoses=_decode_member_diagnoses(config.get("member_diagnoses")),
        autocast=_optional_bool(config.get("autocast"), "autocast"),
        n_init_trained=(
            None
            if config.get("n_init_trained") is None
            else _int(config["n_init_trained"], "n_init_trained", 1)
        ),
        batch_size=_int(config.get("batch_size", 64), "batch_size", 1),
        threshold=_threshold(config.get("threshold")),
        n_features=_int(config["n_features_in"], "n_features_in", 1, _MAX_DIM),
        class_weight=class_weight,
        n_iter=None if n_iter is None else _int(n_iter, "n_iter", 0),
        diagnosis=_decode_diagnosis(config.get("fit_diagnosis")),
        weights_sha256=_sha256_field(config, "weights_sha256"),
        history_sha256=_sha256_field(config, "history_sha256") if version >= 2 else None,
    )


def _new_estimator(cls: type, saved: _Saved, where: str, *, loading: bool):
    """``cls`` with the saved hyper-parameters (checked) and the saved fitted state, no net."""
    from ._params import check_params, is_auto, resolve_input_dropout, resolve_lr_schedule
    from ._validation import check_mask_value

    known = sorted(cls().get_params(deep=False))
    allowed = _allowed_optimizers()
    params: dict[str, object] = {}
    for name, value in saved.params.items():
        if name not in known:
            warnings.warn(
                f"Ignoring the unknown hyper-parameter {name!r} in {CONFIG_FILE}.",
                UserWarning,
                stacklevel=4,
            )
        elif name == "optimizer":
            if not isinstance(value, str) or value not in allowed:
                raise ValueError(
                    f"optimizer {_show(value)} in {CONFIG_FILE} is not one of the torch.optim "
                    f"classes a saved model may name: {sorted(allowed)}."
                )
            params[name] = allowed[value]
        else:
            try:
                params[name] = _decode_param(name, value)
            except ValueError as exc:
                raise ValueError(f"{CONFIG_FILE} in {where} is invalid: {exc}.") from None
    # Saved before conv_skip existed: those networks had no skip.
    params.setdefault("conv_skip", False)
    if saved.conv_skip is None and is_auto(params["conv_skip"]):
        raise ValueError(f"{CONFIG_FILE} in {where} is invalid: conv_skip is 'auto' unresolved.")
    if not isinstance(params.get("device", "cpu"), str):
        raise ValueError(
            f"{CONFIG_FILE} in {where} is invalid: params.device must be a str, "
            f"got {_show(params['device'])}."
        )
    if loading and "device" in params:
        params["device"] = _load_device(params["device"])
    estimator = cls(**params)
    try:
        check_params(estimator)
        check_mask_value(estimator.mask_value)
        if estimator.random_state is not None:
            _int(estimator.random_state, "random_state", 0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{CONFIG_FILE} in {where} holds an invalid setting: {exc}") from None
    estimator.classes_ = saved.classes
    estimator.fine_classes_, estimator.fine_to_coarse_ = saved.fine_classes, saved.fine_to_coarse
    estimator.downsample_ = saved.downsample
    estimator.n_conv_layers_ = saved.n_conv_layers
    estimator.front_end_ = saved.front_end
    estimator.fixed_filters_ = saved.fixed_filters
    # Before format 3 the parameter itself was the choice.
    estimator.conv_skip_ = bool(estimator.conv_skip) if saved.conv_skip is None else saved.conv_skip
    # Before format 3 the choice was not saved; load() derives it from the history, and
    # the schedule too (neither changes the network's shapes, checked with this estimator).
    estimator.restore_best_weights_ = bool(saved.restore_best_weights)
    estimator.lr_schedule_ = resolve_lr_schedule(estimator.lr_schedule, False, saved.front_end)
    estimator.input_dropout_ = resolve_input_dropout(
        estimator.input_dropout, saved.front_end != "none", estimator.conv_batch_norm
    )
    estimator.batch_size_ = saved.batch_size
    estimator.threshold_ = saved.threshold
    return estimator


def _expected_tensors(estimator, n_features: int, where: str) -> dict[str, tuple]:
    """``name -> (safetensors dtype, shape, bytes)`` of the network the config describes.

    Its sizes are checked first; it is then built on torch's "meta" device,
    which records shapes and allocates nothing.
    """
    from ._training import network_on_meta

    try:
        # The same factory that load() builds the real network with, on torch's meta device.
        state = network_on_meta(estimator, n_features, estimator.n_estimators)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"{CONFIG_FILE} in {where} describes no valid network: {exc}") from None
    return {
        name: (_SAFETENSORS_DTYPES.get(t.dtype), list(t.shape), t.numel() * t.element_size())
        for name, t in state.items()
    }


# ------------------------------------------------------------- the weights
def _header_length(prefix: bytes, size: int, where: str) -> int:
    """The length of the safetensors header, from the file's first 8 bytes."""
    length = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
    if not 0 < length <= min(_MAX_HEADER_BYTES, size - 8):
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} is not a safetensors file: its header length "
            f"{length} does not fit a {size:,}-byte file (at most {_MAX_HEADER_BYTES:,})."
        )
    return length


def _check_header(header: bytes, expected: dict, where: str) -> int:
    """Compare the safetensors header with the expected tensors; return their total bytes."""
    try:
        entries = json.loads(header.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} has an unreadable header: {_cut(str(exc))}"
        ) from None
    if not isinstance(entries, dict):
        raise ValueError(f"{WEIGHTS_FILE} in {where} has a header that is not a JSON object.")
    entries.pop("__metadata__", None)
    missing, extra = sorted(set(expected) - set(entries)), sorted(set(entries) - set(expected))
    if missing or extra:
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} does not hold the tensors its {CONFIG_FILE} describes: "
            f"missing {_show(missing)}, unexpected {_show(extra)}."
        )
    for name, (dtype, shape, _) in expected.items():
        entry = entries[name]
        found = (entry.get("dtype"), entry.get("shape")) if isinstance(entry, dict) else entry
        if found != (dtype, shape):
            raise ValueError(
                f"{WEIGHTS_FILE} in {where} holds {name!r} as {_show(found)}, but its "
                f"{CONFIG_FILE} (n_features_in, labels, hyper-parameters) implies "
                f"{(dtype, shape)!r}."
            )
    return sum(nbytes for _, _, nbytes in expected.values())


def _read_weights(path: Path, expected: dict, where: str) -> bytes:
    """The weights file, read only once its header and size match ``expected``."""
    try:
        f = _open_regular(path, where)
    except FileNotFoundError:
        raise FileNotFoundError(f"{where} has no {WEIGHTS_FILE}.") from None
    with f:
        info = os.fstat(f.fileno())
        prefix = f.read(8)
        length = _header_length(prefix, info.st_size, where)
        size = 8 + length + _check_header(f.read(length), expected, where)
        if info.st_size != size:
            raise ValueError(
                f"{WEIGHTS_FILE} in {where} is {info.st_size:,} bytes, but its header describes "
                f"{size:,}: the file is corrupt or was replaced."
            )
        f.seek(0)
        raw = f.read(size + 1)
    if len(raw) != size:
        raise ValueError(f"{WEIGHTS_FILE} in {where} changed while it was read.")
    return raw


def _check_finite(state: dict, where: str) -> None:
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{WEIGHTS_FILE} in {where}: {name!r} holds NaN or infinite values.")


# ------------------------------------------------------------- the history
def _read_history(folder: Path, saved: _Saved, where: str) -> list:
    """The saved history: checked against its digest, or informative only (format 1)."""
    path = folder / HISTORY_FILE
    try:
        data = _read_file(path, _MAX_HISTORY_BYTES, where)
    except FileNotFoundError:
        if saved.history_sha256 is None:
            return []
        raise FileNotFoundError(f"{where} has no {HISTORY_FILE}.") from None
    except ValueError:
        if saved.history_sha256 is not None:
            raise
        data = b""
    if saved.history_sha256 is not None and hashlib.sha256(data).hexdigest() != (
        saved.history_sha256
    ):
        raise ValueError(
            f"{HISTORY_FILE} in {where} does not match its {CONFIG_FILE} (SHA-256 differs): "
            "the file was edited or is corrupt."
        )
    try:
        records = _from_json(json.loads(data.decode("utf-8"), parse_constant=_refuse_constant))
        if not (isinstance(records, list) and all(isinstance(r, dict) for r in records)):
            raise ValueError("expected a list of records")
    except (ValueError, RecursionError) as exc:
        if saved.history_sha256 is not None:
            raise ValueError(f"{HISTORY_FILE} in {where} is invalid: {_cut(str(exc))}.") from None
        warnings.warn(
            f"{HISTORY_FILE} in {where} is unreadable; history_ is empty.",
            UserWarning,
            stacklevel=4,
        )
        records = []
    return records


# --------------------------------------------------------- writing folders
def _check_target(folder: Path) -> bool:
    """Whether ``folder`` exists; refuse what save() must not replace."""
    if os.path.islink(folder):
        raise ValueError(
            f"path {str(folder)!r} is a symbolic link; save() replaces a real folder only "
            "(pass the folder it points to)."
        )
    if not os.path.lexists(folder):
        return False
    if not folder.is_dir():
        raise ValueError(f"path must be a folder, got the existing file {str(folder)!r}.")
    with os.scandir(folder) as entries:
        others = sorted(
            e.name for e in entries if e.name not in _OWN_FILES or e.is_dir(follow_symlinks=False)
        )
    if others:
        raise ValueError(
            f"{str(folder)!r} holds files that save() did not write: {_show(others)}. save() "
            "replaces a folder only when it is empty or holds a saved model alone; choose "
            "another path or move those files."
        )
    return True


def _write_new_file(path: Path, data: bytes) -> None:
    # O_EXCL and O_NOFOLLOW: never write through a link, even in a folder of our own.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags | getattr(os, "O_BINARY", 0), 0o666), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; Windows cannot open a folder for this.
    if os.name == "posix":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` into a new folder beside ``folder``, then rename it into place.

    Until the last rename, the previous folder is untouched; a failure before it
    removes everything written. The temporary names are unpredictable (mkdtemp).
    """
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".saving", dir=parent))
    new, old = staging / "new", staging / "old"
    keep_staging = False
    try:
        # mkdir, unlike mkdtemp (0o700), gives the folder the mode the user's umask asks for.
        os.mkdir(new)
        for name, data in files.items():
            _write_new_file(new / name, data)
        _fsync_dir(new)
        if _check_target(folder):  # again: the folder may have changed since save() began
            os.rename(folder, old)
            try:
                os.rename(new, folder)
            except BaseException:
                try:
                    os.rename(old, folder)
                except OSError as exc:
                    keep_staging = True
                    raise OSError(
                        f"save() could not put the previous model back in {str(folder)!r}; "
                        f"it is in {str(old)!r}."
                    ) from exc
                raise
        else:
            os.rename(new, folder)
        # The new model is in place: a folder that cannot be synced is no failure to report.
        with contextlib.suppress(OSError):
            _fsync_dir(parent)
    finally:
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)


# -------------------------------------------------------------------- save
def save_estimator(estimator, path: str | os.PathLike) -> Path:
    """Save a fitted estimator to the folder ``path`` (created if needed).

    The files are written into a new folder beside ``path``, which is then
    renamed into place: if saving fails, ``path`` keeps its previous content.

    Parameters
    ----------
    estimator : SeqAttentionClassifier
        A fitted classifier.
    path : str or os.PathLike
        Folder to write ``config.json``, ``weights.safetensors`` and
        ``history.json`` to. If it exists, it must be empty or hold a saved
        model alone (which is replaced), and not be a symbolic link.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    ValueError
        If ``path`` cannot be replaced, or if ``load`` would refuse the
        folder (e.g. hyper-parameters, labels or weights it cannot hold).
    """
    from safetensors.torch import save as save_tensors

    from . import __version__

    check_is_fitted(estimator, "net_")
    folder = Path(os.fspath(path))
    if os.path.basename(os.path.normpath(folder)) in ("", ".", ".."):
        raise ValueError(f"path must name a folder, got {str(folder)!r}.")
    _check_target(folder)

    allowed = _allowed_optimizers()
    params, skipped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in _NOT_SAVED:
            continue
        if name == "optimizer":
            dotted = next((key for key, cls in allowed.items() if cls is value), None)
            if dotted is None:
                raise ValueError(
                    f"save() stores the optimizer by name and accepts torch.optim classes only; "
                    f"got optimizer={value!r}. Set a torch.optim optimizer before saving."
                )
            params[name] = dotted
            continue
        try:
            params[name] = _encode_param(name, value)
        except TypeError:
            skipped.append(name)
    if skipped:
        warnings.warn(
            f"Hyper-parameter(s) {skipped} cannot be stored as JSON and are not saved; "
            "the loaded model has their default values.",
            UserWarning,
            stacklevel=3,
        )

    module = estimator.net_.module_
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    weights = save_tensors(state)
    try:
        classes = _encode_classes(estimator.classes_)
        fine_classes = _encode_classes(estimator.fine_classes_)
    except TypeError as exc:
        raise ValueError(
            f"classes_ must hold bools, numbers or strings to be saved, got {exc}."
        ) from None
    history = _encode_history(estimator.history_)
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "versions": {
            "sklearn_seqattn": __version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "params": params,
        "classes": classes,
        "fine_classes": fine_classes,
        "fine_to_coarse": [int(i) for i in estimator.fine_to_coarse_],
        "downsample": int(estimator.downsample_),
        "n_conv_layers": int(estimator.n_conv_layers_),
        "front_end": estimator.front_end_,
        "fixed_filters": bool(estimator.fixed_filters_),
        "conv_skip": bool(estimator.conv_skip_),
        "restore_best_weights": bool(estimator.restore_best_weights_),
        "autocast": bool(estimator.autocast_),
        "n_init_trained": int(estimator.n_init_),
        "best_epoch": estimator.best_epoch_,
        "init_scores": _encode_scores(getattr(estimator, "init_scores_", None)),
        "member_diagnoses": [
            _encode_diagnosis(d) for d in getattr(estimator, "member_diagnoses_", [])
        ],
        "batch_size": int(estimator.batch_size_),
        "threshold": getattr(estimator, "threshold_", None),
        "n_features_in": int(estimator.n_features_in_),
        "n_classes": len(estimator.classes_),
        "class_weight": [_encode_float(w) for w in estimator.class_weight_],
        "n_iter": int(getattr(estimator, "n_iter_", 0)),
        "fit_diagnosis": _encode_diagnosis(getattr(estimator, "fit_diagnosis_", None)),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "history_sha256": hashlib.sha256(history).hexdigest(),
    }
    config["config_sha256"] = _config_digest(config)
    config_bytes = json.dumps(config, indent=2, allow_nan=False).encode()

    where = repr(str(folder))
    try:
        # load()'s own checks, on the very bytes to be written: save() never writes a
        # folder that load() refuses.
        saved = _parse_config(config_bytes, where)
        expected = _expected_tensors(
            _new_estimator(type(estimator), saved, where, loading=False), saved.n_features, where
        )
        length = _header_length(weights[:8], len(weights), where)
        if 8 + length + _check_header(weights[8 : 8 + length], expected, where) != len(weights):
            raise ValueError(f"{WEIGHTS_FILE} does not have the size its header describes.")
        _check_finite(state, where)
        for field, labels in (("classes_", saved.classes), ("fine_classes_", saved.fine_classes)):
            original = getattr(estimator, field)
            if labels.dtype != original.dtype or not np.array_equal(labels, original):
                raise ValueError(f"{field} would not load back unchanged: {_show(original)}")
    except ValueError as exc:
        raise ValueError(f"save() does not write a model that load() would refuse: {exc}") from None
    _publish(folder, {WEIGHTS_FILE: weights, HISTORY_FILE: history, CONFIG_FILE: config_bytes})
    return folder


# -------------------------------------------------------------------- load
def _load_device(device):
    """The saved device, or CPU where the saved accelerator is missing here."""
    if device == "auto":
        return device
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        kind = None
    backend = getattr(torch, kind, None) if kind not in (None, "cpu") else None
    available = kind == "cpu" or (backend is not None and backend.is_available())
    if available:
        return device
    warnings.warn(
        f"The model was trained with device={device!r}, which is not available here; "
        "it is loaded on device='cpu'.",
        UserWarning,
        stacklevel=5,
    )
    return "cpu"


def load_estimator(cls: type, path: str | os.PathLike):
    """Load an estimator saved by :func:`save_estimator`, without unpickling.

    Every file is size-checked before it is read, and every field before the
    network is built, so a hostile folder is refused without running code or
    allocating more than its files' sizes.

    Parameters
    ----------
    cls : type
        The estimator class (SeqAttentionClassifier).
    path : str or os.PathLike
        The folder written by ``save``.

    Returns
    -------
    estimator : cls
        A fitted estimator that predicts as the saved one did.

    Raises
    ------
    FileNotFoundError
        If a file of the model is missing.
    ValueError
        If a file is corrupt, edited, too large or inconsistent with the others.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors
    from skorch.history import History

    from ._batching import SequenceDataset
    from ._params import (
        resolve_autocast,
        resolve_device,
        resolve_lr_schedule,
    )
    from ._random import isolated_torch_rng
    from ._stopping import best_epoch, best_epoch_key
    from ._training import new_net

    folder = Path(os.fspath(path))
    where = repr(str(folder))
    if folder.is_file():
        raise ValueError(
            f"path must be the folder written by save(), got the file {where}; pass the "
            f"folder that holds it: {str(folder.parent)!r}."
        )
    try:
        config_bytes = _read_file(folder / CONFIG_FILE, _MAX_CONFIG_BYTES, where)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{where} is not a saved SeqAttentionClassifier: it has no {CONFIG_FILE}."
        ) from None
    saved = _parse_config(config_bytes, where)
    estimator = _new_estimator(cls, saved, where, loading=True)
    expected = _expected_tensors(estimator, saved.n_features, where)
    raw = _read_weights(folder / WEIGHTS_FILE, expected, where)
    if hashlib.sha256(raw).hexdigest() != saved.weights_sha256:
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} does not match its {CONFIG_FILE} (SHA-256 "
            "differs): the file is corrupt or was replaced."
        )
    try:
        state = load_tensors(raw)
    except SafetensorError as exc:
        raise ValueError(f"{WEIGHTS_FILE} in {where} cannot be read: {exc}") from None
    del raw
    _check_finite(state, where)
    records = _read_history(folder, saved, where)

    n_features = saved.n_features
    device = resolve_device(estimator.device)
    # Fit's own callbacks (early stopping among them) come with a validation set;
    # a placeholder stands for it, and warm-started fits replace the split anyway.
    placeholder = None
    has_validation = any("valid_loss" in row for row in records)
    if has_validation:
        placeholder = SequenceDataset(np.zeros((1, 1, n_features), np.float32), np.ones(1))
    estimator.early_stopping_ = has_validation
    estimator.lr_schedule_ = resolve_lr_schedule(
        estimator.lr_schedule, has_validation, estimator.front_end_
    )
    # Before format 3, weights were restored with a validation split only.
    estimator.restore_best_weights_ = (
        has_validation if saved.restore_best_weights is None else saved.restore_best_weights
    )
    # Initialisation draws random weights: keep that away from the caller's RNG.
    with isolated_torch_rng(0, device) as generator:
        net = new_net(estimator, n_features, device, generator, placeholder, estimator.n_estimators)
    net.train_split = None
    net.iterator_train__generator = None
    try:
        net.module_.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} does not fit the network its {CONFIG_FILE} describes: {exc}"
        ) from None
    net.history = History(records)

    estimator.n_features_in_ = n_features
    estimator.class_weight_ = saved.class_weight
    estimator.n_iter_ = len(net.history) if saved.n_iter is None else saved.n_iter
    if saved.diagnosis is not None:
        estimator.fit_diagnosis_ = saved.diagnosis
    # Saved before format 3: derived from the history as fit decided them.
    estimator.best_epoch_ = (
        saved.best_epoch
        if saved.version >= 3
        else best_epoch(net.history, len(net.history) - estimator.n_iter_)
    )
    estimator.init_scores_ = (
        saved.init_scores if saved.init_scores is not None else [best_epoch_key(net.history)[0]]
    )
    estimator.device_ = device
    # Before format 3 not saved: training's autocast resolved here, restarts counted.
    estimator.autocast_ = (
        saved.autocast
        if saved.autocast is not None
        else resolve_autocast(estimator.autocast, device)
    )
    estimator.n_init_ = (
        saved.n_init_trained
        if saved.n_init_trained is not None
        else sum(len(s) if isinstance(s, list) else 1 for s in estimator.init_scores_)
    )
    if saved.member_diagnoses is not None:
        estimator.member_diagnoses_ = saved.member_diagnoses
    elif saved.diagnosis is not None:
        estimator.member_diagnoses_ = [saved.diagnosis]
    net.module_.eval()
    estimator.net_ = net
    estimator.history_ = net.history
    return estimator
