"""CPU per training epoch of the default network on aeon's training splits.

Each measurement fits one network (``n_estimators=1``) for a few epochs in a
fresh process and keeps the median CPU seconds of its epochs after the
first; variants run in turn, rounds interleaved, and the table gives the
median over rounds. A variant is a set of parameters, run with this
checkout's code or, with ``--baseline PATH``, also with the package found at
``PATH`` (a checkout of an earlier commit: ``git worktree add --detach PATH
COMMIT``), so a change of the code itself is measured on the same machine in
the same run. Table rows are appended to
``benchmarks/results/epoch-cost.jsonl``.

    python benchmarks/bench_epoch_cost.py --data OSULeaf,ACSF1 \\
        [--variants '{"stride 4": {"recurrent_stride": 4}}'] [--baseline PATH] \\
        [--epochs 4] [--rounds 3] [--quick] [--threads N]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from _common import (
    Results,
    git_commit,
    median,
    parse_args,
    print_header,
    print_table,
    run_worker,
)

HERE = Path(__file__).resolve().parent


def _worker(spec: dict) -> None:
    """Fit once and print the epochs' CPU seconds as JSON (run in a fresh process)."""
    import warnings

    import numpy as np
    import torch
    from _common import aeon_sequences, fit_timed
    from aeon.datasets import load_classification

    import sklearn_seqattn
    from sklearn_seqattn import SeqAttentionClassifier

    torch.set_num_threads(spec["threads"])
    X, y = load_classification(spec["data"], split="train")
    params = {
        "n_estimators": 1,
        "max_epochs": spec["epochs"],
        "random_state": 0,
        **spec["params"],
    }
    est = SeqAttentionClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, epochs = fit_timed(est, aeon_sequences(X), np.asarray(y))
    print(
        json.dumps(
            {
                "epoch_cpu": [cpu for _, cpu in epochs],
                "package": str(Path(sklearn_seqattn.__file__).parent.parent),
            }
        )
    )


def _measure(spec: dict, code: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{code}{os.pathsep}{HERE}"}
    return run_worker([sys.executable, __file__, "--worker", json.dumps(spec)], env)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _worker(json.loads(sys.argv[2]))
        return

    def options(parser):
        parser.add_argument("--data", required=True, help="aeon data sets, comma-separated")
        parser.add_argument(
            "--variants",
            default="{}",
            help='parameter sets as JSON, \'{"name": {"param": value}}\'; the defaults always run',
        )
        parser.add_argument(
            "--baseline", type=Path, default=None, help="checkout of the code to compare against"
        )
        parser.add_argument("--epochs", type=int, default=4, help="epochs per fit (default: 4)")
        parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: 3)")

    args = parse_args(__doc__.splitlines()[0], options, results="epoch-cost")
    results = Results(args)
    print_header("CPU per training epoch of the default network", args)
    variants = {"defaults": {}, **json.loads(args.variants)}
    codes = {"": HERE.parent}
    if args.baseline is not None:
        codes = {f" @ {git_commit(args.baseline)}": args.baseline.resolve(), **codes}
    epochs, rounds = (2, 1) if args.quick else (args.epochs, args.rounds)
    rows = []
    for data in args.data.split(","):
        runs = [
            (name + suffix, params, code)
            for name, params in variants.items()
            for suffix, code in codes.items()
            if not (suffix and params)  # the baseline runs the defaults only
        ]
        samples: dict[str, list[float]] = {label: [] for label, _, _ in runs}
        for round_ in range(rounds):
            for label, params, code in runs if round_ % 2 == 0 else runs[::-1]:
                spec = {"data": data, "params": params, "epochs": epochs, "threads": args.threads}
                record = _measure(spec, code)
                later = record["epoch_cpu"][1:] or record["epoch_cpu"]
                samples[label].append(median(later))
        base = median(samples[runs[0][0]])
        for label, params, _ in runs:
            row = {
                "data": data,
                "variant": label,
                "cpu_per_epoch": round(median(samples[label]), 3),
                "ratio": round(median(samples[label]) / base, 3),
                "rounds": samples[label],
                "params": params,
                "epochs": epochs,
            }
            rows.append(row)
            results.write(row)
    print_table(rows, ["data", "variant", "cpu_per_epoch", "ratio"])


if __name__ == "__main__":
    main()
