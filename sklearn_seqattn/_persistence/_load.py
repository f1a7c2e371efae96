"""Loading a saved estimator: every file checked before the network is built."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from ._constants import CONFIG_FILE, HISTORY_FILE, MAX_CONFIG_BYTES, MAX_HISTORY_BYTES, WEIGHTS_FILE
from ._encoding import cut, from_json, refuse_constant
from ._files import read_file
from ._schema import Saved, new_estimator, parse_config, saved_lr_schedule
from ._tensors import decode_weights, expected_tensors, read_weights


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
    data = read_file(config_path, MAX_CONFIG_BYTES, repr(str(folder)))
    parse_config(data, repr(str(folder)))
    return json.loads(data.decode("utf-8"))


def _read_history(folder: Path, saved: Saved, where: str) -> list:
    """The saved history: checked against its digest, or informative only (format 1)."""
    path = folder / HISTORY_FILE
    try:
        data = read_file(path, MAX_HISTORY_BYTES, where)
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
        records = from_json(json.loads(data.decode("utf-8"), parse_constant=refuse_constant))
        if not (isinstance(records, list) and all(isinstance(r, dict) for r in records)):
            raise ValueError("expected a list of records")
    except (ValueError, RecursionError) as exc:
        if saved.history_sha256 is not None:
            raise ValueError(f"{HISTORY_FILE} in {where} is invalid: {cut(str(exc))}.") from None
        warnings.warn(
            f"{HISTORY_FILE} in {where} is unreadable; history_ is empty.",
            UserWarning,
            stacklevel=4,
        )
        records = []
    return records


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
    from skorch.history import History

    from .._batching import SequenceDataset
    from .._params import resolve_autocast, resolve_device
    from .._random import isolated_torch_rng
    from .._stopping import best_epoch, best_epoch_key
    from .._training import new_net

    folder = Path(os.fspath(path))
    where = repr(str(folder))
    if folder.is_file():
        raise ValueError(
            f"path must be the folder written by save(), got the file {where}; pass the "
            f"folder that holds it: {str(folder.parent)!r}."
        )
    try:
        config_bytes = read_file(folder / CONFIG_FILE, MAX_CONFIG_BYTES, where)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{where} is not a saved SeqAttentionClassifier: it has no {CONFIG_FILE}."
        ) from None
    saved = parse_config(config_bytes, where)
    estimator = new_estimator(cls, saved, where, loading=True)
    expected = expected_tensors(estimator, saved.n_features, where)
    raw = read_weights(folder / WEIGHTS_FILE, expected, where)
    if hashlib.sha256(raw).hexdigest() != saved.weights_sha256:
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} does not match its {CONFIG_FILE} (SHA-256 "
            "differs): the file is corrupt or was replaced."
        )
    state = decode_weights(raw, expected, where)
    del raw
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
    estimator.lr_schedule_ = saved_lr_schedule(estimator, saved, has_validation)
    # Before format 3, weights were restored with a validation split only.
    estimator.restore_best_weights_ = (
        has_validation if saved.restore_best_weights is None else saved.restore_best_weights
    )
    # Initialisation draws random weights: keep that away from the caller's RNG.
    with isolated_torch_rng(0, device) as generator:
        net = new_net(
            estimator, n_features, device, generator, placeholder, estimator.n_estimators_
        )
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
