"""The config.json of a saved model: format versions, checks, and the estimator it describes.

:func:`parse_config` turns the bytes of a config into a checked :class:`Saved`
(size, JSON, format, version, digest, then every field); :func:`new_estimator`
builds the unfitted-network estimator those fields describe. Nothing is
imported by name and no network is built here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings

import numpy as np
import torch

from .._diagnosis import FitDiagnosis
from ._constants import (
    CONFIG_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_CONFIG_BYTES,
    MAX_DIM,
    MAX_N_LAYERS,
    MAX_N_NETWORKS,
)
from ._encoding import (
    cut,
    decode_classes,
    decode_diagnosis,
    decode_float,
    decode_member_diagnoses,
    decode_optimizer,
    decode_param,
    decode_scores,
    refuse_constant,
    show,
    unique_keys,
)


@dataclasses.dataclass
class Saved:
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
    lr_schedule: str | None
    best_epoch: int | None
    init_scores: list | None
    member_diagnoses: list | None
    autocast: bool | None
    n_init_trained: int | None
    n_estimators: int | None
    batch_size: int
    n_iter_no_change: int | None
    tol: float | None
    input_dropout: float | None
    standardize: bool | str | None
    threshold: float | None
    n_features: int
    class_weight: np.ndarray
    n_iter: int | None
    diagnosis: FitDiagnosis | None
    weights_sha256: str
    history_sha256: str | None


def config_digest(config: dict) -> str:
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


def parse_config(data: bytes, where: str) -> Saved:
    """Check a config.json's size, JSON, format, version, digest and every field.

    Parameters
    ----------
    data : bytes
        The file's content.
    where : str
        The folder, as error messages name it.

    Returns
    -------
    Saved
        The checked fields.

    Raises
    ------
    ValueError
        Naming the file and the first problem found.
    """
    from .. import __version__

    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"{CONFIG_FILE} in {where} is {len(data):,} bytes; a saved model's {CONFIG_FILE} is "
            f"at most {MAX_CONFIG_BYTES:,} bytes (are its class labels many or long?)."
        )
    try:
        config = json.loads(
            data.decode("utf-8"), parse_constant=refuse_constant, object_pairs_hook=unique_keys
        )
        digest = config_digest(config) if isinstance(config, dict) else None
    except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested JSON
        raise ValueError(f"{CONFIG_FILE} in {where} is not valid JSON: {cut(str(exc))}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{CONFIG_FILE} in {where} is not a {FORMAT_NAME} model config "
            f"(format={show(config.get('format') if isinstance(config, dict) else None)})."
        )
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{CONFIG_FILE} has an invalid format_version: {show(version)}.")
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


# ------------------------------------------------------------------ fields
def _int(value, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be an int, got {show(value)}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{field} must be {bound}, got {value}")
    return value


UNSAVED_SCHEDULE = "unsaved"


def saved_lr_schedule(estimator, saved: Saved, has_validation: bool) -> str | None:
    """The schedule a saved fit trained with: the saved one, else what "auto" gave then.

    Saves before the schedule was saved gave the dense front end ("none") and
    the plain stack ("conv") no schedule with "auto"; since then "auto" gives
    every fit without a validation split the recipe's.
    """
    from .._params import is_auto, resolve_lr_schedule

    if saved.lr_schedule != UNSAVED_SCHEDULE:
        return saved.lr_schedule
    if is_auto(estimator.lr_schedule) and saved.front_end != "multiscale":
        return None
    return resolve_lr_schedule(estimator.lr_schedule, has_validation)


def _optional_bool(value, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{field} must be true, false or null, got {show(value)}")


def _optional_real(
    value, field: str, *, low_open: bool = False, high: float | None = None
) -> float | None:
    """A saved number: None (not saved), or one from 0 (excluded with ``low_open``) to below
    ``high`` (finite when ``high`` is None)."""
    if value is None:
        return None
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    upper = float("inf") if high is None else high
    if not number or not ((0 < value) if low_open else (0 <= value)) or not value < upper:
        wanted = (
            "a finite number >= 0"
            if high is None
            else f"a number in {'(' if low_open else '['}0, {high})"
        )
        raise ValueError(f"{field} must be null or {wanted}, got {show(value)}")
    return float(value)


def _saved_standardize(value) -> bool | str | None:
    """The input scaling a fit used: true, false, "per_series", or null (not saved)."""
    if value is None or isinstance(value, bool) or value == "per_series":
        return value
    raise ValueError(f"standardize must be true, false, 'per_series' or null, got {show(value)}")


def _sha256_field(config: dict, field: str) -> str:
    value = config[field]
    if not (isinstance(value, str) and len(value) == 64 and set(value) <= set("0123456789abcdef")):
        raise ValueError(f"{field} must be 64 hexadecimal digits, got {show(value)}")
    return value


def _decode_config(config: dict, version: int) -> Saved:
    from .._params import LR_SCHEDULES

    # Format 1 had no digests, and its first releases no fine labels, downsample nor batch_size.
    required = ["params", "classes", "n_features_in", "class_weight", "weights_sha256"]
    if version >= 2:
        required += ["fine_classes", "fine_to_coarse", "downsample", "batch_size", "n_classes"]
        required += ["n_iter", "history_sha256"]
    missing = [name for name in required if name not in config]
    if missing:
        raise ValueError(f"the field(s) {missing} are missing")
    if not isinstance(config["params"], dict):
        raise ValueError(f"params must be a JSON object, got {show(config['params'])}")
    classes = decode_classes(config["classes"])
    n_classes = _int(config.get("n_classes", len(classes)), "n_classes", 2)
    if n_classes != len(classes):
        raise ValueError(f"n_classes is {n_classes}, but classes holds {len(classes)} labels")
    if "fine_classes" in config:
        fine_classes = decode_classes(config["fine_classes"], "fine_classes")
        fine_to_coarse = config.get("fine_to_coarse")
        if not isinstance(fine_to_coarse, list) or len(fine_to_coarse) != len(fine_classes):
            raise ValueError(
                f"fine_to_coarse must be a list of {len(fine_classes)} class indices, "
                f"got {show(fine_to_coarse)}"
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
            f"class_weight must be a list of {n_classes} weights, got {show(class_weight)}"
        )
    try:
        class_weight = np.array([decode_float(w) for w in class_weight])
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
        MAX_N_LAYERS,
    )
    # Format 3 added the multi-scale front end; earlier saves had plain convolutions or none.
    front_end = config.get("front_end", "conv" if n_conv_layers else "none")
    if front_end not in ("multiscale", "conv", "none"):
        raise ValueError(f"front_end must be 'multiscale', 'conv' or 'none', got {show(front_end)}")
    fixed_filters = config.get("fixed_filters", False)
    restore = config.get("restore_best_weights")
    for name, value in (("fixed_filters", fixed_filters), ("restore_best_weights", restore)):
        if not isinstance(value, bool) and not (name == "restore_best_weights" and value is None):
            raise ValueError(f"{name} must be true or false, got {show(value)}")
    # Saves before the schedule was saved carry UNSAVED_SCHEDULE (see saved_lr_schedule).
    schedule = config.get("lr_schedule", UNSAVED_SCHEDULE)
    # The schedules a fit can resolve to: every one the parameter takes but "auto".
    resolved = [s for s in LR_SCHEDULES if s != "auto"]
    if schedule not in (*resolved, UNSAVED_SCHEDULE):
        names = ", ".join("null" if s is None else repr(s) for s in resolved)
        raise ValueError(f"lr_schedule must be one of {names}, got {show(schedule)}")
    best = config.get("best_epoch")
    return Saved(
        version=version,
        params=config["params"],
        classes=classes,
        fine_classes=fine_classes,
        fine_to_coarse=fine_to_coarse,
        downsample=_int(config.get("downsample", 1), "downsample", 1, MAX_DIM),
        n_conv_layers=n_conv_layers,
        front_end=front_end,
        fixed_filters=fixed_filters,
        conv_skip=_optional_bool(config.get("conv_skip"), "conv_skip"),
        restore_best_weights=restore,
        lr_schedule=schedule,
        best_epoch=None if best is None else _int(best, "best_epoch", 1),
        init_scores=decode_scores(config.get("init_scores")),
        member_diagnoses=decode_member_diagnoses(config.get("member_diagnoses")),
        autocast=_optional_bool(config.get("autocast"), "autocast"),
        n_init_trained=(
            None
            if config.get("n_init_trained") is None
            else _int(config["n_init_trained"], "n_init_trained", 1)
        ),
        # Before n_estimators took "auto", the parameter itself was the number of networks.
        n_estimators=(
            None
            if config.get("n_estimators") is None
            else _int(config["n_estimators"], "n_estimators", 1, MAX_N_NETWORKS)
        ),
        batch_size=_int(config.get("batch_size", 64), "batch_size", 1),
        # Before n_iter_no_change took "auto", the parameter itself was the patience.
        n_iter_no_change=(
            None
            if config.get("n_iter_no_change") is None
            else _int(config["n_iter_no_change"], "n_iter_no_change", 1)
        ),
        tol=_optional_real(config.get("tol"), "tol"),
        input_dropout=_optional_real(config.get("input_dropout"), "input_dropout", high=1),
        standardize=_saved_standardize(config.get("standardize")),
        threshold=_optional_real(config.get("threshold"), "threshold", low_open=True, high=1),
        n_features=_int(config["n_features_in"], "n_features_in", 1, MAX_DIM),
        class_weight=class_weight,
        n_iter=None if n_iter is None else _int(n_iter, "n_iter", 0),
        diagnosis=decode_diagnosis(config.get("fit_diagnosis")),
        weights_sha256=_sha256_field(config, "weights_sha256"),
        history_sha256=_sha256_field(config, "history_sha256") if version >= 2 else None,
    )


# --------------------------------------------------------------- estimator
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


def new_estimator(cls: type, saved: Saved, where: str, *, loading: bool):
    """``cls`` with the saved hyper-parameters (checked) and the saved fitted state, no net.

    Parameters
    ----------
    cls : type
        The estimator class.
    saved : Saved
        The checked config.
    where : str
        The folder, as error messages name it.
    loading : bool
        Whether the estimator is for use: an unavailable saved device is then
        replaced by CPU (with a warning). ``save`` passes False.

    Raises
    ------
    ValueError
        If a hyper-parameter is malformed or the settings are inconsistent.
    """
    from .._params import (
        check_params,
        explicit_standardize,
        is_auto,
        resolve_input_dropout,
        resolve_tol,
    )
    from .._validation import check_mask_value

    known = sorted(cls().get_params(deep=False))
    params: dict[str, object] = {}
    for name, value in saved.params.items():
        if name not in known:
            warnings.warn(
                f"Ignoring the unknown hyper-parameter {name!r} in {CONFIG_FILE}.",
                UserWarning,
                stacklevel=4,
            )
        elif name == "optimizer":
            params[name] = decode_optimizer(value)
        else:
            try:
                params[name] = decode_param(name, value)
            except ValueError as exc:
                raise ValueError(f"{CONFIG_FILE} in {where} is invalid: {exc}.") from None
    # Saved before conv_skip existed: those networks had no skip.
    params.setdefault("conv_skip", False)
    # Saved before n_estimators existed: one network.
    params.setdefault("n_estimators", 1)
    # Saved while the default was True: loading read a missing one as True.
    params.setdefault("standardize", True)
    if saved.conv_skip is None and is_auto(params["conv_skip"]):
        raise ValueError(f"{CONFIG_FILE} in {where} is invalid: conv_skip is 'auto' unresolved.")
    if saved.standardize is None and is_auto(params.get("standardize")):
        raise ValueError(f"{CONFIG_FILE} in {where} is invalid: standardize is 'auto' unresolved.")
    if not isinstance(params.get("device", "cpu"), str):
        raise ValueError(
            f"{CONFIG_FILE} in {where} is invalid: params.device must be a str, "
            f"got {show(params['device'])}."
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
    estimator.lr_schedule_ = saved_lr_schedule(estimator, saved, False)
    # Saves before the rate was saved were trained when "auto" did not depend on the
    # width of the steps: the narrow rule (one feature) gives what they trained with.
    estimator.input_dropout_ = (
        resolve_input_dropout(
            estimator.input_dropout, saved.front_end != "none", estimator.conv_batch_norm, 1
        )
        if saved.input_dropout is None
        else saved.input_dropout
    )
    # Before standardize took "auto", the parameter itself was the scaling ("auto" without a
    # saved value was refused above).
    estimator.standardize_ = explicit_standardize(
        estimator.standardize if saved.standardize is None else saved.standardize
    )
    estimator.batch_size_ = saved.batch_size
    if saved.n_estimators is None and is_auto(estimator.n_estimators):
        raise ValueError(f"{CONFIG_FILE} in {where} is invalid: n_estimators is 'auto' unresolved.")
    estimator.n_estimators_ = (
        int(estimator.n_estimators) if saved.n_estimators is None else saved.n_estimators
    )
    if saved.n_iter_no_change is None and is_auto(estimator.n_iter_no_change):
        raise ValueError(
            f"{CONFIG_FILE} in {where} is invalid: n_iter_no_change is 'auto' unresolved."
        )
    estimator.n_iter_no_change_ = (
        int(estimator.n_iter_no_change)
        if saved.n_iter_no_change is None
        else saved.n_iter_no_change
    )
    # Saves before tol existed stopped with no absolute tolerance: "auto" resolves as for
    # a small fit (none).
    estimator.tol_ = resolve_tol(estimator.tol, 0) if saved.tol is None else saved.tol
    estimator.threshold_ = saved.threshold
    return estimator
