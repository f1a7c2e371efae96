"""SequenceResampler: imbalanced-learn samplers on padded arrays and ragged lists."""

import numpy as np
import pytest
from imblearn import FunctionSampler
from imblearn.combine import SMOTETomek
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import (
    ClusterCentroids,
    EditedNearestNeighbours,
    NearMiss,
    RandomUnderSampler,
    TomekLinks,
)
from imblearn.utils.estimator_checks import estimator_checks_generator
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.preprocessing import SequenceScaler
from sklearn_seqattn.resampling import SequenceResampler
from sklearn_seqattn.resampling._encoding import RowCodec, interpolated_lengths, resample_steps

UNIVARIATE = "2-D X is read as univariate (n_samples, n_timesteps) sequences: n_features_in_ is 1"
EXPECTED_FAILED = {
    # scikit-learn's checks
    "check_n_features_in": UNIVARIATE,
    "check_n_features_in_after_fitting": UNIVARIATE,
    "check_estimators_dtypes": (
        "integer X holds all-zero rows, i.e. sequences made only of padding (mask_value=0)"
    ),
    # imbalanced-learn's sampler checks
    "check_samplers_multiclass_ova": "one-vs-all indicator y is refused; pass class labels",
    "check_sampler_get_feature_names_out": UNIVARIATE,
    "check_sampler_get_feature_names_out_pandas": UNIVARIATE,
}
COMMON = [
    SequenceResampler(RandomOverSampler(random_state=0)),
    SequenceResampler(SMOTE(k_neighbors=2, random_state=0)),
]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED


