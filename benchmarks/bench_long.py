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

    python benchmarks/bench_long.py [--quick] [--part 1|2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def long_task(n_samples: int, n_timesteps: int, strength: float = 1.5):
    """Event-order sequences of lengths T/2..T, 16 features, two 20-step events."""
    from sklearn_seqattn.datasets import make_event_order_classification

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
    sys.path.insert(0, str(HERE))
    from _common import fit_timed, peak_rss_mib

    from sklearn_seqattn import SeqAttentionClassifier

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


def part1(quick: bool) -> None:
    lengths = (500, 1000) if quick else (500, 1000, 2000, 4000)
    print("| T | downsample | factor | epoch CPU (s) | peak RSS (MiB) |\n|---|---|---|---|---|")
    for n_timesteps in lengths:
        for downsample in (1, "auto"):
            cmd = [sys.executable, __file__, "--worker", str(n_timesteps), str(downsample)]
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"| {n_timesteps} | {downsample} | {r['factor']} | {r['epoch_cpu']:.2f} | "
                f"{r['peak_mib']:.0f} |"
            )


def part2(quick: bool) -> None:
    import time

    import numpy as np
    import torch
    from sklearn.metrics import balanced_accuracy_score

    from sklearn_seqattn import ChanceLevelWarning, SeqAttentionClassifier

    torch.set_num_threads(1)
    n_timesteps = 300 if quick else 500
    X, y = long_task(600, n_timesteps, strength=2.5)
    seeds = (0,) if quick else (0, 1, 2)
    print(
        "| downsample | factor | balanced accuracy (mean ± sd) | per seed | fit CPU (s) "
        "| fits warned (ChanceLevelWarning) |"
    )
    print("|---|---|---|---|---|---|")
    for downsample in (1, "auto"):
        scores, cpu, factor, warned = [], [], None, 0
        for seed in seeds:
            est = SeqAttentionClassifier(
                downsample=downsample, max_epochs=10 if quick else 50, random_state=seed
            )
            start = time.process_time()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                est.fit(X[:450], y[:450])
            cpu.append(time.process_time() - start)
            warned += any(issubclass(w.category, ChanceLevelWarning) for w in caught)
            factor = est.downsample_
            scores.append(balanced_accuracy_score(y[450:], est.predict(X[450:])))
        print(
            f"| {downsample} | {factor} | {np.mean(scores):.3f} ± {np.std(scores):.3f} | "
            f"{', '.join(f'{s:.3f}' for s in scores)} | {np.median(cpu):.0f} | "
            f"{warned}/{len(seeds)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=("1", "2"))
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        n_timesteps, downsample = int(args.worker[0]), args.worker[1]
        downsample = downsample if downsample == "auto" else int(downsample)
        print(json.dumps(timing_worker(n_timesteps, downsample)))
        return
    if args.part in (None, "1"):
        part1(args.quick)
    if args.part in (None, "2"):
        print()
        part2(args.quick)


if __name__ == "__main__":
    main()
