"""SeqAttentionClassifier: the masked attention-LSTM as a scikit-learn classifier."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from ._batching import place_data
from ._data import series_levels, standardization
from ._diagnosis import ChanceLevelWarning, PredictionMismatchWarning
from ._fit_inputs import (
    append_validation_set,
    fine_labels,
    resampled_dataset,
    subset_dataset,
    validation_split,
)
from ._inference import merge_fine_logits
from ._params import (
    check_params,
    is_auto,
    resolve_autocast,
    resolve_batch_size,
    resolve_conv_skip,
    resolve_device,
    resolve_downsample,
    resolve_fixed_filters,
    resolve_front_end,
    resolve_input_dropout,
    resolve_lr_schedule,
    resolve_n_estimators,
    resolve_n_iter_no_change,
    resolve_restore_best_weights,
    resolve_standardize,
    resolve_tol,
)
from ._random import deterministic_algorithms, draw_seed
from ._stopping import best_epoch
from ._threshold import decision_threshold
from ._training import (
    FitData,
    continue_network,
    diagnose,
    fit_ensemble,
    forward_fitted,
    inference_batch_size,
    network_on_meta,
    predict_proba_with,
)
from ._validation import Sequences, check_classification_y, check_sequences
from ._weights import class_weights, loss_weights

__all__ = ["SeqAttentionClassifier"]


def _is_ragged_list(X) -> bool:
    """A non-empty list (or tuple) of sequences, as opposed to a nested list of numbers."""
    return isinstance(X, (list, tuple)) and len(X) > 0 and not np.isscalar(X[0])


class SeqAttentionClassifier(
    ClassNamePrefixFeaturesOutMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
    """Attention-LSTM classifier for padded multivariate sequences.

    Each sequence is standardised (per feature, or per series), optionally
    downsampled, read by a masked convolutional front end (multi-scale or
    plain, see ``front_end``), a per-step feed-forward layer, a stack of
    (bi)directional LSTM layers and optional multi-head self-attention
    blocks, and reduced to one vector by a pooling layer (learned-query
    attention by default) that a linear head reads; with ``conv_skip`` the
    head also reads the front end's mean over time. Padded steps are masked
    everywhere: they never change a prediction. ``n_estimators`` networks
    can be averaged. The network is a PyTorch module trained by a composed
    skorch net (``net_``).

    Parameters
    ----------
    downsample : int or "auto", default="auto"
        Average every ``downsample`` consecutive steps (over real steps only)
        into one before the front end, so long sequences cost less and
        reach the recurrent layers at a length they handle well. "auto"
        picks ``ceil(longest training sequence / 512)``: 1 (no
        downsampling) for sequences of up to 512 steps. Attention weights
        are still returned per original step.
    input_differences : int, default=0
        Append each feature's first ``input_differences`` differences over
        time (0-3: none, the difference between consecutive steps, its
        difference, ...) to every step as further channels, before anything
        else reads the steps (standardisation, downsampling and the front end
        see ``n_features * (1 + input_differences)`` channels; the first step's
        differences are 0). A derivative shows the shape of a series where its
        level hides it, as MultiRocket's first difference and speech's delta
        features do. See ``docs/benchmarks.md``, section 22, for what it
        changed on aeon's univariate sets.
    recurrent_stride : int, default=1
        Average every ``recurrent_stride`` consecutive outputs of the front
        end (over real steps only) into one before the recurrent layers,
        which then run over that many times fewer steps; the front end
        still reads every step, and its mean over time (``conv_skip``) too.
        Attention weights are still returned per original step. On aeon's
        univariate sets of 24-1,460 steps, 4 cut the CPU of a fit by 1.1-1.7x
        and cost 0-0.025 balanced accuracy in cross-validation
        (``docs/benchmarks.md``, section 15), so the default reads every step.
    n_conv_layers : int or "auto", default="auto"
        Number of masked temporal convolution layers (``Conv1d ->
        [batch norm] -> ReLU -> Dropout``) applied to each standardised step
        before the dense front end; padded steps are zeroed before every
        convolution, so padding never changes a prediction. 0 disables
        them. "auto" uses 3 layers where ``front_end`` resolves to "conv"
        (steps of 4-16 features) and none otherwise; see ``n_conv_layers_``.
    conv_channels : int, default=64
        Output channels of each convolution layer (64 scored as 128 did on
        JapaneseVowels and BasicMotions at two thirds of the CPU,
        ``docs/benchmarks.md`` section 18).
    kernel_size : int, default=7
        Width in steps of each convolution (odd).
    conv_batch_norm : bool, default=True
        Batch-normalise each convolution's output over the batch's real
        steps (running estimates at prediction, so padding still never
        changes a prediction).
    conv_skip : bool or "auto", default="auto"
        Also give the classification head the mean over real steps of the
        front end's outputs (global average pooling), past the recurrent
        layers, as LSTM-FCN and InceptionTime do. Ignored without
        convolutions. "auto": with either front end of convolutions. See
        ``conv_skip_``.
    front_end : {"auto", "multiscale", "conv", "none"}, default="auto"
        What reads the standardised steps before the dense layers and the
        LSTM. "multiscale": parallel masked convolutions of widths 39, 19 and
        9 steps (InceptionTime's design, after a 1x1 bottleneck for steps of
        more than 3 features), a max-pool branch and, with
        ``fixed_filters``, hand-crafted rise, fall and peak detectors; then
        depthwise-separable convolutions dilated 2, 4 and 8 times with a
        residual shortcut (LITE's design): a receptive field of 291 steps,
        ``front_end_filters`` channels out. "conv": ``n_conv_layers`` plain
        convolutions of ``conv_channels`` channels and width ``kernel_size``
        (receptive field ``n_conv_layers * (kernel_size - 1) + 1``). "none":
        the dense layers read each step alone. "auto" keeps a plain stack
        when ``n_conv_layers`` is an int (none when 0); otherwise steps of at
        most 3 features get the multi-scale front end, steps of 4-16 features
        the plain stack (3 layers) and wider steps none (each chosen by
        cross-validation on aeon training splits, ``docs/benchmarks.md``
        sections 11 and 18). Every front end is masked: padding never
        changes a prediction. See ``front_end_``.
    front_end_filters : int, default=32
        Filters per branch of the multi-scale front end, and its output width.
    fixed_filters : bool or "auto", default="auto"
        Give the multi-scale front end the 17 non-trainable detectors of
        H-InceptionTime (alternating-sign filters of lengths 2-64 and peak
        shapes of lengths 6-96) on every input feature. "auto": for steps of
        at most 3 features (the cost grows with the number of features).
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
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the standardised
        input at every training step (not at prediction): each epoch sees
        the sequences with fresh noise, so the network cannot memorise the
        training set's noise.
    input_dropout : float or "auto", default="auto"
        Dropout rate on the standardised input values during training: at
        0.2 a random fifth of the values of every batch is set to the
        feature's mean, so the network cannot memorise exact training
        values. "auto" is 0.2, and 0.35 on steps of 32 features or more
        (where most values are noise to memorise), or 0 when
        batch-normalised convolutions read steps of 1-7 features: there a
        dropped value is a large part of a step, and the statistics seen in
        training differ from those at prediction. Before the plain stack of
        steps of 8 features or more the rate holds (without it the stack
        fell on weak events). See ``input_dropout_``.
    label_smoothing : float, default=0.0
        Label smoothing of the loss, in [0, 1).
    loss : {"cross_entropy", "focal"}, default="cross_entropy"
        Training loss, weighted per sample by ``class_weight`` and
        ``sample_weight`` either way. "focal" scales each sample's
        cross-entropy by ``(1 - p_t) ** focal_gamma`` (``p_t`` the predicted
        probability of its class), so that well-classified samples count less.
    focal_gamma : float, default=2.0
        Focusing parameter of the focal loss (0 gives the cross-entropy).
    decision_threshold : None, "auto" or float, default=None
        Binary problems only: ``predict`` returns ``classes_[1]`` when its
        probability is at least this threshold. "auto" chooses it on the
        early-stopping validation split to maximise ``threshold_scoring``
        (no refits, unlike :class:`~sklearn.model_selection.TunedThresholdClassifierCV`);
        None predicts the most probable class.
    threshold_scoring : str or callable, default="balanced_accuracy"
        What ``decision_threshold="auto"`` maximises: "balanced_accuracy",
        "f1", "accuracy", "matthews_corrcoef", "precision", "recall", or a
        callable ``metric(y_true, y_pred)`` on labels.
    sampler : imbalanced-learn sampler or SequenceResampler, default=None
        Resample the training part of the data (after the early-stopping
        validation split, never the validation part) with any
        imbalanced-learn sampler, e.g. ``RandomOverSampler()`` or ``SMOTE()``,
        run on sequences by :class:`~sklearn_seqattn.resampling.SequenceResampler`.
        Copies keep their sample's loss weight; synthetic sequences get the
        mean weight of their class. A sampler without a ``random_state`` gets
        one from this fit's seed.
    standardize : "auto", bool or "per_series", default="auto"
        True: standardise each feature inside the network with the mean and
        standard deviation of the real (non-padded) training steps. The
        statistics are part of the model (saved and exported with it), so
        unscaled input needs no external scaler. "per_series": standardise
        each sequence's features by their own mean and standard deviation
        over its real steps (what the UCR loaders of InceptionTime and
        MiniRocket do, and per-utterance normalisation of speech features),
        which discards each series' level and scale: a speaker or a
        recording that shifts every feature can then not be memorised (a
        speaker-disjoint slow contour on 4 of 136 features went from 0.66
        to 0.91 balanced accuracy, ``docs/benchmarks.md``, section 13); it
        starts learning later, so give it patience. "auto": "per_series" on
        steps of 4 features or more whose series hold such levels (their
        means, less their class's mean and the noise's share, carry at
        least a tenth of a feature's variance, and the class explains at
        most a tenth of how the means vary; medians over the features), True
        otherwise (sections 17 and 20). False: feed the values as they are. See
        ``standardize_``.
    mask_value : float, default=0.0
        A step of an array ``X`` whose features all equal ``mask_value`` is
        padding (NaN allowed). Ignored for ragged lists.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, keyed by the original labels.
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    batch_size : int or "auto", default="auto"
        Mini-batch size for training and prediction. "auto" uses
        ``min(64, max(8, n_train // 16))`` for ``n_train`` training
        sequences: 64 from about 1,000 sequences on, smaller batches (so
        at least ~16 optimizer steps per epoch) for small data sets. Larger
        batches do not pay on a CPU: an epoch costs about the same per
        sequence, and more epochs are needed (``docs/benchmarks.md``,
        section 12).
    lr : float, default=2e-3
        Learning rate.
    optimizer : torch.optim.Optimizer subclass, default=torch.optim.AdamW
        Optimizer class.
    early_stopping : bool or "auto", default="auto"
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when neither the validation loss nor the validation score has
        improved for ``n_iter_no_change`` epochs, and restore the weights of
        the epoch with the best validation score (ties: lower loss). Waiting
        for both matters: sequence models often memorise first (validation
        loss rising) before they find the temporal pattern (score rising).
        "auto" does so when the validation split holds at least 50 samples
        (about 500 training sequences at the default fraction), or when
        ``n_init > 1`` or ``decision_threshold="auto"`` need the split;
        smaller data sets train for ``max_epochs`` on all their sequences:
        a few dozen validation samples tell epochs apart too roughly to be
        worth holding out (``docs/benchmarks.md``, section 11).
    validation_fraction : float, default=0.1
        Share of the training data held out when early stopping is on.
    n_iter_no_change : int or "auto", default="auto"
        Patience of early stopping (and of the "plateau" schedule, halved).
        "auto" with a validation split is 60 epochs (weak temporal patterns
        are often found only after a long flat stretch), and 10 from 2,048
        training sequences on, where an epoch holds many updates; without a
        split it is 20, the "plateau" schedule's window (see
        ``n_iter_no_change_``).
    tol : float or "auto", default="auto"
        How much the validation loss must fall below its best (in absolute
        terms, as well as by a relative 1e-4) for early stopping to count an
        epoch as a gain, as in scikit-learn's ``MLPClassifier``. "auto" is
        1e-3 from 2,048 training sequences on, where the loss keeps creeping
        down by ten-thousandths long after the score has settled, and 0
        below (see ``tol_``; ``docs/benchmarks.md``, section 12).
    restore_best_weights : bool or "auto", default="auto"
        Restore, at the end of training, the weights of the best epoch: with
        a validation split the best validation score (ties: lower loss),
        without one the lowest training loss (the recipe of InceptionTime and
        FCN). False keeps the last epoch's weights. "auto" restores (chosen
        by cross-validation on aeon training splits for each front end,
        ``docs/benchmarks.md``, sections 11, 16 and 18). See
        ``restore_best_weights_``.
    lr_schedule : {"auto", None, "plateau", "cosine"}, default="auto"
        "plateau" halves the learning rate when the monitored loss (the
        validation loss, else the training loss) stalls for
        ``n_iter_no_change // 2`` epochs; "cosine" anneals it to zero over
        ``max_epochs``; None keeps it constant. "auto" is "plateau" on fits
        without a validation split (with ``restore_best_weights``, the recipe
        of InceptionTime, LITE and FCN) and None with one, where early
        stopping ends the fit. See ``lr_schedule_``.
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
    autocast : bool or "auto", default=False
        Run forward passes under bfloat16 autocast (CPU or CUDA): faster on
        hardware with bfloat16 units, at a small cost in precision. "auto"
        turns it on only where the hardware computes in bfloat16 natively
        (CUDA compute capability 8.0 or later; CPUs with AVX512-BF16 or
        AMX-BF16), where bfloat16 is not emulated.
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
        Values above 0 show a progress bar over the batches of each epoch
        (skorch's tqdm bar, on stderr) and print the table of epochs (losses,
        validation score, time) as training goes.
    warm_start : bool, default=False
        Continue training the fitted network on the next call to ``fit``
        instead of starting afresh.
    n_init : int or "auto", default="auto"
        Number of networks trained from different initialisations (and batch
        orders); the one with the best validation score (ties: lower
        validation loss) is kept, as ``n_init`` does in
        :class:`~sklearn.cluster.KMeans`. Costs ``n_init`` fits; an int above
        1 needs a validation split (``early_stopping`` True or "auto").
        "auto" trains one network and, only if :attr:`fit_diagnosis_` says
        it failed (chance level or collapsed, on the validation split, or on
        the training data without one), another, up to 3 in all: a fit
        that learns costs one training, one that fails costs three. A
        "mismatch" verdict comes from the settings, so it is not retried. With
        early stopping and ``n_iter_no_change="auto"`` each retry waits
        twice as long as the one before (weak patterns can appear late).
    n_estimators : int or "auto", default="auto"
        Number of networks trained from different seeds (each with its own
        ``n_init`` restarts) whose probabilities are averaged, as
        InceptionTime's ensembles do. ``predict_proba``, ``predict``,
        ``attention_weights`` (the members' mean), ``transform`` (the
        members' embeddings side by side), ``save``/``load`` and ``to_onnx``
        work on the ensemble as on one network; the fit costs
        ``n_estimators`` trainings (``n_jobs`` trains them side by side).
        "auto" trains 3 where the training sequences hold at most 65,536
        real steps after downsampling (e.g. 650 sequences of 100 steps),
        where one network is cheap and depends most on its seed, and 1 above
        (and with ``warm_start``). :attr:`n_estimators_` holds the choice.
        An int above 1 is not combined with ``warm_start``.
    n_jobs : int or None, default=None
        Worker processes that train the ensemble's members (or, with one
        member, an int ``n_init``'s restarts) at the same time on a CPU, as
        joblib counts them: None means 1 unless inside a
        :func:`joblib.parallel_config` context, -1 all cores. Each worker
        gets its share of torch's threads; a fit's result depends only on
        the seeds and on the threads each network trains on, so it equals
        the serial fit run with that many threads. On a GPU, and for
        ``n_init="auto"`` (which decides after each network whether to train
        another), networks train one after the other.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    downsample_ : int
        The downsampling factor used (``downsample`` with "auto" resolved).
    front_end_ : {"multiscale", "conv", "none"}
        The front end used (``front_end`` with "auto" resolved).
    n_conv_layers_ : int
        The number of plain convolution layers used (0 unless ``front_end_``
        is "conv").
    fixed_filters_ : bool
        Whether the multi-scale front end has the hand-crafted filters.
    conv_skip_ : bool
        Whether the head also reads the front end's mean over time.
    input_dropout_ : float
        The input dropout rate used (``input_dropout`` with "auto" resolved).
    standardize_ : bool or "per_series"
        The input scaling used (``standardize`` with "auto" resolved).
    device_ : str
        The torch device the network was trained on (``device`` with "auto"
        resolved).
    autocast_ : bool
        Whether training ran under bfloat16 autocast (``autocast`` with
        "auto" resolved for ``device_``). Prediction resolves "auto" again
        for the device it runs on, which may be another machine's.
    n_init_ : int
        Number of networks the fit trained: every initialisation of every
        ensemble member (``n_init="auto"`` retries only failed fits).
    early_stopping_ : bool
        Whether the last fit held out a validation split (``early_stopping``
        with "auto" resolved; ``n_init > 1`` and
        ``decision_threshold="auto"`` force one).
    restore_best_weights_ : bool
        Whether the best epoch's weights were restored.
    lr_schedule_ : {None, "plateau", "cosine"}
        The learning-rate schedule used (``lr_schedule`` with "auto"
        resolved).
    batch_size_ : int
        The mini-batch size used (``batch_size`` with "auto" resolved).
    n_iter_no_change_ : int
        The patience used (``n_iter_no_change`` with "auto" resolved).
    tol_ : float
        The absolute tolerance of early stopping (``tol`` with "auto"
        resolved).
    fine_classes_ : ndarray of shape (n_outputs,)
        Labels of the network's outputs: the fine labels when ``fit`` was
        given ``y_fine``, else ``classes_``.
    fine_to_coarse_ : ndarray of int of shape (n_outputs,)
        Index into ``classes_`` of each entry of ``fine_classes_``.
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
    threshold_ : float or None
        The decision threshold ``predict`` applies to ``classes_[1]``'s
        probability (binary problems with ``decision_threshold`` set), else
        None (the most probable class is predicted).
    best_epoch_ : int or None
        With early stopping, the epoch (as numbered in ``history_``) whose
        weights were restored: the best validation score, ties broken by the
        lower validation loss. None without early stopping.
    n_iter_ : int
        Number of epochs run by the last call to ``fit`` (by the kept network,
        with ``n_init > 1``).
    fit_diagnosis_ : FitDiagnosis
        Whether the fit learned: ``fit_diagnosis_.verdict`` is "learned",
        "inconclusive" (a validation split too small to tell), "chance" or
        "collapsed" (computed on the validation split, or on the training data
        without early stopping), or "mismatch" (the model predicts its own
        training series far worse than training fitted them: dropout or batch
        normalisation acts too differently at prediction). For "chance" and
        "collapsed" ``fit`` also issues a :class:`ChanceLevelWarning`, for
        "mismatch" a :class:`PredictionMismatchWarning` (a subclass), whose
        message names likely causes and what to try.
    init_scores_ : list of float
        With early stopping, the best validation score of each initialisation
        trained (one entry when ``n_init=1``, or when "auto" stopped after
        the first); with ``n_estimators > 1``, one such list per member.
    n_estimators_ : int
        The number of networks trained (``n_estimators`` resolved).
    member_diagnoses_ : list of FitDiagnosis
        The diagnosis of each ensemble member alone (one entry without an
        ensemble); ``fit_diagnosis_`` judges the averaged ensemble.

    Examples
    --------
    >>> from sklearn_seqattn import SeqAttentionClassifier
    >>> from sklearn_seqattn.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=120, n_timesteps=20, random_state=0)
    >>> clf = SeqAttentionClassifier(lstm_units=8, max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    # Metadata routing: ``groups`` given to a CV splitter is not passed to fit unless
    # asked for with ``set_fit_request(groups=True)`` (a group-aware validation split).
    __metadata_request__fit = {"groups": False}  # noqa: RUF012

    def __init__(
        self,
        *,
        downsample="auto",
        input_differences=0,
        recurrent_stride=1,
        n_conv_layers="auto",
        conv_channels=64,
        kernel_size=7,
        conv_batch_norm=True,
        conv_skip="auto",
        front_end="auto",
        front_end_filters=32,
        fixed_filters="auto",
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
        input_noise=0.0,
        input_dropout="auto",
        label_smoothing=0.0,
        loss="cross_entropy",
        focal_gamma=2.0,
        decision_threshold=None,
        threshold_scoring="balanced_accuracy",
        sampler=None,
        standardize="auto",
        mask_value=0.0,
        class_weight=None,
        max_epochs=200,
        batch_size="auto",
        lr=2e-3,
        optimizer=torch.optim.AdamW,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change="auto",
        tol="auto",
        restore_best_weights="auto",
        lr_schedule="auto",
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
        n_init="auto",
        n_estimators="auto",
        n_jobs=None,
    ):
        self.downsample = downsample
        self.input_differences = input_differences
        self.recurrent_stride = recurrent_stride
        self.n_conv_layers = n_conv_layers
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.conv_batch_norm = conv_batch_norm
        self.conv_skip = conv_skip
        self.front_end = front_end
        self.front_end_filters = front_end_filters
        self.fixed_filters = fixed_filters
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
        self.input_noise = input_noise
        self.input_dropout = input_dropout
        self.label_smoothing = label_smoothing
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.decision_threshold = decision_threshold
        self.threshold_scoring = threshold_scoring
        self.sampler = sampler
        self.standardize = standardize
        self.mask_value = mask_value
        self.class_weight = class_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.restore_best_weights = restore_best_weights
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
        self.n_init = n_init
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        y_fine=None,
        groups=None,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
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
        y_fine : array-like of shape (n_samples,), default=None
            Finer labels that refine ``y`` (each fine label belongs to one
            class of ``y``), e.g. the original classes behind a merged class.
            The network is trained to tell the fine labels apart; predictions,
            ``classes_``, ``class_weight`` and the validation score stay on
            ``y``, a class's probability being the sum of its fine labels'.
            In :class:`~sklearn.pipeline.Pipeline` pass it as
            ``clf__y_fine=...``; :class:`~sklearn.model_selection.GridSearchCV`
            splits it with ``X`` and ``y``.
        groups : array-like of shape (n_samples,), default=None
            Group of each sequence (speaker, subject, session). With early
            stopping, the validation split then holds whole groups: no group
            is on both sides (a stratified group split, as
            :class:`~sklearn.model_selection.StratifiedGroupKFold` makes).
            With metadata routing, ``groups`` passed to a cross-validation
            reach ``fit`` only after ``set_fit_request(groups=True)``.
        X_val, y_val : default=None
            A validation set of your own for early stopping, instead of a
            split of ``X``: every sequence of ``X`` is trained on. As for
            :class:`~sklearn.ensemble.HistGradientBoostingClassifier`, needs
            ``early_stopping=True``; ``y_val`` may only hold classes of ``y``.
            Not combined with ``y_fine``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation sequences in the validation loss.

        Returns
        -------
        self : SeqAttentionClassifier

        Notes
        -----
        Interrupting training (Ctrl-C, or a callback raising
        ``KeyboardInterrupt``) ends ``fit`` early without an exception: skorch
        stops at once and runs its end-of-training callbacks. With
        ``early_stopping=True`` the weights of the epoch with the best
        validation score so far (ties: lower validation loss) are restored
        and those of an unfinished epoch are discarded; without a split,
        ``restore_best_weights_`` restores the epoch of the lowest training
        loss so far, or else (and before any epoch has finished) the weights
        at the moment of interruption are kept.
        ``history_`` and ``n_iter_`` include the interrupted epoch; the model
        can then predict, be saved and be pickled. Other exceptions propagate
        and leave the estimator exactly as it was before the call (unfitted,
        or fitted by the previous call); the caller's random state and torch's
        deterministic flags are restored either way. A loss that becomes
        non-finite (NaN or infinite) stops training with a ``ValueError``.

        With ``warm_start=True`` a second call continues from the fitted
        weights (and optimizer state) for ``max_epochs`` more epochs; every
        training setting (``lr``, ``batch_size``, ``weight_decay``,
        ``early_stopping``, ``lr_schedule``, ``gradient_clip``, ``scoring``,
        ``callbacks``...) is taken from the current parameters, and changing
        the architecture raises a ``ValueError``.
        """
        # The work is done on a shallow copy (the same parameters): on any exception
        # this estimator is left as it was, and the new fitted state replaces the old in
        # one step, so a thread predicting meanwhile sees the old model or the new one,
        # never a mix. A warm start trains a new net and leaves the fitted one as it was.
        work = copy.copy(self)
        work._fit(X, y, sample_weight, y_fine, groups, X_val, y_val, sample_weight_val)
        self.__dict__.update(vars(work))
        return self

    def _fit(self, X, y, sample_weight, y_fine, groups, X_val, y_val, sample_weight_val):
        """The work of :meth:`fit`, done on a copy of the estimator."""
        check_params(self)
        device = resolve_device(self.device)
        continuing = self.warm_start and hasattr(self, "net_")
        if continuing and getattr(self, "n_estimators_", 1) > 1:
            raise ValueError(
                "warm_start=True continues one fitted network; this estimator holds an "
                f"ensemble of {self.n_estimators_} (n_estimators_). Set warm_start=False to "
                "train afresh, or fit with n_estimators=1 before continuing."
            )
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
        if self.decision_threshold is not None and len(classes) != 2:
            # Refused before training, not after it.
            raise ValueError(
                f"decision_threshold applies to binary problems; y has {len(classes)} classes."
            )
        fine_classes, fine_idx, fine_to_coarse = fine_labels(y_fine, y_idx, classes, len(y))
        if continuing and not np.array_equal(fine_classes, self.fine_classes_):
            raise ValueError(
                "warm_start=True needs the fine labels seen before, "
                f"{self.fine_classes_.tolist()}; y_fine holds {fine_classes.tolist()}."
            )
        class_weight = class_weights(self.class_weight, classes, y)
        weights = loss_weights(class_weight, y_idx, sample_weight)
        seed = draw_seed(self.random_state)
        if X_val is not None or y_val is not None:
            # The user's validation set joins the data; its indices form the split.
            seqs, y_idx, weights, train_idx, valid_idx = append_validation_set(
                self,
                seqs,
                y_idx,
                weights,
                classes,
                class_weight,
                y_fine,
                X_val,
                y_val,
                sample_weight_val,
            )
        else:
            train_idx, valid_idx = validation_split(self, y_idx, seed, groups)

        self.classes_ = classes
        self.class_weight_ = class_weight
        self.fine_classes_, self.fine_to_coarse_ = fine_classes, fine_to_coarse
        self.batch_size_ = resolve_batch_size(self.batch_size, len(train_idx))
        self.tol_ = resolve_tol(self.tol, len(train_idx))
        self.device_ = device
        self.autocast_ = resolve_autocast(self.autocast, device)
        self.early_stopping_ = valid_idx is not None
        self.n_iter_no_change_ = resolve_n_iter_no_change(
            self.n_iter_no_change, len(train_idx), self.early_stopping_
        )
        n_features = seqs.data.shape[2]
        downsample = resolve_downsample(self.downsample, seqs.lengths[train_idx])
        front_end = resolve_front_end(self.front_end, self.n_conv_layers, n_features)
        fixed_filters = resolve_fixed_filters(self.fixed_filters, n_features)
        if continuing and is_auto(self.standardize):
            standardize = self.standardize_  # kept, like the "auto" choices below
        else:
            standardize = resolve_standardize(
                self.standardize, n_features, lambda: series_levels(seqs, train_idx, y_idx)
            )
        if continuing:
            # "auto" keeps the fitted network's choice; an explicit setting that differs
            # from it is refused when the network is rebuilt (continue_network).
            if is_auto(self.downsample):
                downsample = self.downsample_
            if is_auto(self.front_end) and is_auto(self.n_conv_layers):
                front_end = (self.front_end_, self.n_conv_layers_)
            if is_auto(self.fixed_filters):
                fixed_filters = self.fixed_filters_
        self.downsample_ = downsample
        # A warm start continues one network: "auto" resolves to 1 there, and an int above 1
        # was refused by check_params.
        self.n_estimators_ = resolve_n_estimators(
            self.n_estimators, self.warm_start, seqs.lengths[train_idx], downsample
        )
        self.front_end_, self.n_conv_layers_ = front_end
        self.fixed_filters_ = fixed_filters
        self.standardize_ = standardize
        self.conv_skip_ = resolve_conv_skip(self.conv_skip, self.front_end_)
        self.restore_best_weights_ = resolve_restore_best_weights(self.restore_best_weights)
        self.lr_schedule_ = resolve_lr_schedule(self.lr_schedule, self.early_stopping_)
        self.input_dropout_ = resolve_input_dropout(
            self.input_dropout, self.front_end_ != "none", self.conv_batch_norm, n_features
        )
        # A network too large to build is refused before any work.
        network_on_meta(self, seqs.data.shape[2], self.n_estimators_)
        # One copy of the data for the whole fit: the splits index into it (on a GPU
        # with room for it, the copy lives there).
        data = place_data(seqs.data, device)
        targets = (y_idx, fine_idx, weights)
        if self.sampler is None:
            train_ds = subset_dataset(data, seqs.lengths, *targets, train_idx)
        else:
            train_ds = resampled_dataset(self, seqs, *targets, train_idx, seed)
        valid_ds = None
        if valid_idx is not None:
            valid_ds = subset_dataset(data, seqs.lengths, *targets, valid_idx)
        fit_data = FitData(seqs, y_idx, fine_idx, weights, train_idx, valid_idx, train_ds, valid_ds)
        if self.standardize_ is True and not continuing:
            fit_data.stats = standardization(seqs, train_idx, differences=self.input_differences)

        with deterministic_algorithms(self.deterministic, device):
            if continuing:
                n_before = len(self.net_.history)
                net = continue_network(self, fit_data, device, seed)
                self.n_iter_ = len(net.history) - n_before
                self.fit_diagnosis_ = diagnose(self, net, fit_data, n_before)
            else:
                net, self.init_scores_, self.member_diagnoses_, self.fit_diagnosis_ = fit_ensemble(
                    self, fit_data, device, seed
                )
                self.n_iter_ = len(net.history)
        if not continuing:
            self.n_init_ = sum(len(scores) for scores in self.init_scores_)
            if self.n_estimators_ == 1:
                self.init_scores_ = self.init_scores_[0]
        self.net_ = net
        self.history_ = net.history
        self.best_epoch_ = best_epoch(net.history, len(net.history) - self.n_iter_)
        self.threshold_ = decision_threshold(self, seqs, y_idx, valid_idx)
        if self.fit_diagnosis_.failed:
            mismatch = self.fit_diagnosis_.verdict == "mismatch"
            warnings.warn(
                f"{type(self).__name__} did not learn: {self.fit_diagnosis_}",
                PredictionMismatchWarning if mismatch else ChanceLevelWarning,
                stacklevel=3,  # the caller of fit
            )
        return self

    # ------------------------------------------------------------ predict
    def _check_fitted_input(self, X) -> Sequences:
        check_is_fitted(self, "net_")
        # Parameters may have been changed with set_params since fit.
        check_params(self)
        return check_sequences(X, mask_value=self.mask_value, estimator=self, reset=False)

    def _forward(self, seqs: Sequences, return_attention: bool = False, pooled=False):
        """Run the fitted module over ``seqs``; see ``forward_sequences``."""
        return forward_fitted(
            self, self.net_.module_, seqs, return_attention=return_attention, pooled=pooled
        )

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

        Notes
        -----
        A ragged list is validated and padded batch by batch, shortest
        sequences first, so one long sequence does not pad all the others.
        """
        (proba,) = self._outputs(
            X, lambda seqs: (predict_proba_with(self, self.net_.module_, seqs),)
        )
        return proba

    def _outputs(self, X, compute) -> tuple:
        """``compute(seqs)`` (a tuple of arrays, one row per sequence) on the checked ``X``.

        The one path of every prediction method. A ragged list is validated,
        padded and run batch by batch, shortest sequences first, so one long
        sequence does not pad all the others and memory stays bounded by the
        batch (and by the outputs themselves); outputs with time axes are
        zero-padded to the longest sequence.
        """
        if not _is_ragged_list(X):
            return compute(self._check_fitted_input(X))
        check_is_fitted(self, "net_")
        check_params(self)
        try:
            lengths = np.array([len(item) for item in X])
        except TypeError:  # not sized: the full check says what is wrong
            return compute(self._check_fitted_input(X))
        order = np.argsort(lengths, kind="stable")
        batch_size = inference_batch_size(self)
        parts = []
        for start in range(0, len(X), batch_size):
            index = order[start : start + batch_size]
            try:
                seqs = check_sequences(
                    [X[i] for i in index], mask_value=self.mask_value, estimator=self
                )
            except (TypeError, ValueError):
                # Re-check the whole list, for a message with the sequence's own index;
                # it stops at the faulty sequence, before padding anything.
                self._check_fitted_input(X)
                raise
            parts.append((index, compute(seqs)))
        outputs = []
        for k, first in enumerate(parts[0][1]):
            shape = np.max([part[k].shape for _, part in parts], axis=0)
            out = np.zeros((len(X), *shape[1:]), dtype=first.dtype)
            for index, part in parts:
                where: tuple[Any, ...] = (index, *(slice(0, d) for d in part[k].shape[1:]))
                out[where] = part[k]
            outputs.append(out)
        return tuple(outputs)

    def decision_function(self, X) -> np.ndarray:
        """Class scores (logits): the larger, the more likely.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the log-odds of ``classes_[1]`` (positive means
            ``classes_[1]`` is predicted), as scikit-learn's binary classifiers
            return; otherwise one logit per class, in the order of
            ``classes_``. With fine labels a class's score is the log-sum-exp
            of its fine labels' logits.
        """

        def scores_of(seqs):
            logits = torch.from_numpy(self._forward(seqs)).double()
            return (merge_fine_logits(logits, self.fine_to_coarse_, len(self.classes_)).numpy(),)

        (scores,) = self._outputs(X, scores_of)
        return scores[:, 1] - scores[:, 0] if len(self.classes_) == 2 else scores

    def transform(self, X) -> np.ndarray:
        """The pooled representation of each sequence, as the head reads it.

        Feeds other estimators (a linear model, a nearest-neighbour search,
        a stacking ensemble) with what the network learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features), \
(n_samples, n_timesteps) or list of arrays of shape (n_timesteps_i, n_features)
            Sequences, as in :meth:`fit`.

        Returns
        -------
        ndarray of float32 of shape (n_samples, width)
            ``width`` is ``lstm_units * (2 if bidirectional else 1)``, plus
            the front end's width with ``conv_skip`` (``front_end_filters``,
            or ``conv_channels`` for plain convolutions), times
            ``n_estimators``; column names are given by
            :meth:`get_feature_names_out`.
        """
        (embeddings,) = self._outputs(X, lambda seqs: (self._forward(seqs, pooled=True),))
        return embeddings

    @property
    def _n_features_out(self) -> int:
        """Width of :meth:`transform`'s output (for ``get_feature_names_out``)."""
        return self.net_.module_.pooled_size

    def predict(self, X) -> np.ndarray:
        """Predicted class labels, of shape (n_samples,)."""
        proba = self.predict_proba(X)  # checks fitted state before classes_ is read
        threshold = getattr(self, "threshold_", None)
        if threshold is not None:
            return self.classes_[(proba[:, 1] >= threshold).astype(int)]
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

        def attention_of(seqs):
            _, pool_w, maps = self._forward(seqs, return_attention=True)
            if not return_layer_maps:
                return (seqs.scatter_steps(pool_w),)
            return (seqs.scatter_steps(pool_w), *(seqs.scatter_pairs(m) for m in maps))

        weights, *maps = self._outputs(X, attention_of)
        return (weights, maps) if return_layer_maps else weights

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
        interior padding, ragged lists) into this one as ``fit`` reads them
        with :func:`sklearn_seqattn.onnx_inputs` (``onnx_inputs(clf, X)``).
        The metadata entry ``decision_threshold`` holds ``threshold_`` (or
        "none"): ``predict`` gives ``classes_[1]`` where the probability of
        ``classes_[1]`` reaches it.

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
        # transform returns the float32 embeddings the network computes.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
