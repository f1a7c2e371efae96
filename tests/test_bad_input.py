"""Bad input is refused with a message that names the input and what was received."""

import traceback
from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers import tiny
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, cross_val_predict, cross_val_score

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(batch_size=16)
TORCH_DIR = str(Path(torch.__file__).parent)


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return SeqAttentionClassifier(**TINY, early_stopping=False).fit(X, y)


def _assert_refused(call, error, match):
    """``call`` raises ``error`` matching ``match``, from our code, not from inside torch."""
    with pytest.raises(error, match=match) as excinfo:
        call()
    frames = traceback.extract_tb(excinfo.value.__traceback__)
    torch_frames = [f.filename for f in frames if f.filename.startswith(TORCH_DIR)]
    assert not torch_frames, f"the error surfaced from inside torch: {torch_frames}"
    cause = excinfo.value.__cause__
    assert cause is None or not type(cause).__module__.startswith("torch")


def _with_nan(X, value):
    X = X.copy()
    X[0, 0, 1] = value
    return X


def _all_padding(X):
    X = X.copy()
    X[2] = 0.0
    return X


# (id, X builder, error, match): each is refused at fit and at predict.
X_CASES = [
    ("1-D", lambda X: X[0, :, 0], ValueError, r"X must be a 3-D array .*ndim=1"),
    ("4-D", lambda X: X[..., None], ValueError, r"ndim=4 and shape \(60, 12, 3, 1\)"),
    ("empty array", lambda X: X[:0], ValueError, r"X has 0 sample\(s\) \(shape \(0, 12, 3\)\)"),
    ("empty list", lambda X: [], ValueError, "X is an empty list"),
    ("zero features", lambda X: X[:, :, :0], ValueError, r"0 feature\(s\).*\(60, 12, 0\)"),
    ("zero timesteps", lambda X: X[:, :0], ValueError, r"X has 0 timesteps .*\(60, 0, 3\)"),
    (
        "NaN in a real step",
        lambda X: _with_nan(X, np.nan),
        ValueError,
        r"NaN or infinity inside real steps \(first at sample 0, step 0, feature 1: nan\)",
    ),
    (
        "inf in a real step",
        lambda X: _with_nan(X, -np.inf),
        ValueError,
        r"sample 0, step 0, feature 1: -inf\)",
    ),
    (
        "beyond float32",
        lambda X: _with_nan(X.astype(np.float64), 1e300),
        ValueError,
        r"feature 1: 1e\+300, beyond the float32 range",
    ),
    (
        "sequence of padding only",
        _all_padding,
        ValueError,
        r"1 sequence\(s\) of X contain only padding .*mask_value=0.0.*sample 2",
    ),
    (
        "ragged feature counts",
        lambda X: [X[0], X[1][:, :2]],
        ValueError,
        r"share one feature count: X\[0\] has 3 features per step, X\[1\] has 2",
    ),
    (
        "ragged NaN",
        lambda X: [X[0], np.full((4, 3), np.nan)],
        ValueError,
        r"X\[1\] contains NaN or infinity \(first at step 0, feature 0: nan\)",
    ),
    (
        "ragged 3-D item",
        lambda X: [X[0], X[:2]],
        ValueError,
        r"X\[1\] must be a 2-D \(n_timesteps, n_features\) array, got shape \(2, 12, 3\)",
    ),
    (
        "ragged empty item",
        lambda X: [X[0], np.zeros((0, 3))],
        ValueError,
        r"X\[1\] has 0 timesteps",
    ),
    (
        "object array of strings",
        lambda X: np.where(X == X, "a", X).astype(object),
        TypeError,
        "X must hold numbers; converting its object array failed: could not convert "
        "string to float: 'a'",
    ),
    (
        "object array of dicts",
        lambda X: np.full(X.shape, {}, dtype=object),
        TypeError,
        "X must hold numbers; converting its object array failed",
    ),
    ("string array", lambda X: X.astype(str), TypeError, r"X must hold numbers, .*dtype <U"),
    ("complex array", lambda X: X.astype(complex), ValueError, "X has dtype complex128"),
    (
        "sparse matrix",
        lambda X: sparse.csr_matrix(X[:, :, 0]),
        TypeError,
        "Sparse data was passed for X",
    ),
]


@pytest.mark.parametrize(
    "make_X, error, match", [c[1:] for c in X_CASES], ids=[c[0] for c in X_CASES]
)
def test_bad_X_is_refused_at_fit(data, make_X, error, match):
    X, y = data
    # X is checked before y, so its error comes first whatever the sample count.
    _assert_refused(lambda: SeqAttentionClassifier(**TINY).fit(make_X(X), y), error, match)


