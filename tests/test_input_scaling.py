"""standardize="auto": each series by its own statistics where series carry nuisance levels."""

import numpy as np
import pytest
import torch
from _helpers import add_padding, tiny
from numpy.testing import assert_allclose

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._data import SeriesLevels, series_levels
from sklearn_seqattn._params import (
    AUTO_CONV_MAX_FEATURES,
    AUTO_PER_SERIES_BY_CLASS,
    AUTO_PER_SERIES_NUISANCE,
    resolve_standardize,
)
from sklearn_seqattn._validation import check_sequences
from sklearn_seqattn.datasets import make_contour_classification

# Two epochs on 60 sequences learn little; what is tested is the choice of scaling.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn_seqattn.ChanceLevelWarning")
TINY = tiny(max_epochs=2, early_stopping=False, n_init=1)


def _levels(X, y) -> SeriesLevels:
    return series_levels(check_sequences(X), np.arange(len(y)), y)


def _share(X, y) -> float:
    return _levels(X, y).nuisance


def _noise(n=120, t=50, f=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, t, f)).astype(np.float32), rng.integers(0, 2, n)


@pytest.mark.parametrize("n_timesteps", [4, 50])
def test_independent_noise_holds_no_share_whatever_the_length(n_timesteps):
    X, y = _noise(n=400, t=n_timesteps)
    assert _share(X, y) == pytest.approx(0, abs=0.02)


def test_offsets_as_large_as_the_noise_hold_half():
    X, y = _noise()
    offsets = np.random.default_rng(1).standard_normal((len(y), 1, X.shape[2]))
    assert _share(X + offsets.astype(np.float32), y) == pytest.approx(0.5, abs=0.08)


def test_levels_that_are_the_class_do_not_count():
    X, y = _noise()
    shifted = X + 3.0 * y[:, None, None].astype(np.float32)
    assert _share(shifted, y) == pytest.approx(_share(X, y), abs=1e-6)
    assert _levels(shifted, y).by_class > 0.9
    assert _levels(X, y).by_class < 0.1


def test_the_class_share_of_levels_is_what_the_class_explains():
    X, y = _noise(n=400)
    rng = np.random.default_rng(1)
    offsets = rng.standard_normal((len(y), 1, X.shape[2]))  # variance 1 per series
    by_class = np.where(y == 1, 1.0, -1.0)[:, None, None]  # variance 1 between classes
    levels = _levels(X + (offsets + by_class).astype(np.float32), y)
    assert levels.by_class == pytest.approx(0.5, abs=0.08)
    assert levels.nuisance == pytest.approx(0.5, abs=0.08)


def test_the_share_reads_real_steps_only():
    X, y = _noise(n=60)
    X[:, 30:] = 0.0  # the last 20 steps are padding
    assert _share(add_padding(X, 15), y) == pytest.approx(_share(X, y), rel=1e-9)
    offsets = np.random.default_rng(1).standard_normal((len(y), 1, X.shape[2]))
    X[:, :30] += offsets.astype(np.float32)  # on the real steps only
    assert _share(add_padding(X, 15), y) == pytest.approx(_share(X, y), rel=1e-9)
    assert _share(X, y) == pytest.approx(0.5, abs=0.1)


def test_far_from_zero_levels_keep_the_noise():
    X, y = _noise(n=60)
    offsets = np.random.default_rng(1).standard_normal((len(y), 1, X.shape[2]))
    X = X + offsets.astype(np.float32)
    assert _share(X + np.float32(1e4), y) == pytest.approx(_share(X, y), abs=0.01)


