"""The three ways the masked BiLSTM layer can run a batch, on the CPU.

``MaskedBiLSTM`` runs the backward direction over each sequence reversed
within its length (``_masked``, any lengths). A batch without padding needs no
gather: the backward direction can read the batch flipped in time
(``_flipped``) or both directions can run as one fused bidirectional call on
the same weights (``_fused``, what a GPU uses). Forward + backward of one
layer, batch 128, 100 steps, at the seed model's widths (32 units, inputs 32
and 64) and at 64 units; CPU time, rounds interleaved, medians. Table rows are
appended to ``benchmarks/results/lstm-paths.jsonl``.

    python benchmarks/bench_lstm_paths.py [--quick] [--threads N]
"""

from __future__ import annotations

import torch
from _common import Results, interleave, median, parse_args, print_header, timed

from sklearn_seqattn._module import MaskedBiLSTM


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], results="lstm-paths")
    results = Results(args)
    print_header("BiLSTM layer paths on the CPU", args)
    repeats, rounds = (2, 2) if args.quick else (5, 7)
    rows = []
    for input_size, hidden in ((32, 32), (64, 32), (64, 64)):
        torch.manual_seed(0)
        layer = MaskedBiLSTM(input_size, hidden)
        x = torch.randn(128, 100, input_size, requires_grad=True)
        lengths = torch.full((128,), 100)

        def run(path):
            def step():
                for _ in range(repeats):
                    path().sum().backward()

            return lambda: timed(step)

        variants = {
            "masked": run(lambda layer=layer, x=x, n=lengths: layer._masked(0, x, n)),
            "flipped": run(lambda layer=layer, x=x: layer._flipped(0, x)),
            "fused": run(lambda layer=layer, x=x: layer._fused(0, x)),
        }
        times = interleave(variants, rounds)
        base = median(cpu for _, cpu in times["masked"])
        for name, pairs in times.items():
            cpu = median(c for _, c in pairs) / repeats
            rows.append(
                {
                    "input, units": f"{input_size}, {hidden}",
                    "path": name,
                    "CPU per step (ms)": 1000 * cpu,
                    "vs masked": cpu * repeats / base,
                }
            )
    results.table(rows, caption="Forward + backward of one layer, batch 128, 100 steps")


if __name__ == "__main__":
    main()
