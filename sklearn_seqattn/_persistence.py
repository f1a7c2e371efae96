"""Saving a fitted :class:`SeqAttentionClassifier` without pickle.

A saved model is a folder of three files:

``config.json``
    Format name and version, package and library versions, the
    hyper-parameters that JSON can hold (the optimizer as a dotted
    ``torch.optim`` name), the fitted state that is not a tensor
    (``classes_`` with their dtype, ``n_features_in_``, ``class_weight_``,
    ``n_iter_``) and the SHA-256 of the weights file.
``weights.safetensors``
    The torch module's ``state_dict``.
``history.json``
    The per-epoch training records (``history_``).

Loading reads only these three files, with ``json`` and ``safetensors``:
nothing is unpickled and no name is imported, so opening a model from an
untrusted source cannot run code. Other files in the folder are ignored.
``callbacks`` and ``accelerator`` are not saved (they are live objects); the
loaded estimator has ``None`` for both, and its optimizer state starts afresh
if training is continued with ``warm_start=True``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._diagnosis import FitDiagnosis

__all__ = ["FORMAT_VERSION", "load_estimator", "save_estimator"]

FORMAT_NAME = "sklearn-seqattn"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
HISTORY_FILE = "history.json"

# Live objects, documented as not saved.
_NOT_SAVED = ("callbacks", "accelerator")
# dtype kinds of classes_ that JSON round-trips: bool, ints, floats, str, object of those.
_CLASS_KINDS = "biufUO"
_MAX_LABEL_BYTES = 4 * 4096  # string labels up to 4096 characters


def _allowed_optimizers() -> dict[str, type]:
    """The optimizers a config may name: the public classes of ``torch.optim``."""
    allowed = {}
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer):
            if obj is not torch.optim.Optimizer:
                allowed[f"torch.optim.{name}"] = obj
    return allowed


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
    raise ValueError(f"expected a number, got {value!r}")


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
        values = {k: _decode_float(v) if fields[k] == "float" else v for k, v in spec.items()}
    except (TypeError, ValueError):
        return None
    if not all(isinstance(values[k], str) for k in ("verdict", "basis", "message")):
        return None
    if not isinstance(values["n_samples"], int):
        return None
    return FitDiagnosis(**values)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _decode_fine_labels(config: dict, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fine labels and their class indices; the classes themselves when none were saved."""
    if "fine_classes" not in config:
        return classes, np.arange(len(classes))
    fine_classes = _decode_classes(config["fine_classes"])
    fine_to_coarse = np.asarray(config["fine_to_coarse"])
    if (
        fine_to_coarse.shape != (len(fine_classes),)
        or fine_to_coarse.dtype.kind not in "iu"
        or not set(fine_to_coarse.tolist()) == set(range(len(classes)))
    ):
        raise ValueError("fine_to_coarse must map every fine label to a class index")
    return fine_classes, fine_to_coarse.astype(np.int64)


def _decode_scalar(value):
    if isinstance(value, dict):
        return _decode_float(value)
    return value


def _encode_param(name: str, value):
    if name == "class_weight" and isinstance(value, dict):
        return {"dict": [[_encode_scalar(k), _encode_float(v)] for k, v in value.items()]}
    if name == "device" and isinstance(value, torch.device):
        return str(value)
    return _encode_scalar(value)


def _decode_param(name: str, value):
    if name == "class_weight" and isinstance(value, dict) and "dict" in value:
        return {_decode_scalar(k): _decode_float(v) for k, v in value["dict"]}
    return _decode_scalar(value)


def _encode_classes(classes: np.ndarray) -> dict:
    if classes.dtype.kind not in _CLASS_KINDS:
        raise TypeError(f"classes_ of dtype {classes.dtype} cannot be saved")
    values = [_encode_scalar(c) for c in classes.tolist()]
    return {"dtype": classes.dtype.str, "values": values}


