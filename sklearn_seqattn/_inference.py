"""The one way the module is run on batches: training's validation, predictions, attention.

:func:`run_batch` is what the skorch net's ``infer`` calls (training and the
validation scoring) and what :func:`forward_sequences` calls for every
prediction method of the estimator (and the ONNX export's check), so the
device placement, autocast and flags are decided in one place.
"""

from __future__ import annotations

import numpy as np
import torch

from ._batching import SequenceDataset, batch_loader
from ._random import deterministic_algorithms
from ._validation import Sequences

__all__ = [
    "autocast_context",
    "forward_sequences",
    "merge_fine_logits",
    "merge_fine_proba",
    "run_batch",
]


def merge_fine_proba(proba, fine_to_coarse, n_classes: int):
    """Probabilities of the fine labels ``(n, n_fine)`` summed into their classes.

    ``fine_to_coarse[j]`` is the class of fine label ``j``; works on numpy
    arrays and torch tensors alike (the ONNX graph uses the tensor form).
    When the outputs are the classes, ``proba`` is returned as it is.
    """
    if len(fine_to_coarse) == n_classes:
        return proba
    if isinstance(proba, torch.Tensor):
        groups = torch.as_tensor(fine_to_coarse, device=proba.device)
        members = torch.nn.functional.one_hot(groups.long(), n_classes).to(proba.dtype)
        return proba @ members
    out = np.zeros((len(proba), n_classes), dtype=proba.dtype)
    np.add.at(out.T, np.asarray(fine_to_coarse), proba.T)
    return out


def merge_fine_logits(logits, fine_to_coarse, n_classes: int):
    """Logits of the classes from those of their fine labels: a log-sum-exp per class."""
    if len(fine_to_coarse) == n_classes:
        return logits
    logits = torch.as_tensor(logits)
    groups = torch.as_tensor(fine_to_coarse)
    return torch.stack([logits[:, groups == k].logsumexp(dim=1) for k in range(n_classes)], dim=1)


def autocast_context(device, enabled: bool):
    """bfloat16 autocast on the device's type (CPU or CUDA) when ``enabled``."""
    device_type = torch.device(device).type if device is not None else "cpu"
    return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=enabled)


def run_batch(module, X: dict, device, autocast: bool, **flags):
    """Run ``module`` on one batch ``X`` (``x`` and ``lengths``, as the loader gives them).

    ``x`` goes to ``device`` (None: where it is); ``lengths`` stay where they
    are, so lengths on the CPU cost the module no device synchronisation.
    Returns the module's output, logits in float32 (autocast yields bfloat16,
    which numpy cannot hold).
    """
    x = X["x"] if device is None else X["x"].to(device, non_blocking=True)
    with autocast_context(device if device is not None else x.device, autocast):
        out = module(x, X["lengths"], **flags)
    if isinstance(out, tuple):
        return (out[0].float(), *out[1:])
    return out.float()


def forward_sequences(
    module,
    seqs: Sequences,
    batch_size: int,
    *,
    autocast: bool = False,
    deterministic: bool = False,
    return_attention: bool = False,
    pooled: bool = False,
    index=None,
):
    """Run ``module`` in eval mode over ``seqs`` in length-sorted batches.

    Returns logits ``(n, n_outputs)`` and, with ``return_attention``, the
    pooling weights ``(n, max_length)`` and one ``(n, max_length, max_length)``
    array per self-attention block, all in the order of ``seqs``. With
    ``pooled``, the pooled representations ``(n, width)`` instead of logits.
    With ``index``, only the samples ``seqs[index]``, in that order (their
    rows are read in place: no copy of the subset).
    """
    device = next(module.parameters()).device
    width = seqs.data.shape[1]
    rows = np.arange(len(seqs)) if index is None else np.asarray(index)
    n = len(rows)
    # Sorting by length lets each batch stop at its own longest sequence; equal
    # lengths keep their order, so batches of a fixed-length set are slices.
    order = np.argsort(seqs.lengths[rows], kind="stable")  # output positions, batch by batch
    dataset = SequenceDataset(seqs.data, seqs.lengths, rows=rows[order])
    n_out = module.pooled_size if pooled else module.n_outputs
    logits = np.empty((n, n_out), dtype=np.float32)
    pool_w = np.zeros((n, width) if return_attention else (0, 0), dtype=np.float32)
    # Self-attention maps are (n, T, T): allocated only when asked for.
    n_maps = module.n_attention_maps if return_attention else 0
    maps = [np.zeros((n, width, width), np.float32) for _ in range(n_maps)]
    flags = {"return_attention": return_attention, "return_pooled": pooled}
    # A fitted module is always in evaluation mode and is then never switched: one
    # model can serve several threads. Only a module still training (a callback's
    # look during fit) is switched for the pass, in its own thread.
    was_training = module.training
    if was_training:
        module.eval()
    start = 0
    try:
        with torch.inference_mode(), deterministic_algorithms(deterministic, str(device)):
            loader = batch_loader(dataset, batch_size, device=device)
            for X, _ in loader:
                index = order[start : start + len(X["lengths"])]
                start += len(index)
                out = run_batch(module, X, device, autocast, **flags)
                if not return_attention:
                    logits[index] = out.cpu().numpy()
                    continue
                t = X["x"].shape[1]
                logits[index] = out[0].cpu().numpy()
                pool_w[index, :t] = out[1].float().cpu().numpy()
                for full, layer_map in zip(maps, out[2], strict=True):
                    full[index, :t, :t] = layer_map.float().cpu().numpy()
    finally:
        if was_training:
            module.train()
    if return_attention:
        return logits, pool_w, maps
    return logits
