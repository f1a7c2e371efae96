"""The plateau doctor measured: verdict correctness, attribution shares, the report's cost.

Three parts (``--parts``, comma-separated):

* ``verdicts``: scenarios built to end in a known state (a collapsed fit, a
  network with too little capacity, a tiny training set, a model that trails
  the binned baseline, a label-noise ceiling, a task the network learns),
  5 seeds each, small sizes (at most 600 sequences of at most 60 steps, a few
  epochs). Each fit goes through :func:`sklearn_seqattn.fit_report` with all
  three baselines; the table gives the share of seeds with the expected
  verdict, and which verdicts were given.
* ``attribution``: on tasks with planted structure, the share of absolute
  relevance on the planted steps and features against their share of the
  real steps and features (chance), for the pooling's attention weights
  (``attention_weights``; per feature through ``weight x |x|``, what
  ``AttentionDisplay``'s "relevance" view shows) and for integrated gradients
  (:func:`sklearn_seqattn.relevance`). Tasks: the package's motif-order
  generator (``make_sequence_classification(return_events=True)``), the
  event-order generator (``make_event_order_classification``), and a slow
  contour written here (a rise-then-fall against a fall-then-rise over each
  whole sequence on 4 of 20 features, noise elsewhere), where the planted
  "steps" are those near the contour's peaks (``|sin| >= 0.7``).
* ``cost``: ``fit_report`` (all three baselines) against the fit it reports
  on, on 2,000 sequences x 100 steps x 136 features (1,600 train / 400
  validation), the defaults with a fixed 10 epochs; and the integrated
  gradients of 100 sequences.

Every record is appended to ``--out`` (default
``benchmarks/results/report.jsonl``) with the commit, package versions and machine.

    python benchmarks/bench_report.py [--quick] [--parts verdicts,attribution,cost]
        [--seeds 0,1,2,3,4] [--scenarios NAME,...] [--attribution-seeds 0,1,2,3,4]
        [--attribution-tasks motif-order,...] [--attribution-params JSON] [--out FILE]

``--attribution-params`` adds classifier parameters to the attribution fits (recorded
in each record with the front end the fit used), for example to compare front ends on
the same planted tasks.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from _common import Clock, Results, parse_args, print_header, print_table
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier, fit_report, relevance
from sklearn_seqattn.datasets import make_event_order_classification, make_sequence_classification
from sklearn_seqattn.inspection import relevance_by_feature, relevance_by_step

PARTS = ("verdicts", "attribution", "cost")
# Steps of the slow contour counted as "planted": where |sin| is this close to its peak.
PEAK = 0.7


def make_slow_contour(
    n_samples: int = 600,
    n_timesteps: int = 60,
    n_features: int = 20,
    *,
    n_informative: int = 4,
    amplitude: float = 1.0,
    random_state: int = 0,
):
    """A full sine period over each sequence's own length on a few features; noise elsewhere.

    Class 0 rises then falls (``+sin``), class 1 falls then rises (``-sin``),
    on ``n_informative`` features, over each sequence's real steps (lengths
    ``n_timesteps // 2 .. n_timesteps``, zero post-padding), on top of
    standard Gaussian noise. Means and spreads over time are equal for both
    classes, so an order-blind baseline stays at chance; time-binned means
    see it at once.

    Returns ``X``, ``y``, the informative features and a boolean
    ``(n_samples, n_timesteps)`` mask of the steps near the peaks.
    """
    rng = np.random.RandomState(random_state)
    y = rng.permutation(np.arange(n_samples) % 2)
    lengths = rng.randint(n_timesteps // 2, n_timesteps + 1, size=n_samples)
    X = rng.standard_normal((n_samples, n_timesteps, n_features)).astype(np.float32)
    informative = np.sort(rng.choice(n_features, n_informative, replace=False))
    phase = np.sin(2 * np.pi * np.arange(n_timesteps)[None, :] / lengths[:, None])
    contour = phase * np.where(y == 0, 1.0, -1.0)[:, None]  # (n, time)
    X[:, :, informative] += (amplitude * contour)[:, :, None].astype(np.float32)
    real = np.arange(n_timesteps)[None, :] < lengths[:, None]
    X[~real] = 0.0
    return X, y, informative, real & (np.abs(phase) >= PEAK)


# ------------------------------------------------------------------------------ verdicts
@dataclass(frozen=True)
class Scenario:
    """A fit built to end in a known state."""

    expected: str
    what: str
    data: Callable[[int], tuple[np.ndarray, np.ndarray]]
    n_train: int
    params: dict


def _motif(seed: int):
    return make_sequence_classification(
        n_samples=400,
        n_timesteps=40,
        n_features=8,
        weights=[0.3, 0.7],
        signal=2.0,
        random_state=seed,
    )


def _contour(n: int, amplitude: float = 1.0) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    def data(seed: int):
        X, y, _, _ = make_slow_contour(n, 60, 20, amplitude=amplitude, random_state=seed)
        return X, y

    return data


def _tiny(seed: int):
    return make_event_order_classification(
        n_samples=330,
        n_timesteps=60,
        n_features=20,
        weights=None,
        min_length=30,
        strength=2.5,
        random_state=seed,
    )


def _level_shift(rng: np.random.RandomState, n: int, t: int, f: int, shifted: int, shift: float):
    """Balanced classes told apart by ``+-shift`` on the first ``shifted`` of ``f`` features,
    over the whole real part of each sequence (lengths ``t // 2``..``t``, zero post-padding)."""
    y = rng.permutation(np.arange(n) % 2)
    lengths = rng.randint(t // 2, t + 1, size=n)
    X = rng.standard_normal((n, t, f)).astype(np.float32)
    X[:, :, :shifted] += np.where(y == 1, shift, -shift)[:, None, None].astype(np.float32)
    X[np.arange(t)[None, :] >= lengths[:, None]] = 0.0
    return X, y


def _label_noise(seed: int):
    """A level shift on one feature decides the class; 20% of the labels are flipped.

    Every model that finds the shift predicts the clean label: a ceiling of
    about 0.8 that no model passes, reached by the order-blind baseline too.
    """
    rng = np.random.RandomState(seed)
    X, y = _level_shift(rng, 500, 30, 3, shifted=1, shift=3.0)
    flip = rng.rand(len(y)) < 0.2
    return X, np.where(flip, 1 - y, y)


def _wide_level(seed: int):
    """A level shift of the whole series on 4 of 40 features is the class.

    Per-series scaling (``standardize="per_series"``) removes exactly that:
    the network can only be at chance; the data set's statistics keep it.
    """
    return _level_shift(np.random.RandomState(seed), 1200, 30, 40, shifted=4, shift=0.5)


def _event_order(seed: int):
    return make_event_order_classification(
        n_samples=500,
        n_timesteps=60,
        n_features=10,
        weights=None,
        min_length=40,
        strength=3.0,
        random_state=seed,
    )


SCENARIOS = {
    "forced collapse": Scenario(
        "collapsed",
        "weight_decay=100 (AdamW shrinks every weight to zero)",
        _motif,
        300,
        {"dense_units": 8, "lstm_units": 8, "max_epochs": 5, "weight_decay": 100.0},
    ),
    # So small and so briefly trained that it predicts one class: rule 1 (collapsed) holds.
    "1 unit for 3 epochs": Scenario(
        "collapsed",
        "n_conv_layers=0, lstm_units=1, max_epochs=3 on the slow contour",
        _contour(400),
        300,
        {"n_conv_layers": 0, "lstm_units": 1, "dense_units": 4, "max_epochs": 3},
    ),
    "too little capacity": Scenario(
        "underfitting",
        "n_conv_layers=0, lstm_units=2, dense_units=2, 40 epochs, slow contour (amplitude 0.3)",
        _contour(600, 0.3),
        400,
        {"n_conv_layers": 0, "lstm_units": 2, "dense_units": 2, "max_epochs": 40},
    ),
    "tiny training set": Scenario(
        "overfitting",
        "30 training sequences (event order, 20 features), 60 epochs, no split",
        _tiny,
        30,
        {"dense_units": 32, "lstm_units": 32, "max_epochs": 60},
    ),
    "over-regularised (trails binned)": Scenario(
        "underfitting",
        "dropout=0.5, weight_decay=0.3, 16 units, 30 epochs, slow contour (amplitude 0.3)",
        _contour(600, 0.3),
        400,
        {
            "dense_units": 16,
            "lstm_units": 16,
            "max_epochs": 30,
            "dropout": 0.5,
            "weight_decay": 0.3,
            "n_conv_layers": 0,
        },
    ),
    "label-noise ceiling": Scenario(
        "plateau",
        "a level shift with 20% flipped labels: every model stops at the clean rule",
        _label_noise,
        350,
        {"dense_units": 2, "lstm_units": 2, "max_epochs": 10, "early_stopping": True},
    ),
    # The network stays at chance where order-blind baselines read the level: "underfitting".
    "wide-step level (per series)": Scenario(
        "underfitting",
        "a level shift on 4 of 40 features is the class; standardize='per_series'",
        _wide_level,
        1000,
        {"dense_units": 16, "lstm_units": 16, "max_epochs": 30, "standardize": "per_series"},
    ),
    "wide-step level (standardize=True)": Scenario(
        "learned",
        'the same with standardize=True (what "auto" gives here: the data set\'s statistics)',
        _wide_level,
        1000,
        {"dense_units": 16, "lstm_units": 16, "max_epochs": 30},
    ),
    "learned order": Scenario(
        "learned",
        "event order (strength 3, 10 features), 40 epochs",
        _event_order,
        400,
        {"dense_units": 16, "lstm_units": 16, "max_epochs": 40},
    ),
}


def run_verdicts(args, seeds, results: Results) -> list[dict]:
    names = list(SCENARIOS) if args.scenarios is None else args.scenarios.split(",")
    records = []
    for name in names:
        scenario = SCENARIOS[name]
        for seed in seeds:
            X, y = scenario.data(seed)
            n = scenario.n_train
            params = dict(scenario.params)
            if args.quick:
                params["max_epochs"] = min(params["max_epochs"], 3)
            clf = SeqAttentionClassifier(random_state=seed, n_init=1, **params)
            with Clock() as fit_clock, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(X[:n], y[:n])
            with Clock() as report_clock, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = fit_report(clf, X[n:], y[n:], X_train=X[:n], y_train=y[:n])
            record = {
                "part": "verdicts",
                "scenario": name,
                "expected": scenario.expected,
                "seed": seed,
                "verdict": report.verdict,
                "reasons": list(report.reasons),
                "balanced_accuracy": report.balanced_accuracy,
                "train_balanced_accuracy": report.train_balanced_accuracy,
                "baselines": {b.name: b.balanced_accuracy for b in report.baselines},
                "epochs": report.curves.n_epochs,
                "fit_cpu_s": fit_clock.cpu,
                "report_cpu_s": report_clock.cpu,
                "params": params,
                "n_train": n,
                "n_val": len(y) - n,
            }
            results.write(record)
            records.append(record)
            print(
                f"<!-- {name} seed {seed}: {report.verdict} (val {report.balanced_accuracy:.3f}"
                f", train {report.train_balanced_accuracy:.3f}, baselines "
                f"{json.dumps({k: round(v, 3) for k, v in record['baselines'].items()})}) -->",
                flush=True,
            )
    rows = []
    for name in names:
        runs = [r for r in records if r["scenario"] == name]
        counts = Counter(r["verdict"] for r in runs)
        rows.append(
            {
                "scenario": name,
                "setting": SCENARIOS[name].what,
                "expected": SCENARIOS[name].expected,
                "correct": f"{counts[SCENARIOS[name].expected]}/{len(runs)}",
                "verdicts given": ", ".join(f"{v} ({c})" for v, c in counts.most_common()),
                "network val": _mean_sd([r["balanced_accuracy"] for r in runs]),
                "best baseline val": _mean_sd([max(r["baselines"].values()) for r in runs]),
                "fit CPU (s)": float(np.mean([r["fit_cpu_s"] for r in runs])),
                "report CPU (s)": float(np.mean([r["report_cpu_s"] for r in runs])),
            }
        )
    print_table(rows, caption="Verdict correctness: share of seeds with the expected verdict")
    return records


# --------------------------------------------------------------------------- attribution
def _planted_features(X, steps, k: int) -> np.ndarray:
    """The ``k`` features with the largest mean square on the planted steps."""
    return np.argsort(-(X[steps] ** 2).mean(axis=0))[:k]


ATTRIBUTION_TASKS = ("motif-order", "event-order", "slow-contour")


def _attribution_task(name: str, seed: int):
    """``X, y, planted steps (n, T), planted features`` of one task."""
    if name == "motif-order":
        X, y, events = make_sequence_classification(
            n_samples=600,
            n_timesteps=60,
            n_features=20,
            signal=2.0,
            return_events=True,
            random_state=seed,
        )
        return X, y, events, _planted_features(X, events, 8)
    if name == "event-order":
        X, y, events = make_event_order_classification(
            n_samples=600,
            n_timesteps=60,
            n_features=20,
            weights=None,
            min_length=30,
            strength=2.5,
            return_events=True,
            random_state=seed,
        )
        return X, y, events, _planted_features(X, events, 8)
    X, y, informative, peaks = make_slow_contour(600, 60, 20, random_state=seed)
    return X, y, peaks, informative


def _share(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    total = values.sum(axis=1)
    return (values * mask).sum(axis=1) / np.where(total > 0, total, 1.0)


def run_attribution(args, seeds, results: Results) -> list[dict]:
    records = []
    params = json.loads(args.attribution_params)
    tasks = (
        ATTRIBUTION_TASKS if args.attribution_tasks is None else args.attribution_tasks.split(",")
    )
    for task in tasks:
        for seed in seeds:
            X, y, planted, features = _attribution_task(task, seed)
            train, val = train_test_split(
                np.arange(len(y)), test_size=200, stratify=y, random_state=seed
            )
            clf = SeqAttentionClassifier(
                dense_units=32,
                lstm_units=32,
                max_epochs=3 if args.quick else 40,
                n_init=1,
                random_state=seed,
                **params,
            )
            with Clock() as fit_clock, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(X[train], y[train])
            Xv, steps = X[val], planted[val]
            real = ~(Xv == 0).all(axis=2)
            feature_mask = np.zeros(X.shape[2], dtype=bool)
            feature_mask[features] = True
            weights = clf.attention_weights(Xv)  # (n, T)
            by_feature_att = (weights[:, :, None] * np.abs(Xv)).sum(axis=1)  # (n, F)
            with Clock() as ig_clock:
                R = relevance(clf, Xv, n_steps=32)
            record = {
                "part": "attribution",
                "task": task,
                "seed": seed,
                "params": params,
                "front_end": clf.front_end_,
                "balanced_accuracy": balanced_accuracy_score(y[val], clf.predict(Xv)),
                "epochs": clf.n_iter_,
                "step_chance": float((steps.sum(axis=1) / real.sum(axis=1)).mean()),
                "step_attention": float(_share(weights, steps).mean()),
                "step_ig": float(_share(relevance_by_step(R), steps).mean()),
                "feature_chance": float(feature_mask.mean()),
                "feature_attention": float(_share(by_feature_att, feature_mask).mean()),
                "feature_ig": float(_share(relevance_by_feature(R), feature_mask).mean()),
                # 1 = uniform over the real steps: normalised entropy of the pooling weights.
                "attention_entropy": float(
                    np.mean(
                        [
                            -(w[m] * np.log(np.clip(w[m], 1e-12, None))).sum() / np.log(m.sum())
                            for w, m in zip(weights, real, strict=True)
                        ]
                    )
                ),
                "padding_relevance": float(np.abs(R[~real]).sum()),
                "fit_cpu_s": fit_clock.cpu,
                "ig_cpu_s": ig_clock.cpu,
                "n_val": len(val),
            }
            results.write(record)
            records.append(record)
            print(f"<!-- {task} seed {seed}: {json.dumps(_rounded(record))} -->", flush=True)
    rows = []
    for task in tasks:
        runs = [r for r in records if r["task"] == task]
        for unit in ("step", "feature"):
            chance = float(np.mean([r[f"{unit}_chance"] for r in runs]))
            att = float(np.mean([r[f"{unit}_attention"] for r in runs]))
            ig = float(np.mean([r[f"{unit}_ig"] for r in runs]))
            rows.append(
                {
                    "task": task,
                    "planted": "steps" if unit == "step" else "features",
                    "network val": _mean_sd([r["balanced_accuracy"] for r in runs]),
                    "chance share": chance,
                    "attention share": att,
                    "attention / chance": att / chance,
                    "IG share": ig,
                    "IG / chance": ig / chance,
                    "attention entropy (1 = uniform)": float(
                        np.mean([r["attention_entropy"] for r in runs])
                    ),
                }
            )
    print_table(
        rows,
        caption="Share of |relevance| on planted steps and features (validation sequences; "
        "attention per feature as weight x |x|)",
    )
    return records


# ---------------------------------------------------------------------------------- cost
def run_cost(args, results: Results) -> dict:
    n, t, f = (300, 50, 136) if args.quick else (2000, 100, 136)
    X, y = make_sequence_classification(
        n_samples=n, n_timesteps=t, n_features=f, weights=[0.28, 0.72], random_state=0
    )
    n_train = int(0.8 * n)
    clf = SeqAttentionClassifier(
        max_epochs=2 if args.quick else 10, early_stopping=True, n_init=1, random_state=0
    )
    with Clock() as fit_clock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:n_train], y[:n_train])
    with Clock() as report_clock:
        report = fit_report(clf, X[n_train:], y[n_train:], X_train=X[:n_train], y_train=y[:n_train])
    with Clock() as ig_clock:
        relevance(clf, X[n_train : n_train + 100], n_steps=32)
    record = {
        "part": "cost",
        "shape": [n, t, f],
        "epochs": clf.n_iter_,
        "fit_cpu_s": fit_clock.cpu,
        "fit_wall_s": fit_clock.wall,
        "report_cpu_s": report_clock.cpu,
        "report_wall_s": report_clock.wall,
        "baseline_wall_s": {b.name: b.seconds for b in report.baselines},
        "ig_100_cpu_s": ig_clock.cpu,
        "verdict": report.verdict,
    }
    results.write(record)
    epoch = fit_clock.cpu / max(clf.n_iter_, 1)
    rows = [
        {
            "what": f"fit ({clf.n_iter_} epochs)",
            "CPU (s)": fit_clock.cpu,
            "wall (s)": fit_clock.wall,
            "vs fit": 1.0,
            "in epochs": float(clf.n_iter_),
        },
        {
            "what": "fit_report (3 baselines)",
            "CPU (s)": report_clock.cpu,
            "wall (s)": report_clock.wall,
            "vs fit": report_clock.cpu / fit_clock.cpu,
            "in epochs": report_clock.cpu / epoch,
        },
    ]
    rows += [{"what": f"  of which {b.name}", "wall (s)": b.seconds} for b in report.baselines]
    rows.append(
        {
            "what": "relevance, 100 sequences, n_steps=32",
            "CPU (s)": ig_clock.cpu,
            "vs fit": ig_clock.cpu / fit_clock.cpu,
            "in epochs": ig_clock.cpu / epoch,
        }
    )
    print_table(rows, caption=f"The report's cost on {n} x {t} x {f} ({n_train} train)")
    return record


# -------------------------------------------------------------------------------- helpers
def _mean_sd(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std():.3f}"


def _rounded(record: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in record.items()}


def main():
    def add(parser):
        parser.add_argument("--parts", default=",".join(PARTS), help="parts to run")
        parser.add_argument(
            "--attribution-seeds",
            default=None,
            help="seeds of the attribution part (default: 0,1,2,3,4; 0 with --quick)",
        )
        parser.add_argument("--scenarios", default=None, help="verdict scenarios (default: all)")
        parser.add_argument(
            "--attribution-tasks",
            default=None,
            help=f"tasks of the attribution part (default: {','.join(ATTRIBUTION_TASKS)})",
        )
        parser.add_argument(
            "--attribution-params",
            default="{}",
            help="JSON of classifier parameters added to the attribution fits "
            '(e.g. \'{"front_end": "conv"}\')',
        )

    args = parse_args(
        __doc__.splitlines()[0], add, results="report", seeds="0,1,2,3,4", quick_seeds="0"
    )
    parts = args.parts.split(",")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"--parts: unknown {unknown}; choose from {PARTS}")
    attribution_seeds = [
        int(s) for s in (args.attribution_seeds or ("0" if args.quick else "0,1,2,3,4")).split(",")
    ]
    results = Results(args)
    print_header("The fit report: verdicts, attribution, cost", args)
    with Clock() as total:
        if "verdicts" in parts:
            run_verdicts(args, args.seeds, results)
        if "attribution" in parts:
            run_attribution(args, attribution_seeds, results)
        if "cost" in parts:
            run_cost(args, results)
    print(f"Records appended to {args.out}. Total wall {total.wall:.0f} s, CPU {total.cpu:.0f} s.")


if __name__ == "__main__":
    main()
