"""Validation of the estimator's hyper-parameters, run at the start of ``fit``."""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np
import torch
from sklearn import metrics
from skorch.callbacks import Callback

from ._differences import MAX_INPUT_DIFFERENCES
from ._module import POOLINGS

__all__ = [
    "LOSSES",
    "LR_SCHEDULES",
    "THRESHOLD_METRICS",
    "check_params",
    "optimizer_kwargs",
    "resolve_batch_size",
    "resolve_device",
    "resolve_downsample",
    "resolve_n_iter_no_change",
    "resolve_tol",
]

# Sizes a network may have: checked before training, and by load() on saved configs.
MAX_WIDTH = 2**20  # every width, n_features_in, the downsampling factor
MAX_LAYERS = 128  # each n_*_layers
MAX_WEIGHTS = 2**31  # weights of the whole network (8 GiB of float32)
MAX_ESTIMATORS = 1000
# downsample="auto" keeps at most this many steps of the longest training sequence. 512:
# in cross-validation twice the resolution of 256 gained on OSULeaf (427 steps: 0.83 -> 0.88)
# and ACSF1 (1,460: 0.50 -> 0.66), tied on PickupGestureWiimoteZ (361), at about twice the
# CPU of those fits (docs/benchmarks.md section 11, round 18).
AUTO_DOWNSAMPLE_STEPS = 512
# early_stopping="auto" holds out a validation split of at least this many samples,
# or none: below it, stopping on the split lost more than the held-out sequences are
# worth (splits of 20-27 cost JapaneseVowels 0.022 and OSULeaf 0.040 in cross-validation,
# docs/benchmarks.md section 11); splits of about 100 are what the larger defaults use.
AUTO_MIN_VALIDATION = 50
# input_dropout="auto" without batch-normalised convolutions: AUTO_INPUT_DROPOUT, and
# AUTO_WIDE_INPUT_DROPOUT on steps of at least AUTO_WIDE_FEATURES features, where most values
# are noise to memorise (event order at strength 1.5, 136 features: 0.86 -> 0.93 on fresh
# data; BasicMotions' 6 features lost 0.05 in cross-validation, JapaneseVowels' 12 tied;
# docs/benchmarks.md section 11, round 16).
AUTO_INPUT_DROPOUT = 0.2
AUTO_WIDE_INPUT_DROPOUT = 0.35
AUTO_WIDE_FEATURES = 32
# Before batch-normalised convolutions "auto" gives no input dropout on steps of fewer than
# AUTO_CONV_DROPOUT_MIN_FEATURES features: a dropped value is more than an eighth of a step,
# and batch normalisation sees other statistics in training than at prediction. GunPoint
# (1 feature) lost most of its accuracy with it; on four channels (long univariate sets and
# their first three differences over time) the plain stack fell from 0.690 to 0.236 on ACSF1
# and from 0.949 to 0.936 on OSULeaf; BasicMotions (6) tied. From 8 features the rate holds:
# without it the stack fell on weak events on 4 of 8 features (0.995 -> 0.958) and of 16
# (0.984 -> 0.759; docs/benchmarks.md sections 19 and 21).
AUTO_CONV_DROPOUT_MIN_FEATURES = 8
# standardize="auto": each series by its own statistics on steps of more than
# AUTO_CONV_MAX_FEATURES features whose series hold levels of their own (a speaker's or a
# recording's offset) of at least AUTO_PER_SERIES_NUISANCE of a feature's variance, of which
# the class explains at most AUTO_PER_SERIES_BY_CLASS (medians over the features; see
# series_levels); the data set's statistics otherwise, where the network can memorise the
# speakers. Speaker-disjoint slow contour, fresh data: at a nuisance share of 0.06 the two
# tie (0.903 / 0.915), at 0.19 per-series scaling gains 0.065, at 0.49 0.25; independent
# noise gives 0. JapaneseVowels (the class is the speaker: 0.30 nuisance, 0.56 by class)
# and BasicMotions (0.00, 0.50) lost 0.07-0.22 with per-series scaling (docs/benchmarks.md,
# sections 16 and 17). Chosen for steps of 32 features or more, then for every width of the
# dense layers or the plain stack (section 20: the contour on 8-16 features, 0.72-0.81 ->
# 0.955-0.961; every aeon set and every order task still resolves to the data set's
# statistics). Steps of 1-3 features (the multi-scale front end) were not measured.
AUTO_PER_SERIES_NUISANCE = 0.1
AUTO_PER_SERIES_BY_CLASS = 0.1
# n_conv_layers="auto": this many layers for steps of at most this many features.
AUTO_CONV_LAYERS = 3
AUTO_CONV_MAX_FEATURES = 3

