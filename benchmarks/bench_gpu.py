"""The bidirectional LSTM layer on CUDA: the masked path, the fused path, packed sequences.

At the seed shape (batch 128 and 512, 100 steps, 64 input features after the
dense front end, 64 units per direction), forward + backward of one layer:

* ``masked``: the package's layer on a padded batch of variable lengths (two
  one-direction LSTMs, the backward one over each sequence reversed within
  its length) — exact for any lengths;
* ``fused``: the package's layer on a batch without padding, which runs one
  fused bidirectional cuDNN call on the same weights — exact for equal lengths;
* ``packed``: ``nn.LSTM(bidirectional=True)`` over ``pack_padded_sequence`` —
  exact for any lengths, the usual PyTorch route;

and a whole training epoch of the estimator (lengths 40-100, and all 100),
fp32 and with ``autocast=True``. CUDA events time the device; medians of
interleaved rounds. Without a CUDA device it prints so and exits 0. Table
rows are appended to ``benchmarks/results/gpu.jsonl``.

    python benchmarks/bench_gpu.py [--quick]
"""

from __future__ import annotations

import statistics
import warnings

import torch
from _common import Results, parse_args, print_header
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def cuda_time(fn, repeats: int) -> float:
    """Median milliseconds of ``fn()`` on the current CUDA stream."""
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def layer_rows(batch: int, repeats: int) -> list[dict]:
    from sklearn_seqattn._module import MaskedBiLSTM

    device = torch.device("cuda")
    torch.manual_seed(0)
    ours = MaskedBiLSTM(64, 64).to(device)
    packed_lstm = nn.LSTM(64, 64, batch_first=True, bidirectional=True).to(device)
    x = torch.randn(batch, 100, 64, device=device, requires_grad=True)
    variable = torch.randint(40, 101, (batch,))
    variable[0] = 100
    full = torch.full((batch,), 100)

    def masked():
        ours(x, variable.to(device), uniform=False).sum().backward()

    def fused():
        ours(x, full.to(device), uniform=True).sum().backward()

    def packed():
        seq = pack_padded_sequence(x, variable, batch_first=True, enforce_sorted=False)
        out, _ = packed_lstm(seq)
        pad_packed_sequence(out, batch_first=True)[0].sum().backward()

    variants = {"masked (lengths 40-100)": masked, "fused (all 100)": fused, "packed": packed}
    for fn in variants.values():  # warm-up: cuDNN plans, allocator
        fn()
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(5):
        for name, fn in variants.items():
            results[name].append(cuda_time(fn, repeats))
    base = statistics.median(results["masked (lengths 40-100)"])
    return [
        {
            "batch": batch,
            "variant": name,
            "ms per step": statistics.median(v),
            "vs masked": statistics.median(v) / base,
        }
        for name, v in results.items()
    ]


def epoch_rows(quick: bool) -> list[dict]:
    from sklearn_seqattn import SeqAttentionClassifier
    from sklearn_seqattn.datasets import make_sequence_classification

    n = 512 if quick else 4096
    rows = []
    for min_length in (40, 100):
        X, y = make_sequence_classification(
            n_samples=n, n_timesteps=100, n_features=136, min_length=min_length, random_state=0
        )
        for autocast in (False, True):
            est = SeqAttentionClassifier(
                device="cuda",
                batch_size=128,
                max_epochs=3,
                early_stopping=False,
                n_init=1,
                autocast=autocast,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X, y)
            durations = [row["dur"] for row in est.history_][1:]
            rows.append(
                {
                    "lengths": f"{min_length}-100",
                    "autocast": autocast,
                    "epoch (s)": statistics.median(durations),
                }
            )
    return rows


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], results="gpu")
    if not torch.cuda.is_available():
        print("No CUDA device: nothing to measure (this benchmark needs a GPU).")
        return
    device = torch.cuda.get_device_name()
    results = Results(args, device=device)
    print_header(f"The BiLSTM layer and the training epoch on {device}", args)
    repeats = 3 if args.quick else 20
    rows = [row for batch in (128, 512) for row in layer_rows(batch, repeats)]
    results.table(rows, caption="One layer, forward + backward, 100 steps, 64 -> 2 x 64 units")
    results.table(
        epoch_rows(args.quick),
        caption="Training epoch of the estimator, batch 128, medians of epochs 2-3",
    )


if __name__ == "__main__":
    main()
