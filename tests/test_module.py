"""The torch module against reference implementations."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sklearn_seqattn._module import (
    POOLINGS,
    AttentionPooling,
    MaskedBiLSTM,
    SeqAttentionModule,
    real_step_mask,
    reverse_within_length,
)


def _batch(seed=0, batch=6, time=9, features=4):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([9, 1, 4, 7, 2, 9])[:batch]
    x = torch.randn(batch, time, features, generator=gen)
    x[~real_step_mask(lengths, time)] = 0.0
    return x, lengths


def test_reverse_within_length_reverses_real_steps_and_is_an_involution():
    x, lengths = _batch()
    rev = reverse_within_length(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        assert torch.equal(rev[b, :n], x[b, :n].flip(0))
        assert torch.equal(rev[b, n:], x[b, n:])
    assert torch.equal(reverse_within_length(rev, lengths), x)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_masked_bilstm_matches_packed_sequences(num_layers):
    torch.manual_seed(0)
    x, lengths = _batch()
    ours = MaskedBiLSTM(4, 5, num_layers=num_layers, bidirectional=True).eval()
    ref = nn.LSTM(4, 5, num_layers=num_layers, bidirectional=True, batch_first=True).eval()
    # Copy each direction's weights into the reference cuDNN-style LSTM.
    with torch.no_grad():
        for layer in range(num_layers):
            for direction, lstm in (
                ("", ours.forward_layers[layer]),
                ("_reverse", ours.backward_layers[layer]),
            ):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(ref, f"{name}_l{layer}{direction}").copy_(getattr(lstm, f"{name}_l0"))
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=x.shape[1])
    got = ours(x, lengths)
    real = real_step_mask(lengths, x.shape[1])
    torch.testing.assert_close(got[real], expected[real], atol=1e-6, rtol=1e-5)


def test_attention_pooling_matches_a_naive_per_sample_loop():
    torch.manual_seed(0)
    h = torch.randn(6, 9, 8)
    lengths = torch.tensor([9, 1, 4, 7, 2, 9])
    pool = AttentionPooling(8)
    pooled, weights = pool(h, real_step_mask(lengths, 9))
    for b, n in enumerate(lengths.tolist()):
        scores = torch.stack([torch.dot(pool.query, h[b, t]) for t in range(n)]) / np.sqrt(8)
        alpha = torch.exp(scores - scores.max())
        alpha = alpha / alpha.sum()
        expected = sum(alpha[t] * h[b, t] for t in range(n))
        torch.testing.assert_close(pooled[b], expected, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(weights[b, :n], alpha, atol=1e-6, rtol=1e-5)
        assert torch.all(weights[b, n:] == 0)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("n_attention_layers", [0, 2])
def test_padded_values_never_change_the_output(pooling, n_attention_layers):
    torch.manual_seed(0)
    module = SeqAttentionModule(
        4,
        3,
        dense_units=8,
        lstm_units=6,
        n_lstm_layers=2,
        n_attention_layers=n_attention_layers,
        n_heads=2,
        pooling=pooling,
    ).eval()
    x, lengths = _batch()
    junk = x.clone()
    pad = ~real_step_mask(lengths, x.shape[1])
    junk[pad] = torch.randn(int(pad.sum()), 4) * 100
    with torch.no_grad():
        logits, weights, maps = module(x, lengths, return_attention=True)
        logits_junk = module(junk, lengths)
    torch.testing.assert_close(logits, logits_junk, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.sum(1), torch.ones(6), atol=1e-6, rtol=0)
    assert torch.all(weights[pad[:, : weights.shape[1]]] == 0)
    assert len(maps) == n_attention_layers
    for layer_map in maps:  # padded keys get exactly zero attention
        keys_pad = pad[:, None, :].expand_as(layer_map)
        assert torch.all(layer_map[keys_pad] == 0)


def test_sample_alone_or_in_a_longer_batch_gives_the_same_logits():
    torch.manual_seed(0)
    module = SeqAttentionModule(4, 2, lstm_units=6, n_attention_layers=1, n_heads=2).eval()
    x, lengths = _batch()
    with torch.no_grad():
        together = module(x, lengths)
        alone = torch.cat(
            [module(x[b : b + 1, :n], lengths[b : b + 1]) for b, n in enumerate(lengths.tolist())]
        )
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


def test_reverse_within_length_gradient_matches_gather():
    x, lengths = _batch()
    x = x.clone().requires_grad_(True)
    weights = torch.randn_like(x)
    (reverse_within_length(x, lengths) * weights).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    steps = torch.arange(x.shape[1])[None, :]
    last = (lengths - 1)[:, None]
    index = torch.where(steps <= last, last - steps, steps)
    (x.gather(1, index[:, :, None].expand_as(x)) * weights).sum().backward()
    assert torch.equal(ours, x.grad)