@parametrize_with_checks(COMMON, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _imblearn_cases():
    for estimator in COMMON:
        for instance, check in estimator_checks_generator(estimator):
            name = getattr(check, "func", check).__name__
            reason = EXPECTED_FAILED.get(name)
            marks = [pytest.mark.xfail(reason=reason)] if reason else []
            yield pytest.param(instance, check, marks=marks, id=f"{estimator!r}-{name}")


@pytest.mark.parametrize("estimator, check", list(_imblearn_cases()))
def test_imblearn_sampler_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------- data
OFFSET = 100.0  # real values near 100, padding 0: any mix with padding shows up


@pytest.fixture(scope="module")
def uneven():
    X, y = make_sequence_classification(
        n_samples=48, n_timesteps=20, n_features=3, event_length=3, weights=[0.25], random_state=0
    )
    real = (X != 0).any(axis=-1)
    X[real] += OFFSET
    return X, y, real.sum(axis=1)


@pytest.fixture(scope="module")
def even(uneven):
    X, y, lengths = uneven
    width = lengths.min()
    return np.ascontiguousarray(X[:, :width]), y


def _ragged(X, lengths):
    return [x[:n] for x, n in zip(X, lengths, strict=True)]


SAMPLERS = {
    "RandomOverSampler": RandomOverSampler(random_state=0),
    "RandomUnderSampler": RandomUnderSampler(random_state=0),
    "SMOTE": SMOTE(k_neighbors=3, random_state=0),
    "BorderlineSMOTE": BorderlineSMOTE(k_neighbors=3, random_state=0),
    "ADASYN": ADASYN(n_neighbors=3, random_state=0),
    "NearMiss": NearMiss(),
    "TomekLinks": TomekLinks(),
    "EditedNearestNeighbours": EditedNearestNeighbours(),
    "SMOTETomek": SMOTETomek(smote=SMOTE(k_neighbors=3, random_state=0), random_state=0),
    "ClusterCentroids": ClusterCentroids(random_state=0),
    "RandomOverSampler(shrinkage)": RandomOverSampler(shrinkage=0.5, random_state=0),
}
SYNTHESISING = {
    "SMOTE",
    "BorderlineSMOTE",
    "ADASYN",
    "SMOTETomek",
    "ClusterCentroids",
    "RandomOverSampler(shrinkage)",
}
NOISY = {"RandomOverSampler(shrinkage)"}


def _check_output(resampler, X_res, y_res, originals, y, lengths_in, name):
    """Originals come back intact, synthetic sequences stay inside the real values."""
    source = resampler.source_indices_
    assert len(source) == len(y_res) == len(X_res)
    new = source < 0
    assert new.any() == (name in SYNTHESISING)
    assert_array_equal(np.asarray(y_res)[~new], y[source[~new]])
    for i in np.flatnonzero(~new):
        assert_array_equal(X_res[i], originals[source[i]])
    lo, hi = min(x.min() for x in originals), max(x.max() for x in originals)
    for i in np.flatnonzero(new):
        seq = np.asarray(X_res[i])
        real = seq[(seq != 0).any(axis=-1)]
        assert lengths_in.min() <= len(real) <= lengths_in.max()
        if name in NOISY:  # a smoothed bootstrap adds noise around a real sample
            assert real.min() > OFFSET / 2
            continue
        # Interpolating into padding (0) would drag values far below OFFSET.
        assert lo - 1e-3 <= real.min() and real.max() <= hi + 1e-3


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_samplers_on_equal_length_arrays(name, even):
    X, y = even
    resampler = SequenceResampler(SAMPLERS[name], unequal_lengths="raise")
    X_res, y_res = resampler.fit_resample(X, y)
    assert X_res.shape[1:] == X.shape[1:] and X_res.dtype == np.float32
    _check_output(resampler, X_res, y_res, X, y, np.full(len(X), X.shape[1]), name)
    # Same counts as the sampler on the flattened table.
    _, y_flat = SAMPLERS[name].fit_resample(X.reshape(len(X), -1).astype(float), y)
    assert_array_equal(np.bincount(y_res), np.bincount(y_flat))


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_samplers_on_ragged_lists(name, uneven):
    X, y, lengths = uneven
    ragged = _ragged(X, lengths)
    resampler = SequenceResampler(SAMPLERS[name])
    X_res, y_res = resampler.fit_resample(ragged, y)
    assert isinstance(X_res, list)
    assert all(x.ndim == 2 and x.shape[1] == 3 for x in X_res)
    _check_output(resampler, X_res, y_res, ragged, y, lengths, name)
    # The padded array gives the same samples, padded.
    X_arr, y_arr = SequenceResampler(SAMPLERS[name]).fit_resample(X, y)
    assert_array_equal(y_arr, y_res)
    for row, item in zip(X_arr, X_res, strict=True):
        assert_allclose(row[: len(item)], item, rtol=1e-6)
        assert (row[len(item) :] == 0).all()


def test_smote_equal_lengths_matches_smote_on_flat_rows(even):
    X, y = even
    X_res, y_res = SequenceResampler(SMOTE(k_neighbors=3, random_state=0)).fit_resample(X, y)
    flat_res, y_flat = SMOTE(k_neighbors=3, random_state=0).fit_resample(
        X.reshape(len(X), -1).astype(np.float64), y
    )
    assert_array_equal(y_res, y_flat)
    assert_allclose(X_res.reshape(len(X_res), -1), flat_res, rtol=1e-6)


def test_smote_interpolates_step_by_step(even):
    X, y = even
    resampler = SequenceResampler(SMOTE(k_neighbors=3, random_state=0))
    X_res, _ = resampler.fit_resample(X, y)
    minority = X[y == 0].reshape(-1, X.shape[1] * X.shape[2]).astype(np.float64)
    for seq in X_res[resampler.source_indices_ < 0]:
        s = seq.reshape(-1).astype(np.float64)
        # s = a + lam * (b - a) for some minority pair, one lam for every step.
        best = np.inf
        for a in minority:
            d = minority - a
            norm = (d * d).sum(axis=1)
            lam = np.where(norm > 0, d @ (s - a) / np.maximum(norm, 1e-12), 0.0)
            err = np.abs(a + lam[:, None] * d - s).max(axis=1)
            best = min(best, err[(lam >= 0) & (lam <= 1)].min(initial=np.inf))
        assert best < 1e-3


def test_unequal_lengths_warp_interpolates_lengths_and_time():
    a = np.linspace(1.0, 2.0, 4)[:, None]  # a ramp of 4 steps
    b = np.linspace(3.0, 4.0, 10)[:, None]  # a ramp of 10 steps

    def midpoint(X, y):
        return np.vstack([X, 0.5 * (X[0] + X[1])]), np.append(y, 0)

    resampler = SequenceResampler(FunctionSampler(func=midpoint, validate=False))
    X_res, y_res = resampler.fit_resample([a, b], [0, 1])
    assert_array_equal(resampler.source_indices_, [0, 1, -1])
    new = X_res[2]
    assert new.shape == (7, 1)  # (4 + 10) / 2 steps
    # Halfway between two ramps on a common time grid: still a ramp from 2 to 3.
    assert_allclose(new[:, 0], np.linspace(2.0, 3.0, 7), atol=1e-9)
    assert y_res == [0, 1, 0]  # a list, as y was


def test_resample_steps_and_codec():
    data = np.zeros((2, 6, 2))
    data[0, :3] = [[0, 0], [1, 10], [2, 20]]
    data[1, :6] = np.arange(12).reshape(6, 2)
    same = resample_steps(data, [3, 6], [3, 6], 6)
    assert_array_equal(same, data)
    longer = resample_steps(data, [3, 6], [5, 6], 6)
    assert_allclose(longer[0, :5, 1], [0, 5, 10, 15, 20])
    assert (longer[0, 5:] == 0).all()
    codec = RowCodec.for_lengths(np.array([3, 6]), 2)
    assert codec.warped and codec.width == 6
    rows = codec.encode(data, np.array([3, 6]))
    assert rows.shape == (2, 12)  # values only: no length column
    lengths = interpolated_lengths(rows, np.array([3, 6]), rows)
    assert_array_equal(lengths, [3, 6])
    data_back = codec.decode(rows, lengths)
    assert_allclose(data_back, data, atol=1e-12)
    # A row a third of the way from the first row to the second: length 3 + (6 - 3) / 3.
    third = rows[0] + (rows[1] - rows[0]) / 3
    assert_array_equal(interpolated_lengths(rows, np.array([3, 6]), third[None]), [4])


def test_pre_padded_input_stays_pre_padded():
    X, y = make_sequence_classification(
        n_samples=40,
        n_timesteps=20,
        n_features=2,
        event_length=3,
        weights=[0.25],
        padding="pre",
        random_state=3,
    )
    resampler = SequenceResampler(SMOTE(k_neighbors=3, random_state=0))
    X_res, _ = resampler.fit_resample(X, y)
    real = (X_res != 0).any(axis=-1)
    assert real[:, -1].all()  # every sequence, synthetic ones included, ends on the last step
    lengths = real.sum(axis=1)
    assert all(real[i, -n:].all() for i, n in enumerate(lengths))
    assert_array_equal(X_res[: len(X)], X)


def test_nan_mask_value_and_univariate_input(uneven):
    X, y, _ = uneven
    Xn = np.where((X == 0).all(axis=-1, keepdims=True), np.nan, X)
    X_res, _ = SequenceResampler(
        SMOTE(k_neighbors=3, random_state=0), mask_value=np.nan
    ).fit_resample(Xn, y)
    assert (np.isnan(X_res).all(axis=-1) | ~np.isnan(X_res).any(axis=-1)).all()
    X_2d, y_2d = SequenceResampler(RandomUnderSampler(random_state=0)).fit_resample(X[:, :, 0], y)
    assert X_2d.ndim == 2 and len(X_2d) == len(y_2d) == 2 * (y == 0).sum()


def test_raise_on_unequal_lengths_only_for_samplers_that_read_values(uneven):
    X, y, _ = uneven
    with pytest.raises(ValueError, match=r"different lengths \(12 to 20 real steps\).*SMOTE"):
        SequenceResampler(SMOTE(k_neighbors=3), unequal_lengths="raise").fit_resample(X, y)
    X_res, _ = SequenceResampler(RandomOverSampler(), unequal_lengths="raise").fit_resample(X, y)
    assert len(X_res) == 2 * (y == 1).sum()


def test_pipeline_resamples_during_fit_only(uneven, monkeypatch):
    X, y, _ = uneven
    calls = []
    original = SequenceResampler.fit_resample

    def counting(self, X, y):
        calls.append(len(X))
        return original(self, X, y)

    monkeypatch.setattr(SequenceResampler, "fit_resample", counting)
    model = make_pipeline(
        SequenceScaler(),
        SequenceResampler(SMOTE(k_neighbors=3, random_state=0)),
        SeqAttentionClassifier(
            dense_units=4, lstm_units=4, max_epochs=2, early_stopping=False, random_state=0
        ),
    ).fit(X, y)
    assert calls == [len(X)]
    assert len(model[1].source_indices_) == 2 * (y == 1).sum()
    assert model.predict(X).shape == (len(X),)
    assert model.predict_proba(X[:5]).shape == (5, 2)
    assert calls == [len(X)]  # predict did not resample


def test_bad_input_errors(uneven):
    X, y, _ = uneven
    with pytest.raises(TypeError, match="sampler must be an imbalanced-learn sampler instance"):
        SequenceResampler(SMOTE).fit_resample(X, y)
    with pytest.raises(ValueError, match="unequal_lengths must be one of"):
        SequenceResampler(unequal_lengths="pad").fit_resample(X, y)
    with pytest.raises(TypeError, match="mask_value must be a real number"):
        SequenceResampler(mask_value=None).fit_resample(X, y)
    with pytest.raises(ValueError, match="ndim=4"):
        SequenceResampler().fit_resample(X[..., None], y)
    with pytest.raises(ValueError, match="X has 48, y has 47"):
        SequenceResampler().fit_resample(X, y[:-1])
    with pytest.raises(ValueError, match="requires y to be passed"):
        SequenceResampler().fit_resample(X, None)
    bad = X.copy()
    bad[3, 2, 0] = np.inf
    with pytest.raises(ValueError, match=r"sample 3, step 2"):
        SequenceResampler().fit_resample(bad, y)
    with pytest.raises(ValueError, match=r"X\[1\] has 2"):
        SequenceResampler().fit_resample([np.ones((3, 3)), np.ones((3, 2))], [0, 1])
    with pytest.raises(ValueError, match="Unknown label type"):
        SequenceResampler().fit_resample(X, np.linspace(0, 1, len(X)))


def test_sample_weight_follows_the_rows():
    X, y = make_sequence_classification(
        n_samples=40,
        n_timesteps=10,
        n_features=3,
        weights=[0.25, 0.75],
        event_length=2,
        random_state=0,
    )
    weights = np.arange(1.0, 41.0)
    ros = SequenceResampler(RandomOverSampler(random_state=0))
    ros.fit_resample(X, y, sample_weight=weights)
    np.testing.assert_array_equal(ros.sample_weight_, weights[ros.source_indices_])
    smote = SequenceResampler(SMOTE(k_neighbors=3, random_state=0))
    smote.fit_resample(X, y, sample_weight=weights)
    new = smote.source_indices_ < 0
    assert new.any()
    np.testing.assert_allclose(smote.sample_weight_[new], weights[y == 0].mean())
    kept = ~new
    np.testing.assert_array_equal(smote.sample_weight_[kept], weights[smote.source_indices_[kept]])
    assert SequenceResampler().fit(X, y).sample_weight_ is None
    with pytest.raises(ValueError, match="sample_weight must hold 40 finite"):
        ros.fit_resample(X, y, sample_weight=-weights)
