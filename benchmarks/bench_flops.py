"""FLOP floor: how close one training epoch comes to the machine's matrix-multiply speed.

Counts the floating-point operations of one training sample of the reference
user's model (forward + backward, 100 steps), measures single-precision GEMM
throughput (large square matrices, and the model's own matrix shapes), and
reports the share of that floor an epoch reaches, for the estimator and for
the same module in a plain loop. Table rows are appended to
``benchmarks/results/flops.jsonl``.

    python benchmarks/bench_flops.py [--quick] [--threads N]
"""

from __future__ import annotations

import time

import torch
from _common import (
    SEED_MODEL,
    PlainLoop,
    Results,
    fit_timed,
    interleave,
    medians,
    parse_args,
    print_header,
    seed_estimator,
    seed_module,
)
from torch.utils.flop_counter import FlopCounterMode

from sklearn_seqattn.datasets import make_sequence_classification

N_TIMESTEPS, N_FEATURES = 100, 136


def analytic_flops(n_features=N_FEATURES, n_timesteps=N_TIMESTEPS, n_classes=2, **model):
    """FLOPs of one training sample, by part: forward, backward and their sum.

    Only matrix products are counted (2 FLOPs per multiply-add); element-wise
    work (activations, gates, dropout, softmax) is a few percent and ignored,
    as usual for a GEMM floor. Backward costs twice the forward (gradients of
    weights and of inputs), except that the first layer needs no input gradient.
    """
    m = {**SEED_MODEL, **model}
    t = n_timesteps
    parts = []
    size = n_features
    for i in range(m["n_dense_layers"]):
        fwd = 2 * size * m["dense_units"] * t
        parts.append((f"dense {i + 1}", fwd, fwd * (1 if i == 0 else 2)))
        size = m["dense_units"]
    h = m["lstm_units"]
    n_dirs = 2 if m["bidirectional"] else 1
    for i in range(m["n_lstm_layers"]):
        # Four gates, each from the input and the previous hidden state.
        fwd = 2 * 4 * h * (size + h) * t * n_dirs
        first_needs_dx = i > 0 or m["n_dense_layers"] > 0
        parts.append((f"LSTM {i + 1}", fwd, fwd * (2 if first_needs_dx else 1)))
        size = h * n_dirs
    fwd = 2 * 2 * size * t  # scores and weighted sum
    parts.append(("attention pooling", fwd, 2 * fwd))
    fwd = 2 * size * n_classes
    parts.append(("head", fwd, 2 * fwd))
    return parts


def counted_flops_without_lstm(batch_size=8) -> float:
    """FlopCounterMode's count per sample (it cannot see inside the oneDNN LSTM kernel)."""
    module = seed_module(N_FEATURES)
    x = torch.randn(batch_size, N_TIMESTEPS, N_FEATURES)
    lengths = torch.full((batch_size,), N_TIMESTEPS)
    counter = FlopCounterMode(display=False)
    with counter:
        module(x, lengths).sum().backward()
    return counter.get_total_flops() / batch_size


def gemm_gflops(m: int, k: int, n: int, min_time: float = 0.2) -> float:
    """Sustained single-precision GEMM speed of ``(m, k) @ (k, n)``, GFLOP/s (best of 3).

    Timed in CPU seconds of this process, so that other jobs on a shared machine do
    not count (with one thread, CPU time is the time the GEMM had the core).
    """
    a, b = torch.randn(m, k), torch.randn(k, n)
    out = torch.empty(m, n)
    torch.mm(a, b, out=out)
    reps = 1
    while _time_reps(a, b, out, reps) < min_time / 3:
        reps *= 2
    best = min(_time_reps(a, b, out, reps) for _ in range(3))
    return 2 * m * k * n * reps / best / 1e9


def _time_reps(a, b, out, reps):
    start = time.process_time()
    for _ in range(reps):
        torch.mm(a, b, out=out)
    return time.process_time() - start


def model_shapes(batch_size: int):
    """The model's matrix products at a batch size, with their FLOPs per batch (forward).

    On CPU, the LSTM multiplies the whole input sequence by its input weights
    at once, then steps through time with a ``(batch, hidden) @ (hidden, 4 hidden)``
    product per step.
    """
    bt, t, h = batch_size * N_TIMESTEPS, N_TIMESTEPS, SEED_MODEL["lstm_units"]
    d = SEED_MODEL["dense_units"]
    return [
        ("dense 1", (bt, N_FEATURES, d), 1),
        ("dense 2-3", (bt, d, d), 2),
        ("LSTM 1 input", (bt, d, 4 * h), 2),
        ("LSTM 2 input", (bt, 2 * h, 4 * h), 2),
        ("LSTM recurrent step", (batch_size, h, 4 * h), 4 * t),
    ]