LR_SCHEDULES = ("auto", None, "plateau", "cosine")
FRONT_ENDS = ("auto", "multiscale", "conv", "none")
# front_end="auto" for steps of at most AUTO_CONV_MAX_FEATURES features.
AUTO_FEW_FEATURE_FRONT_END = "multiscale"
# front_end="auto" for steps of more features, up to AUTO_STACK_MAX_FEATURES: the plain
# stack, its mean reaching the head, chosen in round 30 (JapaneseVowels, 12 features,
# 0.972/0.967 -> 0.987/0.985 over two seed pairs; BasicMotions, 6, 1.000/0.986 -> 1.000/1.000;
# docs/benchmarks.md section 18). Wider steps keep the dense layers alone: on 20 features the
# stack lost the event-order check on five of five seeds (1.000 -> 0.992) and tied the motif
# one at 2.7x the CPU; 16 lies between the widths that gained and the one that lost.
AUTO_MID_FEATURE_FRONT_END = "conv"
AUTO_STACK_MAX_FEATURES = 16
# restore_best_weights="auto" and lr_schedule="auto" on fits without a validation split: the
# recipe of InceptionTime, LITE and FCN (halve the rate on a plateau of the training loss,
# keep the weights of the lowest training loss), chosen by cross-validation with the
# multi-scale front end, then for the dense one in round 26 (JapaneseVowels +0.016/+0.002,
# BasicMotions +0.028/+0.021 over two seed pairs; docs/benchmarks.md section 16) and the plain
# stack in round 30 (section 18).
AUTO_SCHEDULE_WITHOUT_SPLIT = "plateau"
# n_iter_no_change="auto". With a validation split: AUTO_SPLIT_PATIENCE epochs, where weak
# temporal patterns are often found only after a long flat stretch (20 epochs stopped 2 of 5
# event-order fits of 1,000 sequences before they had learned, 0.878 against 0.941 at 60;
# docs/benchmarks.md, section 13), and AUTO_LARGE_PATIENCE from AUTO_LARGE_FIT training
# sequences on, where an epoch holds many more updates (section 12). Without a split it is
# only the "plateau" schedule's window (halved): AUTO_PATIENCE, as the recipe was
# cross-validated.
AUTO_LARGE_FIT = 2048
AUTO_PATIENCE = 20
AUTO_SPLIT_PATIENCE = 60
AUTO_LARGE_PATIENCE = 10
# tol="auto": there the validation loss keeps creeping down by ten-thousandths long after the
# score has settled (replayed on recorded histories, docs/benchmarks.md, section 12); below,
# no absolute tolerance, as the cross-validated defaults were chosen.
AUTO_LARGE_TOL = 1e-3
# n_estimators="auto": AUTO_ENSEMBLE networks where the training split holds at most
# AUTO_ENSEMBLE_STEPS real steps after downsampling (a cheap fit, whose single network
# depends most on its seed), one network above. Chosen by cross-validation on the training
# splits (docs/benchmarks.md, section 14): the six aeon sets of 1,600-9,000 steps gained on
# 11 of 12 seed pairs (+0.010 on average, PickupGestureWiimoteZ +0.037), ACSF1 (48,700
# steps) on 3 of 4 seeds (+0.026, at 3x its 140 s of CPU). 65,536 covers them with room;
# OSULeaf (85,400) and the synthetic and reference-scale tasks (100,000 and more) were not
# probed and keep one network.
AUTO_ENSEMBLE = 3
AUTO_ENSEMBLE_STEPS = 65_536
LOSSES = ("cross_entropy", "focal")
# Metrics a decision threshold can be tuned for: name -> metric(y_true, y_pred).
THRESHOLD_METRICS = {
    "balanced_accuracy": metrics.balanced_accuracy_score,
    "f1": metrics.f1_score,
    "accuracy": metrics.accuracy_score,
    "matthews_corrcoef": metrics.matthews_corrcoef,
    "precision": metrics.precision_score,
    "recall": metrics.recall_score,
}
_BOOL_OR_AUTO_PARAMS = (
    "autocast",
    "early_stopping",
    "fixed_filters",
    "restore_best_weights",
    "conv_skip",
)
_BOOL_PARAMS = (
    "bidirectional",
    "conv_batch_norm",
    "bucket_by_length",
    "deterministic",
    "warm_start",
)


