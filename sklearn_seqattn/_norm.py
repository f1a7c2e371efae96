"""Pure torch: batch normalisation over the real steps of padded sequences."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MaskedBatchNorm"]


class MaskedBatchNorm(nn.Module):
    """Batch normalisation over the real steps only: ``(batch, channels, time)``.

    In training, each channel is normalised with the mean and (biased)
    variance of the batch's real steps (padding never enters them), and the
    running estimates are updated with them as :class:`torch.nn.BatchNorm1d`
    does (unbiased variance, ``momentum``); in evaluation the running
    estimates are used, so a step's output depends on that step alone and
    padding cannot change it.
    """

    running_mean: torch.Tensor
    running_var: torch.Tensor
    num_batches_tracked: torch.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, z: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        if self.training:
            n_real = keep.sum().clamp(min=1)
            mean = (z * keep).sum(dim=(0, 2)) / n_real  # (channels,)
            var = ((z - mean[None, :, None]) ** 2 * keep).sum(dim=(0, 2)) / n_real
            with torch.no_grad():
                unbiased = var * n_real / (n_real - 1).clamp(min=1)
                self.running_mean.lerp_(mean.to(self.running_mean.dtype), self.momentum)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), self.momentum)
                self.num_batches_tracked.add_(1)
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.eps)  # (channels,)
        return (z - mean[None, :, None]) * scale[None, :, None] + self.bias[None, :, None]
