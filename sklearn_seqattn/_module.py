"""Pure torch: the masked attention-LSTM and its building blocks.

Inputs are post-padded: the real steps of sample ``b`` are ``x[b, :lengths[b]]``.
Padded steps never influence a result: the LSTM's backward direction starts at
each sequence's last real step, and every softmax gives padded steps exactly
zero weight.
"""

from __future__ import annotations

import math
import threading
from typing import cast

import torch
from torch import nn

from ._differences import MAX_INPUT_DIFFERENCES, append_differences
from ._dropout import Dropout
from ._multiscale import MaskedMultiScaleFrontEnd, _is_exporting
from ._norm import MaskedBatchNorm

__all__ = [
    "AttentionPooling",
    "FocalLoss",
    "MaskedBatchNorm",
    "MaskedBiLSTM",
    "MaskedConvFrontEnd",
    "SelfAttentionBlock",
    "SeqAttentionEnsemble",
    "SeqAttentionModule",
]

POOLINGS = ("attention", "mean", "max", "last")
FRONT_ENDS = ("conv", "multiscale")


class FocalLoss(nn.Module):
    """Focal loss (Lin et al., 2017): cross-entropy scaled by ``(1 - p_t) ** gamma``.

    Well-classified samples (``p_t`` near 1) count less, so training dwells
    on the hard ones. ``gamma=0`` is the cross-entropy. Per-sample losses
    (``reduction="none"``), like the criterion it replaces.
    """

    def __init__(self, gamma: float = 2.0, label_smoothing: float = 0.0, reduction="none"):
        super().__init__()
        self.gamma = gamma
        self.label_smoothing = label_smoothing
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = nn.functional.cross_entropy(
            logits, target, reduction="none", label_smoothing=self.label_smoothing
        )  # (batch,)
        p_t = torch.softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
        loss = (1 - p_t).clamp(min=0) ** self.gamma * ce
        return loss if self.reduction == "none" else loss.mean()


def real_step_mask(lengths: torch.Tensor, n_timesteps: int) -> torch.Tensor:
    """Boolean ``(batch, time)`` mask, True on real steps."""
    steps = torch.arange(n_timesteps, device=lengths.device)
    return steps[None, :] < lengths[:, None]


