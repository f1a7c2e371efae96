"""Reliability: parameters re-checked where used, non-finite training refused,
class weights validated, transactional fit, thread safety, memory on demand."""

import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier

# Six units: test_warm_start_refuses_a_new_architecture names them. The tests that only read
# a fitted model (or clone it) share the session's ``fitted_tiny`` (conftest.py).
TINY = tiny(dense_units=6, lstm_units=6, n_init=1)


@pytest.mark.parametrize(
    "param, value, error, match",
    [
        ("batch_size", -1, ValueError, "batch_size must be >= 1, got -1"),
        ("batch_size", 0, ValueError, "batch_size must be >= 1, got 0"),
        ("autocast", "yes", TypeError, "autocast must be True, False or .auto."),
        ("mask_value", "zero", TypeError, "mask_value must be a real number"),
    ],
)
def test_parameters_are_rechecked_at_prediction(fitted_tiny, seq_data, param, value, error, match):
    X = seq_data[0][:5]
    clf = clone(fitted_tiny).set_params(**{param: value})
    clf.__dict__.update({k: v for k, v in fitted_tiny.__dict__.items() if k.endswith("_")})
    for method in (clf.predict_proba, clf.predict, clf.attention_weights):
        with pytest.raises(error, match=match):
            method(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"lr": np.inf}, "lr must be finite"),
        ({"weight_decay": np.inf}, "weight_decay must be finite"),
        ({"gradient_clip": np.inf}, "gradient_clip must be finite"),
        ({"class_weight": {0: np.nan, 1: 1.0}}, "class_weight values must be finite"),
        ({"class_weight": {0: np.inf, 1: 1.0}}, "class_weight values must be finite"),
        ({"class_weight": {0: -1.0, 1: 1.0}}, "finite and non-negative, got -1.0"),
        ({"class_weight": {0: 0.0, 1: 0.0}}, "gives every sample a weight of zero"),
        ({"class_weight": {0: 1.0, 7: 1.0}}, r"key\(s\) \[7\] that are not labels of y"),
    ],
)
def test_non_finite_and_invalid_settings_are_refused(seq_data, params, match):
    X, y, _ = seq_data
    with pytest.raises(ValueError, match=match):
        SeqAttentionClassifier(**TINY, **params).fit(X, y)


def test_class_weight_strings_name_the_parameter(seq_data):
    X, y, _ = seq_data
    with pytest.raises(TypeError, match="class_weight values must be numbers, got 'high'"):
        SeqAttentionClassifier(**TINY, class_weight={0: "high", 1: 1.0}).fit(X, y)


def test_class_weight_dict_may_omit_a_class(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, class_weight={0: 3.0}).fit(X, y)
    assert_allclose(clf.class_weight_, [3.0, 1.0])


def test_huge_sample_weight_is_refused(seq_data):
    X, y, _ = seq_data
    with pytest.raises(ValueError, match="too large for float32"):
        SeqAttentionClassifier(**TINY).fit(X, y, sample_weight=np.full(len(y), 1e300))


def test_diverging_training_stops_with_a_clear_error(seq_data, fitted_tiny):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(
        **{**TINY, "max_epochs": 3}, optimizer=torch.optim.SGD, lr=1e30, gradient_clip=None
    )
    with pytest.raises(ValueError, match=r"training diverged. Lower lr \(now 1e\+30\)"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")  # a failed first fit leaves it unfitted


def test_failed_refit_keeps_the_fitted_model(fitted_tiny, seq_data):
    X, y, _ = seq_data
    clf = clone(fitted_tiny).fit(X, y)
    expected = clf.predict_proba(X)
    X5 = np.concatenate([X, X[:, :, :1] * 0 + 1], axis=2)  # 5 features instead of 4+
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X5, y, sample_weight=-np.ones(len(y)))
    assert clf.n_features_in_ == X.shape[2]
    assert_allclose(clf.predict_proba(X), expected)


class _FailAtStart(Callback):
    def on_train_begin(self, net, **kwargs):
        raise RuntimeError("callback failed")


def test_callback_failing_during_a_refit_on_new_labels_keeps_the_old_model(fitted_tiny, seq_data):
    X, y, _ = seq_data
    clf = clone(fitted_tiny).fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(callbacks=[_FailAtStart()])
    with pytest.raises(RuntimeError, match="callback failed"):
        clf.fit(X, np.where(y == 1, "b", "a"))
    assert_array_equal(clf.classes_, [0, 1])
    assert_allclose(clf.predict_proba(X), expected)


def test_failed_warm_start_keeps_the_weights(fitted_tiny, seq_data):
    X, y, _ = seq_data
    clf = clone(fitted_tiny).set_params(warm_start=True).fit(X, y)
    expected, n_epochs = clf.predict_proba(X), len(clf.history_)
    clf.set_params(callbacks=[_FailAtStart()])
    with pytest.raises(RuntimeError):
        clf.fit(X, y)
    assert_allclose(clf.predict_proba(X), expected)
    assert len(clf.history_) == n_epochs