@pytest.mark.parametrize(
    "make_X, error, match", [c[1:] for c in X_CASES], ids=[c[0] for c in X_CASES]
)
def test_bad_X_is_refused_at_predict(fitted, data, make_X, error, match):
    X, _ = data
    _assert_refused(lambda: fitted.predict_proba(make_X(X)), error, match)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "attention_weights", "score"])
def test_feature_count_mismatch(fitted, data, method):
    X, y = data
    X4 = np.concatenate([X, X[:, :, :1]], axis=2)
    args = (X4, y) if method == "score" else (X4,)
    _assert_refused(
        lambda: getattr(fitted, method)(*args),
        ValueError,
        "X has 4 features per step, but SeqAttentionClassifier was fitted with 3",
    )


def test_feature_count_mismatch_in_ragged_list(fitted):
    _assert_refused(
        lambda: fitted.predict([np.ones((5, 2)), np.ones((3, 2))]),
        ValueError,
        "X has 2 features per step, but SeqAttentionClassifier was fitted with 3",
    )


Y_CASES = [
    pytest.param(lambda y: y[:5], ValueError, "X has 60, y has 5", id="X/y length"),
    pytest.param(np.zeros_like, ValueError, "at least 2 classes.*got 1 class", id="single class"),
    pytest.param(lambda y: None, ValueError, "y is None", id="y None"),
    pytest.param(
        lambda y: y + 0.5 * np.arange(len(y)), ValueError, "Unknown label type", id="continuous"
    ),
    pytest.param(
        lambda y: np.c_[y, y],
        ValueError,
        r"y must hold one class label per sequence, shape \(n_samples,\); got shape \(60, 2\)",
        id="2-D y",
    ),
    pytest.param(
        lambda y: np.r_[y[:-1], np.nan],
        ValueError,
        r"y must hold class labels, got y\[59\]=nan",
        id="NaN in y",
        # scikit-learn casts y before it checks it.
        marks=pytest.mark.filterwarnings("ignore:invalid value encountered in cast"),
    ),
]


@pytest.mark.parametrize("make_y, error, match", Y_CASES)
def test_bad_y_is_refused(data, make_y, error, match):
    X, y = data
    _assert_refused(lambda: SeqAttentionClassifier(**TINY).fit(X, make_y(y)), error, match)


SAMPLE_WEIGHT_CASES = [
    ("wrong length", np.ones(7), r"sample_weight must have shape \(60,\) to match X, got .*\(7,\)"),
    ("negative", np.r_[np.ones(59), -1.0], "sample_weight must be finite and non-negative"),
    ("NaN", np.r_[np.ones(59), np.nan], "sample_weight must be finite and non-negative"),
    ("all zero", np.zeros(60), "sample_weight is all zero"),
]


@pytest.mark.parametrize(
    "sample_weight, match",
    [c[1:] for c in SAMPLE_WEIGHT_CASES],
    ids=[c[0] for c in SAMPLE_WEIGHT_CASES],
)
def test_bad_sample_weight_is_refused(data, sample_weight, match):
    X, y = data
    _assert_refused(
        lambda: SeqAttentionClassifier(**TINY).fit(X, y, sample_weight=sample_weight),
        ValueError,
        match,
    )


