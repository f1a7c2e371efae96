"""Candidate speed-ups of the torch module, measured before they go into the package.

Profiling one training step of the reference user's model on CPU shows, after
the oneDNN LSTM kernels, two avoidable costs: ``reverse_within_length``'s
``gather`` (and its ``scatter_add`` backward), and dropout's ``bernoulli_``.
This script patches each into the plain loop and times a training epoch:

* ``index_select reverse``: reverse within length by ``index_select`` over the
  flattened ``(batch * time, features)`` rows, with a backward that applies
  the same permutation again (the permutation is its own inverse), instead of
  ``gather`` + ``scatter_add``. Outputs and gradients are bit-identical.
* ``uniform-mask dropout``: ``x * (rand_like(x) >= p) / (1 - p)`` instead of
  ``nn.Dropout`` (same distribution, different random stream).

    python benchmarks/bench_candidates.py [--quick] [--threads N]
"""

from __future__ import annotations

import contextlib
import functools

import torch
from _common import (
    PlainLoop,
    interleave,
    medians,
    parse_args,
    print_header,
    print_table,
    seed_module,
)
from torch import nn

import sklearn_seqattn._module as module_code
from sklearn_seqattn.datasets import make_sequence_classification

N_TIMESTEPS, N_FEATURES = 100, 136


class _ReverseWithinLength(torch.autograd.Function):
    """Row permutation that is its own inverse: backward applies it again."""

    @staticmethod
    def forward(ctx, x, rows):
        ctx.save_for_backward(rows)
        return x.reshape(-1, x.shape[-1]).index_select(0, rows).view_as(x)

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        grad = grad.contiguous()
        return grad.reshape(-1, grad.shape[-1]).index_select(0, rows).view_as(grad), None


def reverse_within_length_rows(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    batch, n_timesteps = x.shape[:2]
    steps = torch.arange(n_timesteps, device=x.device)[None, :]  # (1, time)
    last = (lengths - 1)[:, None]  # (batch, 1)
    index = torch.where(steps <= last, last - steps, steps)  # (batch, time)
    rows = (index + n_timesteps * torch.arange(batch, device=x.device)[:, None]).reshape(-1)
    return _ReverseWithinLength.apply(x.contiguous(), rows)


class UniformMaskDropout(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return x * (torch.rand_like(x) >= self.p) * (1.0 / (1.0 - self.p))


def with_mask_dropout(module: nn.Module) -> nn.Module:
    for name, child in module.named_children():
        if isinstance(child, nn.Dropout):
            setattr(module, name, UniformMaskDropout(child.p))
        else:
            with_mask_dropout(child)
    return module


@contextlib.contextmanager
def patched_reverse(enabled: bool):
    original = module_code.reverse_within_length
    if enabled:
        module_code.reverse_within_length = reverse_within_length_rows
    try:
        yield
    finally:
        module_code.reverse_within_length = original


def check_identical() -> bool:
    """The row-permutation reverse gives the same outputs and gradients as the current one."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        x = torch.randn(16, 30, 8, requires_grad=True)
        lengths = torch.randint(1, 31, (16,))
        grad = torch.randn(16, 30, 8)
    a = module_code.reverse_within_length(x, lengths)
    (ga,) = torch.autograd.grad(a, x, grad)
    b = reverse_within_length_rows(x, lengths)
    (gb,) = torch.autograd.grad(b, x, grad)
    return bool(torch.equal(a, b) and torch.equal(ga, gb))


VARIANTS = {
    "current": (False, False),
    "index_select reverse": (True, False),
    "uniform-mask dropout": (False, True),
    "both": (True, True),
}


def run(X, lengths, y, batch_size, bucket, epochs, rows_reverse, mask_dropout):
    """Train a fresh module for ``epochs``; ``(wall, cpu)`` of epochs 2.."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = seed_module(N_FEATURES)
    if mask_dropout:
        with_mask_dropout(module)
    loop = PlainLoop(module, X, lengths, y, batch_size)
    with patched_reverse(rows_reverse):
        return [loop.epoch(bucket=bucket) for _ in range(epochs)][1:]


def main():
    args = parse_args(__doc__.splitlines()[0])
    n_samples = 256 if args.quick else 1024
    rounds = 2 if args.quick else 4
    epochs = 2
    print_header("Candidate module speed-ups (plain loop)", args)
    print(f"index_select reverse identical to the current one: {check_identical()}\n")
    rows = []
    for label, min_length in (("all 100", N_TIMESTEPS), ("20..100, bucketed", 20)):
        X, y = make_sequence_classification(
            n_samples=n_samples, n_timesteps=N_TIMESTEPS, n_features=N_FEATURES,
            weights=[0.28, 0.72], min_length=min_length, random_state=0,
        )  # fmt: skip
        lengths = (X != 0).any(axis=2).sum(axis=1)
        bucket = min_length < N_TIMESTEPS
        for batch_size in (32, 128):
            data = (X, lengths, y, batch_size, bucket, epochs)
            res = interleave(
                {name: functools.partial(run, *data, *v) for name, v in VARIANTS.items()}, rounds
            )
            t = {name: medians(e for es in v for e in es) for name, v in res.items()}
            for name in VARIANTS:
                rows.append(
                    {
                        "lengths": label,
                        "batch": batch_size,
                        "variant": name,
                        "epoch CPU (s)": t[name][1],
                        "epoch wall (s)": t[name][0],
                        "vs current, CPU": t[name][1] / t["current"][1],
                        "vs current, wall": t[name][0] / t["current"][0],
                    }
                )
    print_table(rows, caption=f"Training epoch, {n_samples} samples, seed model, plain loop")


if __name__ == "__main__":
    main()
