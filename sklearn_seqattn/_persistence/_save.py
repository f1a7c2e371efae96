"""Saving a fitted estimator: the three files, checked as load() would, then published."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
from sklearn.utils.validation import check_is_fitted

from ._constants import CONFIG_FILE, FORMAT_NAME, FORMAT_VERSION, HISTORY_FILE, WEIGHTS_FILE
from ._encoding import (
    encode_classes,
    encode_diagnosis,
    encode_float,
    encode_history,
    encode_optimizer,
    encode_param,
    encode_scores,
    show,
)
from ._files import check_target, publish
from ._schema import config_digest, new_estimator, parse_config
from ._tensors import check_finite, check_tensors, expected_tensors, tensor_specs

# Live objects, documented as not saved.
_NOT_SAVED = ("callbacks", "accelerator")


def _encode_params(estimator) -> dict:
    """The hyper-parameters JSON can hold; a warning names those it cannot."""
    params, skipped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        if name in _NOT_SAVED:
            continue
        if name == "optimizer":
            params[name] = encode_optimizer(value)
            continue
        try:
            params[name] = encode_param(name, value)
        except TypeError:
            skipped.append(name)
    if skipped:
        warnings.warn(
            f"Hyper-parameter(s) {skipped} cannot be stored as JSON and are not saved; "
            "the loaded model has their default values.",
            UserWarning,
            stacklevel=4,
        )
    return params


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
    from .. import __version__

    check_is_fitted(estimator, "net_")
    folder = Path(os.fspath(path))
    if os.path.basename(os.path.normpath(folder)) in ("", ".", ".."):
        raise ValueError(f"path must name a folder, got {str(folder)!r}.")
    check_target(folder)

    params = _encode_params(estimator)
    module = estimator.net_.module_
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    weights = safetensors.torch.save(state)
    try:
        classes = encode_classes(estimator.classes_)
        fine_classes = encode_classes(estimator.fine_classes_)
    except TypeError as exc:
        raise ValueError(
            f"classes_ must hold bools, numbers or strings to be saved, got {exc}."
        ) from None
    history = encode_history(estimator.history_)
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
        "lr_schedule": estimator.lr_schedule_,
        "autocast": bool(estimator.autocast_),
        "n_init_trained": int(estimator.n_init_),
        "n_estimators": int(estimator.n_estimators_),
        "best_epoch": estimator.best_epoch_,
        "init_scores": encode_scores(getattr(estimator, "init_scores_", None)),
        "member_diagnoses": [
            encode_diagnosis(d) for d in getattr(estimator, "member_diagnoses_", [])
        ],
        "batch_size": int(estimator.batch_size_),
        "n_iter_no_change": int(estimator.n_iter_no_change_),
        "tol": float(estimator.tol_),
        "input_dropout": float(estimator.input_dropout_),
        "standardize": estimator.standardize_,
        "threshold": getattr(estimator, "threshold_", None),
        "n_features_in": int(estimator.n_features_in_),
        "n_classes": len(estimator.classes_),
        "class_weight": [encode_float(w) for w in estimator.class_weight_],
        "n_iter": int(getattr(estimator, "n_iter_", 0)),
        "fit_diagnosis": encode_diagnosis(getattr(estimator, "fit_diagnosis_", None)),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "history_sha256": hashlib.sha256(history).hexdigest(),
    }
    config["config_sha256"] = config_digest(config)
    config_bytes = json.dumps(config, indent=2, allow_nan=False).encode()

    where = repr(str(folder))
    try:
        # load()'s own checks, on the very config to be written and on the tensors the
        # weights file serialises: save() never writes a folder that load() refuses.
        saved = parse_config(config_bytes, where)
        expected = expected_tensors(
            new_estimator(type(estimator), saved, where, loading=False), saved.n_features, where
        )
        check_tensors(tensor_specs(state), expected, where)
        check_finite(state, where)
        for field, labels in (("classes_", saved.classes), ("fine_classes_", saved.fine_classes)):
            original = getattr(estimator, field)
            if labels.dtype != original.dtype or not np.array_equal(labels, original):
                raise ValueError(f"{field} would not load back unchanged: {show(original)}")
    except ValueError as exc:
        raise ValueError(f"save() does not write a model that load() would refuse: {exc}") from None
    publish(folder, {WEIGHTS_FILE: weights, HISTORY_FILE: history, CONFIG_FILE: config_bytes})
    return folder
