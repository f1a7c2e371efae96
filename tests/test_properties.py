"""Property-based tests of the padding helpers and of the estimator's input handling."""

import numpy as np
import pytest
from _helpers import tiny
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._data import (
    compact_padding,
    lengths_to_mask,
    pad_sequences,
    padding_mask,
    take_rows,
)
from sklearn_seqattn._validation import Sequences, check_sequences

SETTINGS = settings(max_examples=25, deadline=None)
MASK_VALUES = [0.0, -1.0, np.nan, 7.5]


@st.composite
def padded_arrays(draw, valid=False):
    """A padded (n, T, F) array, its true padding flags and its mask value.

    Padding may sit anywhere (before, after and between real steps); real
    steps may hold the mask value on some of their features, never on all.
    With ``valid``, every sample has a real step and real steps are finite, as
    ``check_sequences`` requires.
    """
    n, T, F = draw(st.integers(1, 5)), draw(st.integers(1, 8)), draw(st.integers(1, 3))
    mask_value = draw(st.sampled_from(MASK_VALUES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    is_padding = rng.random((n, T)) < draw(st.sampled_from([0.0, 0.3, 0.7]))
    if valid:
        is_padding[np.arange(n), rng.integers(0, T, n)] = False  # one real step each
    pool = np.array([mask_value, 1.0, -2.5, 3.25], dtype=np.float32)
    X = pool[rng.integers(0, len(pool), (n, T, F))]
    all_mask = (np.isnan(X) if np.isnan(mask_value) else X == mask_value).all(axis=2)
    X[all_mask & ~is_padding, 0] = 1.0  # real steps keep one non-mask feature
    if valid:
        X[np.isnan(X)] = 1.0
    X[is_padding] = mask_value
    return X, is_padding, mask_value


@given(padded_arrays())
@SETTINGS
def test_padding_mask_flags_steps_whose_features_all_equal_the_mask(case):
    X, is_padding, mask_value = case
    assert_array_equal(padding_mask(X, mask_value), is_padding)


@given(padded_arrays())
@SETTINGS
def test_compact_padding_keeps_real_steps_in_order(case):
    X, is_padding, _ = case
    data, lengths, positions = compact_padding(X.copy(), is_padding)
    assert data.shape == X.shape
    assert_array_equal(lengths, (~is_padding).sum(axis=1))
    for i in range(len(X)):
        real = np.flatnonzero(~is_padding[i])
        assert_array_equal(positions[i, : lengths[i]], real)
        assert_array_equal(data[i, : lengths[i]], X[i, real])
        assert (data[i, lengths[i] :] == 0).all()
        assert sorted(positions[i]) == list(range(X.shape[1]))  # a permutation
    assert_array_equal(lengths_to_mask(lengths, X.shape[1]), ~np.sort(is_padding, axis=1))


@given(padded_arrays())
@SETTINGS
def test_scatter_steps_inverts_the_compaction(case):
    X, is_padding, _ = case
    data, lengths, positions = compact_padding(X.copy(), is_padding)
    seqs = Sequences(data, lengths, positions, X.shape[1])
    restored = seqs.scatter_steps(data)
    assert_array_equal(restored[~is_padding], X[~is_padding])
    assert (restored[is_padding] == 0).all()
    # Per-pair maps land on (original query step, original key step).
    n, T = is_padding.shape
    pairs = np.arange(n * T * T, dtype=np.float64).reshape(n, T, T) + 1
    placed = seqs.scatter_pairs(pairs)
    for i in range(n):
        pos = positions[i, : lengths[i]]
        assert_array_equal(placed[i][np.ix_(pos, pos)], pairs[i, : lengths[i], : lengths[i]])
        assert placed[i].sum() == pairs[i, : lengths[i], : lengths[i]].sum()


@given(padded_arrays(valid=True))
@SETTINGS
def test_check_sequences_returns_the_compacted_layout(case):
    X, is_padding, mask_value = case
    seqs = check_sequences(X, mask_value=mask_value)
    data, lengths, positions = compact_padding(np.nan_to_num(X, nan=0.0), is_padding)
    width = lengths.max()
    assert seqs.n_timesteps == X.shape[1]
    assert seqs.data.dtype == np.float32 and seqs.data.shape == (len(X), width, X.shape[2])
    assert_array_equal(seqs.lengths, lengths)
    assert_array_equal(seqs.data, data[:, :width])
    assert_array_equal(seqs.positions, positions[:, :width])
    assert not np.isnan(seqs.data).any()


@given(padded_arrays(valid=True), st.data())
@SETTINGS
def test_taking_rows_commutes_with_validation(case, draw):
    X, _, mask_value = case
    index = np.array(draw.draw(st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=6)))
    seqs = check_sequences(X, mask_value=mask_value)
    taken = seqs.take(index)
    assert_array_equal(taken.scatter_steps(taken.data), seqs.scatter_steps(seqs.data)[index])
    assert_array_equal(take_rows(X, index), X[index])
    ragged = [X[i, : 1 + i] for i in range(len(X))]
    assert all(a is ragged[i] for a, i in zip(take_rows(ragged, index), index, strict=True))


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=5),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
)
@SETTINGS
def test_pad_sequences_and_ragged_lists(lengths, n_features, seed):
    rng = np.random.default_rng(seed)
    seqs = [rng.standard_normal((length, n_features)) for length in lengths]
    padded, out_lengths = pad_sequences(seqs)
    assert_array_equal(out_lengths, lengths)
    for i, seq in enumerate(seqs):
        assert_allclose(padded[i, : len(seq)], seq.astype(np.float32))
        assert (padded[i, len(seq) :] == 0).all()
    # A ragged list and the same sequences post-padded with a mask value agree.
    from_list = check_sequences(seqs)
    from_array = check_sequences(
        np.where(lengths_to_mask(out_lengths, padded.shape[1])[:, :, None], padded, np.nan),
        mask_value=np.nan,
    )
    assert_array_equal(from_list.data, from_array.data)
    assert_array_equal(from_list.lengths, from_array.lengths)


