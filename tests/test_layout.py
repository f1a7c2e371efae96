"""The data layer's record of the caller's layout, shared by transformers, resamplers, plots."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_seqattn._layout import format_like, padded_like_input
from sklearn_seqattn._validation import check_sequences

RNG = np.random.default_rng(0)
PRE_PADDED = np.concatenate([np.zeros((2, 3, 2)), RNG.normal(size=(2, 4, 2)) + 5], axis=1)


@pytest.mark.parametrize(
    "X, kind",
    [
        (PRE_PADDED, "3d"),
        (PRE_PADDED[:, :, 0], "2d"),
        ([np.ones((3, 2)), np.ones((5, 2))], "list"),
        ([np.ones(3), np.ones(5)], "list1d"),
        ((np.ones((3, 2)), np.ones((5, 2))), "list"),
    ],
)
def test_check_sequences_records_the_kind_of_input_and_format_like_restores_it(X, kind):
    seqs = check_sequences(X)
    assert seqs.kind == kind
    assert seqs.take([1, 0]).kind == kind and seqs.concat(seqs).kind == kind
    back = format_like(seqs, seqs.data, mask_value=0.0)
    if kind.startswith("list"):
        assert isinstance(back, list)
        for got, want in zip(back, X, strict=True):
            assert_array_equal(got, np.asarray(want, np.float32))
    else:
        assert_array_equal(back, np.asarray(X, np.float32))


def test_padded_like_input_keeps_the_caller_time_axis():
    values, padding = padded_like_input(check_sequences(PRE_PADDED))
    assert values.shape == PRE_PADDED.shape
    assert_array_equal(padding, np.repeat([[True] * 3 + [False] * 4], 2, axis=0))
    assert_array_equal(values[~padding], PRE_PADDED[~padding].astype(np.float32))
    ragged_values, ragged_padding = padded_like_input(
        check_sequences([np.ones((2, 1)), np.ones((4, 1))])
    )
    assert ragged_values.shape == (2, 4, 1)
    assert_array_equal(ragged_padding, [[False, False, True, True], [False] * 4])
