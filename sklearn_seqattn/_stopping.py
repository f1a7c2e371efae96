"""When training stops: a finite-loss check, early stopping on loss or score, the best epoch."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = [
    "FiniteLossCheck",
    "LossOrScoreStopping",
    "LowestTrainLossRestore",
    "best_epoch",
    "best_epoch_key",
    "was_interrupted",
]


def _unwrapped(module):
    """The network itself: an accelerator may wrap it (``DistributedDataParallel``) during
    training and unwrap it before the end-of-training callbacks, so weights are kept and
    restored by the names of the network itself."""
    return getattr(module, "module", module)


class FiniteLossCheck(Callback):
    """Stop training with a clear error as soon as an epoch's loss is not finite.

    A non-finite loss (too high a learning rate, huge weights or inputs) makes
    every later update NaN; continuing would return a model that predicts NaN.
    """

    def on_epoch_end(self, net, **kwargs):
        epoch = net.history[-1, "epoch"]
        for key in ("train_loss", "valid_loss"):
            value = net.history[-1].get(key)
            if value is not None and not np.isfinite(value):
                raise ValueError(
                    f"The {key.replace('_', ' ')} became {value} in epoch {epoch}: "
                    f"training diverged. {_advice(net)}"
                )
        # The loss of the epoch is measured before its last updates: the weights can
        # already have left float32 while it still looks finite.
        for name, value in _unwrapped(net.module_).named_parameters():
            if not bool(torch.isfinite(value).all()):
                raise ValueError(
                    f"The weights ({name}) became non-finite in epoch {epoch}: training "
                    f"diverged. {_advice(net)}"
                )


def _advice(net) -> str:
    """What to lower: the settings that scale every update, with their values."""
    decay = net.get_params().get("optimizer__weight_decay", 0.0)
    return (
        f"Lower lr (now {net.lr}) or weight_decay (now {decay}), keep gradient_clip on, "
        "and check that X, sample_weight and class_weight hold moderate values."
    )


class LossOrScoreStopping(Callback):
    """Early stopping that waits until neither the loss nor the score improves.

    Sequence models often memorise the training set before they find the
    temporal pattern: the validation loss rises for a while (over-confident
    mistakes) while the validation score is about to climb. Stopping on the
    loss alone then restores a near-constant predictor. This callback stops
    only when neither ``valid_loss`` (by a relative ``threshold`` and by at
    least ``min_delta``) nor ``valid_score`` has improved for ``patience``
    epochs, and at the end of
    training restores the weights of the epoch with the best score (ties:
    the lower loss).

    Parameters
    ----------
    patience : int
        Epochs without any improvement before stopping.
    score_name : str, default="valid_score"
        History key of the validation score (higher is better).
    monitor : str, default="valid_loss"
        History key of the validation loss (lower is better).
    threshold : float, default=1e-4
        Relative improvement of the loss that counts.
    min_delta : float, default=0.0
        Absolute improvement of the loss that counts: a loss near zero keeps
        falling by relative amounts that change no prediction.
    sink : callable, default=print
        Where the stop message goes when the net is verbose (any other sink
        receives it whatever the verbosity, as skorch's callbacks do).
    restore : bool, default=True
        Restore the best epoch's weights at the end (else keep the last).

    Attributes
    ----------
    stopped_ : bool
        Whether this callback ended the last training run.
    best_epoch_ : int
        Epoch whose weights are restored.
    """

    def __init__(
        self,
        patience,
        score_name="valid_score",
        monitor="valid_loss",
        threshold=1e-4,
        sink=print,
        restore=True,
        min_delta=0.0,
    ):
        self.patience = patience
        self.min_delta = min_delta
        self.restore = restore
        self.score_name = score_name
        self.monitor = monitor
        self.threshold = threshold
        self.sink = sink

    def on_train_begin(self, net, **kwargs):
        self.misses_ = 0
        self.best_loss_ = np.inf
        self.best_pair_ = (-np.inf, -np.inf)  # (score, -loss) of the epoch to restore
        self.best_epoch_ = None
        self.best_model_weights_ = None
        self.stopped_ = False

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, self.monitor]
        score = net.history[-1, self.score_name]
        loss_improved = loss < min(
            self.best_loss_ * (1 - self.threshold), self.best_loss_ - self.min_delta
        )
        if loss_improved:
            self.best_loss_ = loss
        score_improved = score > self.best_pair_[0]  # best_pair_ holds the best score
        self.misses_ = 0 if (loss_improved or score_improved) else self.misses_ + 1
        if (score, -loss) > self.best_pair_:
            self.best_pair_ = (score, -loss)
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_model_weights_ = deepcopy(_unwrapped(net.module_).state_dict())
        if self.misses_ == self.patience:
            self._say(
                f"Stopping since neither {self.monitor} nor {self.score_name} has "
                f"improved in the last {self.patience} epochs.",
                net.verbose,
            )
            self.stopped_ = True
            # skorch ends training quietly on KeyboardInterrupt, as it does for its own
            # EarlyStopping; on_train_end still runs.
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if not self.restore:
            return
        if self.best_model_weights_ is None or self.best_epoch_ == net.history[-1, "epoch"]:
            return
        self._say(f"Restoring best model from epoch {self.best_epoch_}.", net.verbose)
        _unwrapped(net.module_).load_state_dict(self.best_model_weights_)

    def _say(self, text: str, verbose) -> None:
        if self.sink is not print or verbose:
            self.sink(text)


class LowestTrainLossRestore(Callback):
    """Restore, at the end of training, the weights of the epoch with the lowest training loss.

    The recipe of InceptionTime, LITE and FCN for fits without a validation
    split: the last epoch's weights may sit on a spike of the loss.

    Attributes
    ----------
    best_epoch_ : int or None
        Epoch whose weights are restored.
    """

    def on_train_begin(self, net, **kwargs):
        self.best_loss_ = np.inf
        self.best_epoch_ = None
        self.best_model_weights_ = None

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1].get("train_loss", np.nan)
        if loss < self.best_loss_:
            self.best_loss_ = loss
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_model_weights_ = deepcopy(_unwrapped(net.module_).state_dict())

    def on_train_end(self, net, **kwargs):
        if self.best_model_weights_ is None or self.best_epoch_ == net.history[-1, "epoch"]:
            return
        _unwrapped(net.module_).load_state_dict(self.best_model_weights_)


def was_interrupted(net, n_epochs: int) -> bool:
    """Whether the last ``partial_fit`` ended before ``max_epochs`` without early stopping.

    skorch ends training silently on ``KeyboardInterrupt`` (Ctrl-C, or a
    callback raising it), which is also how early stopping stops it.
    """
    stopping = dict(net.callbacks_).get("early_stopping")
    return n_epochs < net.max_epochs and not getattr(stopping, "stopped_", False)


def best_epoch_key(history) -> tuple[float, float]:
    """``(valid_score, -valid_loss)`` of the best epoch, as early stopping ranks them.

    Without validation, ``(-inf, -train_loss)`` of the last epoch.
    """
    keys = [
        (row["valid_score"], -row["valid_loss"])
        for row in history
        if "valid_score" in row and "valid_loss" in row
    ]
    if keys:
        return max(keys, key=lambda k: (np.nan_to_num(k[0], nan=-np.inf), k[1]))
    last = history[-1].get("train_loss", np.inf) if len(history) else np.inf
    return (-np.inf, -float(last))


def best_epoch(history, start: int = 0) -> int | None:
    """Epoch number early stopping restored in ``history[start:]`` (None without validation)."""
    rows = [row for row in list(history)[start:] if "valid_score" in row and "valid_loss" in row]
    if not rows:
        return None
    best = max(rows, key=lambda r: (np.nan_to_num(r["valid_score"], nan=-np.inf), -r["valid_loss"]))
    return int(best["epoch"])