# -------------------------------------------------------------- estimator
N_FEATURES = 2


@pytest.fixture(scope="module")
def model_and_sequences():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 9, 40)
    seqs = [rng.standard_normal((length, N_FEATURES)) + 0.5 for length in lengths]
    y = np.array([int(s[:, 0].mean() > 0.5) for s in seqs])
    clf = SeqAttentionClassifier(
        **tiny(n_attention_layers=1, n_heads=2, batch_size=8, early_stopping=False)
    ).fit(seqs, y)
    return clf, seqs


def _layout(seqs, side, extra, mask_value, rng):
    """Place each sequence's steps in a (n, max_length + extra, F) array filled with mask_value."""
    width = max(len(s) for s in seqs) + extra
    X = np.full((len(seqs), width, N_FEATURES), mask_value)
    slots = []
    for i, seq in enumerate(seqs):
        side_i = rng.choice(["pre", "post", "interior"]) if side == "mixed" else side
        if side_i == "post":
            where = np.arange(len(seq))
        elif side_i == "pre":
            where = np.arange(width - len(seq), width)
        else:
            where = np.sort(rng.choice(width, len(seq), replace=False))
        X[i, where] = seq
        slots.append(where)
    return X, slots


@given(
    indices=st.lists(st.integers(0, 39), min_size=1, max_size=8),
    side=st.sampled_from(["post", "pre", "interior", "mixed"]),
    extra=st.integers(0, 4),
    mask_value=st.sampled_from([0.0, -1.0, np.nan, 99.0]),
    seed=st.integers(0, 2**32 - 1),
)
@SETTINGS
def test_probabilities_do_not_depend_on_the_padding(
    model_and_sequences, indices, side, extra, mask_value, seed
):
    clf, all_seqs = model_and_sequences
    seqs = [all_seqs[i] for i in indices]
    X, slots = _layout(seqs, side, extra, mask_value, np.random.default_rng(seed))
    reference = clf.predict_proba(seqs)
    clf.set_params(mask_value=mask_value)
    try:
        assert_allclose(clf.predict_proba(X), reference, rtol=0, atol=1e-6)
        weights = clf.attention_weights(X)
    finally:
        clf.set_params(mask_value=0.0)
    ref_weights = clf.attention_weights(seqs)
    for i, where in enumerate(slots):
        assert_allclose(weights[i, where], ref_weights[i, : len(where)], rtol=0, atol=1e-6)
        assert weights[i].sum() == pytest.approx(1.0, abs=1e-5)
        assert np.count_nonzero(np.delete(weights[i], where)) == 0
