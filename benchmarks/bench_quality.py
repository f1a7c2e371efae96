"""Learning quality: SeqAttentionClassifier presets against MiniRocket (aeon), over seeds.

Held-out balanced accuracy (and accuracy, epochs, fit and predict time) of
named presets of our classifier and of MiniRocket on the same splits, every
model fitted once per seed. Tasks (names as ``--data`` takes them):

* ``motif-order s=1.0``, ``motif-order s=1.5``:
  ``make_sequence_classification(n_samples=1600, n_timesteps=100,
  n_features=136, weights=[0.28, 0.72], signal=s)``, 1,200 train / 400 test;
* ``event-order s=1.5``, ``event-order s=2.0``, ``event-order s=2.5``:
  ``make_event_order_classification(n_samples=1500, strength=s)`` (100 steps,
  136 features, zero post-padding, 28/72), 1,000 train / 500 test;
* ``contour s=0.18``: ``make_contour_classification(n_samples=1500, amplitude=0.18)``
  (136 features, per-speaker offsets of one noise deviation on every feature),
  about 1,000 train / 500 test, no speaker on both sides; ``contour-offsets s=k``:
  the same with offsets of ``k`` deviations (``speaker_scale=k``);
* aeon's bundled sets with their official splits (nothing is downloaded):
  JapaneseVowels, BasicMotions, PickupGestureWiimoteZ, ArrowHead, GunPoint,
  OSULeaf, ItalyPowerDemand, ACSF1.

``<set>+delta`` (``+delta2``, ``+delta3``) is an aeon set with each channel's first (and
second, third) difference over time appended as channels, for every model (wider steps of
the same data). ``--n-features N`` builds the synthetic tasks with ``N`` features per step.

Synthetic splits are stratified and fixed (``--data-seed``), so every model
seed sees the same data. Groups: ``synthetic``, ``aeon``, ``motif-order``,
``event-order``, ``all``. Our classifier gets raw data (it standardises
internally): JapaneseVowels and PickupGestureWiimoteZ (unequal lengths) as
ragged lists of ``(T_i, channels)`` arrays, the others stacked. MiniRocket
gets ``(n, channels, T)`` arrays, unequal lengths zero-padded at the end to
the longest series. On synthetic tasks the *attention ratio* says whether the
pooling looks at the planted events: the mean over test samples of the
pooling weight on event steps divided by their share of the real steps
(1 = chance).

Every run (task, model, preset, seed) is appended as one record to ``--out``
(default ``benchmarks/results/quality.jsonl``) as soon as it ends, so long runs
can be split over invocations; ``--report`` prints the tables of everything
recorded so far (the latest record of each task, model, preset and seed).
Presets live in ``CONFIGS``; ``--config-json`` adds ad-hoc ones.

    python benchmarks/bench_quality.py [--quick] [--threads N] [--data NAME|GROUP,...]
        [--configs NAME,...] [--config-json '{"name": {"lr": 1e-3}}'] [--seeds 0,1,2,3,4]
        [--no-minirocket] [--data-seed 0] [--n-features 136] [--out FILE] [--report]

``--quick`` (smoke run, about 2 minutes): synthetic sets of 300 samples (same
split proportions), aeon sets cut to at most 60 train / 200 test samples
(stratified), ``max_epochs=3`` merged into every preset, seeds 0 and 1,
records in ``benchmarks/results/quality-quick.jsonl`` unless ``--out`` says
otherwise.

Needs the ``benchmarks`` extra: ``pip install sklearn-seqattn[benchmarks]``.
"""

from __future__ import annotations