def test_resolution_reads_the_data_only_for_steps_of_several_features_with_auto():
    def unread():
        raise AssertionError("the data was read")

    assert resolve_standardize("auto", AUTO_CONV_MAX_FEATURES, unread) is True
    assert resolve_standardize(np.bool_(False), 136, unread) is False
    assert resolve_standardize("per_series", 3, unread) == "per_series"
    nuisance, by_class = AUTO_PER_SERIES_NUISANCE, AUTO_PER_SERIES_BY_CLASS
    for width in (AUTO_CONV_MAX_FEATURES + 1, 12, 136):
        assert resolve_standardize("auto", width, lambda: (nuisance, by_class)) == "per_series"
        assert resolve_standardize("auto", width, lambda: (nuisance / 2, by_class)) is True
        # Levels that carry the class (JapaneseVowels: the speaker is the class) keep them.
        assert resolve_standardize("auto", width, lambda: (0.3, 0.56)) is True


@pytest.fixture(scope="module")
def speakers():
    X, y = make_contour_classification(n_samples=60, n_features=40, random_state=0)
    return X, y


def test_auto_scales_each_series_where_speakers_shift_every_feature(speakers):
    X, y = speakers
    clf = SeqAttentionClassifier(**TINY).fit(X, y)
    assert clf.standardize_ == "per_series"
    module = clf.net_.module_
    assert module.per_series
    assert torch.equal(module.input_shift, torch.zeros(X.shape[2]))
    # A series moved as a whole is the same series to the network.
    real = (X != 0).any(axis=2)[..., None]
    moved = np.where(real, 2.5 * X - 4.0, 0.0).astype(np.float32)
    assert_allclose(clf.predict_proba(moved), clf.predict_proba(X), atol=1e-4)


def test_auto_scales_each_series_of_narrow_steps_too():
    X, y = make_contour_classification(n_samples=60, n_features=8, random_state=0)
    assert SeqAttentionClassifier(**TINY).fit(X, y).standardize_ == "per_series"
    # A univariate series keeps the data set's statistics whatever its levels.
    one = np.where((X != 0).any(axis=2), X[..., 0], 0.0)[..., None].astype(np.float32)
    assert SeqAttentionClassifier(**TINY).fit(one, y).standardize_ is True


def test_auto_keeps_the_data_sets_statistics_on_independent_noise():
    X, y = _noise(n=60, t=20)
    clf = SeqAttentionClassifier(**TINY).fit(X, y)
    assert clf.standardize_ is True and not clf.net_.module_.per_series
    narrow = SeqAttentionClassifier(**TINY).fit(X[..., :6] + np.float32(5.0), y)
    assert narrow.standardize_ is True


def test_an_explicit_setting_is_kept(speakers):
    X, y = speakers
    clf = SeqAttentionClassifier(**TINY, standardize=True).fit(X, y)
    assert clf.standardize_ is True and not clf.net_.module_.per_series


def test_a_warm_start_keeps_the_fitted_choice(speakers):
    X, y = speakers
    clf = SeqAttentionClassifier(**TINY, warm_start=True).fit(X, y)
    clf.fit(X, y)  # "auto" continues with the fitted per-series network
    assert clf.standardize_ == "per_series" and len(clf.history_) == 4
    clf.set_params(standardize=True)
    with pytest.raises(ValueError, match="standardize to True"):
        clf.fit(X, y)
    assert clf.standardize_ == "per_series"


def test_a_bad_value_is_refused(speakers):
    X, y = speakers
    with pytest.raises(ValueError, match="standardize must be 'auto', True, False or 'per_series'"):
        SeqAttentionClassifier(standardize="per_feature").fit(X, y)


def test_the_shares_do_not_depend_on_the_chunks():
    X, y = _noise(n=50, t=20)
    X[::3, 12:] = 0.0  # some shorter sequences
    X = X + np.random.default_rng(1).standard_normal((50, 1, 40)).astype(np.float32) * (X != 0)
    seqs, index = check_sequences(X), np.arange(len(y))
    whole = series_levels(seqs, index, y, chunk=len(y))
    assert series_levels(seqs, index, y, chunk=7) == pytest.approx(whole, rel=1e-9)