def _check_int(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}.")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {value}.")


def _check_choice(name, value, choices) -> None:
    """``value`` must be one of ``choices`` (strings, or None): compared only if hashable-safe."""
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}.")


def is_auto(value) -> bool:
    """Whether a parameter is the string "auto" (False for numbers, booleans, NumPy scalars)."""
    return isinstance(value, str) and value == "auto"


def is_off(value) -> bool:
    """Whether a bool-or-"auto" parameter is off: False or ``np.False_``, never "auto"."""
    return not is_auto(value) and not value


def _check_int_or_auto(name, value, low, high=None):
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"{name} must be 'auto' or an int >= {low}, got {value!r}.")
        return
    _check_int(name, value, low, high)


def _check_real(name, value, low, high=None, *, low_open=False, high_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or np.isnan(value):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    too_low = value <= low if low_open else value < low
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        upper = "inf)" if high is None else f"{high}{right}"
        raise ValueError(f"{name} must be in {left}{low}, {upper}, got {value}.")


def check_params(est) -> None:
    """Raise ``ValueError``/``TypeError`` naming the first invalid hyper-parameter."""
    _check_int_or_auto("downsample", est.downsample, 1, MAX_WIDTH)
    _check_int("recurrent_stride", est.recurrent_stride, 1, MAX_WIDTH)
    _check_int("input_differences", est.input_differences, 0, MAX_INPUT_DIFFERENCES)
    _check_int_or_auto("n_conv_layers", est.n_conv_layers, 0, MAX_LAYERS)
    _check_int("conv_channels", est.conv_channels, 1, MAX_WIDTH)
    _check_int("kernel_size", est.kernel_size, 1, MAX_WIDTH)
    if est.kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd, got {est.kernel_size}.")
    _check_choice("front_end", est.front_end, FRONT_ENDS)
    _check_int("front_end_filters", est.front_end_filters, 1, MAX_WIDTH)
    _check_int_or_auto("n_estimators", est.n_estimators, 1, MAX_ESTIMATORS)
    if not is_auto(est.n_estimators) and est.n_estimators > 1 and est.warm_start:
        raise ValueError(
            f"warm_start=True continues one fitted network; n_estimators={est.n_estimators} "
            "trains an ensemble afresh at every fit. Use n_estimators=1 or warm_start=False."
        )
    if not (
        isinstance(est.standardize, (bool, np.bool_)) or est.standardize in ("auto", "per_series")
    ):
        raise ValueError(
            f"standardize must be 'auto', True, False or 'per_series', got {est.standardize!r}."
        )
    _check_int_or_auto("n_init", est.n_init, 1, MAX_ESTIMATORS)
    if est.n_jobs is not None:
        _check_int("n_jobs", est.n_jobs, -MAX_ESTIMATORS, MAX_ESTIMATORS)
        if est.n_jobs == 0:
            raise ValueError("n_jobs must be None, a positive int or a negative int; got 0.")
    if est.n_init != "auto" and est.n_init > 1 and is_off(est.early_stopping):
        raise ValueError(
            f"n_init={est.n_init} keeps the initialisation with the best validation score "
            "and needs early_stopping=True (a validation split)."
        )
    _check_real("input_noise", est.input_noise, 0.0, 1e3)
    if not is_auto(est.input_dropout):
        _check_real("input_dropout", est.input_dropout, 0.0, 1.0, high_open=True)
    _check_choice("loss", est.loss, LOSSES)
    _check_real("focal_gamma", est.focal_gamma, 0.0, 10.0)
    if not (est.decision_threshold is None or is_auto(est.decision_threshold)):
        _check_real(
            "decision_threshold", est.decision_threshold, 0.0, 1.0, low_open=True, high_open=True
        )
    scoring = est.threshold_scoring
    if not (callable(scoring) or (isinstance(scoring, str) and scoring in THRESHOLD_METRICS)):
        raise ValueError(
            f"threshold_scoring must be one of {sorted(THRESHOLD_METRICS)} or a callable "
            f"metric(y_true, y_pred), got {est.threshold_scoring!r}."
        )
    _check_real("label_smoothing", est.label_smoothing, 0.0, 1.0, high_open=True)
    _check_int("dense_units", est.dense_units, 1, MAX_WIDTH)
    _check_int("n_dense_layers", est.n_dense_layers, 0, MAX_LAYERS)
    _check_int("lstm_units", est.lstm_units, 1, MAX_WIDTH)
    _check_int("n_lstm_layers", est.n_lstm_layers, 1, MAX_LAYERS)
    _check_int("n_attention_layers", est.n_attention_layers, 0, MAX_LAYERS)
    _check_int("n_heads", est.n_heads, 1, MAX_WIDTH)
    if est.attention_ff_units is not None:
        _check_int("attention_ff_units", est.attention_ff_units, 1, MAX_WIDTH)
    _check_int("max_epochs", est.max_epochs, 1)
    _check_int_or_auto("batch_size", est.batch_size, 1)
    _check_int_or_auto("n_iter_no_change", est.n_iter_no_change, 1)
    if isinstance(est.tol, str) and not is_auto(est.tol):
        raise ValueError(f"tol must be 'auto' or a real number >= 0, got {est.tol!r}.")
    if not is_auto(est.tol):
        _check_real("tol", est.tol, 0.0)
    _check_real("dropout", est.dropout, 0.0, 1.0, high_open=True)
    _check_real("weight_decay", est.weight_decay, 0.0)
    _check_real("lr", est.lr, 0.0, low_open=True)
    _check_real(
        "validation_fraction", est.validation_fraction, 0.0, 1.0, low_open=True, high_open=True
    )
    if est.gradient_clip is not None:
        _check_real("gradient_clip", est.gradient_clip, 0.0, low_open=True)
    _check_choice("pooling", est.pooling, POOLINGS)
    _check_choice("lr_schedule", est.lr_schedule, LR_SCHEDULES)
    width = est.lstm_units * (2 if est.bidirectional else 1)
    if est.n_attention_layers and width % est.n_heads:
        raise ValueError(
            f"n_heads={est.n_heads} must divide the attention width, lstm_units * "
            f"(2 if bidirectional else 1) = {width}."
        )
    if not (isinstance(est.optimizer, type) and issubclass(est.optimizer, torch.optim.Optimizer)):
        received = repr(est.optimizer)
        if isinstance(est.optimizer, torch.optim.Optimizer):
            received = f"an instance of {type(est.optimizer).__name__} (pass the class itself)"
        elif isinstance(est.optimizer, str):
            # Keras habit: optimizer="adam". Name the class to pass instead.
            names = {name.lower(): name for name in dir(torch.optim) if name[:1].isupper()}
            match = names.get(est.optimizer.lower().replace("_", ""))
            if match is not None:
                received += f"; pass the class itself: optimizer=torch.optim.{match}"
        raise TypeError(
            "optimizer must be a torch.optim.Optimizer subclass such as torch.optim.AdamW, "
            f"got {received}."
        )
    if est.weight_decay and not _takes_weight_decay(est.optimizer):
        raise ValueError(
            f"optimizer {est.optimizer.__name__} takes no weight_decay; set weight_decay=0 "
            f"(got {est.weight_decay})."
        )
    if not isinstance(est.class_weight, (type(None), dict, str)) or (
        isinstance(est.class_weight, str) and est.class_weight != "balanced"
    ):
        raise ValueError(
            f"class_weight must be None, 'balanced' or a dict, got {est.class_weight!r}."
        )
    if isinstance(est.class_weight, dict):
        _check_class_weight_dict(est.class_weight)
    for name in _BOOL_PARAMS:
        value = getattr(est, name)
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {value!r}.")
    for name in (
        "autocast",
        "early_stopping",
        "fixed_filters",
        "restore_best_weights",
        "conv_skip",
    ):
        value = getattr(est, name)
        if not (isinstance(value, (bool, np.bool_)) or is_auto(value)):
            raise TypeError(f"{name} must be True, False or 'auto', got {value!r}.")
    if isinstance(est.verbose, bool) or not isinstance(est.verbose, numbers.Integral):
        raise TypeError(f"verbose must be an int, got {est.verbose!r}.")
    if est.verbose < 0:
        raise ValueError(f"verbose must be >= 0, got {est.verbose}.")
    if est.sampler is not None and (
        isinstance(est.sampler, type) or not hasattr(est.sampler, "fit_resample")
    ):
        raise TypeError(
            "sampler must be None or an imbalanced-learn sampler instance (with "
            f"fit_resample), such as RandomOverSampler(), got {est.sampler!r}."
        )
    _check_scoring(est.scoring)
    _check_callbacks(est.callbacks)
    if est.accelerator is not None and not hasattr(est.accelerator, "prepare"):
        raise TypeError(
            f"accelerator must be None or an accelerate.Accelerator, got {est.accelerator!r}."
        )


def _takes_weight_decay(optimizer: type) -> bool:
    return "weight_decay" in inspect.signature(optimizer).parameters


def _check_class_weight_dict(class_weight: dict) -> None:
    for label, weight in class_weight.items():
        if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
            raise TypeError(
                f"class_weight values must be numbers, got {weight!r} for class {label!r}."
            )
        if not np.isfinite(float(weight)) or weight < 0:
            raise ValueError(
                f"class_weight values must be finite and non-negative, got {weight!r} for "
                f"class {label!r}."
            )


def _check_scoring(scoring) -> None:
    if callable(scoring):
        return
    if not isinstance(scoring, str):
        raise TypeError(f"scoring must be a scorer name or a callable, got {scoring!r}.")
    from sklearn.metrics import get_scorer_names

    if scoring not in get_scorer_names():
        raise ValueError(
            f"scoring must be a scikit-learn scorer name (see "
            f"sklearn.metrics.get_scorer_names()) or a callable, got {scoring!r}."
        )


# Names of the callbacks the estimator and skorch add themselves: a user callback of the
# same name would silently replace one (skorch keeps the last of a name).
RESERVED_CALLBACK_NAMES = (
    "finite_loss",
    "valid_score",
    "early_stopping",
    "restore_best_weights",
    "gradient_clip",
    "lr_schedule",
    "epoch_timer",
    "train_loss",
    "valid_loss",
    "valid_acc",
    "print_log",
)


def _check_callbacks(callbacks) -> None:
    if callbacks is None:
        return
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be None or a list of skorch callbacks, got {callbacks!r}.")
    for i, item in enumerate(callbacks):
        if isinstance(item, tuple) and len(item) == 2 and item[0] in RESERVED_CALLBACK_NAMES:
            raise ValueError(
                f"callbacks[{i}] is named {item[0]!r}, the name of a callback the estimator "
                f"adds itself, which it would replace; choose another name (reserved: "
                f"{', '.join(RESERVED_CALLBACK_NAMES)})."
            )
        callback = item[1] if isinstance(item, tuple) and len(item) == 2 else item
        if isinstance(item, tuple) and not isinstance(item[0], str):
            callback = None
        is_class = isinstance(callback, type) and issubclass(callback, Callback)
        if not (isinstance(callback, Callback) or is_class):
            raise TypeError(
                f"callbacks[{i}] must be a skorch Callback or a (name, Callback) tuple, "
                f"got {item!r}."
            )


def resolve_downsample(downsample, lengths) -> int:
    """The downsampling factor: ``downsample`` itself, or the "auto" choice for ``lengths``."""
    if downsample != "auto":
        return int(downsample)
    longest = int(np.max(lengths))
    return max(1, -(-longest // AUTO_DOWNSAMPLE_STEPS))


def resolve_n_estimators(n_estimators, warm_start: bool, lengths, downsample: int) -> int:
    """The ensemble's size: ``n_estimators`` itself, or the "auto" choice for the training data.

    ``lengths`` are the training sequences' real lengths, before downsampling by
    ``downsample``. A warm-startable estimator trains one network.
    """
    if not is_auto(n_estimators):
        return int(n_estimators)
    if warm_start:
        return 1
    steps = int(np.sum(-(-np.asarray(lengths, dtype=np.int64) // downsample)))
    return AUTO_ENSEMBLE if steps <= AUTO_ENSEMBLE_STEPS else 1


def optimizer_kwargs(est) -> dict:
    """``optimizer__*`` arguments for the net: weight decay where the optimizer takes it."""
    if _takes_weight_decay(est.optimizer):
        return {"optimizer__weight_decay": est.weight_decay}
    return {}


def resolve_front_end(front_end, n_conv_layers, n_features: int) -> tuple[str, int]:
    """The front end and its number of plain convolution layers, "auto" resolved.

    Returns ``(front_end_, n_conv_layers_)`` with ``front_end_`` one of
    "multiscale", "conv" or "none". "auto" honours an int ``n_conv_layers``
    (a plain stack, none when 0); otherwise steps of at most
    ``AUTO_CONV_MAX_FEATURES`` features get ``AUTO_FEW_FEATURE_FRONT_END``
    (a step of one or a few values says little alone, the shape of its
    neighbourhood says more), steps of at most ``AUTO_STACK_MAX_FEATURES``
    ``AUTO_MID_FEATURE_FRONT_END``, and wider steps none: the dense layers
    read them.
    """
    layers = AUTO_CONV_LAYERS if is_auto(n_conv_layers) else int(n_conv_layers)
    if front_end == "auto":
        if not is_auto(n_conv_layers):
            front_end = "conv" if layers else "none"
        elif n_features <= AUTO_CONV_MAX_FEATURES:
            front_end = AUTO_FEW_FEATURE_FRONT_END
        elif n_features <= AUTO_STACK_MAX_FEATURES:
            front_end = AUTO_MID_FEATURE_FRONT_END
        else:
            front_end = "none"
    if front_end == "conv" and layers:
        return "conv", layers
    return ("none", 0) if front_end in ("conv", "none") else ("multiscale", 0)


def resolve_restore_best_weights(restore_best_weights) -> bool:
    """Whether the best epoch's weights are restored ("auto": yes; those of the best
    validation score, or of the lowest training loss without a validation split)."""
    return True if is_auto(restore_best_weights) else bool(restore_best_weights)


def resolve_conv_skip(conv_skip, front_end: str) -> bool:
    """Whether the head also reads the front end's mean ("auto": with convolutions).

    The multi-scale front end is InceptionTime's, whose classifier is exactly
    this mean (global average pooling) and a linear layer, and the plain stack
    FCN's; both were chosen as defaults with the skip on (cross-validated,
    ``docs/benchmarks.md`` sections 11 and 18).
    """
    if is_auto(conv_skip):
        return front_end != "none"
    return bool(conv_skip)


def resolve_lr_schedule(lr_schedule, has_validation: bool) -> str | None:
    """The schedule: ``lr_schedule``, or with "auto" ``AUTO_SCHEDULE_WITHOUT_SPLIT`` on a fit
    without a validation split (the rate halves on a plateau of the training loss), else a
    constant rate (early stopping ends the fit)."""
    if is_auto(lr_schedule):
        return None if has_validation else AUTO_SCHEDULE_WITHOUT_SPLIT
    return lr_schedule


def resolve_fixed_filters(fixed_filters, n_features: int) -> bool:
    """Whether the multi-scale front end gets the hand-crafted filters ("auto": few features)."""
    if is_auto(fixed_filters):
        return n_features <= AUTO_CONV_MAX_FEATURES
    return bool(fixed_filters)


def resolve_input_dropout(
    input_dropout, n_conv_layers: int, conv_batch_norm: bool, n_features: int
) -> float:
    """The input dropout rate: ``input_dropout`` itself, or the "auto" choice.

    "auto" is ``AUTO_INPUT_DROPOUT`` (``AUTO_WIDE_INPUT_DROPOUT`` on steps of
    at least ``AUTO_WIDE_FEATURES`` features), except before batch-normalised
    convolutions on steps of fewer than ``AUTO_CONV_DROPOUT_MIN_FEATURES``
    features: there a dropped value is a large part of a step, and training
    statistics differ from those at prediction (the variance shift), which
    cost GunPoint most of its accuracy in cross-validation and ACSF1's
    series on four channels 0.45. Before the plain stack on steps of 8
    features or more the rate holds: without it the stack fell to 0.759 on
    weak events on 4 of 16 features where the dense layers reach 0.988
    (0.984 with it; ``docs/benchmarks.md`` sections 19 and 21).
    """
    if input_dropout != "auto":
        return float(input_dropout)
    if n_conv_layers and conv_batch_norm and n_features < AUTO_CONV_DROPOUT_MIN_FEATURES:
        return 0.0
    return AUTO_WIDE_INPUT_DROPOUT if n_features >= AUTO_WIDE_FEATURES else AUTO_INPUT_DROPOUT


def explicit_standardize(standardize) -> bool | str:
    """A scaling other than "auto" as a fit uses it: "per_series", True or False."""
    return "per_series" if standardize == "per_series" else bool(standardize)


def resolve_standardize(standardize, n_features: int, levels) -> bool | str:
    """The input scaling: True, False or "per_series" ("auto" resolved).

    "auto" is "per_series" on steps of more than ``AUTO_CONV_MAX_FEATURES``
    features whose series hold levels of their own of at least
    ``AUTO_PER_SERIES_NUISANCE`` of the variance, at most
    ``AUTO_PER_SERIES_BY_CLASS`` of them explained by the class; True (the
    data set's statistics) otherwise. ``levels`` is a callable giving those
    shares (:func:`~sklearn_seqattn._data.series_levels`): it reads the
    data, so it runs only where the width of the steps leaves a choice.
    """
    if not is_auto(standardize):
        return explicit_standardize(standardize)
    if n_features <= AUTO_CONV_MAX_FEATURES:
        return True
    nuisance, by_class = levels()
    if nuisance >= AUTO_PER_SERIES_NUISANCE and by_class <= AUTO_PER_SERIES_BY_CLASS:
        return "per_series"
    return True


def resolve_batch_size(batch_size, n_train: int) -> int:
    """The mini-batch size: ``batch_size`` itself, or the "auto" choice for ``n_train``."""
    if batch_size != "auto":
        return int(batch_size)
    return min(64, max(8, n_train // 16))


def resolve_n_iter_no_change(n_iter_no_change, n_train: int, has_validation: bool) -> int:
    """Early stopping's patience: ``n_iter_no_change`` itself, or the "auto" choice."""
    if not is_auto(n_iter_no_change):
        return int(n_iter_no_change)
    if not has_validation:
        return AUTO_PATIENCE
    return AUTO_LARGE_PATIENCE if n_train >= AUTO_LARGE_FIT else AUTO_SPLIT_PATIENCE


def resolve_tol(tol, n_train: int) -> float:
    """Early stopping's absolute tolerance on the validation loss, or the "auto" choice."""
    if not is_auto(tol):
        return float(tol)
    return AUTO_LARGE_TOL if n_train >= AUTO_LARGE_FIT else 0.0


def resolve_device(device) -> str:
    """Map ``"auto"`` to ``"cuda"`` when available; refuse CUDA when it is not."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be 'cpu', 'cuda', 'auto' or a torch.device, got {device!r}.")
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a valid torch device: {exc}") from None
    if parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not supported: use 'cpu', 'cuda' (or 'cuda:N'), 'mps' or 'auto'."
        )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available here.")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; use device='cpu' "
            "or 'auto'."
        )
    return str(parsed)


def resolve_autocast(autocast, device) -> bool:
    """Whether forward passes run under bfloat16 autocast on ``device``.

    ``"auto"`` turns it on where the hardware computes in bfloat16 natively:
    CUDA devices of compute capability 8.0 or later (Ampere on), and CPUs
    with the AVX512-BF16 or AMX-BF16 instructions. Elsewhere bfloat16 is
    emulated and slower than float32.
    """
    if autocast != "auto":
        return bool(autocast)
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability(device) >= (8, 0)
    return device.type == "cpu" and cpu_has_native_bf16()


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 arithmetic (Linux: AVX512-BF16 or AMX-BF16 flags)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = {word for line in f if line.startswith("flags") for word in line.split()}
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})