import copy
import json
import statistics
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from _common import (
    Clock,
    Results,
    aeon_sequences,
    parse_args,
    print_header,
    print_table,
    read_records,
    split_delta_name,
    with_deltas,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._diagnosis import diagnose_fit
from sklearn_seqattn.datasets import (
    make_contour_classification,
    make_event_order_classification,
    make_sequence_classification,
)

# Named presets of our classifier; {} is the package's defaults.
CONFIGS = {
    "defaults": {},
    # The translation of the reference Keras model that docs/user_guide/keras.rst gives.
    "keras translation": {
        "dense_units": 32,
        "n_dense_layers": 3,
        "lstm_units": 32,
        "n_lstm_layers": 2,
        "dropout": 0.2,
        "weight_decay": 1e-3,
        "lr": 1e-3,
        "class_weight": "balanced",
    },
    "n_init=3": {"n_init": 3},
    # The defaults before n_conv_layers, input_dropout and early_stopping became "auto".
    "fixed front end": {"n_conv_layers": 0, "input_dropout": 0.2, "early_stopping": True},
    # The defaults before the model-family work (2026-12-05), for steps of at most 3
    # features: three plain convolutions, a constant rate, the last weights kept.
    "plain conv front end": {
        "front_end": "conv",
        "lr_schedule": None,
        "restore_best_weights": False,
    },
    "multiscale front end": {"front_end": "multiscale"},
    "n_attention_layers=2": {"n_attention_layers": 2},
    "input_noise=0.5": {"input_noise": 0.5},
    # The defaults before the learning-quality changes (2026-12-02), for comparison.
    "previous defaults": {
        "standardize": False,
        "downsample": 1,
        "input_dropout": 0.0,
        "n_init": 1,
        "batch_size": 64,
        "n_conv_layers": 0,
        "early_stopping": True,
    },
}

OURS, ROCKET, BINNED = "SeqAttentionClassifier", "MiniRocket", "binned means + LR"
# Time bins of the binned-means baseline (each sequence's own real steps cut in 5).
N_BINS = 5
CONTOUR_AMPLITUDES = (0.18,)
# "contour-offsets s=k": the contour at amplitude 0.18 with per-speaker offsets of k noise
# deviations (1.0 is "contour s=0.18"): how large a nuisance level per series must be before
# scaling each series by its own statistics pays.
SPEAKER_SCALES = (0.25, 0.5)
MOTIF_SIGNALS = (1.0, 1.5)
EVENT_STRENGTHS = (1.5, 2.0, 2.5)
AEON_SETS = (
    "JapaneseVowels",
    "BasicMotions",
    "PickupGestureWiimoteZ",
    "ArrowHead",
    "GunPoint",
    "OSULeaf",
    "ItalyPowerDemand",
    "ACSF1",
)
# Quick mode: synthetic sample count, and caps on aeon train / test sizes.
QUICK_SAMPLES, QUICK_TRAIN, QUICK_TEST = 300, 60, 200


@dataclass
class Task:
    """One data set: our inputs, MiniRocket's inputs, labels, and planted events."""

    name: str
    group: str
    X_train: object  # (n, T, F) array or list of (T_i, F) arrays
    X_test: object
    y_train: np.ndarray
    y_test: np.ndarray
    rocket_train: np.ndarray  # (n, F, T) float64 (numba compiles once per dtype)
    rocket_test: np.ndarray
    events_test: np.ndarray | None = None  # (n_test, T) bool, synthetic only
    lengths: str = ""


# ------------------------------------------------------------------------------ data
def task_names() -> dict[str, str]:
    """Every task name and its group."""
    names = {f"motif-order s={s}": "synthetic" for s in MOTIF_SIGNALS}
    names.update({f"event-order s={s}": "synthetic" for s in EVENT_STRENGTHS})
    names.update({f"contour s={s}": "synthetic" for s in CONTOUR_AMPLITUDES})
    names.update({f"contour-offsets s={s}": "synthetic" for s in SPEAKER_SCALES})
    names.update({name: "aeon" for name in AEON_SETS})
    return names


def select_tasks(spec: str) -> list[str]:
    """Task names from a comma-separated list of names and groups, in canonical order."""
    names = task_names()
    # Every synthetic family ("event-order", "contour-offsets", ...) is a group too.
    families = list(dict.fromkeys(n.split(" s=")[0] for n in names if " s=" in n))
    wanted, derived = set(), []
    for item in (s.strip() for s in spec.split(",")):
        if item == "all":
            wanted.update(names)
        elif item in ("synthetic", "aeon"):
            wanted.update(n for n, g in names.items() if g == item)
        elif item in families:
            wanted.update(n for n in names if n.startswith(item + " "))
        elif item in names:
            wanted.add(item)
        elif split_delta_name(item)[0] in AEON_SETS:  # "JapaneseVowels+delta": derived
            derived.append(item)
        elif item:
            raise SystemExit(
                f"unknown task {item!r}; tasks: {', '.join(names)}; groups: all, synthetic, "
                f"aeon, {', '.join(families)}"
            )
    return [n for n in names if n in wanted] + list(dict.fromkeys(derived))


def load_task(name: str, quick: bool, data_seed: int, n_features: int = 136) -> Task:
    if name.startswith(("motif-order", "event-order", "contour")):  # and contour-offsets
        return synthetic_task(name, quick, data_seed, n_features)
    return aeon_task(name, quick)


def synthetic_task(name: str, quick: bool, data_seed: int, n_features: int = 136) -> Task:
    family, level = name.split(" s=")
    if family == "motif-order":
        n_samples, n_train = (QUICK_SAMPLES, QUICK_SAMPLES * 3 // 4) if quick else (1600, 1200)
        X, y, events = make_sequence_classification(
            n_samples=n_samples, n_timesteps=100, n_features=n_features, weights=[0.28, 0.72],
            signal=float(level), return_events=True, random_state=data_seed,
        )  # fmt: skip
    elif family == "event-order":
        n_samples, n_train = (QUICK_SAMPLES, QUICK_SAMPLES * 2 // 3) if quick else (1500, 1000)
        X, y, events = make_event_order_classification(
            n_samples=n_samples, n_features=n_features, strength=float(level),
            return_events=True, random_state=data_seed,
        )  # fmt: skip
    else:  # contour: speakers never on both sides of the split, as a user would split
        n_samples, n_train = (QUICK_SAMPLES, QUICK_SAMPLES * 2 // 3) if quick else (1500, 1000)
        amplitude, speakers = (
            (0.18, float(level)) if family == "contour-offsets" else (float(level), 1.0)
        )
        X, y, groups = make_contour_classification(
            n_samples=n_samples, n_features=n_features, amplitude=amplitude,
            speaker_scale=speakers,
            return_groups=True, random_state=data_seed,
        )  # fmt: skip
        events = None
        split = GroupShuffleSplit(1, train_size=n_train / n_samples, random_state=0)
        train, test = next(split.split(X, y, groups))
    if not family.startswith("contour"):
        train, test = train_test_split(
            np.arange(len(y)), train_size=n_train, stratify=y, random_state=0
        )
    lengths = (X != 0).any(axis=2).sum(axis=1)
    return Task(
        name=name,
        group="synthetic",
        X_train=X[train],
        X_test=X[test],
        y_train=y[train],
        y_test=y[test],
        rocket_train=X[train].transpose(0, 2, 1).astype(np.float64),
        rocket_test=X[test].transpose(0, 2, 1).astype(np.float64),
        events_test=None if events is None else events[test],
        lengths=f"{lengths.min()}..{lengths.max()}",
    )


def aeon_task(name: str, quick: bool) -> Task:
    try:
        from aeon.datasets import load_classification
    except ImportError as exc:
        raise SystemExit(
            "bench_quality needs aeon: pip install 'sklearn-seqattn[benchmarks]'"
        ) from exc
    base, order = split_delta_name(name)
    X_train, y_train = load_classification(base, split="train")
    X_test, y_test = load_classification(base, split="test")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if order:  # the same deltas for every model: aeon's series are (channels, T)
        X_train, X_test = (
            [with_deltas(np.asarray(x).T, order).T for x in X] for X in (X_train, X_test)
        )
    if quick:
        X_train, y_train = subsample(X_train, y_train, QUICK_TRAIN)
        X_test, y_test = subsample(X_test, y_test, QUICK_TEST)
    ours_train, ours_test = aeon_sequences(X_train), aeon_sequences(X_test)
    lengths = [len(x) for x in ours_train + ours_test]
    # Stack only equal lengths without all-zero steps (they would read as padding).
    if len(set(lengths)) == 1 and not any((x == 0).all(axis=1).any() for x in ours_train):
        ours_train, ours_test = np.stack(ours_train), np.stack(ours_test)
    width = max(lengths)
    return Task(
        name=name,
        group="aeon",
        X_train=ours_train,
        X_test=ours_test,
        y_train=y_train,
        y_test=y_test,
        rocket_train=pad_channels_first(X_train, width),
        rocket_test=pad_channels_first(X_test, width),
        lengths=f"{min(lengths)}..{width}" if min(lengths) < width else str(width),
    )


def subsample(X, y: np.ndarray, n: int):
    """At most ``n`` samples, stratified when every class allows it."""
    if len(y) <= n:
        return X, y
    index = np.arange(len(y))
    try:
        keep, _ = train_test_split(index, train_size=n, stratify=y, random_state=0)
    except ValueError:
        keep, _ = train_test_split(index, train_size=n, random_state=0)
    keep = np.sort(keep)
    if isinstance(X, np.ndarray):
        return X[keep], y[keep]
    return [X[i] for i in keep], y[keep]


def pad_channels_first(X, width: int) -> np.ndarray:
    """``(n, channels, width)`` float64, each series zero-padded at the end."""
    out = np.zeros((len(X), np.asarray(X[0]).shape[0], width))
    for i, x in enumerate(X):
        out[i, :, : np.asarray(x).shape[1]] = x
    return out


# ------------------------------------------------------------------------------ runs
def minirocket(seed: int):
    from aeon.classification.convolution_based import MiniRocketClassifier

    return MiniRocketClassifier(random_state=seed, n_jobs=1)


def fit_and_score(model, X_train, y_train, X_test, y_test, threads: int) -> dict:
    # aeon's thread handling for numba leaves OpenMP at more threads than torch was set
    # to (torch then trains on 2 threads); set it back before every fit.
    torch.set_num_threads(threads)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Clock() as fit:
            model.fit(X_train, y_train)
    with Clock() as predict:
        pred = model.predict(X_test)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    return {
        "test_verdict": test_verdict(y_test, pred),
        "balanced_accuracy": float(balanced_accuracy_score(y_test, pred)),
        "accuracy": float(accuracy_score(y_test, pred)),
        "fit_wall_s": fit.wall,
        "fit_cpu_s": fit.cpu,
        "predict_wall_s": predict.wall,
        "predict_cpu_s": predict.cpu,
        "convergence_warnings": len(convergence),
        "warnings": [f"{w.category.__name__}: {str(w.message)[:300]}" for w in caught],
    }


def test_verdict(y_test, pred) -> str:
    """The package's chance/collapse verdict applied to the test predictions.

    "learned" when test balanced accuracy is more than two standard deviations
    of a chance-level predictor above chance and predictions are not (almost)
    all one class; the guard's claim is checked against this.
    """
    classes, y_idx = np.unique(np.asarray(y_test), return_inverse=True)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    pred_idx = np.array([lookup.get(p, 0) for p in np.asarray(pred).tolist()])
    return diagnose_fit(y_idx, pred_idx, len(classes), "test", [], 0.0).verdict


def run_ours(params: dict, seed: int, task: Task, threads: int) -> dict:
    clf = SeqAttentionClassifier(**params, random_state=seed)
    metrics = fit_and_score(clf, task.X_train, task.y_train, task.X_test, task.y_test, threads)
    metrics["epochs"] = int(clf.n_iter_)
    metrics["inits"] = len(getattr(clf, "init_scores_", [None]))
    diagnosis = getattr(clf, "fit_diagnosis_", None)
    metrics["diagnosis"] = (
        None if diagnosis is None else str(getattr(diagnosis, "verdict", diagnosis))
    )
    # What the fit diagnosis read: the ensemble's, then each member's alone.
    members = getattr(clf, "member_diagnoses_", [])
    metrics["diagnosis_losses"] = [
        diagnosis_losses(d) for d in [diagnosis, *(members if len(members) > 1 else [])]
    ]
    metrics["first_k_balanced_accuracy"] = first_k_scores(clf, task.X_test, task.y_test)
    if task.events_test is not None:
        weights = clf.attention_weights(task.X_test)
        metrics["attention_ratio"] = attention_ratio(weights, task.X_test, task.events_test)
    return metrics


def first_k_scores(clf, X_test, y_test) -> dict[int, float]:
    """Test balanced accuracy of the first k members' mean, for every k below the ensemble's.

    Members train from ``member_seeds``, whose first k are those of an ensemble of k,
    so the first k members of one fit are the fit of ``n_estimators=k``: one run gives
    the accuracy-cost curve on the same splits and seeds.
    """
    members = getattr(clf.net_.module_, "members", None)
    if members is None:
        return {}
    scores = {}
    for k in range(1, len(members)):
        prefix = copy.deepcopy(clf)
        prefix.net_.module_.members = torch.nn.ModuleList(list(prefix.net_.module_.members)[:k])
        prefix.n_estimators_ = k
        scores[k] = float(balanced_accuracy_score(y_test, prefix.predict(X_test)))
    return scores


def diagnosis_losses(diagnosis) -> dict | None:
    """A fit diagnosis' scores and losses (its training loss against the same at prediction)."""
    if diagnosis is None:
        return None
    return {
        "basis": diagnosis.basis,
        "balanced_accuracy": diagnosis.balanced_accuracy,
        "kept_train_loss": diagnosis.kept_train_loss,
        "prediction_train_loss": diagnosis.prediction_train_loss,
        "prior_loss": diagnosis.prior_loss,
    }


def run_rocket(seed: int, task: Task, threads: int) -> dict:
    data = (task.rocket_train, task.y_train, task.rocket_test, task.y_test)
    return fit_and_score(minirocket(seed), *data, threads)


def binned_means(X) -> np.ndarray:
    """Each sequence's real steps cut in ``N_BINS`` bins, the features' mean in each."""
    rows = []
    for x in X:
        real = x[(x != 0).any(axis=1)]
        rows.append(np.concatenate([part.mean(axis=0) for part in np.array_split(real, N_BINS)]))
    return np.array(rows)


def run_binned(task: Task, threads: int) -> dict:
    """The coarse-order baseline a user writes by hand: binned means, logistic regression."""
    model = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=3000, class_weight="balanced")
    )
    data = (binned_means(task.X_train), task.y_train, binned_means(task.X_test), task.y_test)
    return fit_and_score(model, *data, threads)


def attention_ratio(weights: np.ndarray, X: np.ndarray, events: np.ndarray) -> float:
    """Mean over samples of (weight on event steps) / (share of event steps among real ones)."""
    real = (X != 0).any(axis=2)  # (n, T)
    events = events & real
    n_events, n_real = events.sum(axis=1), real.sum(axis=1)
    on_events = (weights * events).sum(axis=1)
    has = n_events > 0
    return float(np.mean(on_events[has] / (n_events[has] / n_real[has])))


def models(args, configs: dict) -> list[tuple[str, str, dict]]:
    """``(model, config name, params)`` of every model of this run."""
    out = []
    for name, params in configs.items():
        if args.quick:
            params = {**params, "max_epochs": 3}
        out.append((OURS, name, params))
    if not args.no_minirocket:
        out.append((ROCKET, "n_jobs=1", {"n_jobs": 1}))
    out.append((BINNED, f"{N_BINS} bins", {}))
    return out


def warm_up(rocket: bool) -> tuple[float, float]:
    """One-off costs kept out of the timings: numba's compilation, torch's first fit."""
    rng = np.random.default_rng(0)
    numba_s = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if rocket:  # numba compiles the univariate and the multivariate kernels apart
            with Clock() as clock:
                for channels in (1, 2):
                    minirocket(0).fit(rng.normal(size=(8, channels, 30)), np.arange(8) % 2)
            numba_s = clock.wall
        with Clock() as clock:
            SeqAttentionClassifier(max_epochs=2, random_state=0).fit(
                [rng.normal(size=(n, 3)) for n in range(5, 45)], np.arange(40) % 2
            )
    return numba_s, clock.wall


def run(args, tasks: list[str], configs: dict, seeds: list[int]) -> None:
    numba_s, torch_s = warm_up(not args.no_minirocket)
    rocket = "" if args.no_minirocket else f"MiniRocket's numba compilation {numba_s:.1f} s, "
    print(
        f"Warm-up (excluded from timings): {rocket}first fit of our classifier "
        f"{torch_s:.1f} s (wall).\n",
        flush=True,
    )
    results = Results(args)
    for name in tasks:
        task = load_task(name, args.quick, args.data_seed, args.n_features)
        print(
            f"<!-- {name}: {len(task.y_train)} train / {len(task.y_test)} test, "
            f"lengths {task.lengths}, {len(np.unique(task.y_train))} classes -->",
            flush=True,
        )
        for model, config, params in models(args, configs):
            for seed in seeds:
                if model == BINNED and task.group != "synthetic":
                    continue
                if model == OURS:
                    metrics = run_ours(params, seed, task, args.threads)
                elif model == BINNED:
                    if seed != seeds[0]:
                        continue  # deterministic: one record per task
                    metrics = run_binned(task, args.threads)
                else:
                    metrics = run_rocket(seed, task, args.threads)
                record = {
                    "task": name,
                    "group": task.group,
                    "model": model,
                    "config": config,
                    "params": params,
                    "seed": seed,
                    "metrics": metrics,
                    "n_train": len(task.y_train),
                    "n_test": len(task.y_test),
                    "data_seed": args.data_seed,
                    "n_features": task.rocket_train.shape[1],
                }
                results.write(record)
                print(
                    f"<!-- {name} | {model} {config} | seed {seed}: balanced accuracy "
                    f"{metrics['balanced_accuracy']:.3f}, fit {metrics['fit_wall_s']:.1f} s -->",
                    flush=True,
                )
        print()


# ---------------------------------------------------------------------------- report
def latest_records(path: Path) -> list[dict]:
    """The latest record of each (task, model, config, seed), in first-seen order."""
    latest = {}
    for r in read_records(path):
        latest[(r["task"], r["model"], r["config"], r["seed"])] = r
    return list(latest.values())


def summary_row(records: list[dict], synthetic: bool) -> dict:
    m = [r["metrics"] for r in records]
    bacc = [x["balanced_accuracy"] for x in m]
    spread = f" ± {statistics.stdev(bacc):.3f}" if len(bacc) > 1 else ""
    ours = records[0]["model"] == OURS
    row = {
        "model": f"ours: {records[0]['config']}" if ours else ROCKET,
        "seeds": len(records),
        "balanced accuracy": f"{statistics.fmean(bacc):.3f}{spread}",
        "min": min(bacc),
        "accuracy": statistics.fmean(x["accuracy"] for x in m),
        "epochs": statistics.fmean(x["epochs"] for x in m) if ours else "",
        # Runs recorded before "inits" was: blank rather than a guess.
        "inits": statistics.fmean(x["inits"] for x in m)
        if ours and all("inits" in x for x in m)
        else "",
        "fit CPU (s)": statistics.fmean(x["fit_cpu_s"] for x in m),
        "fit wall (s)": statistics.fmean(x["fit_wall_s"] for x in m),
        "predict wall (s)": statistics.fmean(x["predict_wall_s"] for x in m),
    }
    if synthetic:
        ratios = [x["attention_ratio"] for x in m if "attention_ratio" in x]
        ratio = statistics.fmean(ratios) if ours and ratios else None
        row["attention ratio"] = "" if ratio is None else f"{ratio:.2f}"
    row["warnings"] = f"{sum(x['convergence_warnings'] > 0 for x in m)}/{len(m)}" if ours else ""
    verdicts = [x.get("diagnosis") for x in m if x.get("diagnosis") is not None]
    row["diagnosis"] = ", ".join(f"{v} ({verdicts.count(v)})" for v in dict.fromkeys(verdicts))
    if len({json.dumps(r["params"], sort_keys=True, default=repr) for r in records}) > 1:
        row["model"] += " (params differ between seeds!)"
    return row


def report(path: Path, tasks: list[str] | None = None) -> None:
    if not path.exists():
        print(f"No records: {path} does not exist.\n")
        return
    records = latest_records(path)
    by_task: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for r in records:
        if tasks is None or r["task"] in tasks:
            by_task[r["task"]][(r["model"], r["config"])].append(r)
    if not by_task:
        print(f"No records in {path} for these tasks.\n")
        return
    order = [n for n in task_names() if n in by_task] + sorted(set(by_task) - set(task_names()))
    summary = []
    for name in order:
        groups = by_task[name]
        synthetic = next(iter(groups.values()))[0]["group"] == "synthetic"
        first = next(iter(groups.values()))[0]
        # Ours first (in first-seen order), MiniRocket last.
        keys = sorted(groups, key=lambda k: k[0] == ROCKET)
        rows = [summary_row(sorted(groups[k], key=lambda r: r["seed"]), synthetic) for k in keys]
        columns = [c for c in rows[0] if any(row.get(c) not in ("", None) for row in rows)]
        print_table(
            rows,
            columns,
            caption=f"{name}: {first['n_train']} train / {first['n_test']} test; rows are "
            f"presets of {OURS} and {ROCKET}; warnings = fits with a ConvergenceWarning",
        )
        summary.append(best_vs_rocket(name, groups))
    print_table(summary, caption="Best preset of ours against MiniRocket (mean balanced accuracy)")
    guard = guard_rows([r for r in records if tasks is None or r["task"] in tasks])
    if guard:
        print_table(
            guard,
            caption="The chance guard against the test split: runs whose test predictions are "
            "at chance or collapsed (by the same rule on the test split), and warnings at fit",
        )


def guard_rows(records: list[dict]) -> list[dict]:
    rows = defaultdict(
        lambda: {
            "runs": 0,
            "at chance on test": 0,
            "of which warned": 0,
            "learned on test but warned": 0,
        }
    )
    for r in records:
        m = r["metrics"]
        if r["model"] != OURS or "test_verdict" not in m:
            continue
        row = rows[r["config"]]
        warned = m["convergence_warnings"] > 0
        row["runs"] += 1
        if m["test_verdict"] != "learned":
            row["at chance on test"] += 1
            row["of which warned"] += warned
        elif warned:
            row["learned on test but warned"] += 1
    return [{"preset": name, **row} for name, row in rows.items()]


def best_vs_rocket(name: str, groups: dict) -> dict:
    def mean_bacc(records):
        return statistics.fmean(r["metrics"]["balanced_accuracy"] for r in records)

    ours = {k[1]: mean_bacc(v) for k, v in groups.items() if k[0] == OURS}
    rocket = [mean_bacc(v) for k, v in groups.items() if k[0] == ROCKET]
    row = {"task": name, "best preset": "", "ours": "", "MiniRocket": "", "ours / MiniRocket": ""}
    if ours:
        best = max(ours, key=ours.get)
        row.update({"best preset": best, "ours": ours[best]})
    if rocket:
        row["MiniRocket"] = rocket[0]
    if ours and rocket and rocket[0] > 0:
        row["ours / MiniRocket"] = ours[best] / rocket[0]
    return row


# ------------------------------------------------------------------------------ main
def parse_configs(args) -> dict:
    available = dict(CONFIGS)
    extra = {}
    if args.config_json:
        extra = json.loads(args.config_json)
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise SystemExit('--config-json must map names to parameter dicts: {"name": {...}}')
        available.update(extra)
    if args.configs is None:
        return extra or dict(CONFIGS)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SystemExit(f"unknown preset(s) {unknown}; presets: {', '.join(available)}")
    return {n: available[n] for n in names}


def main():
    def add(parser):
        parser.add_argument(
            "--data", default="all", help="task names and groups, comma-separated (default: all)"
        )
        parser.add_argument(
            "--configs",
            default=None,
            help="presets to run, comma-separated, from CONFIGS or --config-json (default: "
            "every CONFIGS preset, or only the --config-json presets when that is given)",
        )
        parser.add_argument(
            "--config-json", default=None, help='extra presets: \'{"name": {"lr": 1e-3}}\''
        )
        parser.add_argument("--no-minirocket", action="store_true", help="skip MiniRocket")
        parser.add_argument(
            "--data-seed", type=int, default=0, help="seed of the synthetic data (default: 0)"
        )
        parser.add_argument(
            "--n-features",
            type=int,
            default=136,
            help="features per step of the synthetic tasks (default: 136)",
        )
        parser.add_argument("--report", action="store_true", help="only print the tables of --out")

    args = parse_args(
        __doc__.splitlines()[0], add, results="quality", seeds="0,1,2,3,4", quick_seeds="0,1"
    )
    tasks = select_tasks(args.data)
    if args.report:
        print_header("Learning quality: report", args)
        report(args.out, None if args.data == "all" else tasks)
        return
    configs = parse_configs(args)
    seeds = args.seeds
    print_header("Learning quality: SeqAttentionClassifier against MiniRocket", args)
    print(
        f"Tasks: {', '.join(tasks)}. Presets: "
        + "; ".join(f"{n} {json.dumps(p)}" for n, p in configs.items())
        + f". Seeds {seeds}; synthetic data seed {args.data_seed}. Records appended to "
        f"{args.out}. Times in seconds (torch and numba on {args.threads} thread(s)).\n",
        flush=True,
    )
    with Clock() as total:
        run(args, tasks, configs, seeds)
    report(args.out, tasks)
    print(f"Total wall time {total.wall:.0f} s (CPU {total.cpu:.0f} s).")


if __name__ == "__main__":
    main()
