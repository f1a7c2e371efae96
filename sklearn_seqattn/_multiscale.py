"""Pure torch: a masked multi-scale convolutional front end (InceptionTime / LITE style).

The first layer runs parallel convolutions of widths 39, 19 and 9 steps (and a
max-pool branch, and optionally fixed hand-crafted filters) side by side, so
patterns of very different lengths are seen at once; depthwise-separable
convolutions dilated 2, 4 and 8 times then widen the receptive field to
about 290 steps at little cost; a residual shortcut spans them. Every
convolution reads zeros and the max-pool reads ``-inf`` beyond each
sequence's last real step, whatever the amount of padding, so outputs at real
steps are exactly padding invariant.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import torch
from torch import nn

from ._dropout import Dropout
from ._norm import MaskedBatchNorm

__all__ = ["MaskedMultiScaleFrontEnd", "fixed_filter_bank", "receptive_field"]

# Widths of the parallel convolutions of the first layer (InceptionTime's 40/20/10, odd
# so that "same" padding is symmetric).
KERNEL_SIZES = (39, 19, 9)
# Width and dilations of the depthwise-separable layers that follow (LITE's design).
DILATED_KERNEL_SIZE = 19
DILATIONS = (2, 4, 8)
# Steps with more features than this are first projected to ``n_filters`` channels
# (InceptionTime's bottleneck); fewer are convolved as they are.
BOTTLENECK_ABOVE = 3
# Lengths of the hand-crafted filters (H-InceptionTime).
FIXED_FILTER_LENGTHS = (2, 4, 8, 16, 32, 64)


def fixed_filter_bank() -> list[np.ndarray]:
    """Non-trainable increasing, decreasing and peak detectors (H-InceptionTime).

    Returns one 1-D filter per detector: alternating signs of lengths 2-64
    (a rise or a fall correlates with one sign pattern), and peak shapes of
    lengths 6-96 made of parabolic pieces.
    """
    bank = []
    for sign in (1.0, -1.0):  # increasing, then decreasing detectors
        for length in FIXED_FILTER_LENGTHS:
            taps = np.ones(length)
            taps[np.arange(length) % 2 == (0 if sign > 0 else 1)] = -1.0
            bank.append(taps)
    for length in FIXED_FILTER_LENGTHS[1:]:
        quarter = length // 4
        left = np.linspace(0, 1, quarter + 1)[1:] ** 2
        right = left[::-1]
        peak = np.concatenate([-left, -right, 2 * left, 2 * right, -left, -right])
        bank.append(peak)
    return bank


def receptive_field(kernel_sizes=KERNEL_SIZES) -> int:
    """Steps one output of the front end can see (the widest branch, then the dilated layers)."""
    return max(kernel_sizes) + sum(d * (DILATED_KERNEL_SIZE - 1) for d in DILATIONS)


# torch.compiler.is_exporting is missing from older torch releases, which cannot export anyway.
_is_exporting = getattr(torch.compiler, "is_exporting", lambda: False)


class _DepthwiseConv(torch.autograd.Function):
    """A depthwise convolution (no padding) whose backward pass is fast on the CPU.

    oneDNN computes a depthwise convolution's input gradient as a transposed
    convolution and its weight gradient in one pass, both 5-20 times slower
    than the forward pass at these sizes. The input gradient is the same
    convolution of the padded output gradient with the kernel flipped in
    time; the weight gradient of tap ``k`` is the sum of the output gradient
    times the input shifted by ``k * dilation`` steps. The result is the same
    up to the order of floating-point sums.
    """

    @staticmethod
    def forward(ctx, x, weight, dilation):
        ctx.save_for_backward(x, weight)
        ctx.dilation = dilation
        return nn.functional.conv1d(x, weight, dilation=dilation, groups=weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dilation = ctx.dilation
        kernel_size, n_steps = weight.shape[-1], grad.shape[-1]
        grad_x = grad_weight = None
        # Under autocast the forward pass ran in bfloat16: the gradients come in the
        # output's dtype, and each goes back in the dtype of what it is the gradient of.
        if ctx.needs_input_grad[0]:
            reach = dilation * (kernel_size - 1)
            grad_x = nn.functional.conv1d(
                nn.functional.pad(grad, (reach, reach)),
                weight.flip(-1).to(grad.dtype),
                dilation=dilation,
                groups=weight.shape[0],
            ).to(x.dtype)
        if ctx.needs_input_grad[1]:
            # Products and sums at float32 at least (no copies for float32 itself).
            wide = torch.promote_types(grad.dtype, torch.float32)
            grad_wide, x_wide = grad.to(wide), x.to(wide)
            taps = [
                (grad_wide * x_wide[..., k * dilation : k * dilation + n_steps]).sum(dim=(0, 2))
                for k in range(kernel_size)
            ]
            # (channels, 1, kernel)
            grad_weight = torch.stack(taps, dim=1)[:, None, :].to(weight.dtype)
        return grad_x, grad_weight, None


def depthwise_conv1d(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """``conv(x)`` for a depthwise, bias-free ``conv``, with the fast backward on the CPU."""
    if x.device.type == "cpu" and torch.is_grad_enabled() and not _is_exporting():
        return _DepthwiseConv.apply(x, conv.weight, conv.dilation[0])
    return conv(x)


def _same_pad(z: torch.Tensor, kernel_size: int, dilation: int = 1, value: float = 0.0):
    """Pad time so that a convolution of ``kernel_size`` keeps the length (even sizes too)."""
    total = dilation * (kernel_size - 1)
    return nn.functional.pad(z, (total // 2, total - total // 2), value=value)


class _FixedFilters(nn.Module):
    """The hand-crafted filters applied to every input feature (no trainable weight)."""

    kernels: torch.Tensor

    def __init__(self, input_size: int):
        super().__init__()
        bank = fixed_filter_bank()
        width = max(len(f) for f in bank)
        # Each filter right-aligned in a common width would shift it; centre it instead.
        kernels = np.zeros((len(bank), width))
        for i, taps in enumerate(bank):
            start = (width - len(taps)) // 2
            kernels[i, start : start + len(taps)] = taps
        self.input_size = input_size
        self.width = width
        # (features * filters, 1, width): a depthwise convolution, every feature alike.
        weight = torch.as_tensor(kernels, dtype=torch.float32)[:, None, :]
        self.register_buffer("kernels", weight.repeat(input_size, 1, 1), persistent=False)
        self.output_size = input_size * len(bank)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        padded = _same_pad(z, self.width)
        return nn.functional.conv1d(padded, self.kernels.to(z.dtype), groups=self.input_size)


class MaskedMultiScaleFrontEnd(nn.Module):
    """Multi-scale masked convolutions: ``(batch, time, features) -> (batch, time, n_filters)``.

    Layer 1: (a 1x1 bottleneck to ``n_filters`` channels for steps of more
    than 3 features, then) convolutions of widths 39, 19 and 9 with
    ``n_filters`` filters each, a max-pool(3) -> 1x1 branch and, with
    ``fixed_filters``, the hand-crafted detectors of H-InceptionTime on every
    input feature; concatenated, batch-normalised over real steps, ReLU.
    Layers 2-4: depthwise convolutions of width 19 dilated 2, 4 and 8 times,
    each followed by a pointwise convolution to ``n_filters`` channels,
    batch norm and ReLU; a 1x1 shortcut from layer 1 is added before the last
    ReLU. The receptive field is 39 + 18 * 14 = 291 steps.

    Parameters
    ----------
    input_size : int
        Features per step.
    n_filters : int
        Filters per branch, and the output width.
    fixed_filters : bool
        Add the non-trainable increasing, decreasing and peak detectors.
    dropout : float
        Dropout on the output.
    batch_norm : bool
        Batch-normalise over real steps (else a plain bias).
    """

    def __init__(
        self,
        input_size: int,
        n_filters: int = 32,
        fixed_filters: bool = False,
        dropout: float = 0.0,
        batch_norm: bool = True,
    ):
        super().__init__()
        self.bottleneck = (
            nn.Conv1d(input_size, n_filters, 1, bias=False)
            if input_size > BOTTLENECK_ABOVE
            else None
        )
        size = n_filters if self.bottleneck is not None else input_size
        self.branches = nn.ModuleList(
            nn.Conv1d(size, n_filters, k, bias=False) for k in KERNEL_SIZES
        )
        self.pool_branch = nn.Conv1d(input_size, n_filters, 1, bias=False)
        self.fixed = _FixedFilters(input_size) if fixed_filters else None
        width = n_filters * (len(KERNEL_SIZES) + 1)
        width += self.fixed.output_size if self.fixed is not None else 0

        def norm(channels: int) -> nn.Module:
            return MaskedBatchNorm(channels) if batch_norm else _Bias(channels)

        self.norm = norm(width)
        self.depthwise = nn.ModuleList()
        self.pointwise = nn.ModuleList()
        self.dilated_norms = nn.ModuleList()
        channels = width
        for dilation in DILATIONS:
            self.depthwise.append(
                nn.Conv1d(
                    channels,
                    channels,
                    DILATED_KERNEL_SIZE,
                    dilation=dilation,
                    groups=channels,
                    bias=False,
                )
            )
            self.pointwise.append(nn.Conv1d(channels, n_filters, 1, bias=False))
            self.dilated_norms.append(norm(n_filters))
            channels = n_filters
        self.shortcut = nn.Conv1d(width, n_filters, 1, bias=False)
        self.shortcut_norm = norm(n_filters)
        self.dropout = Dropout(dropout)
        self.output_size = n_filters

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        keep = real[:, None, :]  # (batch, 1, time)
        zero = x.new_zeros(())

        def masked(z: torch.Tensor) -> torch.Tensor:
            # where(), not a product: a -inf from the max-pool must become 0, not NaN.
            return torch.where(keep, z, zero)

        inputs = masked(x.transpose(1, 2))  # (batch, features, time)
        base = inputs if self.bottleneck is None else masked(self.bottleneck(inputs))
        outputs = [
            conv(_same_pad(base, width))
            for conv, width in zip(self.branches, KERNEL_SIZES, strict=True)
        ]
        # A max-pool of width 3 where padding and the edges read as -inf. Written as the
        # maximum of three shifted views: torch's max_pool1d fixes the time axis in export.
        edged = _same_pad(torch.where(keep, inputs, float("-inf")), 3, value=float("-inf"))
        pooled = torch.maximum(torch.maximum(edged[..., :-2], edged[..., 1:-1]), edged[..., 2:])
        outputs.append(self.pool_branch(masked(pooled)))
        if self.fixed is not None:
            outputs.append(self.fixed(inputs))
        z = torch.cat(outputs, dim=1)  # (batch, width, time)
        first = torch.relu(self._norm(self.norm, z, keep))
        z = first
        for i, (depthwise, pointwise, norm, dilation) in enumerate(
            zip(self.depthwise, self.pointwise, self.dilated_norms, DILATIONS, strict=True)
        ):
            z = depthwise_conv1d(
                _same_pad(masked(z), DILATED_KERNEL_SIZE, dilation), cast(nn.Conv1d, depthwise)
            )
            z = self._norm(norm, pointwise(z), keep)  # (batch, n_filters, time)
            if i == len(self.depthwise) - 1:
                shortcut = self._norm(self.shortcut_norm, self.shortcut(first), keep)
                z = z + shortcut
            z = torch.relu(z)
        return self.dropout(z).transpose(1, 2)  # (batch, time, n_filters)

    @staticmethod
    def _norm(norm: nn.Module, z: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return norm(z, keep.to(z.dtype))


class _Bias(nn.Module):
    """A per-channel bias, where batch norm is off (same call signature)."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, z: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return z + self.bias[None, :, None]