class _PermuteRows(torch.autograd.Function):
    """Row permutation that is its own inverse, so its backward applies it again.

    Faster than the scatter-add that autograd would use for a gather.
    """

    @staticmethod
    def forward(ctx, flat, rows):
        ctx.save_for_backward(rows)
        return flat.index_select(0, rows)

    @staticmethod
    def backward(ctx, grad):
        (rows,) = ctx.saved_tensors
        return grad.index_select(0, rows), None


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence's real steps in place of time, leaving padding where it is.

    The permutation is its own inverse, so applying it twice restores ``x``.
    """
    batch, n_timesteps = x.shape[:2]
    steps = torch.arange(n_timesteps, device=x.device)[None, :]  # (1, time)
    last = (lengths - 1)[:, None]  # (batch, 1)
    index = torch.where(steps <= last, last - steps, steps)  # (batch, time)
    rows = (index + n_timesteps * torch.arange(batch, device=x.device)[:, None]).reshape(-1)
    flat = x.reshape(batch * n_timesteps, -1)  # (batch * time, features)
    if torch.is_grad_enabled() and not _is_exporting():
        return _PermuteRows.apply(flat.contiguous(), rows).view_as(x)
    return flat.index_select(0, rows).view_as(x)


_LSTM_WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
# Weightless bidirectional LSTMs that functional_call runs with a layer's own weights.
# functional_call swaps weights into the shell while it runs: one shell per thread.
_SHELLS = threading.local()


def _fused_shell(input_size: int, hidden_size: int) -> nn.LSTM:
    cache = _SHELLS.__dict__.setdefault("cache", {})
    key = (input_size, hidden_size)
    if key not in cache:
        cache[key] = nn.LSTM(
            input_size, hidden_size, batch_first=True, bidirectional=True, device="meta"
        )
    return cache[key]


class MaskedBiLSTM(nn.Module):
    """A stack of (bi)directional LSTM layers that ignores trailing padding.

    Each direction is a one-layer ``nn.LSTM`` over the padded batch. The
    forward direction is exact for post-padded input as is; the backward
    direction runs forward over each sequence reversed within its own length,
    which gives the same result as ``pack_padded_sequence`` without its cost.

    When every sequence of the batch fills it (``uniform=True``: no padding),
    no gather is needed: on a GPU both directions run as one fused
    bidirectional ``nn.LSTM`` call (cuDNN) on the same weights, through
    :func:`torch.func.functional_call`; on the CPU, where oneDNN's fused
    bidirectional kernel measured slower than two one-direction calls at
    these widths, the backward direction reads the batch flipped in time.
    All paths give the same result.
    """

    hidden_size: int
    input_sizes: list[int]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        n_dirs = 2 if bidirectional else 1
        self.forward_layers = nn.ModuleList()
        self.backward_layers = nn.ModuleList()
        self.input_sizes = [input_size] + [hidden_size * n_dirs] * (num_layers - 1)
        for size in self.input_sizes:
            self.forward_layers.append(nn.LSTM(size, hidden_size, batch_first=True))
            if bidirectional:
                self.backward_layers.append(nn.LSTM(size, hidden_size, batch_first=True))
        self.dropout = Dropout(dropout)
        self.hidden_size = hidden_size
        self.output_size = hidden_size * n_dirs

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, uniform: bool = False
    ) -> torch.Tensor:
        """``(batch, time, output_size)``; ``uniform``: every sequence has ``time`` real steps."""
        for layer, forward_lstm in enumerate(self.forward_layers):
            if layer > 0:
                x = self.dropout(x)
            if not self.backward_layers:
                x, _ = forward_lstm(x)  # (batch, time, hidden)
            elif uniform and x.is_cuda:
                x = self._fused(layer, x)
            elif uniform:
                x = self._flipped(layer, x)
            else:
                x = self._masked(layer, x, lengths)
        return x

    def _masked(self, layer: int, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Both directions of ``layer`` for any lengths: backward over each reversed sequence."""
        return self._two_calls(layer, x, lambda t: reverse_within_length(t, lengths))

    def _flipped(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """Both directions of ``layer`` when no sequence is padded: a plain flip, no gather."""
        return self._two_calls(layer, x, lambda t: t.flip(1))

    def _two_calls(self, layer: int, x: torch.Tensor, reverse) -> torch.Tensor:
        """Forward on ``x``, backward on ``reverse(x)`` (``reverse`` is its own inverse)."""
        out, _ = self.forward_layers[layer](x)  # (batch, time, hidden)
        out_rev, _ = self.backward_layers[layer](reverse(x))
        return torch.cat([out, reverse(out_rev)], dim=-1)

    def _fused(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """Both directions of ``layer`` when no sequence is padded, as one fused call (cuDNN)."""
        forward_lstm, backward_lstm = self.forward_layers[layer], self.backward_layers[layer]
        weights = {name: getattr(forward_lstm, name) for name in _LSTM_WEIGHTS}
        weights.update({f"{name}_reverse": getattr(backward_lstm, name) for name in _LSTM_WEIGHTS})
        shell = _fused_shell(self.input_sizes[layer], self.hidden_size)
        out, _ = torch.func.functional_call(shell, weights, (x,))
        return out


def downsample_steps(
    x: torch.Tensor, real: torch.Tensor, factor: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average each window of ``factor`` steps over its real steps.

    Returns the shorter sequence ``(batch, ceil(time / factor), features)``
    and its real-step mask. A window's mean reads real steps only (the
    average of ``x * real`` divided by the average of ``real``, whose pooling
    divisors cancel), so padding never changes it.
    """
    keep = real[:, None, :].to(x.dtype)  # (batch, 1, time)
    pool = nn.functional.avg_pool1d
    summed = pool(x.transpose(1, 2) * keep, factor, factor, ceil_mode=True)
    counts = pool(keep, factor, factor, ceil_mode=True)  # (batch, 1, time')
    x = (summed / counts.clamp(min=1e-6)).transpose(1, 2)  # (batch, time', features)
    return x, counts[:, 0] > 0


def window_counts(lengths: torch.Tensor, factor: int) -> torch.Tensor:
    """Windows of ``factor`` steps that hold real steps: ``ceil(lengths / factor)``."""
    return torch.div(lengths + factor - 1, factor, rounding_mode="floor")


def upsample_weights(weights: torch.Tensor, real: torch.Tensor, factor: int) -> torch.Tensor:
    """Spread each window's weight evenly over its real steps: ``(batch, time)``."""
    batch, n_timesteps = real.shape
    padded = nn.functional.pad(real.to(weights.dtype), (0, (-n_timesteps) % factor))
    counts = padded.reshape(batch, -1, factor).sum(dim=2)  # (batch, time'): real steps per window
    share = weights / counts.clamp(min=1)
    return share.repeat_interleave(factor, dim=1)[:, :n_timesteps] * real


def _upsample_map(weights: torch.Tensor, real: torch.Tensor, factor: int) -> torch.Tensor:
    """A ``(batch, time', time')`` map of windows of ``factor`` steps: ``(batch, time, time)``."""
    batch, windows = weights.shape[:2]
    keys = upsample_weights(
        weights.reshape(batch * windows, windows),
        real.repeat_interleave(windows, dim=0),
        factor,
    ).reshape(batch, windows, -1)  # (batch, time', time)
    rows = keys.repeat_interleave(factor, dim=1)[:, : real.shape[1]]
    return rows * real[:, :, None]


class MaskedConvFrontEnd(nn.Module):
    """Temporal convolutions that never read padding.

    Each layer is ``Conv1d -> [MaskedBatchNorm] -> ReLU -> Dropout`` with
    "same" zero padding over time. Padded steps are set to zero before every
    convolution, so a real step's output sees the same zeros beyond the
    sequence's end whatever the amount of padding: outputs at real steps are
    exactly padding invariant. A kernel spanning a few steps averages noise
    over time before the recurrent layers, which helps them find short events
    in noisy input; batch normalisation (over real steps only) lets a stack
    of wide convolutions train quickly on small data sets.
    """

    def __init__(
        self,
        input_size: int,
        channels: int,
        n_layers: int,
        kernel_size: int,
        dropout: float,
        batch_norm: bool = False,
    ):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        size = input_size
        for _ in range(n_layers):
            # A bias before batch normalisation would be cancelled by it.
            conv = nn.Conv1d(
                size, channels, kernel_size, padding=kernel_size // 2, bias=not batch_norm
            )
            self.convs.append(conv)
            self.norms.append(MaskedBatchNorm(channels) if batch_norm else nn.Identity())
            size = channels
        self.batch_norm = batch_norm
        self.dropout = Dropout(dropout)
        self.output_size = size

    def forward(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        keep = real[:, None, :].to(x.dtype)  # (batch, 1, time)
        z = x.transpose(1, 2)  # (batch, features, time)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            z = conv(z * keep)  # (batch, channels, time)
            if self.batch_norm:
                z = norm(z, keep)
            z = self.dropout(torch.relu(z))
        return z.transpose(1, 2) if self.convs else x


class SelfAttentionBlock(nn.Module):
    """Pre-norm transformer encoder block with a key-padding mask.

    ``h + MHA(LN(h))`` then ``h + FF(LN(h))``. Padded keys receive exactly
    zero attention; outputs at padded queries are computed but never used.
    """

    def __init__(self, d_model: int, n_heads: int, ff_units: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(
            nn.Linear(d_model, ff_units),
            nn.ReLU(),
            Dropout(dropout),
            nn.Linear(ff_units, d_model),
        )
        self.dropout = Dropout(dropout)

    def forward(
        self, h: torch.Tensor, padding: torch.Tensor, need_weights: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = self.norm1(h)
        if need_weights:
            attended, weights = self.attention(
                z, z, z, key_padding_mask=padding, need_weights=True
            )  # weights: (batch, query, key), averaged over heads
        else:
            attended, weights = self._attend(z, padding), None
        h = h + self.dropout(attended)
        h = h + self.dropout(self.feed_forward(self.norm2(h)))
        return h, weights

    def _attend(self, z: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """The attention's output through ``scaled_dot_product_attention``, with its weights.

        The same computation as ``self.attention(z, z, z, key_padding_mask=padding)``,
        but the padding mask stays ``(batch, 1, 1, time)``: ``nn.MultiheadAttention``
        expands it to ``(batch, heads, time, time)``, which took gigabytes for one
        sequence of 12,000 steps; here memory grows linearly with the length.
        """
        attention = self.attention
        batch, n_steps, width = z.shape
        heads = attention.num_heads
        qkv = nn.functional.linear(z, attention.in_proj_weight, attention.in_proj_bias)
        # (batch, heads, time, head width) each
        q, k, v = (
            t.reshape(batch, n_steps, heads, width // heads).transpose(1, 2)
            for t in qkv.chunk(3, dim=-1)
        )
        keep = ~padding[:, None, None, :]  # (batch, 1, 1, time): True on real keys
        out = nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=keep, dropout_p=attention.dropout if self.training else 0.0
        )  # (batch, heads, time, head width)
        return attention.out_proj(out.transpose(1, 2).reshape(batch, n_steps, width))


class AttentionPooling(nn.Module):
    """Learned-query attention pooling with a masked softmax.

    ``score_t = <q, h_t> / sqrt(d)``; padded steps get ``-inf`` and thus
    exactly zero weight; the output is ``sum_t alpha_t h_t``.
    """

    def __init__(self, d_model: int):
        super().__init__()
        self.query = nn.Parameter(torch.randn(d_model) / math.sqrt(d_model))
        self.scale = 1.0 / math.sqrt(d_model)

    def forward(self, h: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = (h @ self.query) * self.scale  # (batch, time)
        scores = scores.masked_fill(~real, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (batch, time)
        pooled = torch.einsum("bt,btd->bd", weights, h)  # (batch, hidden)
        return pooled, weights


def _pool_without_parameters(
    h: torch.Tensor, real: torch.Tensor, lengths: torch.Tensor, pooling: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean, max or last-step pooling, with per-step weights that sum to one."""
    real_f = real.to(h.dtype)  # (batch, time)
    if pooling == "mean":
        weights = real_f / lengths[:, None].to(h.dtype)
        return torch.einsum("bt,btd->bd", weights, h), weights
    if pooling == "max":
        pooled, argmax = h.masked_fill(~real[:, :, None], float("-inf")).max(dim=1)
        # Weight of a step: the share of channels whose maximum it holds.
        weights = torch.zeros_like(real_f).scatter_add_(
            1, argmax, torch.full_like(argmax, 1.0 / h.shape[-1], dtype=h.dtype)
        )
        return pooled, weights
    last = (lengths - 1).clamp(min=0)
    weights = torch.zeros_like(real_f).scatter_(1, last[:, None], 1.0)
    return h[torch.arange(h.shape[0], device=h.device), last], weights


class SeqAttentionModule(nn.Module):
    """Differences -> standardise -> downsample -> convolutions -> dense -> LSTM -> attend -> pool.

    Every stage is masked: padded steps never change the logits. The head
    reads the pooled vector (and, with ``conv_skip``, the convolutions' mean
    over real steps).

    Parameters
    ----------
    n_features : int
        Features per step.
    n_classes : int
        Number of outputs (one logit per class).
    conv_channels, n_conv_layers, kernel_size : int
        Masked temporal convolutions applied first (``n_conv_layers=0``
        disables them); ``kernel_size`` must be odd.
    conv_batch_norm : bool
        Batch-normalise each convolution over real steps.
    conv_skip : bool
        Also give the head the mean over real steps of the convolutions'
        outputs, past the recurrent layers (as LSTM-FCN does); ignored
        without convolutions.
    front_end : {"conv", "multiscale"}
        "conv": ``n_conv_layers`` plain convolutions (none when 0);
        "multiscale": a :class:`~sklearn_seqattn._multiscale.MaskedMultiScaleFrontEnd`
        of ``front_end_filters`` channels (``n_conv_layers`` and
        ``conv_channels``, ``kernel_size`` are then unused).
    front_end_filters : int
        Filters per branch of the multi-scale front end.
    fixed_filters : bool
        Add the hand-crafted filters to the multi-scale front end.
    per_series : bool
        Standardise each series' features by their own mean and standard
        deviation over its real steps (after the data set's standardisation).
    input_differences : int
        Append each feature's first ``input_differences`` differences over
        time (0-3) as further channels before anything else; everything
        after reads ``n_features * (1 + input_differences)`` channels.
    dense_units, n_dense_layers : int
        Per-step feed-forward front end (``n_dense_layers=0`` disables it).
    lstm_units, n_lstm_layers : int
        Width per direction and depth of the LSTM stack.
    bidirectional : bool
        Whether each LSTM layer also runs backwards.
    n_attention_layers, n_heads, attention_ff_units : int
        Stacked self-attention blocks over the LSTM outputs.
    pooling : {"attention", "mean", "max", "last"}
        How the sequence is reduced to one vector.
    dropout : float
        Dropout rate used throughout.
    input_noise : float
        Standard deviation of Gaussian noise added to the standardised input
        during training (never at prediction).
    input_dropout : float
        Dropout rate on the standardised input features during training.
    downsample : int
        Average every ``downsample`` consecutive steps (real steps only) into
        one before the front end; 1 keeps every step. Attention weights are
        returned per original step.
    recurrent_stride : int
        Average every ``recurrent_stride`` consecutive outputs of the front
        end (real steps only) into one before the recurrent layers, which
        then run over that many times fewer steps; the head's convolution mean
        still reads every step. Attention weights are returned per original
        step.

    The buffers ``input_shift`` and ``input_scale`` (one entry per channel
    read, identity by default) standardise every real step as
    ``(x - input_shift) / input_scale`` before anything else; the estimator
    sets them from the training data, and they are saved with the weights.
    """

    input_shift: torch.Tensor
    input_scale: torch.Tensor

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        conv_channels: int = 64,
        n_conv_layers: int = 0,
        kernel_size: int = 5,
        conv_batch_norm: bool = False,
        conv_skip: bool = False,
        front_end: str = "conv",
        front_end_filters: int = 32,
        fixed_filters: bool = False,
        per_series: bool = False,
        input_differences: int = 0,
        dense_units: int = 64,
        n_dense_layers: int = 1,
        lstm_units: int = 64,
        n_lstm_layers: int = 1,
        bidirectional: bool = True,
        n_attention_layers: int = 0,
        n_heads: int = 4,
        attention_ff_units: int | None = None,
        pooling: str = "attention",
        dropout: float = 0.1,
        input_noise: float = 0.0,
        input_dropout: float = 0.0,
        downsample: int = 1,
        recurrent_stride: int = 1,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}.")
        if front_end not in FRONT_ENDS:
            raise ValueError(f"front_end must be one of {FRONT_ENDS}, got {front_end!r}.")
        if not 0 <= input_differences <= MAX_INPUT_DIFFERENCES:
            raise ValueError(
                f"input_differences must be in [0, {MAX_INPUT_DIFFERENCES}], "
                f"got {input_differences!r}."
            )
        self.input_differences = int(input_differences)
        n_features = n_features * (1 + self.input_differences)  # the channels read
        self.register_buffer("input_shift", torch.zeros(n_features))
        self.register_buffer("input_scale", torch.ones(n_features))
        self.input_noise = input_noise
        self.per_series = bool(per_series)
        self.downsample = int(downsample)
        self.recurrent_stride = int(recurrent_stride)
        self.input_dropout = Dropout(input_dropout)
        self.conv: MaskedConvFrontEnd | MaskedMultiScaleFrontEnd
        if front_end == "multiscale":
            self.conv = MaskedMultiScaleFrontEnd(
                n_features, front_end_filters, fixed_filters, dropout, conv_batch_norm
            )
        else:
            self.conv = MaskedConvFrontEnd(
                n_features, conv_channels, n_conv_layers, kernel_size, dropout, conv_batch_norm
            )
        has_convolutions = front_end == "multiscale" or n_conv_layers > 0
        layers: list[nn.Module] = []
        size = self.conv.output_size
        for _ in range(n_dense_layers):
            layers += [nn.Linear(size, dense_units), nn.ReLU(), Dropout(dropout)]
            size = dense_units
        self.front_end = nn.Sequential(*layers)
        self.lstm = MaskedBiLSTM(size, lstm_units, n_lstm_layers, bidirectional, dropout)
        width = self.lstm.output_size
        ff_units = attention_ff_units or 2 * width
        self.attention_blocks = nn.ModuleList(
            SelfAttentionBlock(width, n_heads, ff_units, dropout) for _ in range(n_attention_layers)
        )
        self.final_norm = nn.LayerNorm(width) if n_attention_layers else nn.Identity()
        self.pooling = pooling
        self.pool = AttentionPooling(width) if pooling == "attention" else None
        self.conv_skip = bool(conv_skip and has_convolutions)
        head_width = width + (self.conv.output_size if self.conv_skip else 0)
        self.head = nn.Sequential(Dropout(dropout), nn.Linear(head_width, n_classes))

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor,
        return_attention: bool = False,
        return_pooled: bool = False,
    ):
        """Return logits ``(batch, n_classes)``.

        With ``return_attention=True`` also return the pooling weights
        ``(batch, time)`` and a list with one ``(batch, time, time)`` map per
        self-attention block. With ``return_pooled=True`` return the pooled
        representation that the head reads, instead of the
        logits.
        """
        # Trailing padding common to the whole batch is dropped: it costs time only.
        # Lengths on the host are read for free; on a GPU reading them would wait for
        # the device, so there the batch is taken as cut already (the loaders cut it).
        # Export skips the cut (its size depends on the data); masking gives the same result.
        uniform = False
        if lengths.device.type == "cpu" and not _is_exporting():
            width = int(lengths.max())
            x = x[:, :width]  # (batch, time, features)
            uniform = bool((lengths == width).all())
        lengths = lengths.to(x.device, non_blocking=True)
        real = real_step_mask(lengths, x.shape[1])  # (batch, time)
        x = append_differences(x, real, self.input_differences)
        x = (x - self.input_shift) / self.input_scale
        if self.per_series:
            x = standardize_per_series(x, real)
        if self.training and self.input_noise > 0:
            # Fresh noise every epoch: the network cannot memorise the training noise.
            x = x + self.input_noise * torch.randn_like(x)
        x = self.input_dropout(x)
        real_steps = real
        if self.downsample > 1:
            x, real = downsample_steps(x, real, self.downsample)  # (batch, time', features)
            lengths = window_counts(lengths, self.downsample)
        features = self.conv(x, real)  # (batch, time, channels)
        steps, real_windows, window_lengths = features, real, lengths
        stride = self.recurrent_stride
        if stride > 1:
            # A sequence that fills the batch still fills it: ceil(width / stride) windows.
            steps, real_windows = downsample_steps(features, real, stride)
            window_lengths = window_counts(lengths, stride)
        h = self.lstm(self.front_end(steps), window_lengths, uniform)  # (batch, time', hidden)
        maps = []
        for block in self.attention_blocks:
            h, weights = block(h, ~real_windows, need_weights=return_attention)
            maps.append(weights)
        h = self.final_norm(h)
        if self.pool is not None:
            pooled, weights = self.pool(h, real_windows)
        else:
            pooled, weights = _pool_without_parameters(
                h, real_windows, window_lengths, self.pooling
            )
        if self.conv_skip:
            # The convolutions' mean over real steps, past the recurrent layers.
            conv_mean, _ = _pool_without_parameters(features, real, lengths, "mean")
            pooled = torch.cat([pooled, conv_mean], dim=1)  # (batch, width + channels)
        if return_pooled:
            return pooled
        logits = self.head(pooled)  # (batch, n_classes)
        if not return_attention:
            return logits
        for factor, finer in ((stride, real), (self.downsample, real_steps)):
            if factor > 1:
                weights = upsample_weights(weights, finer, factor)
                maps = [_upsample_map(m, finer, factor) for m in maps]
        return logits, weights, maps

    @property
    def n_outputs(self) -> int:
        """Width of the logits."""
        return cast(nn.Linear, self.head[-1]).out_features

    @property
    def pooled_size(self) -> int:
        """Width of the pooled representation the head reads (``return_pooled=True``)."""
        return cast(nn.Linear, self.head[-1]).in_features

    @property
    def n_attention_maps(self) -> int:
        """Number of self-attention maps returned with ``return_attention=True``."""
        return len(self.attention_blocks)


class SeqAttentionEnsemble(nn.Module):
    """``n_members`` networks of the same architecture whose probabilities are averaged.

    ``forward`` takes and returns what :class:`SeqAttentionModule` does: the
    logits are the log of the members' mean probabilities (so a softmax of
    them gives that mean), attention weights and maps are the members' means
    (each still sums to one over real steps), and the pooled representation
    is the members' representations side by side.
    """

    def __init__(self, n_members: int, **kwargs):
        super().__init__()
        if n_members < 2:
            raise ValueError(f"an ensemble needs n_members >= 2, got {n_members}.")
        self.members = nn.ModuleList(SeqAttentionModule(**kwargs) for _ in range(n_members))

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor,
        return_attention: bool = False,
        return_pooled: bool = False,
    ):
        outputs = [m(x, lengths, return_attention, return_pooled) for m in self.members]
        if return_pooled:
            return torch.cat(outputs, dim=1)  # (batch, n_members * width)
        logits = [out[0] if return_attention else out for out in outputs]
        log_proba = torch.stack([torch.log_softmax(z.float(), dim=1) for z in logits])
        mean_log_proba = torch.logsumexp(log_proba, dim=0) - math.log(len(self.members))
        if not return_attention:
            return mean_log_proba  # (batch, n_classes)
        weights = torch.stack([out[1] for out in outputs]).mean(dim=0)  # (batch, time)
        maps = [
            torch.stack([out[2][k] for out in outputs]).mean(dim=0)
            for k in range(self.n_attention_maps)
        ]
        return mean_log_proba, weights, maps

    def _member(self, i: int) -> SeqAttentionModule:
        return cast(SeqAttentionModule, self.members[i])

    @property
    def n_outputs(self) -> int:
        return self._member(0).n_outputs

    @property
    def pooled_size(self) -> int:
        return sum(self._member(i).pooled_size for i in range(len(self.members)))

    @property
    def n_attention_maps(self) -> int:
        return self._member(0).n_attention_maps


def standardize_per_series(x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Each series' features minus their mean, over their standard deviation, on real steps.

    Statistics read real steps only, so padding never changes them; a
    feature constant within a series is only centred.
    """
    keep = real[:, :, None].to(x.dtype)  # (batch, time, 1)
    count = keep.sum(dim=1, keepdim=True).clamp(min=1)  # (batch, 1, 1)
    mean = (x * keep).sum(dim=1, keepdim=True) / count  # (batch, 1, features)
    var = ((x - mean) ** 2 * keep).sum(dim=1, keepdim=True) / count
    std = torch.sqrt(var)
    scale = torch.where(std > 1e-6, std, torch.ones_like(std))
    return (x - mean) / scale * keep


def build_module(n_members: int = 1, **kwargs) -> nn.Module:
    """One :class:`SeqAttentionModule`, or a :class:`SeqAttentionEnsemble` of ``n_members``."""
    if n_members == 1:
        return SeqAttentionModule(**kwargs)
    return SeqAttentionEnsemble(n_members, **kwargs)


def state_on_meta(**kwargs) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of ``build_module(**kwargs)`` on torch's "meta" device.

    Shapes and dtypes only, nothing allocated: sizes can be checked before
    a network is built for real (untrusted saved models, command-line
    settings).
    """
    with torch.device("meta"):
        return build_module(**kwargs).state_dict()
