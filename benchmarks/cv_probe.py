"""Configurations probed by cross-validation on aeon training splits (never the test split).

3-fold stratified CV of the official training split, 2 seeds (6 fits per
cell): balanced accuracy mean, sd and worst fold, CPU seconds per fit, one
record per data set and configuration, appended to ``--out`` (default
``benchmarks/results/cv-probe.jsonl``). ``--round`` and ``--note`` label a
round of probes in its records.

    python benchmarks/cv_probe.py --data GunPoint,ArrowHead
        --configs '{"name": {"param": value}, ...}' [--seeds 0,1] [--round N] [--note TEXT]

``--quick``: seed 0, ``max_epochs=3`` merged into every configuration.
Unequal-length sets (JapaneseVowels, PickupGestureWiimoteZ) are passed as lists
of ``(T_i, channels)`` arrays. ``--data JapaneseVowels+delta`` (``+delta2``) appends each
channel's first (and second) difference over time as channels: 24 (36) features of real
speech frames, for rules that depend on the width of a step; ``+delta3`` makes a univariate
set four channels wide.
The pseudo-parameter ``"average_epochs_after": k`` is not the classifier's: it adds a
callback that replaces the final weights (and batch-norm running estimates) by their
mean over the epochs after ``k`` (stochastic weight averaging with a constant learning
rate), for fits without a validation split.
The pseudo-parameter ``"conv_dilation_base": b`` dilates the i-th convolution of
the front end by ``b ** i`` (same weights, padding widened to keep "same"
lengths): a wider receptive field at no extra cost, probed without an option.
The pseudo-parameter ``"plateau_min_lr": x`` floors the "plateau" schedule's rate at
``x`` (``ReduceLROnPlateau``'s ``min_lr``; InceptionTime's recipe floors at 1e-4), probed
without an option.
The pseudo-parameter ``"front_end_dilations": [d, ...]`` builds the multi-scale front end
with those dilated depthwise-separable layers instead of the package's (2, 4, 8): a deeper,
wider-seeing front end, probed without an option.
The pseudo-parameter ``"ensemble": k`` fits k networks per fold (random states
``seed``, ``seed + 100``, ...; the first is the plain fit of that seed) and
scores their mean predicted probabilities; the record adds ``single_mean``, the
members' mean score alone, a paired baseline on the same folds, and ``first_k``, the
score of the first k members' mean for every smaller k (1: the first alone), the
accuracy-cost curve of the ensemble from one run. Each member is one network
(``n_estimators=1`` unless the configuration says otherwise).
"""

from __future__ import annotations

import contextlib
import json
import warnings

import numpy as np
import torch
from _common import (
    Clock,
    Results,
    aeon_sequences,
    parse_args,
    print_header,
    print_table,
    split_delta_name,
    with_deltas,
)
from aeon.datasets import load_classification
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier, _multiscale


class AverageLastEpochs(Callback):
    """Replace the final weights by their mean over the epochs after ``start``."""

    def __init__(self, start: int):
        self.start = start

    def initialize(self):
        self.sum_, self.count_ = {}, 0
        return self

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) <= self.start:
            return
        for name, value in net.module_.state_dict().items():
            if value.is_floating_point():
                self.sum_[name] = self.sum_.get(name, 0) + value.detach().double()
        self.count_ += 1

    def on_train_end(self, net, **kwargs):
        if self.count_:
            state = net.module_.state_dict()
            mean = {k: (v / self.count_).to(state[k].dtype) for k, v in self.sum_.items()}
            net.module_.load_state_dict(mean, strict=False)


