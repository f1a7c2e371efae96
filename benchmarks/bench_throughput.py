"""Throughput: SeqAttentionClassifier against the same torch module in a plain loop.

Seed shape (1024 sequences x 100 steps x 136 features, every step real), the
reference user's model (3 x Dense(32) -> 2 x BiLSTM(32) -> attention pooling),
AdamW, weighted cross-entropy, gradient clipping, batches of 32 and 128.
Reports training and inference samples/s, the estimator's overhead, peak memory
(each variant in a fresh process) and, for reference, the LSTM run through
``pack_padded_sequence`` or as a fused padded ``nn.LSTM``. Training runs two
plain loops: the bare module, and the same network the estimator trains (its
default input dropout included), so that the estimator's own overhead and the
cost of its default regulariser are told apart. Table rows are appended to
``benchmarks/results/throughput.jsonl``.

    python benchmarks/bench_throughput.py [--quick] [--threads N] [--part all|training]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import torch
from _common import (
    Clock,
    PlainLoop,
    Results,
    current_rss_mib,
    fit_timed,
    interleave,
    medians,
    parse_args,
    peak_rss_mib,
    print_header,
    seed_estimator,
    seed_module,
    timed,
)
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sklearn_seqattn._params import resolve_input_dropout
from sklearn_seqattn._validation import check_sequences
from sklearn_seqattn.datasets import make_sequence_classification

N_TIMESTEPS, N_FEATURES = 100, 136
SAME_NETWORK = "plain loop, same network"
# The rate the estimator's input_dropout="auto" gives these steps (no convolutions), by the
# package's own rule: the second plain loop trains that network.
ESTIMATOR_INPUT_DROPOUT = resolve_input_dropout("auto", 0, False, N_FEATURES)


def make_data(n_samples: int, min_length: int = N_TIMESTEPS, seed: int = 0):
    X, y = make_sequence_classification(
        n_samples=n_samples,
        n_timesteps=N_TIMESTEPS,
        n_features=N_FEATURES,
        weights=[0.28, 0.72],
        min_length=min_length,
        random_state=seed,
    )
    lengths = (X != 0).any(axis=2).sum(axis=1)
    return X, y, lengths


def plain_loop(
    X, y, lengths, batch_size: int, seed: int = 0, lstm: str = "ours", input_dropout: float = 0.0
) -> PlainLoop:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        module = seed_module(N_FEATURES, input_dropout=input_dropout)
        if lstm != "ours":
            module.lstm = ReferenceBiLSTM(module.lstm, packed=lstm == "packed")
    return PlainLoop(module, X, lengths, y, batch_size, seed)


class ReferenceBiLSTM(nn.Module):
    """A fused bidirectional ``nn.LSTM`` stack, packed or on the padded batch.

    ``packed=True`` is exact (``pack_padded_sequence``); ``packed=False`` lets the
    backward direction read the padding first: wrong for variable lengths, shown
    only as the cost of the plainest possible layer.
    """

    def __init__(self, like: nn.Module, packed: bool):
        super().__init__()
        first = like.forward_layers[0]
        self.lstm = nn.LSTM(
            first.input_size,
            first.hidden_size,
            num_layers=len(like.forward_layers),
            bidirectional=True,
            batch_first=True,
            dropout=like.dropout.p,
        )
        self.packed = packed
        self.output_size = like.output_size

    def forward(self, x, lengths):
        if not self.packed:
            return self.lstm(x)[0]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


def train_rounds(X, y, lengths, batch_size, epochs, rounds):
    """Interleaved estimator fits and plain-loop runs: ``(fit, [epoch, ...])`` times of each."""

    def estimator():
        return fit_timed(seed_estimator(batch_size=batch_size, max_epochs=epochs), X, y)

    def plain(input_dropout: float):
        with Clock() as clock:
            loop = plain_loop(X, y, lengths, batch_size, input_dropout=input_dropout)
            durations = [loop.epoch() for _ in range(epochs)]
        return (clock.wall, clock.cpu), durations

    return interleave(
        {
            "estimator": estimator,
            "plain loop": lambda: plain(0.0),
            SAME_NETWORK: lambda: plain(ESTIMATOR_INPUT_DROPOUT),
        },
        rounds,
    )


def predict_rounds(X, y, lengths, batch_size, rounds):
    est = seed_estimator(batch_size=batch_size, max_epochs=1).fit(X, y)
    loop = plain_loop(X, y, lengths, batch_size)
    loop.epoch()
    return interleave(
        {
            "estimator": lambda: timed(lambda: est.predict_proba(X)),
            "validation": lambda: timed(lambda: check_sequences(X, estimator=est)),
            "plain": lambda: timed(loop.predict),
        },
        rounds,
    )


def memory_child(variant: str, batch_size: int, n_samples: int) -> None:
    """Run one variant in this fresh process and print its peak RSS."""
    X, y, lengths = make_data(n_samples)
    base = current_rss_mib()
    if variant == "baseline":
        # Code and workspace that torch maps on first use, whatever the data size.
        loop = plain_loop(X[:batch_size], y[:batch_size], lengths[:batch_size], batch_size)
        loop.epoch()
        loop.predict()
    elif variant == "estimator":
        est = seed_estimator(batch_size=batch_size, max_epochs=1).fit(X, y)
        est.predict_proba(X)
    else:
        loop = plain_loop(X, y, lengths, batch_size)
        loop.epoch()
        loop.predict()
    print(f"{base:.1f} {peak_rss_mib():.1f}")


def memory_rows(args, n_samples, batch_sizes):
    rows = []
    for batch_size in batch_sizes:
        for variant in ("baseline", "estimator", "plain loop"):
            cmd = [
                sys.executable,
                __file__,
                "--threads",
                str(args.threads),
                "--memory-child",
                variant,
                str(batch_size),
                str(n_samples),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            base, peak = map(float, out.split()[-2:])
            rows.append(
                {
                    "batch": batch_size,
                    "variant": "plain loop, 1 batch" if variant == "baseline" else variant,
                    "RSS after data (MiB)": base,
                    "peak RSS (MiB)": peak,
                    "peak - after data (MiB)": peak - base,
                }
            )
    return rows


def main():
    def add(parser):
        parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
        parser.add_argument(
            "--part", choices=("all", "training"), default="all", help="what to run"
        )

    args = parse_args(__doc__.splitlines()[0], add, results="throughput")
    if args.memory_child:
        variant, batch_size, n_samples = args.memory_child
        memory_child(variant, int(batch_size), int(n_samples))
        return
    n_samples = 128 if args.quick else 1024
    epochs = 2 if args.quick else 3
    rounds = 2 if args.quick else 5
    batch_sizes = (32, 128)
    results = Results(args)
    print_header("Throughput: estimator vs plain torch loop", args)
    print(
        f"Data: {n_samples} x {N_TIMESTEPS} x {N_FEATURES}, every step real. "
        f"{rounds} interleaved rounds of {epochs} epochs each; epoch times are medians over "
        "epochs 2.. of all rounds (the first epoch of each run warms up). CPU = CPU seconds of "
        "this process, wall = elapsed seconds.\n"
    )
    X, y, lengths = make_data(n_samples)

    train_rows, predict_rows = [], []
    for batch_size in batch_sizes:
        res = train_rounds(X, y, lengths, batch_size, epochs, rounds)
        epoch = {k: medians(d for _, ds in v for d in ds[1:]) for k, v in res.items()}
        fit = {k: medians(f for f, _ in v) for k, v in res.items()}
        for name in res:
            (wall, cpu), base = epoch[name], epoch["plain loop"]
            train_rows.append(
                {
                    "batch": batch_size,
                    "variant": name,
                    "epoch CPU (s)": cpu,
                    "epoch wall (s)": wall,
                    "train samples/s (CPU)": n_samples / cpu,
                    "vs plain, CPU": cpu / base[1],
                    "vs plain, wall": wall / base[0],
                    "vs same network, CPU": cpu / epoch[SAME_NETWORK][1],
                    "vs same network, wall": wall / epoch[SAME_NETWORK][0],
                    f"fit of {epochs} epochs, CPU (s)": fit[name][1],
                    "fit vs plain, CPU": fit[name][1] / fit["plain loop"][1],
                }
            )
        if args.part == "training":
            continue
        res = predict_rounds(X, y, lengths, batch_size, rounds)
        t = {k: medians(v) for k, v in res.items()}
        for name, label in (("estimator", "predict_proba"), ("plain", "plain loop")):
            predict_rows.append(
                {
                    "batch": batch_size,
                    "variant": label,
                    "CPU (s)": t[name][1],
                    "wall (s)": t[name][0],
                    "inference samples/s (CPU)": n_samples / t[name][1],
                    "vs plain, CPU": t[name][1] / t["plain"][1],
                    "vs plain, wall": t[name][0] / t["plain"][0],
                    "of which input validation, CPU (s)": (
                        t["validation"][1] if name == "estimator" else ""
                    ),
                }
            )
    results.table(train_rows, caption="Training")
    if args.part == "training":
        return
    results.table(predict_rows, caption="Inference (whole data set, eval mode)")
    results.table(
        memory_rows(args, n_samples, batch_sizes),
        caption="Peak memory: one fit of 1 epoch + predict_proba, each in a fresh process",
    )

    # Reference LSTM implementations, plain loop only.
    rows = []
    for label, min_length in (("all 100", N_TIMESTEPS), ("uniform 20..100", 20)):
        Xr, yr, lr_ = make_data(n_samples, min_length=min_length)
        for batch_size in batch_sizes:
            loops = {
                name: plain_loop(Xr, yr, lr_, batch_size, lstm=name)
                for name in ("ours", "packed", "fused padded")
            }
            res = interleave({name: loop.epoch for name, loop in loops.items()}, max(2, rounds - 2))
            t = {k: medians(v) for k, v in res.items()}
            for name in loops:
                rows.append(
                    {
                        "lengths": label,
                        "batch": batch_size,
                        "LSTM": name,
                        "epoch CPU (s)": t[name][1],
                        "epoch wall (s)": t[name][0],
                        "vs ours, CPU": t[name][1] / t["ours"][1],
                    }
                )
    results.table(
        rows,
        caption=(
            "Reference: masked BiLSTM (ours: backward direction reversed within length) vs "
            "nn.LSTM on pack_padded_sequence vs nn.LSTM on the padded batch (not masked), "
            "plain loop, no bucketing"
        ),
    )


if __name__ == "__main__":
    main()
