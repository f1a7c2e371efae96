"""input_differences: differences over time as channels, inside the network."""

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose

from sklearn_seqattn import SeqAttentionClassifier, relevance
from sklearn_seqattn._data import standardization
from sklearn_seqattn._differences import append_differences
from sklearn_seqattn._validation import check_sequences
from sklearn_seqattn.datasets import make_sequence_classification

KW = tiny(dense_units=8, lstm_units=8, max_epochs=3, n_init=1, early_stopping=False)


def _with_differences(sequence: np.ndarray, order: int) -> np.ndarray:
    """A ``(T, features)`` series and its first ``order`` differences, by hand."""
    parts = [sequence]
    for _ in range(order):
        parts.append(np.diff(parts[-1], axis=0, prepend=parts[-1][:1]))
    return np.concatenate(parts, axis=1)


@pytest.fixture(scope="module")
def ragged():
    X, y = make_sequence_classification(n_samples=80, n_timesteps=30, n_features=2, random_state=0)
    lengths = (X != 0).any(axis=2).sum(axis=1)
    assert lengths.min() < lengths.max()  # padding to get right
    return [x[:n] for x, n in zip(X, lengths, strict=True)], y


def test_differences_are_taken_over_real_steps_only():
    x = torch.tensor([[[1.0], [4.0], [9.0], [0.0]]])  # three real steps, one padded
    real = torch.tensor([[True, True, True, False]])
    out = append_differences(x, real, 2)
    assert out.shape == (1, 4, 3)
    assert out[0, :, 1].tolist() == [0.0, 3.0, 5.0, 0.0]
    assert out[0, :, 2].tolist() == [0.0, 3.0, 2.0, 0.0]
    assert torch.equal(append_differences(x, real, 0), x)


@pytest.mark.parametrize("order", [1, 2])
def test_the_network_reads_what_widening_the_data_by_hand_gives(ragged, order):
    X, y = ragged
    inside = SeqAttentionClassifier(**KW, input_differences=order).fit(X, y)
    by_hand = [_with_differences(x, order) for x in X]
    # The settings "auto" resolves from the width of a step are pinned to the same model.
    resolved = ("front_end", "fixed_filters", "conv_skip", "n_conv_layers", "input_dropout")
    pinned = {name: getattr(inside, name + "_") for name in resolved}
    outside = SeqAttentionClassifier(**KW, **pinned).fit(by_hand, y)
    assert inside.n_features_in_ == 2 and outside.n_features_in_ == 2 * (1 + order)
    assert_allclose(inside.predict_proba(X), outside.predict_proba(by_hand), atol=1e-5)
    shift = inside.net_.module_.input_shift.numpy()
    assert_allclose(shift, outside.net_.module_.input_shift.numpy(), rtol=1e-5, atol=1e-6)


def test_statistics_cover_the_appended_channels(ragged):
    X, _ = ragged
    seqs = check_sequences(X)
    index = np.arange(len(X))
    mean, scale = standardization(seqs, index, differences=1)
    steps = np.concatenate([_with_differences(x, 1) for x in X])
    assert_allclose(mean, steps.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert_allclose(scale, steps.std(axis=0), rtol=1e-5)
    # Chunks of any size give the same statistics.
    assert_allclose(standardization(seqs, index, chunk=7, differences=1)[0], mean, atol=1e-6)


def test_saved_and_loaded_with_its_differences(ragged, tmp_path):
    X, y = ragged
    clf = SeqAttentionClassifier(**KW, input_differences=1).fit(X, y)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "model"))
    assert loaded.input_differences == 1
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_relevance_stays_per_input_feature(ragged):
    pytest.importorskip("captum")
    X, y = ragged
    clf = SeqAttentionClassifier(**KW, input_differences=1).fit(X, y)
    R = relevance(clf, X[:4], n_steps=4)
    lengths = [len(x) for x in X[:4]]
    assert R.shape == (4, max(lengths), 2)  # the two input features, not four channels
    for r, n in zip(R, lengths, strict=True):
        assert np.all(r[n:] == 0) and np.abs(r[:n]).sum() > 0


@pytest.mark.parametrize(
    "value, error",
    [(4, ValueError), (-1, ValueError), (1.0, TypeError), (True, TypeError), ("auto", TypeError)],
)
def test_bad_values_are_refused_before_training(ragged, value, error):
    X, y = ragged
    clf = SeqAttentionClassifier(**KW, input_differences=value)
    with pytest.raises(error, match="input_differences"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
