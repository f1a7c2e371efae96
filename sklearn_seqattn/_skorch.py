"""skorch glue: tensor dataset, length-aware batch loader, the composed net.

Tensors are built once per ``fit``; batches are sliced from them with index
tensors (no per-sample Python, no collation) and cut to their longest real
step, so training cost follows real steps rather than padded ones.
"""

from __future__ import annotations

import numbers
from copy import deepcopy

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
    ProgressBar,
)
from skorch.helper import predefined_split
from skorch.hf import AccelerateMixin
from skorch.utils import to_device, to_tensor
from torch.utils.data import Dataset

from ._module import FocalLoss, SeqAttentionModule
from ._params import optimizer_kwargs

__all__ = [
    "AcceleratedSequenceNet",
    "FiniteLossCheck",
    "LossOrScoreStopping",
    "SequenceBatchLoader",
    "SequenceDataset",
    "SequenceNet",
    "ShardedBatchLoader",
    "autocast_context",
    "best_epoch",
    "best_epoch_key",
    "build_net",
    "set_input_standardization",
    "standardization",
    "was_interrupted",
]

# Estimator parameters passed on to SeqAttentionModule.
MODULE_PARAMS = (
    "n_conv_layers",
    "conv_channels",
    "kernel_size",
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
    "input_dropout",
)


def autocast_context(device, enabled: bool):
    """bfloat16 autocast on the device's type (CPU or CUDA) when ``enabled``."""
    device_type = torch.device(device).type if device is not None else "cpu"
    return torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=enabled)


