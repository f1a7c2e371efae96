"""Accuracy on real data: SeqAttentionClassifier against MiniRocket (aeon).

JapaneseVowels (9 speakers, 12 LPC coefficients, 7..29 steps, 270 train / 370
test) and BasicMotions (4 activities, 6 motion channels, 100 steps, 40 / 40),
official train/test splits, both bundled with aeon (nothing is downloaded).
Accuracy, balanced accuracy, fit and predict time, over several seeds.

Our inputs are standardised per feature with the training set's mean and
standard deviation over real steps; JapaneseVowels goes in as a ragged list.
MiniRocket needs equal lengths: JapaneseVowels is zero-padded at the end to
the longest sequence (29 steps) for it.

    python benchmarks/bench_accuracy.py [--quick] [--threads N]

Needs the ``benchmarks`` extra: ``pip install sklearn-seqattn[benchmarks]``.
"""

from __future__ import annotations

import statistics

import numpy as np
import torch
from _common import Clock, parse_args, print_header, print_table
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from sklearn_seqattn import SeqAttentionClassifier

# Settings of our classifier compared here; {} is the package's defaults.
CONFIGS = {
    "SeqAttentionClassifier (defaults)": {},
    "SeqAttentionClassifier (batch_size=32)": {"batch_size": 32},
}


def load(name: str):
    """Train/test data as ``(X_ours_train, X_ours_test, X_rocket_train, X_rocket_test, y...)``."""
    try:
        from aeon.datasets import load_basic_motions, load_japanese_vowels
    except ImportError as exc:
        raise SystemExit(
            "bench_accuracy needs aeon: pip install 'sklearn-seqattn[benchmarks]'"
        ) from exc
    loader = {"JapaneseVowels": load_japanese_vowels, "BasicMotions": load_basic_motions}[name]
    X_train, y_train = loader(split="train")
    X_test, y_test = loader(split="test")
    # aeon: (n, channels, time) arrays or lists of (channels, time_i); ours: (time_i, features).
    ours_train = [np.asarray(x, dtype=np.float32).T for x in X_train]
    ours_test = [np.asarray(x, dtype=np.float32).T for x in X_test]
    ours_train, ours_test = standardise(ours_train, ours_test)
    if not isinstance(X_train, np.ndarray):  # unequal lengths: list for us, padded for MiniRocket
        width = max(x.shape[1] for x in [*X_train, *X_test])
        X_train, X_test = pad_channels_first(X_train, width), pad_channels_first(X_test, width)
    else:
        ours_train, ours_test = np.stack(ours_train), np.stack(ours_test)
    return ours_train, ours_test, X_train, X_test, np.asarray(y_train), np.asarray(y_test)


def standardise(train: list, test: list) -> tuple[list, list]:
    steps = np.concatenate(train)
    mean, std = steps.mean(axis=0), steps.std(axis=0) + 1e-8
    return [(x - mean) / std for x in train], [(x - mean) / std for x in test]


def pad_channels_first(X: list, width: int) -> np.ndarray:
    out = np.zeros((len(X), X[0].shape[0], width))
    for i, x in enumerate(X):
        out[i, :, : x.shape[1]] = x
    return out


def minirocket(seed: int):
    from aeon.classification.convolution_based import MiniRocketClassifier

    return MiniRocketClassifier(random_state=seed, n_jobs=1)


def evaluate(make, X_train, y_train, X_test, y_test, threads: int) -> dict:
    model = make()
    # aeon's thread handling for numba leaves OpenMP at more threads than torch was set
    # to (torch then trains on 2 threads); set it back before every fit.
    torch.set_num_threads(threads)
    with Clock() as fit:
        model.fit(X_train, y_train)
    with Clock() as predict:
        pred = model.predict(X_test)
    out = {
        "accuracy": accuracy_score(y_test, pred),
        "balanced accuracy": balanced_accuracy_score(y_test, pred),
        "fit CPU (s)": fit.cpu,
        "fit wall (s)": fit.wall,
        "predict CPU (s)": predict.cpu,
    }
    if hasattr(model, "n_iter_"):
        out["epochs"] = model.n_iter_
    return out


def summarise(runs: list[dict]) -> dict:
    row = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        mean = statistics.fmean(values)
        if key in ("accuracy", "balanced accuracy"):
            row[key] = f"{mean:.4f}" + (
                f" ± {statistics.stdev(values):.4f}" if len(runs) > 1 else ""
            )
            row[f"min {key}"] = min(values) if key == "accuracy" else ""
        else:
            row[key] = mean
    row.pop("min balanced accuracy", None)
    return row


def main():
    args = parse_args(__doc__.splitlines()[0])
    seeds = (0,) if args.quick else (0, 1, 2)
    print_header("Accuracy on JapaneseVowels and BasicMotions", args)
    print(
        f"Official train/test splits; mean ± standard deviation over seeds {list(seeds)}; "
        "times are means over seeds, in CPU seconds of this process (torch and numba on "
        f"{args.threads} thread(s)).\n"
    )
    # numba compiles MiniRocket's kernels on first use, and torch sets up its kernels on
    # the first fit of a process: keep both one-off costs out of the timings.
    rng = np.random.default_rng(0)
    with Clock() as warmup:
        minirocket(0).fit(rng.normal(size=(8, 2, 30)), np.arange(8) % 2)
    with Clock() as torch_warmup:
        SeqAttentionClassifier(max_epochs=2, random_state=0).fit(
            [rng.normal(size=(n, 3)) for n in range(5, 45)], np.arange(40) % 2
        )
    rows = []
    for name in ("JapaneseVowels", "BasicMotions"):
        ours_train, ours_test, r_train, r_test, y_train, y_test = load(name)
        models = {
            label: (lambda s, p=params: SeqAttentionClassifier(random_state=s, **p), "ours")
            for label, params in CONFIGS.items()
        }
        models["MiniRocket (aeon)"] = (minirocket, "rocket")
        for label, (factory, kind) in models.items():
            data = (ours_train, y_train, ours_test, y_test)
            if kind == "rocket":
                data = (r_train, y_train, r_test, y_test)
            if args.quick and kind == "ours":
                factory = _quick(factory)
            runs = [evaluate(lambda f=factory, s=s: f(s), *data, args.threads) for s in seeds]
            rows.append({"data set": name, "model": label, **summarise(runs)})
    columns = [
        "data set",
        "model",
        "accuracy",
        "min accuracy",
        "balanced accuracy",
        "fit CPU (s)",
        "fit wall (s)",
        "predict CPU (s)",
        "epochs",
    ]
    print_table(rows, columns)
    print(
        f"One-off costs excluded above: MiniRocket's numba compilation {warmup.cpu:.1f} s CPU "
        f"({warmup.wall:.1f} s wall; cached on disk by numba after the first run); "
        f"first fit of our classifier in the process {torch_warmup.cpu:.1f} s CPU.\n"
    )


def _quick(factory):
    return lambda s: factory(s).set_params(max_epochs=3)


if __name__ == "__main__":
    main()