def test_fits_in_threads_match_serial_fits(seq_data):
    X, y, _ = seq_data
    models = [
        SeqAttentionClassifier(**{**TINY, "max_epochs": 3, "random_state": s}, dropout=0.3)
        for s in (0, 1, 2, 3)
    ]
    serial = [clone(m).fit(X, y).predict_proba(X) for m in models]
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(lambda m: clone(m).fit(X, y).predict_proba(X), models))
    for a, b in zip(serial, threaded, strict=True):
        assert_allclose(b, a)


def test_prediction_allocates_no_attention_maps(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, n_attention_layers=2, n_heads=2).fit(X, y)
    X_big = np.concatenate([X] * 4)  # 1,440 x 30: two maps would take 2 x 5 MiB
    tracemalloc.start()
    clf.predict_proba(X_big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maps_bytes = 2 * len(X_big) * X.shape[1] ** 2 * 4
    assert peak < maps_bytes / 2


def test_warm_start_rebuilds_the_training_loop(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, warm_start=True).fit(X, y)
    clf.set_params(early_stopping=False).fit(X, y)  # was a KeyError in skorch
    assert "valid_loss" not in clf.history_[-1]
    clf.set_params(early_stopping=True, max_epochs=2).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    assert "early_stopping" in dict(clf.net_.callbacks_)  # switched on again
    clf.set_params(lr_schedule="cosine", lr=5e-3, max_epochs=4).fit(X, y)
    lrs = clf.history_[-4:, "event_lr"]
    assert lrs[0] == pytest.approx(5e-3) and lrs == sorted(lrs, reverse=True)


def test_warm_start_refuses_a_new_architecture(seq_data, tmp_path):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, warm_start=True).fit(X, y)
    expected = clf.predict_proba(X)
    with pytest.raises(ValueError, match="lstm_units from 6 to 12"):
        clf.set_params(lstm_units=12).fit(X, y)
    assert_allclose(clf.predict_proba(X), expected)  # the fitted model is intact
    clf.set_params(lstm_units=6)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    loaded.set_params(warm_start=True).fit(X, y)
    assert len(loaded.history_) == len(clf.history_) + 2


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(n_conv_layers=0), "n_conv_layers from 2 to 0"),
        (dict(downsample=2), "downsample from 1 to 2"),
        (dict(recurrent_stride=2), "recurrent_stride from 1 to 2"),
        (dict(standardize=False), "standardize to False"),
        (dict(standardize="per_series"), "per_series from False to True"),
        (dict(front_end="multiscale"), "front_end from 'conv' to 'multiscale'"),
    ],
)
def test_warm_start_refuses_every_setting_the_network_fixes(seq_data, change, match):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, n_conv_layers=2, warm_start=True).fit(X, y)
    expected = clf.predict_proba(X)
    with pytest.raises(ValueError, match=match):
        clf.set_params(**change).fit(X, y)
    assert_allclose(clf.predict_proba(X), expected)


def test_interior_padding_warns_once_with_count_and_mask_value(fitted_tiny, seq_data):
    from sklearn_seqattn._validation import InteriorPaddingWarning, check_sequences

    with pytest.warns(InteriorPaddingWarning, match=r"2 step\(s\) of X in 1 sequence\(s\)"):
        seqs = check_sequences(np.array([[1.0, 0.0, 0.0, 2.0, 0.0], [1.0, 2.0, 3.0, 0.0, 0.0]]))
    assert seqs.lengths.tolist() == [2, 3]
    X = seq_data[0][:4].copy()
    X[0, 1] = 0.0  # a real all-zero frame inside a sequence
    with pytest.warns(InteriorPaddingWarning, match="mask_value=0.0"):
        fitted_tiny.predict_proba(X)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", InteriorPaddingWarning)
        fitted_tiny.predict_proba([x[(x != 0).any(axis=1) | (np.arange(len(x)) == 1)] for x in X])


def test_bucketed_batches_mix_classes_and_change_between_epochs():
    from sklearn_seqattn._batching import LengthBatchSampler, SequenceDataset

    n = 400
    y = np.r_[np.zeros(100), np.ones(300)].astype(int)
    lengths = np.where(y == 0, np.arange(n) % 30 + 10, np.arange(n) % 30 + 60)  # short minority
    ds = SequenceDataset(np.zeros((n, 100, 1), np.float32), lengths, y)
    sampler = LengthBatchSampler(
        ds,
        batch_size=32,
        shuffle=True,
        bucket_by_length=True,
        generator=torch.Generator().manual_seed(0),
    )
    epochs = [[torch.tensor(b) for b in sampler] for _ in range(2)]
    for batches in epochs:
        shares = [float((ds.y[b] == 0).float().mean()) for b in batches]
        assert min(shares) > 0.05 and max(shares) < 0.6  # every batch holds both classes
        assert sorted(torch.cat(batches).tolist()) == list(range(n))
    sets = [{frozenset(b.tolist()) for b in batches} for batches in epochs]
    assert len(sets[0] & sets[1]) < len(sets[0]) / 2  # new sets every epoch
    # Lengths stay grouped: a batch spans far less than the full range of its class.
    spans = [
        int(ds.lengths[b][ds.y[b] == 1].max() - ds.lengths[b][ds.y[b] == 1].min())
        for b in epochs[0]
    ]
    assert np.median(spans) < 15