class DilateConvolutions(Callback):
    """Dilate the i-th front-end convolution by ``base ** i`` before training."""

    def __init__(self, base: int):
        self.base = base

    def on_train_begin(self, net, **kwargs):
        convs = [m for m in net.module_.modules() if isinstance(m, torch.nn.Conv1d)]
        for i, conv in enumerate(convs):
            dilation = self.base**i
            conv.dilation = (dilation,)
            conv.padding = (dilation * (conv.kernel_size[0] // 2),)


class FloorPlateauRate(Callback):
    """Floor the rate of the estimator's "plateau" schedule at ``min_lr``."""

    def __init__(self, min_lr: float):
        self.min_lr = min_lr

    def on_train_begin(self, net, **kwargs):
        # Runs after the schedule's own on_train_begin (user callbacks come later).
        scheduler = dict(net.callbacks_)["lr_schedule"].lr_scheduler_
        scheduler.min_lrs = [self.min_lr] * len(scheduler.min_lrs)


def _estimator(params: dict, seed: int) -> SeqAttentionClassifier:
    params = dict(params)
    callbacks = []
    if "average_epochs_after" in params:
        start = params.pop("average_epochs_after")
        callbacks.append(("average", AverageLastEpochs(start)))
    if "conv_dilation_base" in params:
        callbacks.append(("dilate", DilateConvolutions(params.pop("conv_dilation_base"))))
    if "plateau_min_lr" in params:
        callbacks.append(("floor", FloorPlateauRate(params.pop("plateau_min_lr"))))
    if callbacks:
        params["callbacks"] = callbacks
    return SeqAttentionClassifier(random_state=seed, **params)


@contextlib.contextmanager
def _front_end_dilations(dilations):
    """The multi-scale front end built with ``dilations`` (None: the package's) meanwhile."""
    saved = _multiscale.DILATIONS
    if dilations is not None:
        _multiscale.DILATIONS = tuple(int(d) for d in dilations)
    try:
        yield
    finally:
        _multiscale.DILATIONS = saved


def training_split(name: str):
    """aeon's official training split of ``name`` as ``(X, y)``: an array ``(n, T, channels)``,
    or a list of ``(T_i, channels)`` sequences where the lengths differ.

    ``"<set>+delta"`` (``"+delta2"``, ``"+delta3"``) appends each channel's first (and second,
    third) difference over time as channels: wider steps of the same real data, as speech
    front ends build them.
    """
    name, order = split_delta_name(name)
    X, y = load_classification(name, split="train")
    ragged = isinstance(X, list)  # unequal lengths: aeon gives (channels, T_i) each
    X = [with_deltas(x, order) for x in aeon_sequences(X)]
    return (X if ragged else np.stack(X)), y


def folds(y, seed: int):
    """The probes' folds: 3-fold stratified, shuffled by ``seed``."""
    return StratifiedKFold(3, shuffle=True, random_state=seed).split(y, y)


def take(X, rows):
    """The sequences ``rows`` of ``X`` (an array or a list)."""
    return [X[i] for i in rows] if isinstance(X, list) else X[rows]


def probe(name: str, params: dict, seeds: list[int]) -> dict:
    params = dict(params)
    # The forward pass reads the dilations too: they hold for fitting and scoring.
    with _front_end_dilations(params.pop("front_end_dilations", None)):
        return _probe(name, params, seeds)


def _probe(name: str, params: dict, seeds: list[int]) -> dict:
    X, y = training_split(name)
    params = dict(params)
    n_members = params.pop("ensemble", 1)
    if n_members > 1:  # each member one network, not an "auto" ensemble of its own
        params.setdefault("n_estimators", 1)
    scores, singles, cpu, n_fits = [], [], 0.0, 0
    # The mean of the first k members' probabilities, for every k up to the whole ensemble.
    first_k = {k: [] for k in range(1, n_members + 1)}
    for seed in seeds:
        for train, valid in folds(y, seed):
            X_train, X_valid = take(X, train), take(X, valid)
            probas = []
            for member in range(n_members):
                est = _estimator(params, seed + 100 * member)
                with Clock() as clock:
                    est.fit(X_train, y[train])
                cpu += clock.cpu
                n_fits += 1
                singles.append(balanced_accuracy_score(y[valid], est.predict(X_valid)))
                if n_members > 1:
                    probas.append(est.predict_proba(X_valid))
            if n_members == 1:  # a plain fit: scored by its own predict (threshold included)
                scores.append(singles[-1])
            else:
                for k, k_scores in first_k.items():
                    predicted = est.classes_[np.argmax(np.mean(probas[:k], axis=0), axis=1)]
                    k_scores.append(balanced_accuracy_score(y[valid], predicted))
                scores.append(first_k[n_members][-1])
    record = {
        "mean": round(float(np.mean(scores)), 3),
        "sd": round(float(np.std(scores)), 3),
        "min": round(float(np.min(scores)), 3),
        "cpu_per_fit": round(cpu / n_fits, 1),
    }
    if n_members > 1:
        record["single_mean"] = round(float(np.mean(singles)), 3)
        record["first_k"] = {
            k: round(float(np.mean(v)), 3) for k, v in first_k.items() if k < n_members
        }
    return record


def main() -> None:
    def add(parser):
        parser.add_argument("--data", required=True, help="aeon data sets, comma-separated")
        parser.add_argument(
            "--configs",
            required=True,
            help='configurations as JSON: \'{"name": {"param": value}, ...}\'',
        )
        parser.add_argument("--round", type=int, default=None, help="round the probes belong to")
        parser.add_argument("--note", default=None, help="a note stored with every record")

    args = parse_args(
        __doc__.splitlines()[0], add, results="cv-probe", seeds="0,1", quick_seeds="0"
    )
    configs = json.loads(args.configs)
    if not isinstance(configs, dict) or not all(isinstance(v, dict) for v in configs.values()):
        raise SystemExit('--configs must map names to parameter dicts: {"name": {...}}')
    labels = {k: v for k, v in (("round", args.round), ("note", args.note)) if v is not None}
    results = Results(args, **labels)
    print_header("Configurations by cross-validation on aeon training splits", args)
    rows = []
    with warnings.catch_warnings():
        # Hundreds of fits on tiny folds: their warnings would bury the results.
        warnings.simplefilter("ignore")
        for name in args.data.split(","):
            for config, params in configs.items():
                run = {**params, "max_epochs": 3} if args.quick else params
                record = {
                    "data": name,
                    "config": config,
                    **probe(name, run, args.seeds),
                    "params": params,
                    "seeds": args.seeds,
                }
                results.write(record)
                print(f"<!-- {json.dumps(record)} -->", flush=True)
                rows.append(record)
    print_table(
        rows,
        ["data", "config", "mean", "sd", "min", "cpu_per_fit"],
        caption=f"Balanced accuracy over 3 folds x seeds {args.seeds} of each training split",
    )


if __name__ == "__main__":
    main()
