"""The skorch net the estimator composes: per-sample weighted loss, fine labels, its factory.

Internal: users meet the net as ``SeqAttentionClassifier.net_``. Batches come
from :func:`~sklearn_seqattn._batching.batch_loader`, stopping rules from
:mod:`~sklearn_seqattn._stopping`, and the module is run through
:func:`~sklearn_seqattn._inference.run_batch`, as for every prediction.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from skorch.callbacks import EpochScoring, GradientNormClipping, LRScheduler, ProgressBar
from skorch.helper import predefined_split

from ._accelerate import AcceleratedSequenceNet
from ._batching import batch_loader
from ._module import FocalLoss, build_module
from ._params import optimizer_kwargs, resolve_autocast
from ._sequence_net import SequenceNet
from ._stopping import FiniteLossCheck, LossOrScoreStopping, LowestTrainLossRestore

__all__ = ["MODULE_PARAMS", "build_net", "set_input_standardization"]

# Estimator parameters passed on to SeqAttentionModule.
MODULE_PARAMS = (
    "recurrent_stride",
    "conv_channels",
    "kernel_size",
    "conv_batch_norm",
    "front_end_filters",
    "dense_units",
    "n_dense_layers",
    "lstm_units",
    "n_lstm_layers",
    "bidirectional",
    "n_attention_layers",
    "n_heads",
    "attention_ff_units",
    "pooling",
    "dropout",
    "input_noise",
    "input_differences",
)


def set_input_standardization(module, shift: np.ndarray, scale: np.ndarray) -> None:
    """Store standardisation statistics in the module's buffers (saved with the weights)."""
    # An accelerator may have wrapped the module in DistributedDataParallel.
    module = getattr(module, "module", module)
    with torch.no_grad():
        module.input_shift.copy_(torch.as_tensor(shift))
        module.input_scale.copy_(torch.as_tensor(scale))


def _criterion(est) -> dict:
    """The loss (per sample, weighted by the net) and its arguments."""
    args = {"criterion__reduction": "none", "criterion__label_smoothing": est.label_smoothing}
    if est.loss == "focal":
        return {"criterion": FocalLoss, "criterion__gamma": est.focal_gamma, **args}
    return {"criterion": torch.nn.CrossEntropyLoss, **args}


def build_net(
    est, n_features, device, generator, valid_ds, label_groups=None, n_members: int = 1
) -> SequenceNet:
    """Compose the skorch net for ``est``, a fitted-in-progress SeqAttentionClassifier.

    Module, loss, optimizer, batch loaders and callbacks (validation score,
    early stopping, gradient clipping, learning-rate schedule, the user's
    callbacks). The network has one output per entry of ``est.fine_classes_``;
    ``label_groups`` maps them to ``est.classes_`` (None: one output per
    class). ``valid_ds`` is the held-out :class:`SequenceDataset` (None
    without early stopping); ``generator`` drives the shuffling of batches.
    With ``n_members > 1`` the module is an ensemble of that many networks
    (joined after training; never trained as one).
    """
    n_outputs, n_classes = len(est.fine_classes_), len(est.classes_)
    has_valid = valid_ds is not None
    monitor = "valid_loss" if has_valid else "train_loss"
    callbacks = [("finite_loss", FiniteLossCheck())]
    if has_valid:
        callbacks.append(
            (
                "valid_score",
                EpochScoring(est.scoring, lower_is_better=False, name="valid_score"),
            )
        )
        stopping = LossOrScoreStopping(
            patience=est.n_iter_no_change_,
            restore=est.restore_best_weights_,
            min_delta=est.tol_,
        )
        callbacks.append(("early_stopping", stopping))
    elif est.restore_best_weights_:
        callbacks.append(("restore_best_weights", LowestTrainLossRestore()))
    if est.gradient_clip is not None:
        callbacks.append(("gradient_clip", GradientNormClipping(est.gradient_clip)))
    if est.lr_schedule_ == "plateau":
        policy = LRScheduler(
            policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
            monitor=monitor,
            factor=0.5,
            patience=max(1, est.n_iter_no_change_ // 2),
        )
        callbacks.append(("lr_schedule", policy))
    elif est.lr_schedule_ == "cosine":
        # last_epoch=-1: the schedule spans this fit's max_epochs, also when a warm
        # start carries the history of earlier fits (skorch would resume from it).
        policy = LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=est.max_epochs,
            last_epoch=-1,
        )
        callbacks.append(("lr_schedule", policy))
    for i, callback in enumerate(est.callbacks or []):
        callbacks.append(callback if isinstance(callback, tuple) else (f"user_{i}", callback))
    user_bar = any(
        isinstance(cb[1] if isinstance(cb, tuple) else cb, ProgressBar)
        for cb in est.callbacks or []
    )
    if est.verbose >= 1 and not user_bar:
        # skorch's tqdm bar over the batches of each epoch; the table of epochs
        # (losses, validation score) is printed after each one.
        callbacks.append(("progress_bar", ProgressBar()))
    # bfloat16 where the device computes in it natively, with autocast="auto".
    autocast = resolve_autocast(est.autocast, getattr(est.accelerator, "device", device))
    if est.accelerator is not None:
        if getattr(est.accelerator, "num_processes", 1) > 1 and not isinstance(
            est.random_state, numbers.Integral
        ):
            # Every process must draw the same validation split and batch order,
            # or the shards of the training data overlap.
            raise ValueError(
                "Training with an accelerator over "
                f"{est.accelerator.num_processes} processes needs an int random_state, "
                f"shared by all processes; got random_state={est.random_state!r}."
            )
        net_class, placement = AcceleratedSequenceNet, {"accelerator": est.accelerator}
        if not est.verbose:
            # skorch's PrintLog prints through any sink other than ``print`` whatever
            # ``verbose`` says; the accelerator's main-process print is kept for verbose > 0.
            placement["callbacks__print_log__sink"] = print
        device = None  # the accelerator places tensors
    else:
        net_class, placement = SequenceNet, {}
    return net_class(
        **placement,
        module=build_module,
        module__n_members=n_members,
        module__n_features=n_features,
        module__n_classes=n_outputs,
        **{f"module__{name}": getattr(est, name) for name in MODULE_PARAMS},
        module__downsample=est.downsample_,
        module__n_conv_layers=est.n_conv_layers_,
        module__front_end="multiscale" if est.front_end_ == "multiscale" else "conv",
        module__fixed_filters=est.fixed_filters_,
        module__conv_skip=est.conv_skip_,
        module__per_series=est.standardize_ == "per_series",
        module__input_dropout=est.input_dropout_,
        **_criterion(est),
        optimizer=est.optimizer,
        **optimizer_kwargs(est),
        lr=est.lr,
        max_epochs=est.max_epochs,
        batch_size=est.batch_size_,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        iterator_train__bucket_by_length=est.bucket_by_length,
        iterator_train__generator=generator,
        iterator_train__device=device,
        iterator_valid=batch_loader,
        iterator_valid__device=device,
        train_split=predefined_split(valid_ds) if has_valid else None,
        callbacks=callbacks,
        callbacks__valid_acc=None,
        classes=list(range(n_classes)),
        device=device,
        autocast=autocast,
        label_groups=label_groups,
        verbose=est.verbose,
    )
