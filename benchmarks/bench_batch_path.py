"""The batch path before and after a change: two checkouts measured side by side.

Each measurement runs in a fresh process that imports the package from one of
two source trees (``--before`` and ``--after``, default: this checkout), the
two interleaved over ``--rounds`` rounds; medians are reported, and ratios
after / before. At the seed shape (1,024 sequences x 100 steps x 136 features,
the reference user's model, batch 128, fixed epochs, one thread unless ``--threads``):

* epoch CPU time with variable lengths (40-100) and with equal lengths (100);
* ``predict_proba`` against a plain ``torch`` loop over the same module;
* peak memory of a 1-epoch fit and a prediction above that of a plain loop
  doing the same, in copies of ``X`` (4,096 sequences: 213 MiB).

Table rows are appended to ``benchmarks/results/batch-path.jsonl``, with the
path and commit of both checkouts.

    git worktree add /tmp/before <commit>
    python benchmarks/bench_batch_path.py --before /tmp/before [--rounds 3] [--quick]
        [--kinds epoch,predict,memory]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("epoch variable", "epoch equal", "predict", "memory estimator", "memory plain")


def worker(root: str, kind: str, threads: int, n_samples: int, epochs: int) -> dict:
    """One measurement with the package imported from ``root``."""
    sys.path.insert(0, root)
    sys.path.insert(1, str(HERE))
    import numpy as np
    import torch

    torch.set_num_threads(threads)
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
    if sys.argv[1:2] == ["--worker"]:
        # Before anything imports the package: a worker imports it from its own tree.
        root, kind, threads = sys.argv[2:5]
        n_samples, epochs = (256, 2) if "--quick" in sys.argv else (1024, 5)
        print(json.dumps(worker(root, kind, int(threads), n_samples, epochs)))
        return
    from _common import Results, git_commit, parse_args, print_header, run_worker

    def add(parser):
        parser.add_argument("--before", default=str(HERE.parent), help="checkout measured first")
        parser.add_argument("--after", default=str(HERE.parent), help="checkout measured second")
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--kinds", default="epoch,predict,memory", help="what to measure")

    args = parse_args(__doc__.splitlines()[0], add, results="batch-path")
    checkouts = {
        side: {"path": getattr(args, side), "commit": git_commit(getattr(args, side))}
        for side in ("before", "after")
    }
    results = Results(args, checkouts=checkouts)
    print_header("The batch path: two checkouts side by side", args)
    print(", ".join(f"{side}: {c['path']} ({c['commit']})" for side, c in checkouts.items()))
    print()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": ""}
    measured: dict = {}
    for _ in range(1 if args.quick else args.rounds):
        for kind in (k for k in KINDS if k.split()[0] in args.kinds.split(",")):
            for side in ("before", "after"):
                root = getattr(args, side)
                cmd = [sys.executable, __file__, "--worker", root, kind, str(args.threads)]
                cmd += ["--quick"] if args.quick else []
                record = run_worker(cmd, env)
                for key, value in record.items():
                    measured.setdefault((kind, key, side), []).append(value)

    def med(kind, key, side):
        values = sorted(measured[(kind, key, side)])
        return values[len(values) // 2]

    rows = []
    for label, kind, key in (
        ("epoch CPU (s), lengths 40-100", "epoch variable", "epoch_cpu"),
        ("epoch CPU (s), lengths all 100", "epoch equal", "epoch_cpu"),
        ("predict_proba CPU (s)", "predict", "predict_cpu"),
        ("plain loop predict CPU (s)", "predict", "plain_cpu"),
    ):
        if (kind, key, "after") in measured:
            b, a = med(kind, key, "before"), med(kind, key, "after")
            rows.append({"measure": label, "before": b, "after": a, "after / before": a / b})
    if ("predict", "predict_cpu", "after") in measured:
        ratio = {
            side: med("predict", "predict_cpu", side) / med("predict", "plain_cpu", side)
            for side in ("before", "after")
        }
        rows.append({"measure": "predict_proba / plain loop", **ratio})
    if ("memory plain", "x_mib", "after") in measured:
        x_mib = med("memory plain", "x_mib", "after")
        above = {
            side: med("memory estimator", "peak_mib", side) - med("memory plain", "peak_mib", side)
            for side in ("before", "after")
        }
        rows.append(
            {
                "measure": f"fit + predict peak above a plain loop, copies of X ({x_mib:.0f} MiB)",
                "before": above["before"] / x_mib,
                "after": above["after"] / x_mib,
                "after / before": above["after"] / above["before"],
            }
        )
    results.table(
        rows,
        caption=f"Medians of {1 if args.quick else args.rounds} interleaved round(s), "
        "seed model, batch 128",
    )


if __name__ == "__main__":
    main()