def standardization(seqs, index, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of the real steps of ``seqs[index]``.

    Two passes in chunks of samples, accumulated in float64, so no copy of
    the data is made. Features that are constant get a scale of 1.
    """
    n_features = seqs.data.shape[2]
    total, count = np.zeros(n_features), 0
    for pass_ in ("mean", "var"):
        acc = np.zeros(n_features)
        for start in range(0, len(index), chunk):
            rows = index[start : start + chunk]
            lengths = seqs.lengths[rows]
            real = np.arange(int(lengths.max()))[None, :] < lengths[:, None]
            steps = seqs.data[rows, : real.shape[1]][real].astype(np.float64)  # (steps, features)
            if pass_ == "mean":
                acc += steps.sum(axis=0)
                count += len(steps)
            else:
                acc += ((steps - total) ** 2).sum(axis=0)
        if pass_ == "mean":
            total = acc / count
    mean, std = total, np.sqrt(acc / count)
    std[std <= 1e-6 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def set_input_standardization(module, shift: np.ndarray, scale: np.ndarray) -> None:
    """Store standardisation statistics in the module's buffers (saved with the weights)."""
    # An accelerator may have wrapped the module in DistributedDataParallel.
    module = getattr(module, "module", module)
    with torch.no_grad():
        module.input_shift.copy_(torch.as_tensor(shift))
        module.input_scale.copy_(torch.as_tensor(scale))


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


class SequenceDataset(Dataset):
    """Post-padded sequences as tensors, with targets and per-sample loss weights.

    Parameters
    ----------
    data : ndarray of float32, shape (n_samples, n_timesteps, n_features)
    lengths : ndarray of int, shape (n_samples,)
    y : ndarray of int, shape (n_samples,), default=None
        Class indices; zeros when None (prediction).
    weights : ndarray of float, shape (n_samples,), default=None
        Loss weight of each sample (class weight times sample weight).
    targets : ndarray of int, shape (n_samples,), default=None
        Output indices the loss is computed on (fine labels); ``y`` when None.
        ``y`` is what validation scores compare predictions with.
    """

    def __init__(self, data, lengths, y=None, weights=None, targets=None):
        n = len(lengths)
        self.x = torch.as_tensor(data, dtype=torch.float32)
        self.lengths = torch.as_tensor(lengths, dtype=torch.int64)
        self.y = torch.as_tensor(np.zeros(n) if y is None else y, dtype=torch.int64)
        self.weights = torch.as_tensor(np.ones(n) if weights is None else weights).float()
        self.targets = self.y if targets is None else torch.as_tensor(targets, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i):
        return self.batch(torch.as_tensor([i]))

    def batch(self, index: torch.Tensor):
        """Return ``(X_dict, y)`` for the samples at ``index``, cut to their longest step."""
        lengths = self.lengths[index]
        width = int(lengths.max())
        x = self.x[index, :width]
        X = {"x": x, "lengths": lengths, "weights": self.weights[index]}
        X["targets"] = self.targets[index]
        return X, self.y[index]


class SequenceBatchLoader:
    """Iterate over a :class:`SequenceDataset` in mini-batches.

    Parameters
    ----------
    dataset : SequenceDataset
    batch_size : int
    shuffle : bool, default=False
        Draw a new order every epoch (training).
    bucket_by_length : bool, default=False
        When shuffling, order each window of ``50 * batch_size`` shuffled
        samples by length within each class (classes interleaved in
        proportion, ranks jittered) before cutting it into batches, then
        shuffle the batches. Batches then hold similar lengths and are cut
        short, which saves the time spent on padding, while every batch holds
        every class and batches are new sets every epoch.
    generator : torch.Generator, default=None
        Source of randomness for shuffling.
    """

    window_batches = 50

    def __init__(
        self, dataset, batch_size=64, shuffle=False, bucket_by_length=False, generator=None
    ):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.bucket_by_length = bucket_by_length
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def _batch_indices(self) -> list[torch.Tensor]:
        n = len(self.dataset)
        if not self.shuffle:
            # Evaluation keeps the data's order: skorch concatenates outputs as they come.
            return list(torch.split(torch.arange(n), self.batch_size))
        order = torch.randperm(n, generator=self.generator)
        if self.bucket_by_length:
            window = self.batch_size * self.window_batches
            chunks = [self._bucket(chunk) for chunk in torch.split(order, window)]
            batches = list(torch.split(torch.cat(chunks), self.batch_size))
            permutation = torch.randperm(len(batches), generator=self.generator)
            return [batches[i] for i in permutation]
        return list(torch.split(order, self.batch_size))

    def _bucket(self, chunk: torch.Tensor) -> torch.Tensor:
        """Order a window so that cut batches hold similar lengths and every class.

        Within each class, samples are ranked by length; a sample's key is its
        rank, jittered by up to two batches' worth of its class, divided by
        the class's size. Sorting by the key interleaves the classes in
        proportion (a short minority class is not gathered into batches of
        its own) and, through the jitter, batches are new sets every epoch
        even when all lengths differ.
        """
        lengths = self.dataset.lengths[chunk].double()
        classes = self.dataset.y[chunk]
        keys = torch.empty(len(chunk), dtype=torch.float64)
        for label in torch.unique(classes):
            members = torch.nonzero(classes == label).flatten()
            ranks = torch.empty(len(members), dtype=torch.float64)
            ranks[torch.argsort(lengths[members], stable=True)] = torch.arange(
                len(members), dtype=torch.float64
            )
            per_batch = self.batch_size * len(members) / len(chunk)
            jitter = torch.rand(len(members), generator=self.generator, dtype=torch.float64)
            keys[members] = (ranks + 2 * per_batch * jitter) / len(members)
        return chunk[torch.argsort(keys)]

    def __iter__(self):
        for index in self._batch_indices():
            yield self.dataset.batch(index)


class FiniteLossCheck(Callback):
    """Stop training with a clear error as soon as an epoch's loss is not finite.

    A non-finite loss (too high a learning rate, huge weights or inputs) makes
    every later update NaN; continuing would return a model that predicts NaN.
    """

    def on_epoch_end(self, net, **kwargs):
        for key in ("train_loss", "valid_loss"):
            value = net.history[-1].get(key)
            if value is not None and not np.isfinite(value):
                raise ValueError(
                    f"The {key.replace('_', ' ')} became {value} in epoch "
                    f"{net.history[-1, 'epoch']}: training diverged. Lower lr (now {net.lr}), "
                    "keep gradient_clip on, and check that X, sample_weight and class_weight "
                    "hold moderate values."
                )


class LossOrScoreStopping(EarlyStopping):
    """Early stopping that waits until neither the loss nor the score improves.

    Sequence models often memorise the training set before they find the
    temporal pattern: the validation loss rises for a while (over-confident
    mistakes) while the validation score is about to climb. Stopping on the
    loss alone then restores a near-constant predictor. This callback stops
    only when neither ``valid_loss`` (by a relative ``threshold``) nor
    ``valid_score`` has improved for ``patience`` epochs, and restores the
    epoch with the best score (ties: the lower loss).

    Parameters
    ----------
    patience : int
        Epochs without any improvement before stopping.
    score_name : str, default="valid_score"
        History key of the validation score (higher is better).
    threshold : float, default=1e-4
        Relative improvement of the loss that counts.
    sink : callable, default=print
        Where the stop message goes (when the net is verbose).
    """

    def __init__(self, patience, score_name="valid_score", threshold=1e-4, sink=print):
        super().__init__(
            monitor="valid_loss",
            patience=patience,
            threshold=threshold,
            threshold_mode="rel",
            lower_is_better=True,
            load_best=True,
            sink=sink,
        )
        self.score_name = score_name

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_pair_ = (-np.inf, -np.inf)  # (score, -loss) of the epoch to restore
        self.stopped_ = False  # set when this callback ends training

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, self.monitor]
        score = net.history[-1, self.score_name]
        loss_improved = self._is_score_improved(loss)
        if loss_improved:
            self.dynamic_threshold_ = self._calc_new_threshold(loss)
        score_improved = score > self.best_pair_[0]  # best_pair_ holds the best score
        self.misses_ = 0 if (loss_improved or score_improved) else self.misses_ + 1
        if (score, -loss) > self.best_pair_:
            self.best_pair_ = (score, -loss)
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_model_weights_ = deepcopy(net.module_.state_dict())
        if self.misses_ == self.patience:
            if net.verbose:
                self._sink(
                    f"Stopping since neither {self.monitor} nor {self.score_name} has "
                    f"improved in the last {self.patience} epochs.",
                    verbose=net.verbose,
                )
            self.stopped_ = True
            raise KeyboardInterrupt