def main():
    args = parse_args(__doc__.splitlines()[0], results="flops")
    results = Results(args)
    n_samples = 256 if args.quick else 1024
    epochs = 2 if args.quick else 3
    rounds = 2 if args.quick else 4
    print_header("FLOP floor", args)

    parts = analytic_flops()
    total = sum(f + b for _, f, b in parts)
    rows = [
        {"part": name, "forward MFLOP": f / 1e6, "backward MFLOP": b / 1e6} for name, f, b in parts
    ]
    for row, (_, f, b) in zip(rows, parts, strict=True):
        row["total MFLOP"] = (f + b) / 1e6
    rows.append(
        {
            "part": "**total per sample**",
            "forward MFLOP": sum(f for _, f, _ in parts) / 1e6,
            "backward MFLOP": sum(b for _, _, b in parts) / 1e6,
            "total MFLOP": total / 1e6,
        }
    )
    counted = counted_flops_without_lstm()
    no_lstm = sum(f + b for name, f, b in parts if not name.startswith("LSTM"))
    results.table(
        rows,
        caption="FLOPs of one training sample (100 steps), counted analytically",
        counted_mflop_without_lstm=counted / 1e6,
    )
    print(
        f"Cross-check: torch.utils.flop_counter.FlopCounterMode counts {counted / 1e6:.3f} MFLOP "
        f"per sample outside the LSTM (analytic: {no_lstm / 1e6:.3f}); it does not see inside "
        "the LSTM, which runs as one oneDNN kernel (aten::mkldnn_rnn_layer) on CPU.\n"
    )

    size = 512 if args.quick else 1024
    peak = gemm_gflops(size, size, size)
    gemm_rows = [
        {"GEMM": f"square {size}", "shape (m, k, n)": f"{size}x{size}x{size}", "GFLOP/s": peak}
    ]
    shape_floor = {}
    for batch_size in (32, 128):
        weighted_time, weighted_flops = 0.0, 0.0
        for name, (m, k, n), count in model_shapes(batch_size):
            g = gemm_gflops(m, k, n, min_time=0.05 if args.quick else 0.2)
            gemm_rows.append(
                {
                    "GEMM": f"batch {batch_size}: {name}",
                    "shape (m, k, n)": f"{m}x{k}x{n}",
                    "GFLOP/s": g,
                }
            )
            flops = 2 * m * k * n * count
            weighted_time += flops / (g * 1e9)
            weighted_flops += flops
        shape_floor[batch_size] = weighted_flops / weighted_time / 1e9
    results.table(
        gemm_rows, caption=f"sgemm throughput, torch.mm, {torch.get_num_threads()} thread(s)"
    )

    X, y = make_sequence_classification(
        n_samples=n_samples, n_timesteps=N_TIMESTEPS, n_features=N_FEATURES,
        weights=[0.28, 0.72], min_length=N_TIMESTEPS, random_state=0,
    )  # fmt: skip
    lengths = torch.full((n_samples,), N_TIMESTEPS)
    rows = []
    for batch_size in (32, 128):

        def estimator(b=batch_size):
            return fit_timed(seed_estimator(batch_size=b, max_epochs=epochs), X, y)[1][1:]

        def plain(b=batch_size):
            with torch.random.fork_rng():
                torch.manual_seed(0)
                loop = PlainLoop(seed_module(N_FEATURES), X, lengths, y, b)
            return [loop.epoch() for _ in range(epochs)][1:]

        res = interleave({"estimator": estimator, "plain loop": plain}, rounds)
        floor_peak = total * n_samples / (peak * 1e9)
        floor_shapes = total * n_samples / (shape_floor[batch_size] * 1e9)
        for name, values in res.items():
            wall, t = medians(v for vs in values for v in vs)
            rows.append(
                {
                    "batch": batch_size,
                    "variant": name,
                    "epoch CPU (s)": t,
                    "epoch wall (s)": wall,
                    "achieved GFLOP/s (CPU)": total * n_samples / t / 1e9,
                    "floor at peak sgemm (s)": floor_peak,
                    "share of peak floor (CPU)": floor_peak / t,
                    "share of peak floor (wall)": floor_peak / wall,
                    "floor at model-shape sgemm (s)": floor_shapes,
                    "share of shape floor (CPU)": floor_shapes / t,
                }
            )
    results.table(
        rows,
        caption=(
            f"Epoch of {n_samples} samples (all 100 steps real) against the floor; "
            f"a 4,917-sample epoch has a floor of {total * 4917 / (peak * 1e9):.2f} s at peak sgemm"
        ),
    )


if __name__ == "__main__":
    main()
