"""Defaults: what SeqAttentionClassifier does out of the box, and a few alternatives.

Held-out balanced accuracy of the package's defaults and of one-change
variants (learning rate, width, dropout, batch size, learning-rate schedule,
class weights) on

* ``synthetic``: the seed-shaped order task,
  ``make_sequence_classification(n_samples=1600, n_timesteps=100,
  n_features=136, weights=[0.28, 0.72], signal=SIGNAL)``, 1,200 train /
  400 test (stratified);
* ``JapaneseVowels`` and ``BasicMotions`` (official splits, standardised as in
  ``bench_accuracy.py``).

The package's early stopping stops only when neither the validation loss nor
the validation score has improved (``LossOrScoreStopping``). The variants
"previous defaults" and "stop on valid_score only" swap it for skorch's
``EarlyStopping`` on a single monitor, the rules it was chosen against.

    python benchmarks/bench_defaults.py [--quick] [--threads N]
        [--data synthetic,JapaneseVowels,BasicMotions] [--configs NAME,...] [--seeds 0,1]
"""

from __future__ import annotations

import contextlib
import statistics

import numpy as np
from _common import Clock, parse_args, print_header, print_table
from bench_accuracy import load
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from skorch.callbacks import EarlyStopping

import sklearn_seqattn._net as net_factory
from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

SIGNAL = 1.0

# One change at a time from the package's defaults ({}).
CONFIGS = {
    "defaults": {},
    "previous defaults (valid_loss only; patience 10; max_epochs=100)": {
        "monitor": "valid_loss",
        "n_iter_no_change": 10,
        "max_epochs": 100,
    },
    "lr=1e-3": {"lr": 1e-3},
    "lr=5e-3": {"lr": 5e-3},
    "units=32": {"dense_units": 32, "lstm_units": 32},
    "units=128": {"dense_units": 128, "lstm_units": 128},
    "dropout=0": {"dropout": 0.0},
    "dropout=0.3": {"dropout": 0.3},
    "batch_size=32": {"batch_size": 32},
    "batch_size=128": {"batch_size": 128},
    "lr_schedule=plateau": {"lr_schedule": "plateau"},
    "lr_schedule=cosine": {"lr_schedule": "cosine"},
    "class_weight=balanced": {"class_weight": "balanced"},
    "n_iter_no_change=10": {"n_iter_no_change": 10},
    "stop on valid_score only": {"monitor": "valid_score"},
    "no early stopping (60 epochs)": {"early_stopping": False, "max_epochs": 60},
}


def synthetic(seed: int = 0, signal: float = SIGNAL):
    X, y = make_sequence_classification(
        n_samples=1600, n_timesteps=100, n_features=136, weights=[0.28, 0.72],
        signal=signal, random_state=seed,
    )  # fmt: skip
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=400, stratify=y, random_state=seed
    )
    return X_train, X_test, y_train, y_test


def data_sets(names):
    for name in names:
        if name == "synthetic":
            yield f"synthetic, signal {SIGNAL}", synthetic()
        elif name.startswith("synthetic-"):  # e.g. synthetic-1.5: another signal level
            signal = float(name.split("-", 1)[1])
            yield f"synthetic, signal {signal}", synthetic(signal=signal)
        else:
            X_train, X_test, _, _, y_train, y_test = load(name)
            yield name, (X_train, X_test, y_train, y_test)


@contextlib.contextmanager
def early_stopping_monitor(monitor: str | None):
    """Make early stopping watch ``monitor`` alone instead of the loss-or-score rule."""
    if monitor is None:
        yield
        return
    original = net_factory.LossOrScoreStopping

    def single_monitor(*, patience, **ignored):
        return EarlyStopping(
            monitor=monitor,
            lower_is_better=monitor == "valid_loss",
            patience=patience,
            load_best=True,
        )

    net_factory.LossOrScoreStopping = single_monitor
    try:
        yield
    finally:
        net_factory.LossOrScoreStopping = original


def evaluate(params, seed, X_train, X_test, y_train, y_test) -> dict:
    params = dict(params)
    monitor = params.pop("monitor", None)
    clf = SeqAttentionClassifier(random_state=seed, **params)
    with Clock() as fit, early_stopping_monitor(monitor):
        clf.fit(X_train, y_train)
    pred = clf.predict(X_test)
    return {
        "balanced accuracy": balanced_accuracy_score(y_test, pred),
        "accuracy": accuracy_score(y_test, pred),
        "epochs": clf.n_iter_,
        "fit CPU (s)": fit.cpu,
        "fit wall (s)": fit.wall,
    }


def summarise(runs: list[dict]) -> dict:
    bacc = [r["balanced accuracy"] for r in runs]
    spread = f" ± {statistics.stdev(bacc):.3f}" if len(runs) > 1 else ""
    return {
        "balanced accuracy": f"{statistics.fmean(bacc):.3f}{spread}",
        "min": min(bacc),
        "accuracy": statistics.fmean(r["accuracy"] for r in runs),
        "epochs": statistics.fmean(r["epochs"] for r in runs),
        "fit CPU (s)": statistics.fmean(r["fit CPU (s)"] for r in runs),
        "fit wall (s)": statistics.fmean(r["fit wall (s)"] for r in runs),
    }


def main():
    def add(parser):
        parser.add_argument("--data", default="synthetic,JapaneseVowels,BasicMotions")
        parser.add_argument("--configs", default=",".join(CONFIGS))
        parser.add_argument("--seeds", default="0")

    args = parse_args(__doc__.splitlines()[0], add)
    configs = {name: CONFIGS[name] for name in args.configs.split(",")}
    seeds = [int(s) for s in args.seeds.split(",")]
    print_header("Defaults and alternatives", args)
    print(
        f"Seeds {seeds}; every fit uses early stopping on a 10% validation split unless the "
        f"variant says otherwise; synthetic signal = {SIGNAL}. Times in seconds (CPU of this "
        "process, and wall).\n"
    )
    # The first fit of a process sets up torch's kernels: keep it out of the timings.
    rng = np.random.default_rng(0)
    SeqAttentionClassifier(max_epochs=2, random_state=0).fit(
        [rng.normal(size=(n, 3)) for n in range(5, 45)], np.arange(40) % 2
    )
    for name, (X_train, X_test, y_train, y_test) in data_sets(args.data.split(",")):
        rows = []
        for label, params in configs.items():
            if args.quick:
                params = {**params, "max_epochs": 2}
            runs = [evaluate(params, s, X_train, X_test, y_train, y_test) for s in seeds]
            rows.append({"variant": label, **summarise(runs)})
            print(f"<!-- {name} {label} done -->", flush=True)
        print_table(rows, caption=f"{name}: {len(y_train)} train / {len(y_test)} test")


if __name__ == "__main__":
    main()