PARAM_CASES = [
    ("negative units", dict(lstm_units=-4), ValueError, r"lstm_units must be in \[1, .*got -4"),
    ("float units", dict(dense_units=2.5), TypeError, "dense_units must be an int, got 2.5"),
    ("zero epochs", dict(max_epochs=0), ValueError, "max_epochs must be >= 1, got 0"),
    ("zero batch", dict(batch_size=0), ValueError, "batch_size must be >= 1, got 0"),
    (
        "heads not dividing",
        dict(n_attention_layers=1, n_heads=3),
        ValueError,
        r"n_heads=3 must divide the attention width.* = 8",
    ),
    ("unknown pooling", dict(pooling="avg"), ValueError, "pooling must be one of .* got 'avg'"),
    ("zero lr", dict(lr=0.0), ValueError, r"lr must be in \(0.0, inf\), got 0.0"),
    ("negative lr", dict(lr=-1e-3), ValueError, r"lr must be in \(0.0, inf\), got -0.001"),
    ("string lr", dict(lr="fast"), TypeError, "lr must be a real number, got 'fast'"),
    ("NaN lr", dict(lr=float("nan")), TypeError, "lr must be a real number, got nan"),
    ("dropout 1", dict(dropout=1.0), ValueError, r"dropout must be in \[0.0, 1.0\), got 1.0"),
    ("negative dropout", dict(dropout=-0.1), ValueError, r"dropout must be in .* got -0.1"),
    (
        "optimizer string",
        dict(optimizer="adam"),
        TypeError,
        "optimizer must be a torch.optim.Optimizer subclass .* got 'adam'",
    ),
    (
        "optimizer instance",
        dict(optimizer=torch.optim.Adam([torch.zeros(1, requires_grad=True)])),
        TypeError,
        r"got an instance of Adam \(pass the class itself\)",
    ),
    (
        "optimizer non-optimizer class",
        dict(optimizer=torch.nn.Linear),
        TypeError,
        "optimizer must be .* got <class 'torch.nn.modules.linear.Linear'>",
    ),
    (
        "class_weight string",
        dict(class_weight="balance"),
        ValueError,
        "class_weight must be None, 'balanced' or a dict, got 'balance'",
    ),
    (
        "class_weight list",
        dict(class_weight=[1, 2]),
        ValueError,
        r"class_weight must be .* got \[1, 2\]",
    ),
    ("invalid device", dict(device="gpu"), ValueError, "device='gpu' is not a valid torch device"),
    ("device type", dict(device=3), TypeError, "device must be .* got 3"),
    ("mask_value string", dict(mask_value="0"), TypeError, "mask_value must be a real number"),
    ("bool flag", dict(bidirectional="yes"), TypeError, "bidirectional must be True or False"),
    ("verbose", dict(verbose=-1), ValueError, "verbose must be >= 0, got -1"),
    ("scoring", dict(scoring="accuracyy"), ValueError, "scoring must be .* got 'accuracyy'"),
    (
        "callbacks",
        dict(callbacks=["print"]),
        TypeError,
        r"callbacks\[0\] must be a skorch Callback .* got 'print'",
    ),
    ("accelerator", dict(accelerator=3), TypeError, "accelerator must be None or .* got 3"),
    ("schedule", dict(lr_schedule="step"), ValueError, "lr_schedule must be one of .* 'step'"),
    (
        "validation_fraction",
        dict(validation_fraction=1.0),
        ValueError,
        r"validation_fraction must be in \(0.0, 1.0\), got 1.0",
    ),
    ("gradient_clip", dict(gradient_clip=0), ValueError, "gradient_clip must be in .* got 0"),
    ("random_state", dict(random_state=-1), ValueError, r"random_state must be in .* got -1"),
    ("random_state type", dict(random_state="0"), TypeError, "random_state must be .* got '0'"),
]


@pytest.mark.parametrize(
    "params, error, match", [c[1:] for c in PARAM_CASES], ids=[c[0] for c in PARAM_CASES]
)
def test_bad_hyper_parameter_is_refused_at_fit(data, params, error, match):
    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, **params})
    _assert_refused(lambda: clf.fit(X, y), error, match)


def test_cuda_device_without_cuda_is_refused(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    clf = SeqAttentionClassifier(**TINY, device="cuda")
    _assert_refused(lambda: clf.fit(X, y), ValueError, "device='cuda' was requested but CUDA")


@pytest.mark.parametrize("method", ["predict", "predict_proba", "attention_weights", "score"])
def test_use_before_fit_raises_not_fitted(data, method):
    X, y = data
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(SeqAttentionClassifier(), method)(*args)


# ------------------------------------------------- accepted, as in scikit-learn
def test_unseen_labels_at_score_are_not_an_error(fitted, data):
    X, y = data
    y_unseen = np.where(np.arange(len(y)) % 2, y, 7)
    score = fitted.score(X, y_unseen)
    # As scikit-learn: plain accuracy, the unseen label simply counts as a miss.
    pred = fitted.predict(X)
    assert score == pytest.approx(np.mean(pred == y_unseen))
    assert score == pytest.approx(np.mean((pred == y)[y_unseen != 7]) * np.mean(y_unseen != 7))


def test_cross_validation_with_a_class_missing_from_a_training_fold(data):
    X, y = data
    y = y.copy()
    y[:2] = 2  # a rare class, all in the first test fold of an unshuffled KFold
    clf = SeqAttentionClassifier(**TINY, early_stopping=False)
    scores = cross_val_score(clf, X, y, cv=KFold(3))
    assert scores.shape == (3,) and np.isfinite(scores).all()
    with pytest.warns(RuntimeWarning, match="Number of classes in training fold"):
        proba = cross_val_predict(clf, X, y, cv=KFold(3), method="predict_proba")
    assert proba.shape == (60, 3)
    assert np.allclose(proba[:20, 2], 0.0)  # the fold that never saw class 2
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_cross_validation_with_one_member_of_a_class_in_training(data):
    X, y = data
    y = y.copy()
    y[[0, 45]] = 2  # each training fold holds one sample of class 2: no stratified hold-out
    clf = SeqAttentionClassifier(**TINY, validation_fraction=0.2, early_stopping=True)
    with pytest.warns(UserWarning, match="could not be stratified"):
        scores = cross_val_score(clf, X, y, cv=KFold(2))
    assert np.isfinite(scores).all()
