"""Padding never changes a prediction: more padding, pre vs post, ragged vs padded."""

import numpy as np
import pytest
from _helpers import add_padding, tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from sklearn_seqattn import SeqAttentionClassifier

ATOL = 1e-5


def _real(X):
    return ~(np.isnan(X) | (X == 0)).all(axis=-1)


def _to_pre_padding(X):
    """Move each sequence's real steps to the end of the time axis (NaN padding stays NaN)."""
    out = np.full_like(X, np.nan if np.isnan(X).any() else 0.0)
    real = _real(X)
    for i in range(len(X)):
        steps = X[i, real[i]]
        out[i, X.shape[1] - len(steps) :] = steps
    return out


def _to_list(X):
    real = ~(X == 0).all(axis=-1)
    return [X[i, real[i]] for i in range(len(X))]


VARIANTS = {
    "pooling_only": dict(n_attention_layers=0),
    "two_attention_layers": dict(n_attention_layers=2),
    "conv_front_end": dict(n_conv_layers=2, kernel_size=3, conv_channels=6),
    "conv_batch_norm": dict(n_conv_layers=2, kernel_size=3, conv_channels=6, conv_batch_norm=True),
    "conv_skip": dict(n_conv_layers=2, kernel_size=3, conv_channels=6, conv_skip=True),
    "conv_and_attention": dict(n_conv_layers=1, kernel_size=5, n_attention_layers=1),
    "downsampled": dict(downsample=3, n_conv_layers=1, n_attention_layers=1),
    "multiscale": dict(front_end="multiscale", front_end_filters=4, fixed_filters=True),
    "multiscale_ensemble": dict(
        front_end="multiscale", front_end_filters=4, conv_skip=True, n_estimators=2, n_init=1
    ),
    "per_series": dict(standardize="per_series", downsample=2, n_conv_layers=0),
    "strided": dict(
        front_end="multiscale", front_end_filters=4, recurrent_stride=3, n_attention_layers=1
    ),
    "differences": dict(
        input_differences=2, downsample=2, front_end="multiscale", front_end_filters=4
    ),
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def fitted(request, seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(
        **tiny(
            dense_units=8,
            lstm_units=8,
            n_heads=2,
            max_epochs=3,
            early_stopping=False,
            **VARIANTS[request.param],
        )
    )
    return clf.fit(X, y), X[:80]


def test_more_padding_gives_the_same_probabilities(fitted):
    clf, X = fitted
    expected = clf.predict_proba(X)
    assert_allclose(clf.predict_proba(add_padding(X, 17)), expected, atol=ATOL)


def test_pre_and_post_padding_give_the_same_probabilities(fitted):
    clf, X = fitted
    expected = clf.predict_proba(X)
    assert_allclose(clf.predict_proba(_to_pre_padding(X)), expected, atol=ATOL)
    assert_allclose(clf.predict_proba(add_padding(X, 5, side="pre")), expected, atol=ATOL)


def test_ragged_list_gives_the_same_probabilities_as_the_padded_array(fitted):
    clf, X = fitted
    assert_allclose(clf.predict_proba(_to_list(X)), clf.predict_proba(X), atol=ATOL)


def test_attention_weights_follow_the_callers_time_axis(fitted):
    clf, X = fitted
    post = clf.attention_weights(X)
    pre = clf.attention_weights(_to_pre_padding(X))
    real = ~(X == 0).all(axis=-1)
    assert post.shape == X.shape[:2]
    assert_array_equal(post[~real], 0)
    assert_allclose(post.sum(axis=1), 1, atol=1e-5)
    # The weight of each real step moves with the step.
    assert_allclose(np.sort(pre, axis=1), np.sort(post, axis=1), atol=ATOL)
    assert_allclose(pre[:, -1][real.sum(1) == X.shape[1]], post[:, -1][real.sum(1) == X.shape[1]])
    assert_allclose(pre[_to_pre_padding(X).any(-1)], post[real], atol=ATOL)


def test_nan_as_mask_value(seq_data, fitted_tiny):
    X, y, _ = seq_data
    X_nan = np.where((X == 0).all(axis=-1, keepdims=True), np.nan, X)
    zero = fitted_tiny  # fitted on X, padded with zeros
    nan = clone(fitted_tiny).set_params(mask_value=np.nan).fit(X_nan, y)
    assert_allclose(nan.predict_proba(X_nan), zero.predict_proba(X), atol=ATOL)
    assert_allclose(nan.predict_proba(_to_pre_padding(X_nan)), zero.predict_proba(X), atol=ATOL)


# ------------------------------------------------- the exact-length fast path
@pytest.mark.parametrize("path", ["_fused", "_flipped"])
def test_paths_for_batches_without_padding_equal_the_masked_path(path):
    import torch

    from sklearn_seqattn._module import MaskedBiLSTM

    torch.manual_seed(0)
    lstm = MaskedBiLSTM(5, 6, num_layers=2, dropout=0.0)
    x = torch.randn(4, 9, 5, requires_grad=True)
    lengths = torch.full((4,), 9)
    weight = lstm.backward_layers[0].weight_hh_l0
    fast = getattr(lstm, path)(0, x)
    masked = lstm._masked(0, x, lengths)
    (g_fast,) = torch.autograd.grad(fast.square().sum(), [weight])
    (g_masked,) = torch.autograd.grad(masked.square().sum(), [weight])
    assert_allclose(fast.detach(), masked.detach(), atol=1e-6)
    assert_allclose(g_fast, g_masked, atol=1e-5)
    # The whole two-layer stack, as the module runs it on the CPU.
    whole = lstm(x, lengths, uniform=True)
    assert_allclose(whole.detach(), lstm(x, lengths, uniform=False).detach(), atol=1e-6)


def test_uniform_batches_skip_the_within_length_reversal(monkeypatch, seq_data, fitted_tiny):
    from sklearn_seqattn._module import MaskedBiLSTM

    X = seq_data[0]
    clf = fitted_tiny
    calls = []
    masked = MaskedBiLSTM._masked
    monkeypatch.setattr(
        MaskedBiLSTM, "_masked", lambda self, *a: calls.append(1) or masked(self, *a)
    )
    equal = X[:, :5]  # the first 5 steps of every sequence: all real
    assert _real(equal).all()
    fast = clf.predict_proba(equal)
    assert not calls
    # Some of them in one batch with a longer sequence run the masked path.
    mixed = np.concatenate([np.pad(equal[:10], ((0, 0), (0, 3), (0, 0))), X[:1, :8]])
    slow = clf.predict_proba(mixed)
    assert calls
    assert_allclose(slow[:-1], fast[:10], atol=ATOL)
