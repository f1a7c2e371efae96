"""The batch path before and after a change: two checkouts measured side by side.

Each measurement runs in a fresh process that imports the package from one of
two source trees (``--before`` and ``--after``, default: this checkout), the
two interleaved over ``--rounds`` rounds; medians are reported, and ratios
after / before. At the seed shape (1,024 sequences x 100 steps x 136 features,
the reference user's model, batch 128, fixed epochs, one thread):

* epoch CPU time with variable lengths (40-100) and with equal lengths (100);
* ``predict_proba`` against a plain ``torch`` loop over the same module;
* peak memory of a 1-epoch fit and a prediction above that of a plain loop
  doing the same, in copies of ``X`` (4,096 sequences: 213 MiB).

    git worktree add /tmp/before <commit>
    python benchmarks/bench_batch_path.py --before /tmp/before [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("epoch variable", "epoch equal", "predict", "memory estimator", "memory plain")


def worker(root: str, kind: str, n_samples: int, epochs: int) -> dict:
    """One measurement with the package imported from ``root``."""
    sys.path.insert(0, root)
    sys.path.insert(1, str(HERE))
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from _common import (
        PlainLoop,
        fit_timed,
        medians,
        peak_rss_mib,
        seed_estimator,
        seed_module,
        timed,
    )

    from sklearn_seqattn.datasets import make_sequence_classification

    min_length = 100 if kind == "epoch equal" else 40
    if kind.startswith("memory"):
        n_samples *= 4  # X large against the allocator's own variations
    X, y = make_sequence_classification(
        n_samples=n_samples,
        n_timesteps=100,
        n_features=136,
        weights=[0.28, 0.72],
        min_length=min_length,
        random_state=0,
    )
    lengths = (X != 0).any(axis=2).sum(axis=1)
    est = seed_estimator(batch_size=128, max_epochs=epochs, n_init=1, standardize=True)
    if kind.startswith("epoch"):
        _, per_epoch = fit_timed(est, X, y)
        wall, cpu = medians(per_epoch[1:] or per_epoch)
        return {"epoch_cpu": cpu, "epoch_wall": wall}
    if kind == "memory estimator":
        est.set_params(max_epochs=1).fit(X, y)
        est.predict_proba(X)
        return {"peak_mib": peak_rss_mib(), "x_mib": X.nbytes / 2**20}
    if kind == "memory plain":
        with torch.random.fork_rng():
            torch.manual_seed(0)
            loop = PlainLoop(seed_module(136), X, lengths, y, batch_size=128)
        loop.epoch()
        loop.predict()
        return {"peak_mib": peak_rss_mib(), "x_mib": X.nbytes / 2**20}
    est.set_params(max_epochs=1).fit(X, y)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        loop = PlainLoop(seed_module(136), X, lengths, y, batch_size=128)
    est.predict_proba(X), loop.predict()  # warm-up
    ours = [timed(lambda: est.predict_proba(X))[1] for _ in range(5)]
    plain = [timed(loop.predict)[1] for _ in range(5)]
    return {"predict_cpu": float(np.median(ours)), "plain_cpu": float(np.median(plain))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=False, default=str(HERE.parent))
    parser.add_argument("--after", default=str(HERE.parent))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--kinds", default="epoch,predict,memory", help="what to measure")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n_samples, epochs = (256, 2) if args.quick else (1024, 5)
    if args.worker:
        print(json.dumps(worker(*args.worker, n_samples, epochs)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
    results: dict = {}
    for _ in range(1 if args.quick else args.rounds):
        for kind in (k for k in KINDS if k.split()[0] in args.kinds.split(",")):
            for side in ("before", "after"):
                root = getattr(args, side)
                cmd = [sys.executable, __file__, "--worker", root, kind]
                cmd += ["--quick"] if args.quick else []
                out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
                record = json.loads(out.stdout.strip().splitlines()[-1])
                for key, value in record.items():
                    results.setdefault((kind, key, side), []).append(value)

    def med(kind, key, side):
        values = sorted(results[(kind, key, side)])
        return values[len(values) // 2]

    print(f"before: {args.before}\nafter: {args.after}\n")
    print("| measure | before | after | after / before |\n|---|---|---|---|")
    rows = [
        ("epoch CPU (s), lengths 40-100", "epoch variable", "epoch_cpu"),
        ("epoch CPU (s), lengths all 100", "epoch equal", "epoch_cpu"),
        ("predict_proba CPU (s)", "predict", "predict_cpu"),
        ("plain loop predict CPU (s)", "predict", "plain_cpu"),
    ]
    for label, kind, key in rows:
        if (kind, key, "after") not in results:
            continue
        b, a = med(kind, key, "before"), med(kind, key, "after")
        print(f"| {label} | {b:.3f} | {a:.3f} | {a / b:.3f} |")
    if ("memory plain", "x_mib", "after") in results:
        x_mib = med("memory plain", "x_mib", "after")
        above = {
            side: med("memory estimator", "peak_mib", side) - med("memory plain", "peak_mib", side)
            for side in ("before", "after")
        }
        print(
            f"| fit + predict peak above a plain loop, copies of X ({x_mib:.0f} MiB) | "
            f"{above['before'] / x_mib:.2f} | {above['after'] / x_mib:.2f} | "
            f"{above['after'] / above['before']:.3f} |"
        )
    for side in ("before", "after"):
        if ("predict", "predict_cpu", side) in results:
            ratio = med("predict", "predict_cpu", side) / med("predict", "plain_cpu", side)
            print(f"\npredict_proba / plain loop ({side}): {ratio:.3f}")


if __name__ == "__main__":
    main()