def _decode_classes(spec) -> np.ndarray:
    dtype = np.dtype(str(spec["dtype"]))
    if dtype.kind not in _CLASS_KINDS or dtype.itemsize > _MAX_LABEL_BYTES:
        raise ValueError(f"classes dtype {dtype} is not one that save() writes")
    values = [_decode_scalar(v) for v in spec["values"]]
    if dtype.kind == "O":
        classes = np.empty(len(values), dtype=object)
        classes[:] = values
        return classes
    return np.asarray(values, dtype=dtype)


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


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# -------------------------------------------------------------------- save
def save_estimator(estimator, path: str | os.PathLike) -> Path:
    """Save a fitted estimator to the folder ``path`` (created if needed).

    Parameters
    ----------
    estimator : SeqAttentionClassifier
        A fitted classifier.
    path : str or os.PathLike
        Folder to write ``config.json``, ``weights.safetensors`` and
        ``history.json`` to; existing files of those names are replaced.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    from safetensors.torch import save as save_tensors

    from . import __version__

    check_is_fitted(estimator, "net_")
    folder = Path(os.fspath(path))
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path must be a folder, got the existing file {str(folder)!r}.")

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
        "batch_size": int(estimator.batch_size_),
        "n_features_in": int(estimator.n_features_in_),
        "n_classes": len(estimator.classes_),
        "class_weight": [_encode_float(w) for w in estimator.class_weight_],
        "n_iter": int(getattr(estimator, "n_iter_", 0)),
        "fit_diagnosis": _encode_diagnosis(getattr(estimator, "fit_diagnosis_", None)),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    history = json.dumps(_to_json(list(estimator.history_)), allow_nan=False)

    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(folder / WEIGHTS_FILE, weights)
    _write_atomic(folder / HISTORY_FILE, history.encode())
    # Written last: a folder whose config is in place is complete.
    _write_atomic(folder / CONFIG_FILE, json.dumps(config, indent=2, allow_nan=False).encode())
    return folder


# -------------------------------------------------------------------- load
def _read_config(folder: Path) -> dict:
    from . import __version__

    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(
            f"{str(folder)!r} is not a saved SeqAttentionClassifier: it has no {CONFIG_FILE}."
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{CONFIG_FILE} in {str(folder)!r} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{CONFIG_FILE} in {str(folder)!r} is not a {FORMAT_NAME} model config "
            f"(format={config.get('format') if isinstance(config, dict) else None!r})."
        )
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{CONFIG_FILE} has an invalid format_version: {version!r}.")
    if version > FORMAT_VERSION:
        saved_by = config.get("versions", {}).get("sklearn_seqattn", "a newer version")
        raise ValueError(
            f"The model in {str(folder)!r} was saved in format version {version} "
            f"(by sklearn-seqattn {saved_by}); this sklearn-seqattn {__version__} reads "
            f"format versions up to {FORMAT_VERSION}. Upgrade sklearn-seqattn to load it."
        )
    return config


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
        stacklevel=3,
    )
    return "cpu"


def load_estimator(cls: type, path: str | os.PathLike):
    """Load an estimator saved by :func:`save_estimator`, without unpickling.

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
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    from ._params import check_params, resolve_device
    from ._random import isolated_torch_rng
    from ._skorch import SequenceDataset, build_net

    folder = Path(os.fspath(path))
    config = _read_config(folder)
    try:
        saved_params = config["params"]
        classes = _decode_classes(config["classes"])
        fine_classes, fine_to_coarse = _decode_fine_labels(config, classes)
        downsample = _positive_int(config.get("downsample", 1), "downsample")
        batch_size = _positive_int(config.get("batch_size", 64), "batch_size")
        n_features = int(config["n_features_in"])
        class_weight = np.array([_decode_float(w) for w in config["class_weight"]])
        digest = str(config["weights_sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{CONFIG_FILE} in {str(folder)!r} is incomplete or invalid: {exc!r}."
        ) from None

    known = cls._get_param_names()
    allowed = _allowed_optimizers()
    params = {}
    for name, value in saved_params.items():
        if name not in known:
            warnings.warn(
                f"Ignoring the unknown hyper-parameter {name!r} in {CONFIG_FILE}.",
                UserWarning,
                stacklevel=2,
            )
        elif name == "optimizer":
            if value not in allowed:
                raise ValueError(
                    f"optimizer {value!r} in {CONFIG_FILE} is not one of the torch.optim "
                    f"classes a saved model may name: {sorted(allowed)}."
                )
            params[name] = allowed[value]
        else:
            params[name] = _decode_param(name, value)
    if "device" in params:
        params["device"] = _load_device(params["device"])
    estimator = cls(**params)
    try:
        check_params(estimator)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{CONFIG_FILE} in {str(folder)!r} holds an invalid setting: {exc}"
        ) from None

    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise FileNotFoundError(f"{str(folder)!r} has no {WEIGHTS_FILE}.")
    raw = weights_path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != digest:
        raise ValueError(
            f"{WEIGHTS_FILE} in {str(folder)!r} does not match its {CONFIG_FILE} (SHA-256 "
            "differs): the file is corrupt or was replaced."
        )
    try:
        state = load_tensors(raw)
    except SafetensorError as exc:
        raise ValueError(f"{WEIGHTS_FILE} in {str(folder)!r} cannot be read: {exc}") from None

    device = resolve_device(estimator.device)
    # Fit's own callbacks (early stopping among them) come with a validation set;
    # a placeholder stands for it, and warm-started fits replace the split anyway.
    placeholder = None
    if estimator.early_stopping:
        placeholder = SequenceDataset(np.zeros((1, 1, n_features), np.float32), np.ones(1))
    # Initialisation draws random weights: keep that away from the caller's RNG.
    with isolated_torch_rng(0, device) as generator:
        estimator.classes_ = classes
        estimator.fine_classes_, estimator.fine_to_coarse_ = fine_classes, fine_to_coarse
        estimator.downsample_ = downsample
        estimator.batch_size_ = batch_size
        net = build_net(
            estimator, n_features, device, generator, placeholder, estimator._label_groups()
        )
        net.initialize()
    net.train_split = None
    net.iterator_train__generator = None
    try:
        net.module_.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"{WEIGHTS_FILE} in {str(folder)!r} does not fit the network its "
            f"{CONFIG_FILE} describes: {exc}"
        ) from None

    from skorch.history import History

    history_path = folder / HISTORY_FILE
    records = []
    if history_path.is_file():
        try:
            records = _from_json(json.loads(history_path.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError):
            warnings.warn(
                f"{HISTORY_FILE} in {str(folder)!r} is unreadable; history_ is empty.",
                UserWarning,
                stacklevel=2,
            )
    net.history = History(records if isinstance(records, list) else [])

    estimator.classes_ = classes
    estimator.n_features_in_ = n_features
    estimator.class_weight_ = class_weight
    estimator.n_iter_ = int(config.get("n_iter", len(net.history)))
    diagnosis = _decode_diagnosis(config.get("fit_diagnosis"))
    if diagnosis is not None:
        estimator.fit_diagnosis_ = diagnosis
    estimator.net_ = net
    estimator.history_ = net.history
    return estimator
