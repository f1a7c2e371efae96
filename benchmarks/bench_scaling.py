"""Scaling: training epoch time against n_samples, n_timesteps and lstm_units.

The estimator configured as the reference user's model (batch 32, every step
real), one parameter varied at a time. Epoch time should be linear in the
number of samples and of steps; in the LSTM width it follows the FLOPs once
the matrices are large enough to keep the core busy. Table rows are appended
to ``benchmarks/results/scaling.jsonl``.

    python benchmarks/bench_scaling.py [--quick] [--threads N]
"""

from __future__ import annotations

import functools

import numpy as np
from _common import (
    Results,
    fit_timed,
    interleave,
    medians,
    parse_args,
    print_header,
    seed_estimator,
)
from bench_flops import analytic_flops

from sklearn_seqattn.datasets import make_sequence_classification

N_FEATURES = 136


def epoch(n_samples, n_timesteps, lstm_units, epochs):
    X, y = make_sequence_classification(
        n_samples=n_samples, n_timesteps=n_timesteps, n_features=N_FEATURES,
        weights=[0.28, 0.72], min_length=n_timesteps, random_state=0,
    )  # fmt: skip
    est = seed_estimator(lstm_units=lstm_units, batch_size=32, max_epochs=epochs)
    return fit_timed(est, X, y)[1][1:]


def linear_fit(x, t) -> tuple[float, float, float]:
    """Least squares ``t = a + b x``: intercept, slope and R^2."""
    x, t = np.asarray(x, float), np.asarray(t, float)
    b, a = np.polyfit(x, t, 1)
    residual = t - (a + b * x)
    r2 = 1 - (residual**2).sum() / ((t - t.mean()) ** 2).sum()
    return a, b, r2


def main():
    args = parse_args(__doc__.splitlines()[0], results="scaling")
    results = Results(args)
    epochs = 2
    rounds = 1 if args.quick else 2
    scale = 8 if args.quick else 1
    base = {"n_samples": 512 // scale, "n_timesteps": 100, "lstm_units": 32}
    sweeps = {
        "n_samples": [256 // scale, 512 // scale, 1024 // scale, 2048 // scale],
        "n_timesteps": [25, 50, 100, 200],
        "lstm_units": [16, 32, 64, 128],
    }
    print_header("Scaling of the training epoch", args)
    print(
        f"Estimator, seed model, batch 32, every step real; base point {base}. "
        f"{rounds} interleaved round(s) of {epochs}-epoch fits, median over epochs 2.., "
        "CPU seconds of this process.\n"
    )
    for param, values in sweeps.items():
        variants = {
            v: functools.partial(epoch, **{**base, param: v}, epochs=epochs) for v in values
        }
        res = interleave(variants, rounds)
        t = {v: medians(e for es in res[v] for e in es) for v in values}
        cpu = [t[v][1] for v in values]
        intercept, slope, r2 = linear_fit(values, cpu)
        rows = []
        for v in values:
            row = {
                param: v,
                "epoch CPU (s)": t[v][1],
                "epoch wall (s)": t[v][0],
                f"CPU / (CPU at {values[0]})": t[v][1] / cpu[0],
                f"{param} / {values[0]}": v / values[0],
            }
            if param == "lstm_units":
                flops = sum(f + b for _, f, b in analytic_flops(lstm_units=v))
                flops0 = sum(f + b for _, f, b in analytic_flops(lstm_units=values[0]))
                row["FLOPs / (FLOPs at 16)"] = flops / flops0
                row["achieved GFLOP/s"] = flops * base["n_samples"] / t[v][1] / 1e9
            rows.append(row)
        results.table(
            rows,
            caption=(
                f"Varying {param}: linear fit CPU = {intercept:.3f} + {slope:.4g} x {param}, "
                f"R^2 = {r2:.4f}"
            ),
            varied=param,
            fit={"intercept": intercept, "slope": slope, "r2": r2},
        )


if __name__ == "__main__":
    main()
