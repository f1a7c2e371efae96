"""Long sequences: epoch time and memory against the length, with and without downsampling.

Part 1: 128 sequences of 16 features, lengths T/2..T for T = 500, 1,000,
2,000, 4,000, the default model, batch 32, 2 epochs (the second timed): every
step through the LSTM (``downsample=1``) against ``downsample="auto"`` (window
means of real steps, at most 256 steps left). Each run in a fresh process for
its peak memory (VmHWM).

Part 2, the accuracy cost: ``make_event_order_classification`` at T = 500
(lengths 250-500, 16 features, two 20-step events of strength 2.5 on 4
features each), 450 train / 150 test, 3 seeds, ``max_epochs=50``: balanced
accuracy, fit CPU time and chance-level warnings with ``downsample=1`` and
``"auto"`` (a factor 2). (At T = 1,000 and strength 1.5, 300 training
sequences, both stayed at chance on every seed within 40 epochs.)

Table rows are appended to ``benchmarks/results/long.jsonl``.

    python benchmarks/bench_long.py [--quick] [--part 1|2] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import numpy as np
from _common import (
    Clock,
    Results,
    fit_timed,
    parse_args,
    peak_rss_mib,
    print_header,
    run_worker,
)
from sklearn.metrics import balanced_accuracy_score

from sklearn_seqattn import ChanceLevelWarning, SeqAttentionClassifier
from sklearn_seqattn.datasets import make_event_order_classification


def long_task(n_samples: int, n_timesteps: int, strength: float = 1.5):
    """Event-order sequences of lengths T/2..T, 16 features, two 20-step events."""
    return make_event_order_classification(
        n_samples=n_samples,
        n_timesteps=n_timesteps,
        n_features=16,
        min_length=n_timesteps // 2,
        event_length=20,
        strength=strength,
        random_state=0,
    )


def timing_worker(n_timesteps: int, downsample) -> dict:
    X, y = long_task(128, n_timesteps)
    est = SeqAttentionClassifier(
        downsample=downsample,
        batch_size=32,
        max_epochs=2,
        early_stopping=False,
        n_init=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, epochs = fit_timed(est, X, y)
    return {"epoch_cpu": epochs[-1][1], "peak_mib": peak_rss_mib(), "factor": est.downsample_}


def part1(args, results: Results) -> None:
    lengths = (500, 1000) if args.quick else (500, 1000, 2000, 4000)
    rows = []
    for n_timesteps in lengths:
        for downsample in (1, "auto"):
            # A fresh process per run: its peak memory is this run's alone.
            cmd = [sys.executable, __file__, "--threads", str(args.threads)]
            cmd += ["--worker", str(n_timesteps), str(downsample)]
            env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
            r = run_worker(cmd, env)
            rows.append(
                {
                    "T": n_timesteps,
                    "downsample": downsample,
                    "factor": r["factor"],
                    "epoch CPU (s)": r["epoch_cpu"],
                    "peak RSS (MiB)": r["peak_mib"],
                }
            )
    results.table(rows, caption="128 sequences of lengths T/2..T, 16 features, batch 32")


def part2(args, results: Results) -> None:
    n_timesteps = 300 if args.quick else 500
    X, y = long_task(600, n_timesteps, strength=2.5)
    rows = []
    for downsample in (1, "auto"):
        scores, cpu, factor, warned = [], [], None, 0
        for seed in args.seeds:
            est = SeqAttentionClassifier(
                downsample=downsample, max_epochs=10 if args.quick else 50, random_state=seed
            )
            with warnings.catch_warnings(record=True) as caught, Clock() as clock:
                warnings.simplefilter("always")
                est.fit(X[:450], y[:450])
            cpu.append(clock.cpu)
            warned += any(issubclass(w.category, ChanceLevelWarning) for w in caught)
            factor = est.downsample_
            scores.append(balanced_accuracy_score(y[450:], est.predict(X[450:])))
        rows.append(
            {
                "downsample": downsample,
                "factor": factor,
                "balanced accuracy (mean ± sd)": f"{np.mean(scores):.3f} ± {np.std(scores):.3f}",
                "per seed": ", ".join(f"{s:.3f}" for s in scores),
                "fit CPU (s)": float(np.median(cpu)),
                "fits warned (ChanceLevelWarning)": f"{warned}/{len(args.seeds)}",
            }
        )
    results.table(
        rows,
        caption=f"Event order at T = {n_timesteps} (strength 2.5), 450 train / 150 test",
        seeds=args.seeds,
    )


def main() -> None:
    def add(parser):
        parser.add_argument("--part", choices=("1", "2"), help="run one part only")
        parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)

    args = parse_args(__doc__.splitlines()[0], add, results="long", seeds="0,1,2", quick_seeds="0")
    if args.worker:
        n_timesteps, downsample = int(args.worker[0]), args.worker[1]
        downsample = downsample if downsample == "auto" else int(downsample)
        print(json.dumps(timing_worker(n_timesteps, downsample)))
        return
    results = Results(args)
    print_header("Long sequences: epoch time, memory and accuracy against the length", args)
    if args.part in (None, "1"):
        part1(args, results)
    if args.part in (None, "2"):
        part2(args, results)


if __name__ == "__main__":
    main()
