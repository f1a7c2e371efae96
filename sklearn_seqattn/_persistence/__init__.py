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
the digests say. ``save`` runs the same checks on the config it writes and
on the tensors it serialises, so it never writes a folder that ``load``
refuses. Other files in the folder are ignored.

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

The package, one job a module:

``_constants``
    format name and version, file names, size limits;
``_encoding``
    values as strict JSON and back (floats, labels, hyper-parameters, history);
``_files``
    reading regular files within a limit, and publishing a folder atomically;
``_schema``
    the config: its checks, its format versions, the estimator it describes;
``_tensors``
    the weights file: its safetensors header checked against the network;
``_save``, ``_load``
    :func:`save_estimator`, :func:`load_estimator` and :func:`read_config`.
"""

from ._constants import FORMAT_VERSION
from ._files import check_target as _check_target  # noqa: F401 (cli.py's check of --out)
from ._load import load_estimator, read_config
from ._save import save_estimator

__all__ = ["FORMAT_VERSION", "load_estimator", "read_config", "save_estimator"]