class SequenceNet(NeuralNetClassifier):
    """skorch classifier whose loss is weighted per sample.

    With ``label_groups`` (the class index of each output), the network
    predicts fine labels and ``predict_proba`` sums them into classes.

    The criterion must use ``reduction="none"``; ``get_loss`` averages the
    per-sample losses weighted by the batch's ``weights`` (class weight times
    sample weight), the empirical risk that scikit-learn estimators minimise.
    With ``autocast=True`` the forward pass runs under bfloat16 autocast.
    Internal: users meet it as ``SeqAttentionClassifier.net_``.
    """

    def __init__(self, *args, autocast=False, label_groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast = autocast
        self.label_groups = label_groups

    def _batch_device(self):
        """Device that batches are moved to (the accelerator's, in the subclass)."""
        return self.device

    def infer(self, x, **fit_params):
        device = self._batch_device()
        x = to_tensor(x, device=device)
        with autocast_context(device, self.autocast):
            logits = self.module_(x["x"], x["lengths"], **fit_params)
        # Autocast yields bfloat16 logits, which numpy (and so skorch's scoring) cannot hold.
        return logits.float()

    def predict_proba(self, X):
        """Class probabilities; with ``label_groups``, fine outputs summed per class."""
        proba = super().predict_proba(X)
        if self.label_groups is None:
            return proba
        out = np.zeros((len(proba), int(self.label_groups.max()) + 1), dtype=proba.dtype)
        np.add.at(out.T, self.label_groups, proba.T)
        return out

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # The loss is on the outputs' own targets (fine labels); y_true holds the classes
        # that validation scores are computed on.
        targets = to_tensor(X["targets"], device=self.device)
        losses = self.criterion_(y_pred.float(), targets)  # (batch,)
        weights = to_tensor(X["weights"], device=self.device)
        return (losses * weights).mean()


class ShardedBatchLoader:
    """A :class:`SequenceBatchLoader` split across the processes of an accelerator.

    ``accelerator.prepare`` only wraps ``torch.utils.data.DataLoader``; our
    loader is returned untouched, so this wrapper does the two things prepare
    would: it moves every batch to ``device``, and with ``num_processes > 1``
    it gives process ``k`` every ``num_processes``-th batch starting at ``k``.
    All processes draw the same batch order (the loader's generator is seeded
    from the same ``random_state``), and the list of batches is padded by
    repeating its first batches so every process runs the same number of
    steps, as distributed data parallel requires.

    Parameters
    ----------
    loader : SequenceBatchLoader
    device : torch.device or None
        Where batches go; None leaves them where they are.
    num_processes : int, default=1
    process_index : int, default=0
    """

    def __init__(self, loader, device=None, num_processes=1, process_index=0):
        self.loader = loader
        self.device = device
        self.num_processes = num_processes
        self.process_index = process_index

    def __len__(self) -> int:
        return -(-len(self.loader) // self.num_processes)

    def __iter__(self):
        batches = self.loader._batch_indices()
        if self.num_processes > 1:
            n_padded = len(self) * self.num_processes
            batches = [batches[i % len(batches)] for i in range(n_padded)]
            batches = batches[self.process_index :: self.num_processes]
        for index in batches:
            X, y = self.loader.dataset.batch(index)
            yield to_device(X, self.device), to_device(y, self.device)


class AcceleratedSequenceNet(AccelerateMixin, SequenceNet):
    """:class:`SequenceNet` trained through Hugging Face ``accelerate``.

    Used when ``SeqAttentionClassifier(accelerator=...)`` is given; device
    placement, mixed precision and distribution are then the accelerator's.
    Training batches are sharded across processes by
    :class:`ShardedBatchLoader`; every process evaluates the whole validation
    set itself, so validation scores (and early stopping) agree everywhere
    without gathering.
    """

    def _initialize_callbacks(self):
        # skorch's PrintLog prints through any sink other than ``print`` whatever
        # ``verbose`` says; keep the accelerator's main-process print for verbose > 0.
        if self.callbacks__print_log__sink == "auto" and not self.verbose:
            self.callbacks__print_log__sink = print
        return super()._initialize_callbacks()

    def _initialize_accelerator(self):
        # With several processes, prepare() wraps modules in DistributedDataParallel,
        # which refuses a module without trainable parameters, like the loss; only
        # criteria with parameters are handed to the accelerator.
        criteria = self._criteria
        self._criteria = [
            name
            for name in criteria
            if any(
                p.requires_grad for p in getattr(getattr(self, name + "_"), "parameters", list)()
            )
        ]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def _batch_device(self):
        return self.accelerator.device if self.accelerator.device_placement else None

    def get_iterator(self, dataset, training=False):
        # Skip AccelerateMixin.get_iterator: prepare() would return our loader as is.
        loader = SequenceNet.get_iterator(self, dataset, training=training)
        if not training:
            return ShardedBatchLoader(loader, self._batch_device())
        accelerator = self.accelerator
        return ShardedBatchLoader(
            loader, self._batch_device(), accelerator.num_processes, accelerator.process_index
        )

    def evaluation_step(self, batch, training=False):
        # Each process holds the whole validation set: nothing to gather.
        return SequenceNet.evaluation_step(self, batch, training=training)


def _criterion(est) -> dict:
    """The loss (per sample, weighted by the net) and its arguments."""
    args = {"criterion__reduction": "none", "criterion__label_smoothing": est.label_smoothing}
    if est.loss == "focal":
        return {"criterion": FocalLoss, "criterion__gamma": est.focal_gamma, **args}
    return {"criterion": torch.nn.CrossEntropyLoss, **args}


def build_net(est, n_features, device, generator, valid_ds, label_groups=None) -> SequenceNet:
    """Compose the skorch net for ``est``, a fitted-in-progress SeqAttentionClassifier.

    Module, loss, optimizer, batch loaders and callbacks (validation score,
    early stopping, gradient clipping, learning-rate schedule, the user's
    callbacks). The network has one output per entry of ``est.fine_classes_``;
    ``label_groups`` maps them to ``est.classes_`` (None: one output per
    class). ``valid_ds`` is the held-out :class:`SequenceDataset` (None
    without early stopping); ``generator`` drives the shuffling of batches.
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
        stopping = LossOrScoreStopping(patience=est.n_iter_no_change)
        callbacks.append(("early_stopping", stopping))
    if est.gradient_clip is not None:
        callbacks.append(("gradient_clip", GradientNormClipping(est.gradient_clip)))
    if est.lr_schedule == "plateau":
        policy = LRScheduler(
            policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
            monitor=monitor,
            factor=0.5,
            patience=max(1, est.n_iter_no_change // 2),
        )
        callbacks.append(("lr_schedule", policy))
    elif est.lr_schedule == "cosine":
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
        device = None  # the accelerator places tensors
    else:
        net_class, placement = SequenceNet, {}
    return net_class(
        **placement,
        module=SeqAttentionModule,
        module__n_features=n_features,
        module__n_classes=n_outputs,
        **{f"module__{name}": getattr(est, name) for name in MODULE_PARAMS},
        module__downsample=est.downsample_,
        **_criterion(est),
        optimizer=est.optimizer,
        **optimizer_kwargs(est),
        lr=est.lr,
        max_epochs=est.max_epochs,
        batch_size=est.batch_size_,
        iterator_train=SequenceBatchLoader,
        iterator_train__shuffle=True,
        iterator_train__bucket_by_length=est.bucket_by_length,
        iterator_train__generator=generator,
        iterator_valid=SequenceBatchLoader,
        train_split=predefined_split(valid_ds) if has_valid else None,
        callbacks=callbacks,
        callbacks__valid_acc=None,
        classes=list(range(n_classes)),
        device=device,
        autocast=est.autocast,
        label_groups=label_groups,
        verbose=est.verbose,
    )
