"""SequenceScaler and SequencePadder: common checks, masking, layouts, errors."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.preprocessing import SequencePadder, SequenceScaler

# 2-D X is read as univariate sequences (n_samples, n_timesteps): one feature per step.
UNIVARIATE = "2-D X is read as univariate (n_samples, n_timesteps) sequences: n_features_in_ is 1"
COMMON_XFAIL = {
    "check_n_features_in": UNIVARIATE,
    "check_n_features_in_after_fitting": UNIVARIATE,
    "check_transformer_general": (
        "dropping a column of 2-D X drops a time step, which is valid, so no feature error"
    ),
    "check_estimators_dtypes": (
        "integer X holds all-zero rows, i.e. sequences made only of padding (mask_value=0)"
    ),
}
SCALER_XFAIL = {
    "check_transformer_data_not_an_array": (
        "a nested list is a ragged list of sequences, and the scaler returns a list for it"
    ),
}


def _expected_failed_checks(estimator):
    failed = dict(COMMON_XFAIL)
    if isinstance(estimator, SequenceScaler):
        failed.update(SCALER_XFAIL)
    if np.isnan(estimator.mask_value):
        # Zero rows are real with NaN as the mask value.
        del failed["check_estimators_dtypes"]
    return failed


@parametrize_with_checks(
    [
        SequenceScaler(),
        SequenceScaler(method="robust", mask_value=np.nan),
        SequencePadder(),
        SequencePadder(padding="pre", truncating="pre", quantile=0.5, mask_value=np.nan),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    X, y = make_sequence_classification(
        n_samples=40, n_timesteps=20, n_features=3, event_length=3, random_state=0
    )
    return X, y


def _real(X, mask_value=0.0):
    if np.isnan(mask_value):
        return ~np.isnan(X).all(axis=-1)
    return ~(X == mask_value).all(axis=-1)


def _ragged(X):
    return [x[_real(x[None])[0]] for x in X]


# ------------------------------------------------------------------ scaler
@pytest.mark.parametrize(
    "method, reference",
    [("standard", StandardScaler()), ("robust", RobustScaler(quantile_range=(10.0, 90.0)))],
)
def test_scaler_matches_reference_on_real_steps(data, method, reference):
    X, _ = data
    real = _real(X)
    scaler = SequenceScaler(method=method, quantile_range=(10.0, 90.0)).fit(X)
    reference.fit(X[real].astype(np.float64))
    ref_center = reference.mean_ if method == "standard" else reference.center_
    assert_allclose(scaler.center_, ref_center, rtol=1e-6)
    assert_allclose(scaler.scale_, reference.scale_, rtol=1e-6)
    assert scaler.n_steps_seen_ == real.sum()
    Xt = scaler.transform(X)
    assert_allclose(Xt[real], reference.transform(X[real]), rtol=1e-5, atol=1e-5)
    # Padding would have dragged the mean towards 0; it is not in the statistics.
    assert not np.allclose(scaler.center_, X.reshape(-1, 3).mean(axis=0))


@pytest.mark.parametrize("mask_value", [0.0, -1.0, np.nan])
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_scaler_keeps_padding_exactly(mask_value, padding):
    X, _ = make_sequence_classification(
        n_samples=30,
        n_timesteps=20,
        n_features=3,
        event_length=3,
        padding=padding,
        mask_value=mask_value,
        random_state=1,
    )
    real = _real(X, mask_value)
    assert (~real).any()
    Xt = SequenceScaler(mask_value=mask_value).fit_transform(X)
    assert Xt.shape == X.shape and Xt.dtype == np.float32
    assert_array_equal(_real(Xt, mask_value), real)
    assert_array_equal(Xt[~real], X[~real])  # exactly the mask value (NaN compares equal here)
    assert_allclose(Xt[real].mean(axis=0), 0.0, atol=1e-5)
    assert_allclose(Xt[real].std(axis=0), 1.0, atol=1e-4)


def test_scaler_inverse_transform_round_trip(data):
    X, _ = data
    for method in ("standard", "robust"):
        scaler = SequenceScaler(method=method).fit(X)
        back = scaler.inverse_transform(scaler.transform(X))
        assert_allclose(back, X, rtol=1e-5, atol=1e-5)


def test_scaler_ragged_list_in_list_out(data):
    X, _ = data
    ragged = _ragged(X)
    scaler = SequenceScaler().fit(ragged)
    assert_allclose(scaler.center_, SequenceScaler().fit(X).center_, rtol=1e-6)
    out = scaler.transform(ragged)
    assert isinstance(out, list) and len(out) == len(ragged)
    for item, original, from_array in zip(out, ragged, scaler.transform(X), strict=True):
        assert item.shape == original.shape
        assert_allclose(item, from_array[: len(original)], rtol=1e-6)
    univariate = [x[:, 0] for x in ragged]
    out_1d = SequenceScaler().fit_transform(univariate)
    assert all(item.shape == x.shape for item, x in zip(out_1d, univariate, strict=True))


def test_scaler_keeps_real_steps_that_land_on_mask_value():
    # 5 is the mean of the real values: scaled, the step would read as padding.
    X = np.array([[[1.0], [3.0], [0.0]], [[5.0], [7.0], [9.0]]])
    Xt = SequenceScaler().fit_transform(X)
    assert_array_equal(_real(Xt), _real(X))
    assert 0 < Xt[1, 0, 0] < 1e-30


def test_scaler_without_centering_or_scaling(data):
    X, _ = data
    real = _real(X)
    Xt = SequenceScaler(with_centering=False, with_scaling=False).fit_transform(X)
    assert_allclose(Xt[real], X[real], rtol=1e-6)
    constant = np.where(_real(X)[..., None], 2.0, 0.0)
    Xc = SequenceScaler().fit_transform(constant)  # zero spread: scale 1, no division by 0
    assert np.isfinite(Xc).all()


# ------------------------------------------------------------------ padder
def test_padder_learns_max_length_and_quantile(data):
    X, _ = data
    lengths = _real(X).sum(axis=1)
    ragged = _ragged(X)
    padder = SequencePadder().fit(ragged)
    assert padder.length_ == lengths.max()
    out = padder.transform(ragged)
    assert out.shape == (len(X), lengths.max(), 3) and out.dtype == np.float32
    assert_array_equal(out, X[:, : lengths.max()])  # make_sequence_classification post-pads
    median = SequencePadder(quantile=0.5).fit(X).length_
    assert median == int(np.quantile(lengths, 0.5, method="higher"))
    assert median in lengths


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("truncating", ["post", "pre"])
def test_padder_padding_and_truncating(padding, truncating):
    ragged = [np.arange(1, 4, dtype=float)[:, None], np.arange(1, 8, dtype=float)[:, None]]
    out = SequencePadder(length=5, padding=padding, truncating=truncating).fit_transform(ragged)
    short = [1, 2, 3, 0, 0] if padding == "post" else [0, 0, 1, 2, 3]
    long_ = [1, 2, 3, 4, 5] if truncating == "post" else [3, 4, 5, 6, 7]
    assert_array_equal(out[:, :, 0], [short, long_])


def test_padder_repads_pre_padded_arrays_and_keeps_2d():
    X, _ = make_sequence_classification(
        n_samples=20, n_timesteps=20, n_features=1, event_length=3, padding="pre", random_state=2
    )
    lengths = _real(X).sum(axis=1)
    out = SequencePadder(padding="post").fit_transform(X)
    for row, x, n in zip(out, X, lengths, strict=True):
        assert_array_equal(row[:n], x[-n:])
        assert (row[n:] == 0).all()
    out_2d = SequencePadder(length=12).fit_transform(X[:, :, 0])
    assert out_2d.shape == (20, 12)


def test_padder_keeps_real_zero_steps_of_ragged_lists():
    ragged = [np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]), np.ones((2, 2))]
    out = SequencePadder(mask_value=0.0).fit_transform(ragged)
    assert_array_equal(_real(out), [[True, True, True], [True, True, False]])


def test_pipeline_with_classifier_ignores_padding(data):
    X, y = data
    model = make_pipeline(
        SequenceScaler(),
        SeqAttentionClassifier(**tiny(early_stopping=False)),
    ).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    longer = np.concatenate([X, np.zeros((len(X), 5, 3), X.dtype)], axis=1)
    assert_allclose(model.predict_proba(longer), proba, rtol=1e-5, atol=1e-6)
    assert_allclose(model.predict_proba(_ragged(X)), proba, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("Transformer", [SequenceScaler, SequencePadder])
def test_bad_input_errors(Transformer, data):
    X, _ = data
    with pytest.raises(ValueError, match="ndim=4"):
        Transformer().fit(X[..., None])
    bad = X.copy()
    bad[0, 0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity inside real steps"):
        Transformer().fit(bad)
    with pytest.raises(ValueError, match=r"X\[1\] has 2"):
        Transformer().fit([np.ones((4, 3)), np.ones((4, 2))])
    fitted = Transformer().fit(X)
    with pytest.raises(ValueError, match=r"X has 2 features per step, but .* fitted with 3"):
        fitted.transform(X[:, :, :2])
    with pytest.raises(TypeError, match="must hold numbers"):
        Transformer().fit(np.array([["a", "b"]]))


@pytest.mark.parametrize(
    "estimator, error, match",
    [
        (SequenceScaler(method="minmax"), ValueError, "method must be one of"),
        (SequenceScaler(with_centering="yes"), TypeError, "with_centering must be a bool"),
        (SequenceScaler(quantile_range=(75, 25)), ValueError, "quantile_range must be"),
        (SequenceScaler(mask_value="0"), TypeError, "mask_value must be a real number"),
        (SequencePadder(length=0), ValueError, "length must be >= 1, got 0"),
        (SequencePadder(length=2.5), TypeError, "length must be an int"),
        (SequencePadder(quantile=0.0), ValueError, r"quantile must be in \(0.0, 1.0\]"),
        (SequencePadder(padding="middle"), ValueError, "padding must be one of"),
        (SequencePadder(truncating=None), ValueError, "truncating must be one of"),
    ],
)
def test_invalid_params(estimator, error, match, data):
    X, _ = data
    with pytest.raises(error, match=match):
        estimator.fit(X)
