"""ChannelsFirst: aeon / sktime data straight into a pipeline."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.preprocessing import ChannelsFirst

TINY = tiny(n_init=1)


UNIVARIATE = "2-D X holds univariate sequences (n_samples, n_timesteps): n_features_in_ is 1"


@parametrize_with_checks(
    [ChannelsFirst()],
    expected_failed_checks=lambda est: {
        "check_n_features_in": UNIVARIATE,
        "check_n_features_in_after_fitting": UNIVARIATE,
        "check_transformer_general": (
            "dropping a column of 2-D X drops a time step, which is valid, so no feature error"
        ),
        "check_transformer_data_not_an_array": (
            "a nested list is a list of series, each (n_channels, n_timesteps_i)"
        ),
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_arrays_and_lists_swap_axes_values_unchanged():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 3, 7))
    out = ChannelsFirst().fit_transform(X)
    assert out.shape == (4, 7, 3)
    assert_array_equal(out[2, 5], X[2, :, 5])
    ragged = [rng.normal(size=(3, n)) for n in (7, 2, 9)]
    out = ChannelsFirst().fit_transform(ragged)
    assert [x.shape for x in out] == [(7, 3), (2, 3), (9, 3)]
    assert_array_equal(out[1], ragged[1].T)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="share one channel count"):
        ChannelsFirst().fit([np.zeros((3, 5)), np.zeros((2, 5))])
    with pytest.raises(ValueError, match=r"X\[1\] must be a 2-D \(n_channels, n_timesteps\)"):
        ChannelsFirst().fit([np.zeros((3, 5)), np.zeros(5)])
    fitted = ChannelsFirst().fit(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="X has 4 channels, but ChannelsFirst was fitted with 3"):
        fitted.transform(np.zeros((2, 4, 5)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["BasicMotions", "JapaneseVowels"])
def test_aeon_data_in_a_pipeline(name):
    aeon = pytest.importorskip("aeon.datasets")
    X, y = aeon.load_classification(name, split="train")  # equal / unequal lengths
    X, y = X[:40], np.asarray(y)[:40]
    pipe = make_pipeline(ChannelsFirst(), SeqAttentionClassifier(**TINY))
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (40, len(np.unique(y)))
    clf = pipe[-1]
    n_channels = (X[0] if isinstance(X, list) else X).shape[-2]
    assert clf.n_features_in_ == n_channels
