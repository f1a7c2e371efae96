"""The weights file: the tensors a config implies, checked from the header before any is read.

safetensors parses and validates the header (names, dtypes, shapes, and
offsets that cover the file exactly); here the result is compared with the
network the config describes before a byte of tensor data is read, so a
hostile file is refused without allocating what its header declares.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import NamedTuple

import safetensors
import safetensors.torch
import torch

from ._constants import CONFIG_FILE, MAX_HEADER_BYTES, WEIGHTS_FILE
from ._encoding import cut, show
from ._files import open_regular


class TensorSpec(NamedTuple):
    """What the weights file must hold under one name."""

    dtype: str  # safetensors' code, as its header writes it: "F32", "I64"...
    shape: list[int]
    nbytes: int


@functools.cache
def dtype_code(dtype: torch.dtype) -> str:
    """The code safetensors writes in a header for the torch ``dtype`` (``"F32"``...).

    Asked of safetensors itself, from the header of an empty tensor, so that
    no table of ours can drift from the library's.
    """
    empty = safetensors.torch.save({"x": torch.empty(0, dtype=dtype)})
    ((_, info),) = safetensors.deserialize(empty)
    return info["dtype"]


def tensor_specs(state: dict[str, torch.Tensor]) -> dict[str, tuple[str, list[int]]]:
    """``name -> (safetensors dtype code, shape)`` of the tensors in ``state``."""
    return {name: (dtype_code(t.dtype), list(t.shape)) for name, t in state.items()}


def expected_tensors(estimator, n_features: int, where: str) -> dict[str, TensorSpec]:
    """The tensors of the network the config describes, by name.

    Its sizes are checked first; it is then built on torch's "meta" device,
    which records shapes and allocates nothing.

    Raises
    ------
    ValueError
        If the settings describe no network, or one too large.
    """
    from .._training import network_on_meta

    try:
        # The same factory that load() builds the real network with, on torch's meta device.
        state = network_on_meta(estimator, n_features, estimator.n_estimators_)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"{CONFIG_FILE} in {where} describes no valid network: {exc}") from None
    return {
        name: TensorSpec(dtype_code(t.dtype), list(t.shape), t.numel() * t.element_size())
        for name, t in state.items()
    }


def check_tensors(
    found: dict[str, tuple[str, list[int]]], expected: dict[str, TensorSpec], where: str
) -> int:
    """Compare the tensors ``found`` (names, dtypes, shapes) with ``expected``.

    Returns
    -------
    int
        The bytes of the expected tensors' data.

    Raises
    ------
    ValueError
        Naming the missing or unexpected tensors, or the first one that differs.
    """
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or extra:
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} does not hold the tensors its {CONFIG_FILE} describes: "
            f"missing {show(missing)}, unexpected {show(extra)}."
        )
    for name, spec in expected.items():
        if found[name] != (spec.dtype, spec.shape):
            raise ValueError(
                f"{WEIGHTS_FILE} in {where} holds {name!r} as {show(found[name])}, but its "
                f"{CONFIG_FILE} (n_features_in, labels, hyper-parameters) implies "
                f"{(spec.dtype, spec.shape)!r}."
            )
    return sum(spec.nbytes for spec in expected.values())


def check_finite(state: dict[str, torch.Tensor], where: str) -> None:
    """Refuse NaN or infinite values in the floating-point tensors of ``state``."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{WEIGHTS_FILE} in {where}: {name!r} holds NaN or infinite values.")


# ----------------------------------------------------------------- reading
def _header_length(prefix: bytes, size: int, where: str) -> int:
    """The header length that the file's first 8 bytes give, if the file and our limit allow it.

    Checked before safetensors reads the header: it accepts headers of up to
    100 MB, where a saved model's is at most ``MAX_HEADER_BYTES``.
    """
    length = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
    if not 0 < length <= min(MAX_HEADER_BYTES, size - 8):
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} is not a safetensors file: its header length "
            f"{length} does not fit a {size:,}-byte file (at most {MAX_HEADER_BYTES:,})."
        )
    return length


def _read_header(path: Path, size: int, where: str) -> dict[str, tuple[str, list[int]]]:
    """``name -> (dtype code, shape)`` from the header, by safetensors; no tensor is read."""
    try:
        with safetensors.safe_open(path, framework="pt") as f:
            slices = {name: f.get_slice(name) for name in f.keys()}
            return {name: (s.get_dtype(), s.get_shape()) for name, s in slices.items()}
    except safetensors.SafetensorError as exc:
        reason = cut(str(exc).removeprefix("Error while deserializing header: "))
        raise ValueError(
            f"{WEIGHTS_FILE} in {where} is {size:,} bytes, but its header is malformed or "
            f"describes another size ({reason}): the file is corrupt or was replaced."
        ) from None


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    """What tells one file, and one version of it, from another."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def read_weights(path: Path, expected: dict[str, TensorSpec], where: str) -> bytes:
    """The bytes of the weights file, read only once its header matches ``expected``.

    The bytes read are therefore at most those of the network the config
    describes, whatever the file's header declares.

    Raises
    ------
    FileNotFoundError
        If there is no weights file.
    ValueError
        If it is no regular file, or its header is malformed, too large, or
        does not describe the ``expected`` tensors.
    """
    try:
        f = open_regular(path, where)
    except FileNotFoundError:
        raise FileNotFoundError(f"{where} has no {WEIGHTS_FILE}.") from None
    with f:
        before = os.fstat(f.fileno())
        length = _header_length(f.read(8), before.st_size, where)
        found = _read_header(path, before.st_size, where)
        # safetensors opened the file by name: it must be the one open here.
        if _identity(before) != _identity(os.stat(path)):
            raise ValueError(f"{WEIGHTS_FILE} in {where} changed while it was read.")
        size = 8 + length + check_tensors(found, expected, where)
        # safetensors checks this too; here it is the bound on what is read.
        if before.st_size != size:
            raise ValueError(
                f"{WEIGHTS_FILE} in {where} is {before.st_size:,} bytes, but its header "
                f"describes {size:,}: the file is corrupt or was replaced."
            )
        f.seek(0)
        raw = f.read(size + 1)
    if len(raw) != size:
        raise ValueError(f"{WEIGHTS_FILE} in {where} changed while it was read.")
    return raw


def decode_weights(
    raw: bytes, expected: dict[str, TensorSpec], where: str
) -> dict[str, torch.Tensor]:
    """The tensors in ``raw`` (read by :func:`read_weights`), checked again and finite."""
    try:
        state = safetensors.torch.load(raw)
    except safetensors.SafetensorError as exc:
        raise ValueError(f"{WEIGHTS_FILE} in {where} cannot be read: {cut(str(exc))}") from None
    check_tensors(tensor_specs(state), expected, where)
    check_finite(state, where)
    return state
