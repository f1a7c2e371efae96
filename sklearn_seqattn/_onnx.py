"""Export of a fitted :class:`SeqAttentionClassifier` to ONNX.

The exported graph takes the package's internal layout, not raw user data:

* ``x``: float32 ``(batch, time, n_features)``, **post-padded**: the real
  steps of sample ``i`` are ``x[i, :lengths[i]]``. Whatever the later steps
  hold (zeros, NaN, anything) is ignored: the graph zeroes them first.
* ``lengths``: int64 ``(batch,)``, the number of real steps of each sample.
  Values are clipped to ``[1, time]`` inside the graph.

and returns ``probabilities``: float32 ``(batch, n_classes)`` in the order of
``classes_``. Batch and time are dynamic axes. Data padded any other way
(pre-padding, interior mask steps, ragged lists) is brought into this layout
by :func:`sklearn_seqattn._validation.check_sequences`, as the estimator does;
:func:`onnx_inputs` does exactly that. The class labels, ``n_features_in_``,
``mask_value`` and the decision threshold are stored in the model's metadata.

The graph gives probabilities, not labels. To reproduce ``predict``, read the
metadata entry ``decision_threshold``: ``"none"`` means the label is the
class of highest probability, ``classes[proba.argmax(axis=1)]``; a number
``t`` (binary problems fitted with ``decision_threshold``) means
``classes[1]`` where ``proba[:, 1] >= t`` and ``classes[0]`` elsewhere.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._inference import merge_fine_proba
from ._validation import check_sequences

__all__ = ["onnx_inputs", "to_onnx"]

INPUT_NAMES = ("x", "lengths")
OUTPUT_NAME = "probabilities"


class _ProbabilityGraph(nn.Module):
    """The fitted module plus the softmax, with padded steps zeroed.

    Fine-label outputs are summed into their classes (``fine_to_coarse``),
    as for every prediction of the estimator.
    """

    def __init__(self, module: nn.Module, fine_to_coarse, n_classes: int):
        super().__init__()
        self.module = module
        self.fine_to_coarse = fine_to_coarse
        self.n_classes = n_classes

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = lengths.clamp(1, x.shape[1])
        real = torch.arange(x.shape[1])[None, :] < lengths[:, None]  # (batch, time)
        # Zero the padding: NaN there would leak through zero attention weights (0 * NaN).
        x = torch.where(real[:, :, None], x, torch.zeros_like(x))
        proba = torch.softmax(self.module(x, lengths).float(), dim=1)  # (batch, n_outputs)
        return merge_fine_proba(proba, self.fine_to_coarse, self.n_classes)  # (batch, n_classes)


def _require_onnx() -> None:
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            raise ImportError(
                f"to_onnx needs the '{name}' package; install the extra: "
                "pip install 'sklearn-seqattn[onnx]'."
            ) from None


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's own warnings and log lines, which users cannot act on."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def _metadata(estimator) -> dict[str, str]:
    classes = estimator.classes_
    # predict applies the threshold to the probabilities; without it labels would differ.
    threshold = getattr(estimator, "threshold_", None)
    return {
        "producer": "sklearn-seqattn",
        "classes": json.dumps(classes.tolist()),
        "classes_dtype": classes.dtype.str,
        "n_features_in": str(int(estimator.n_features_in_)),
        "mask_value": repr(float(estimator.mask_value)),
        "decision_threshold": "none" if threshold is None else repr(float(threshold)),
        "inputs": "x: float32 (batch, time, features), post-padded; lengths: int64 (batch,)",
    }


def to_onnx(estimator, path: str | os.PathLike, *, opset_version: int | None = None) -> Path:
    """Write a fitted estimator's probability graph to an ONNX file.

    Parameters
    ----------
    estimator : SeqAttentionClassifier
        A fitted classifier.
    path : str or os.PathLike
        Destination file (parent folders are created).
    opset_version : int or None, default=None
        ONNX opset; None lets torch choose.

    Returns
    -------
    pathlib.Path
        The written file.

    Notes
    -----
    The graph outputs ``probabilities`` only. The model's metadata holds
    ``classes`` (JSON) and ``decision_threshold``, which together give the
    labels of ``predict``::

        meta = {p.key: p.value for p in onnx.load(path).metadata_props}
        classes = np.array(json.loads(meta["classes"]))
        if meta["decision_threshold"] == "none":
            labels = classes[proba.argmax(axis=1)]
        else:  # binary: classes[1] from the threshold up
            labels = classes[(proba[:, 1] >= float(meta["decision_threshold"])).astype(int)]
    """
    check_is_fitted(estimator, "net_")
    _require_onnx()
    path = Path(os.fspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    # A copy on the CPU: the fitted module is neither moved nor switched, so other
    # threads can predict with it meanwhile.
    module = copy.deepcopy(estimator.net_.module_).cpu().eval()
    graph = _ProbabilityGraph(module, estimator.fine_to_coarse_, len(estimator.classes_))
    # Example batch of distinct lengths above 1, so no axis is specialised to 0 or 1.
    x = torch.zeros(3, 5, int(estimator.n_features_in_))
    lengths = torch.tensor([5, 2, 4], dtype=torch.int64)
    batch, time = torch.export.Dim("batch"), torch.export.Dim("time")
    with _quiet_exporter(), _lstm_loop_decomposition():
        program = torch.onnx.export(
            graph,
            (x, lengths),
            dynamo=True,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_shapes={"x": {0: batch, 1: time}, "lengths": {0: batch}},
            opset_version=opset_version,
            external_data=False,
            verbose=False,
        )
    if program is None:  # only dynamo=False returns None
        raise RuntimeError("torch.onnx.export returned no program.")
    if not _time_axis_is_dynamic(program.model):
        raise RuntimeError(
            f"torch {torch.__version__} exports the LSTM with a fixed number of time steps, "
            "so the ONNX model would accept one sequence length only; to_onnx needs a torch "
            "release whose exporter keeps it dynamic. Upgrade torch."
        )
    program.model.metadata_props.update(_metadata(estimator))
    program.save(path, external_data=False)
    return path


def _lstm_loop_decomposition():
    """torch's while-loop LSTM decomposition, which keeps the time axis dynamic in export.

    The exporter's default decomposition unrolls the LSTM over the example's
    steps, fixing the time axis. ``torch.onnx.export(dynamic_shapes=...)``
    applies the loop decomposition while capturing the graph but not while
    it decomposes it to ONNX, so it is kept active over the whole export.
    Its only home is the private ``torch.export._patches`` (torch >= 2.9): this
    is the one place that imports it, ``test_onnx.py`` fails when torch
    moves it, and a torch without it gets a clear error.
    """
    try:
        from torch.export._patches import register_lstm_while_loop_decomposition
    except ImportError:
        raise ImportError(
            f"to_onnx needs a torch release that can export an LSTM over a dynamic number "
            f"of steps; torch {torch.__version__} lacks "
            "torch.export._patches.register_lstm_while_loop_decomposition. Upgrade torch."
        ) from None
    return register_lstm_while_loop_decomposition()


def _time_axis_is_dynamic(model) -> bool:
    """Whether the exported graph's ``x`` input keeps its time axis free (not a fixed size)."""
    x = next(value for value in model.graph.inputs if value.name == INPUT_NAMES[0])
    return not isinstance(x.shape[1], int)


def onnx_inputs(estimator, X) -> dict[str, np.ndarray]:
    """Validate ``X`` as the estimator does and return the exported graph's inputs.

    Parameters
    ----------
    estimator : SeqAttentionClassifier
        The fitted classifier that was exported (for ``mask_value`` and
        ``n_features_in_``).
    X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
        Sequences, as for ``predict_proba``.

    Returns
    -------
    dict
        ``{"x": float32 (n, max_length, n_features), "lengths": int64 (n,)}``,
        ready for ``onnxruntime.InferenceSession.run(None, inputs)``.
    """
    check_is_fitted(estimator, "net_")
    seqs = check_sequences(X, mask_value=estimator.mask_value, estimator=estimator, reset=False)
    return {
        "x": np.ascontiguousarray(seqs.data, dtype=np.float32),
        "lengths": seqs.lengths.astype(np.int64),
    }
