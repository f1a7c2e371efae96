"""The CPU dropout: nn.Dropout's distribution and gradients, with a cheaper mask."""

import pytest
import torch
from torch import nn

from sklearn_seqattn._dropout import Dropout
from sklearn_seqattn._module import SeqAttentionModule


@pytest.mark.parametrize("p", [0.1, 0.35, 0.5])
def test_keeps_each_value_with_probability_one_minus_p_and_rescales(p):
    torch.manual_seed(0)
    x = torch.full((200, 50, 40), 2.0)
    out = Dropout(p).train()(x)
    kept = out != 0
    assert abs(kept.float().mean().item() - (1 - p)) < 0.005  # 400,000 draws
    assert torch.allclose(out[kept], torch.tensor(2.0 / (1 - p)))
    # Independent per value: the kept fraction does not depend on the position.
    per_step = kept.float().mean(dim=(0, 2))
    assert per_step.std().item() < 0.02


def test_gradient_is_the_mask_scale():
    torch.manual_seed(1)
    x = torch.randn(8, 30, 5, requires_grad=True)
    out = Dropout(0.4).train()(x)
    out.sum().backward()
    expected = (out != 0).float() / 0.6
    assert torch.allclose(x.grad, expected)


def test_evaluation_p_zero_and_p_one_follow_nn_dropout():
    x = torch.randn(4, 6, 3)
    assert torch.equal(Dropout(0.5).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert torch.equal(Dropout(1.0).train()(x), nn.Dropout(1.0).train()(x))


def test_seeded_draws_repeat_and_inplace_matches():
    x = torch.randn(16, 20, 7)
    torch.manual_seed(3)
    first = Dropout(0.3).train()(x)
    torch.manual_seed(3)
    again = Dropout(0.3, inplace=True).train()(x.clone())
    assert torch.equal(first, again)


def test_bfloat16_input_keeps_its_dtype_and_rate():
    torch.manual_seed(4)
    x = torch.ones(100, 100, 10, dtype=torch.bfloat16)
    out = Dropout(0.35).train()(x)
    assert out.dtype == torch.bfloat16
    assert abs((out != 0).float().mean().item() - 0.65) < 0.01


def test_module_state_dict_is_unchanged_by_the_dropout_class():
    # No state of its own: weights saved with nn.Dropout layers load as before.
    module = SeqAttentionModule(n_features=4, n_classes=2, input_dropout=0.2, dropout=0.1)
    assert isinstance(module.input_dropout, Dropout)
    names = set(module.state_dict())
    assert not any("dropout" in name for name in names)
