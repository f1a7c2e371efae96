"""SeqAttentionClassifier: the masked attention-LSTM as a scikit-learn classifier."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted
from skorch.helper import predefined_split

from ._params import check_params, resolve_device
from ._random import deterministic_algorithms, draw_seed, isolated_torch_rng
from ._skorch import SequenceDataset, autocast_context, build_net
from ._validation import Sequences, check_classification_y, check_sequences

__all__ = ["SeqAttentionClassifier"]


class SeqAttentionClassifier(ClassifierMixin, BaseEstimator):
    """Attention-LSTM classifier for padded multivariate sequences.

    A per-step feed-forward front end, a stack of (bi)directional LSTM
    layers, optional multi-head self-attention blocks and a pooling layer
    (learned-query attention by default) feed a linear head. Padded steps are
    masked everywhere: they never change a prediction. The network is a
    PyTorch module trained by a composed skorch net (``net_``).

    Parameters
    ----------
    dense_units : int, default=64
        Width of the per-step feed-forward front end.
    n_dense_layers : int, default=1
        Number of per-step ``Linear -> ReLU -> Dropout`` layers (0 disables).
    lstm_units : int, default=64
        Hidden units per direction of each LSTM layer.
    n_lstm_layers : int, default=1
        Number of stacked LSTM layers (at least 1: they carry the order).
    bidirectional : bool, default=True
        Whether each LSTM layer also reads the sequence backwards (from each
        sequence's last real step).
    n_attention_layers : int, default=0
        Number of stacked self-attention blocks (multi-head attention with
        key-padding mask, residual connections, layer norm and a position-wise
        feed-forward layer) after the LSTM stack.
    n_heads : int, default=4
        Attention heads per block; must divide ``lstm_units * (2 if
        bidirectional else 1)``.
    attention_ff_units : int or None, default=None
        Width of each block's feed-forward layer; None means twice the
        attention width.
    pooling : {"attention", "mean", "max", "last"}, default="attention"
        How steps are reduced to one vector: a learned query scored against
        every step with a masked softmax, the mean or max over real steps, or
        the last real step.
    dropout : float, default=0.1
        Dropout rate in the front end, between LSTM layers, in the attention
        blocks and before the head.
    weight_decay : float, default=1e-4
        Weight decay passed to the optimizer.
    mask_value : float, default=0.0
        A step of an array ``X`` whose features all equal ``mask_value`` is
        padding (NaN allowed). Ignored for ragged lists.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, keyed by the original labels.
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int, default=64
        Mini-batch size for training and prediction.
    lr : float, default=2e-3
        Learning rate.
    optimizer : torch.optim.Optimizer subclass, default=torch.optim.AdamW
        Optimizer class.
    early_stopping : bool, default=True
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when neither the validation loss nor the validation score has
        improved for ``n_iter_no_change`` epochs, and restore the weights of
        the epoch with the best validation score (ties: lower loss). Waiting
        for both matters: sequence models often memorise first (validation
        loss rising) before they find the temporal pattern (score rising).
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    n_iter_no_change : int, default=20
        Patience of early stopping (and of the "plateau" schedule, halved).
    lr_schedule : {None, "plateau", "cosine"}, default=None
        "plateau" halves the learning rate when the monitored loss stalls;
        "cosine" anneals it to zero over ``max_epochs``.
    gradient_clip : float or None, default=1.0
        Maximum gradient norm; None disables clipping.
    scoring : str or callable, default="balanced_accuracy"
        Validation score recorded in ``history_`` each epoch (any scikit-learn
        scorer name, computed on class indices).
    bucket_by_length : bool, default=True
        Group training batches by sequence length, so each batch is cut to
        its longest real step; the order stays random.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (e.g. ``skorch.callbacks.Checkpoint``).
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Torch device; "auto" picks CUDA when available.
    autocast : bool, default=False
        Run forward passes under bfloat16 autocast (CPU or CUDA): faster on
        hardware with bfloat16 units, at a small cost in precision.
    deterministic : bool, default=False
        Use only deterministic torch kernels during ``fit`` and prediction.
        Results on CPU are reproducible without it; on CUDA it additionally
        needs ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` in the environment and makes
        same-seed runs on the same GPU and software identical.
    accelerator : accelerate.Accelerator or None, default=None
        Train through skorch's ``AccelerateMixin`` (multi-GPU, mixed
        precision); ``device`` is then left to the accelerator.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. The caller's global numpy and torch random states are left
        untouched.
    verbose : int, default=0
        Values above 0 print skorch's table of epochs.
    warm_start : bool, default=False
        Continue training the fitted network on the next call to ``fit``
        instead of starting afresh.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features per time step.
    class_weight_ : ndarray of shape (n_classes,)
        Loss weight of each class.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``net_.module_`` is the torch module.
    history_ : skorch.History
        Per-epoch records: ``train_loss``, ``dur`` and, with early stopping,
        ``valid_loss`` and ``valid_score``; with an ``lr_schedule`` also
        ``event_lr``. ``history_[:, "train_loss"]`` gives one column.
    n_iter_ : int
        Number of epochs run by the last call to ``fit``.

    Examples
    --------
    >>> from sklearn_seqattn import SeqAttentionClassifier
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=120, n_timesteps=20, random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=8, max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        *,
        dense_units=64,
        n_dense_layers=1,
        lstm_units=64,
        n_lstm_layers=1,
        bidirectional=True,
        n_attention_layers=0,
        n_heads=4,
        attention_ff_units=None,
        pooling="attention",
        dropout=0.1,
        weight_decay=1e-4,
        mask_value=0.0,
        class_weight=None,
        max_epochs=200,
        batch_size=64,
        lr=2e-3,
        optimizer=torch.optim.AdamW,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        lr_schedule=None,
        gradient_clip=1.0,
        scoring="balanced_accuracy",
        bucket_by_length=True,
        callbacks=None,
        device="cpu",
        autocast=False,
        deterministic=False,
        accelerator=None,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.dense_units = dense_units
        self.n_dense_layers = n_dense_layers
        self.lstm_units = lstm_units
        self.n_lstm_layers = n_lstm_layers
        self.bidirectional = bidirectional
        self.n_attention_layers = n_attention_layers
        self.n_heads = n_heads
        self.attention_ff_units = attention_ff_units
        self.pooling = pooling
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.mask_value = mask_value
        self.class_weight = class_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.lr_schedule = lr_schedule
        self.gradient_clip = gradient_clip
        self.scoring = scoring
        self.bucket_by_length = bucket_by_length
        self.callbacks = callbacks
        self.device = device
        self.autocast = autocast
        self.deterministic = deterministic
        self.accelerator = accelerator
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Padded sequences (a step whose features all equal ``mask_value``
            is padding), univariate sequences, or a ragged list.
        y : array-like of shape (n_samples,)
            Class labels (any hashable, sortable values).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.

        Returns
        -------
        self : SeqAttentionClassifier

        Notes
        -----
        Interrupting training (Ctrl-C, or a callback raising
        ``KeyboardInterrupt``) ends ``fit`` early without an exception: skorch
        stops at once and runs its end-of-training callbacks. With
        ``early_stopping=True`` the weights of the epoch with the best
        validation loss so far are restored and those of an unfinished epoch
        are discarded; with ``early_stopping=False``, or before any epoch has
        finished, the weights at the moment of interruption are kept.
        ``history_`` and ``n_iter_`` include the interrupted epoch; the model
        can then predict, be saved and be pickled. Other exceptions propagate;
        the caller's random state and torch's deterministic flags are restored
        either way.

        With ``warm_start=True`` a second call continues from the fitted
        weights for ``max_epochs`` more epochs, using the current ``lr``,
        ``batch_size`` and ``max_epochs``; the architecture is kept.
        """
        check_params(self)
        device = resolve_device(self.device)
        continuing = self.warm_start and hasattr(self, "net_")
        seqs = check_sequences(X, mask_value=self.mask_value, estimator=self, reset=not continuing)
        y = check_classification_y(y, len(seqs), type(self).__name__)
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "SeqAttentionClassifier needs samples of at least 2 classes in y; "
                f"got 1 class: {classes.tolist()[0]!r}."
            )
        if continuing and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the classes seen before, {self.classes_.tolist()}; "
                f"y holds {classes.tolist()}."
            )
        weights = self._sample_loss_weights(classes, y, y_idx, sample_weight, len(seqs))
        seed = draw_seed(self.random_state)
        train_idx, valid_idx = self._split(y_idx, seed)

        self.classes_ = classes
        train_ds = self._dataset(seqs, y_idx, weights, train_idx)
        valid_ds = None if valid_idx is None else self._dataset(seqs, y_idx, weights, valid_idx)
        with (
            deterministic_algorithms(self.deterministic, device),
            isolated_torch_rng(seed, device) as generator,
        ):
            if continuing:
                net = self.net_
                # Training-loop settings may have changed since the last fit.
                net.max_epochs, net.batch_size = self.max_epochs, self.batch_size
                net.lr = self.lr
                for group in net.optimizer_.param_groups:
                    group["lr"] = self.lr
                net.train_split = None if valid_ds is None else predefined_split(valid_ds)
                net.iterator_train__generator = generator
            else:
                net = build_net(self, seqs.data.shape[2], len(classes), device, generator, valid_ds)
                net.initialize()
            n_before = len(net.history)
            net.partial_fit(train_ds, None)
        self.n_iter_ = len(net.history) - n_before
        # The generator belongs to this fit; plain attributes (skorch's set_params would
        # re-initialise the net).
        net.iterator_train__generator = None
        self.net_ = net
        self.history_ = net.history
        return self

    def _sample_loss_weights(self, classes, y, y_idx, sample_weight, n_samples) -> np.ndarray:
        """Per-sample loss weight: class weight of its label times its sample weight."""
        if isinstance(self.class_weight, dict):
            missing = [c for c in classes.tolist() if c not in self.class_weight]
            if missing:
                raise ValueError(
                    f"class_weight dict {self.class_weight!r} has no weight for class(es) "
                    f"{missing} present in y."
                )
        self.class_weight_ = compute_class_weight(self.class_weight, classes=classes, y=y)
        weights = self.class_weight_[y_idx].astype(np.float64)
        if sample_weight is not None:
            try:
                sw = np.asarray(sample_weight, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"sample_weight must hold numbers: {exc}") from None
            if sw.ndim == 0:
                sw = np.full(n_samples, float(sw))
            if sw.shape != (n_samples,):
                raise ValueError(
                    f"sample_weight must have shape ({n_samples},) to match X, "
                    f"got shape {sw.shape}."
                )
            if not np.isfinite(sw).all() or (sw < 0).any():
                bad = int(np.flatnonzero(~np.isfinite(sw) | (sw < 0))[0])
                raise ValueError(
                    "sample_weight must be finite and non-negative, got "
                    f"sample_weight[{bad}]={float(sw[bad])!r}."
                )
            if sw.sum() <= 0:
                raise ValueError("sample_weight is all zero: at least one weight must be positive.")
            weights = weights * sw
        return weights

    def _split(self, y_idx: np.ndarray, seed: int):
        """Stratified hold-out for early stopping; (all indices, None) without it."""
        indices = np.arange(len(y_idx))
        if not self.early_stopping:
            return indices, None
        n_valid = int(np.ceil(self.validation_fraction * len(indices)))
        if n_valid < 1 or len(indices) - n_valid < 1:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} leaves "
                f"an empty split of {len(indices)} samples; use more data or "
                "early_stopping=False."
            )
        try:
            return train_test_split(indices, test_size=n_valid, stratify=y_idx, random_state=seed)
        except ValueError:
            # Too few members of some class to stratify (e.g. a rare class in a CV fold).
            warnings.warn(
                "The validation split for early stopping could not be stratified "
                "(too few samples of some class); using a random split.",
                UserWarning,
                stacklevel=3,
            )
            return train_test_split(indices, test_size=n_valid, random_state=seed)

    @staticmethod
    def _dataset(seqs: Sequences, y_idx, weights, index) -> SequenceDataset:
        if len(index) == len(seqs):  # np.arange(n) without early stopping: no copy of X
            return SequenceDataset(seqs.data, seqs.lengths, y_idx, weights)
        return SequenceDataset(seqs.data[index], seqs.lengths[index], y_idx[index], weights[index])

    # ------------------------------------------------------------ predict
    def _check_fitted_input(self, X) -> Sequences:
        check_is_fitted(self, "net_")
        return check_sequences(X, mask_value=self.mask_value, estimator=self, reset=False)

    def _forward(self, seqs: Sequences, return_attention: bool = False):
        """Run the module in eval mode over length-sorted batches.

        Returns logits ``(n, n_classes)`` and, with ``return_attention``, the
        pooling weights ``(n, max_length)`` and one ``(n, max_length, max_length)``
        array per self-attention block, all in the order of ``seqs``.
        """
        module = self.net_.module_
        device = next(module.parameters()).device
        width = seqs.data.shape[1]
        # Sorting by length lets each batch stop at its own longest sequence.
        order = np.argsort(seqs.lengths, kind="stable")
        logits = np.empty((len(seqs), len(self.classes_)), dtype=np.float32)
        pool_w = np.zeros((len(seqs), width), dtype=np.float32) if return_attention else None
        maps = [np.zeros((len(seqs), width, width), np.float32) for _ in module.attention_blocks]
        was_training = module.training
        module.eval()
        try:
            with (
                torch.inference_mode(),
                deterministic_algorithms(self.deterministic, str(device)),
                autocast_context(device, self.autocast),
            ):
                for start in range(0, len(seqs), self.batch_size):
                    index = order[start : start + self.batch_size]
                    lengths = torch.as_tensor(seqs.lengths[index])
                    t = int(lengths.max())
                    x = torch.as_tensor(seqs.data[index, :t]).to(device)
                    out = module(x, lengths.to(device), return_attention=return_attention)
                    if not return_attention:
                        logits[index] = out.float().cpu().numpy()
                        continue
                    logits[index] = out[0].float().cpu().numpy()
                    pool_w[index, :t] = out[1].float().cpu().numpy()
                    for full, layer_map in zip(maps, out[2], strict=True):
                        full[index, :t, :t] = layer_map.float().cpu().numpy()
        finally:
            module.train(was_training)
        if return_attention:
            return logits, pool_w, maps
        return logits

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        logits = torch.from_numpy(self._forward(self._check_fitted_input(X)))
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict(self, X) -> np.ndarray:
        """Predicted class labels, of shape (n_samples,)."""
        proba = self.predict_proba(X)  # checks fitted state before classes_ is read
        return self.classes_[proba.argmax(axis=1)]

    def attention_weights(self, X, *, return_layer_maps: bool = False):
        """Where the model looked: pooling weights per time step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or list
            Sequences, as in :meth:`fit`.
        return_layer_maps : bool, default=False
            Also return the self-attention maps of each block (head-averaged).

        Returns
        -------
        weights : ndarray of shape (n_samples, n_timesteps)
            Zero on padded steps, summing to one over each sample's real
            steps, aligned with the time axis of ``X`` (pre-padding included).
            For ``pooling="mean"`` the weights are uniform; for ``"max"`` a
            step's weight is the share of channels whose maximum it holds; for
            ``"last"`` all weight is on the last real step.
        layer_maps : list of ndarray of shape (n_samples, n_timesteps, n_timesteps)
            Only with ``return_layer_maps=True``: ``layer_maps[k][i, q, j]`` is
            how much query step ``q`` attends to step ``j`` in block ``k``.
            Rows and columns of padded steps are zero.
        """
        seqs = self._check_fitted_input(X)
        _, pool_w, maps = self._forward(seqs, return_attention=True)
        weights = seqs.scatter_steps(pool_w)
        if not return_layer_maps:
            return weights
        return weights, [seqs.scatter_pairs(m) for m in maps]

    # -------------------------------------------------------- persistence
    def save(self, path):
        """Save the fitted model to a folder, without pickle.

        Writes ``config.json`` (hyper-parameters, classes, versions),
        ``weights.safetensors`` and ``history.json``. ``callbacks`` and
        ``accelerator`` are not saved; the optimizer is saved by its
        ``torch.optim`` name (other optimizer classes are refused).

        Parameters
        ----------
        path : str or os.PathLike
            Destination folder, created if needed.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        from ._persistence import save_estimator

        return save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save`.

        Only JSON and safetensors files are read: nothing is unpickled, so a
        model from an untrusted source cannot run code. A model trained on a
        device that is missing here (e.g. CUDA) is loaded on the CPU.

        Parameters
        ----------
        path : str or os.PathLike
            The folder written by :meth:`save`.

        Returns
        -------
        SeqAttentionClassifier
            The fitted estimator.
        """
        from ._persistence import load_estimator

        return load_estimator(cls, path)

    def to_onnx(self, path, *, opset_version=None):
        """Export the probability graph to ONNX (needs the ``onnx`` extra).

        The graph's inputs are ``x``, float32 ``(batch, time, n_features)``
        post-padded (real steps of sample ``i`` first, in
        ``x[i, :lengths[i]]``), and ``lengths``, int64 ``(batch,)``; its output
        is ``probabilities`` ``(batch, n_classes)`` in the order of
        ``classes_``. Batch and time are dynamic. Bring other layouts (pre- or
        interior padding, ragged lists) into this one as ``check_sequences``
        does, e.g. with ``sklearn_seqattn._onnx.onnx_inputs(clf, X)``.

        Parameters
        ----------
        path : str or os.PathLike
            Destination ``.onnx`` file.
        opset_version : int or None, default=None
            ONNX opset; None lets torch choose.

        Returns
        -------
        pathlib.Path
            The written file.
        """
        from ._onnx import to_onnx

        return to_onnx(self, path, opset_version=opset_version)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.device != "cpu"
        return tags
