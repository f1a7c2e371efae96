"""Epoch time of the default model against the previous defaults, at the seed shape.

The learning-quality defaults add internal standardisation, input dropout and
automatic choices of batch size, downsampling and restarts. This measures what
they cost per epoch on the reference user's shape, and what one or two
self-attention blocks add, (1,024 sequences x 100 steps
x 136 features, lengths 40-100), training without early stopping for a fixed
number of epochs, variants interleaved, medians of the epochs after the first.
``--only "batch 128"`` compares bfloat16 autocast with float32 at batch 128.
Table rows are appended to ``benchmarks/results/epoch-time.jsonl``.

    python benchmarks/bench_epoch_time.py [--quick] [--threads N] [--only TEXT]
"""

from __future__ import annotations

import warnings

from _common import Results, fit_timed, interleave, medians, parse_args, print_header

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_event_order_classification

PREVIOUS = {
    "standardize": False,
    "downsample": 1,
    "input_dropout": 0.0,
    "n_init": 1,
    "batch_size": 64,
}


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        lambda p: p.add_argument(
            "--only", default=None, help="run only the variants whose name contains this"
        ),
        results="epoch-time",
    )
    results = Results(args)
    print_header("Epoch time: defaults against the previous defaults", args)
    n = 256 if args.quick else 1024
    X, y = make_event_order_classification(n_samples=n, random_state=0)
    epochs, repeats = (2, 1) if args.quick else (4, 3)
    # One initialisation each: "auto" retries a 4-epoch model that has not learned yet.
    common = {"early_stopping": False, "max_epochs": epochs, "n_init": 1, "random_state": 0}
    variants = {
        "defaults": {**common},
        "previous defaults": {**common, **PREVIOUS, "n_init": 1},
        "defaults, n_attention_layers=1": {**common, "n_attention_layers": 1},
        "defaults, n_attention_layers=2": {**common, "n_attention_layers": 2},
        "defaults, batch 128": {**common, "batch_size": 128},
        "defaults, batch 128, autocast=True": {**common, "batch_size": 128, "autocast": True},
    }
    if args.only:
        base_name = "defaults, batch 128" if "batch 128" in args.only else "previous defaults"
        variants = {k: v for k, v in variants.items() if args.only in k or k == base_name}

    def run(params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_timed(SeqAttentionClassifier(**params), X, y)[1][1:]

    results = interleave({k: (lambda p=v: run(p)) for k, v in variants.items()}, repeats)
    base_name = "previous defaults" if "previous defaults" in results else "defaults, batch 128"
    base = medians(e for r in results[base_name] for e in r)
    rows = []
    for name, runs in results.items():
        wall, cpu = medians(e for r in runs for e in r)
        rows.append(
            {
                "variant": name,
                "epoch CPU (s)": cpu,
                "epoch wall (s)": wall,
                f"vs {base_name}, CPU": cpu / base[1],
                f"vs {base_name}, wall": wall / base[0],
            }
        )
    results.table(rows, caption=f"{n} sequences x 100 steps x 136 features, {repeats} rounds")


if __name__ == "__main__":
    main()