@pytest.mark.parametrize(
    "y, error, match",
    [
        (
            np.eye(2)[np.r_[np.zeros(180), np.ones(180)].astype(int)],
            ValueError,
            r"looks one-hot encoded: pass y.argmax\(axis=1\)",
        ),
        (np.array([1, "a"] * 180, dtype=object), TypeError, "y mixes label types"),
    ],
)
def test_label_mistakes_get_a_hint(seq_data, y, error, match):
    X = seq_data[0]
    with pytest.raises(error, match=match):
        SeqAttentionClassifier(**TINY).fit(X, y)


def test_torch_tensors_and_masked_arrays_are_read(fitted_tiny, seq_data):
    X = seq_data[0][:6]
    expected = fitted_tiny.predict_proba(X)
    tensor = torch.tensor(X, requires_grad=True)
    assert_allclose(fitted_tiny.predict_proba(tensor), expected, atol=1e-6)
    assert_allclose(fitted_tiny.predict_proba(tensor.to(torch.bfloat16)), expected, atol=0.05)
    noisy = X.copy()
    padded = (X == 0).all(axis=2)
    noisy[padded] = 99.0
    masked = np.ma.masked_array(noisy, mask=np.broadcast_to(padded[..., None], X.shape))
    assert_allclose(fitted_tiny.predict_proba(masked), expected, atol=1e-6)
    partly = np.ma.masked_array(X, mask=np.zeros_like(X, dtype=bool))
    partly.mask[0, 0, 0] = True
    with pytest.raises(ValueError, match="masked on some features only"):
        fitted_tiny.predict_proba(partly)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"mask_value": np.inf}, ValueError, "mask_value must be NaN or a finite number"),
        ({"mask_value": 1e39}, ValueError, "within the float32 range"),
        ({"device": "meta"}, ValueError, "device='meta' is not supported"),
        ({"optimizer": torch.optim.Rprop}, ValueError, "Rprop takes no weight_decay"),
    ],
)
def test_more_settings_get_clear_errors(seq_data, params, error, match):
    X, y, _ = seq_data
    with pytest.raises(error, match=match):
        SeqAttentionClassifier(**TINY, **params).fit(X, y)


def test_optimizer_without_weight_decay_trains_with_weight_decay_zero(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, optimizer=torch.optim.Rprop, weight_decay=0.0)
    assert clf.fit(X, y).predict_proba(X).shape == (len(X), 2)


def test_a_single_multivariate_sequence_gets_a_hint(fitted_tiny):
    one = np.random.default_rng(0).normal(size=(30, fitted_tiny.n_features_in_))  # X[0], 2-D
    with pytest.raises(ValueError, match=r"read as 30 univariate sequence\(s\).*X\[None\]"):
        fitted_tiny.predict(one)


def test_keras_style_optimizer_string_names_the_class(seq_data):
    X, y, _ = seq_data
    with pytest.raises(
        TypeError, match=r"got 'adam'; pass the class itself: optimizer=torch.optim.Adam"
    ):
        SeqAttentionClassifier(**TINY, optimizer="adam").fit(X, y)


def test_ragged_prediction_pads_batch_by_batch(fitted_tiny, seq_data):
    X = seq_data[0]
    rng = np.random.default_rng(0)
    n_features = X.shape[2]
    short = [rng.normal(size=(5, n_features)).astype(np.float32) for _ in range(600)]
    long = rng.normal(size=(20_000, n_features)).astype(np.float32)
    ragged = [*short, long]
    padded_bytes = len(ragged) * 20_000 * n_features * 4  # 288 MB if padded together
    tracemalloc.start()
    proba = fitted_tiny.predict_proba(ragged)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < padded_bytes / 20
    expected_short = fitted_tiny.predict_proba(np.stack(short))
    assert_allclose(proba[:600], expected_short, atol=1e-6)
    assert_allclose(proba[600:], fitted_tiny.predict_proba(long[None]), atol=1e-6)


def test_ragged_prediction_errors_name_the_sequence(fitted_tiny):
    n_features = fitted_tiny.n_features_in_
    items = [np.ones((4, n_features))] * 100 + [np.ones((3, n_features + 1))]
    with pytest.raises(ValueError, match=r"X\[100\] has"):
        fitted_tiny.predict_proba(items)
