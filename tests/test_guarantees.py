"""What the Guarantees page promises: refusals before work, no silent NaN, bounded memory."""

import json
import tracemalloc

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._module import SelfAttentionBlock
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.preprocessing import SequenceScaler

TINY = tiny(n_conv_layers=0)


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return SeqAttentionClassifier(**TINY, early_stopping=False).fit(X, y)


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if any network is trained."""

    def refuse(*args, **kwargs):
        raise AssertionError("a network was trained before the refusal")

    monkeypatch.setattr("sklearn_seqattn._training.train_network", refuse)


# ------------------------------------------------------------------ no silent NaN
def test_outputs_that_overflow_are_refused_not_returned_as_nan(data):
    X, y = data
    clf = SeqAttentionClassifier(**TINY, early_stopping=False).fit(X * 0.01, y)
    huge = X.copy()
    huge[:3, :2] = 3e38  # finite float32, but standardised by a scale of ~0.01
    with pytest.raises(ValueError, match=r"not finite for 3 of 60 sequence\(s\).*3e\+38"):
        clf.predict_proba(huge)
    assert np.isfinite(clf.predict_proba(X * 0.01)).all()


def test_scaler_on_tiny_variance_stays_finite():
    X = 1.0 + 1e-300 * np.random.default_rng(0).normal(size=(10, 5, 2))
    assert np.isfinite(SequenceScaler().fit(X).transform(X)).all()


@pytest.mark.parametrize(
    "kwargs, fit_params, match",
    [
        ({}, {"sample_weight": np.full(60, 1e-300)}, "below float32's smallest positive"),
        ({"class_weight": {0: 1e-46, 1: 1e-46}}, {}, "below float32's smallest positive"),
    ],
)
def test_weights_that_underflow_float32_are_refused(data, no_training, kwargs, fit_params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        SeqAttentionClassifier(**TINY, **kwargs).fit(X, y, **fit_params)


@pytest.mark.parametrize(
    "weights, error, match",
    [
        (np.zeros(20), ValueError, "sample_weight_val is all zero"),
        (np.array(["a"] * 20), TypeError, "sample_weight_val must hold numbers"),
    ],
)
def test_bad_validation_weights_are_refused(data, no_training, weights, error, match):
    X, y = data
    clf = SeqAttentionClassifier(**TINY, early_stopping=True)
    with pytest.raises(error, match=match):
        clf.fit(X[:40], y[:40], X_val=X[40:], y_val=y[40:], sample_weight_val=weights)


# ------------------------------------------------------------- settings not ignored
def test_class_weight_keys_must_be_labels_of_y(data, no_training):
    X, y = data
    labels = np.array(["a", "b"])[y]
    with pytest.raises(ValueError, match=r"key\(s\) \[0, 1\] that are not labels of y"):
        SeqAttentionClassifier(**TINY, class_weight={0: 1.0, 1: 2.0}).fit(X, labels)


def test_a_user_callback_may_not_replace_an_internal_one(data, no_training):
    from skorch.callbacks import EarlyStopping

    X, y = data
    clf = SeqAttentionClassifier(**TINY, callbacks=[("early_stopping", EarlyStopping())])
    with pytest.raises(ValueError, match="callbacks\\[0\\] is named 'early_stopping'"):
        clf.fit(X, y)


def test_every_random_state_gives_its_own_model(data):
    X, y = data
    a = SeqAttentionClassifier(**{**TINY, "random_state": 0}, early_stopping=False).fit(X, y)
    b = SeqAttentionClassifier(**{**TINY, "random_state": 2**31}, early_stopping=False).fit(X, y)
    assert not np.allclose(a.predict_proba(X), b.predict_proba(X))


# --------------------------------------------------------- refused before any work
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_dense_layers=129), r"n_dense_layers must be in \[0, 128\]"),
        (dict(downsample=2**21), r"downsample must be in \[1, 1048576\]"),
        (dict(downsample=2**31), r"downsample must be in \[1, 1048576\]"),
        (dict(lstm_units=10**6), "the network would have .* weights"),
        (dict(decision_threshold=0.3), "decision_threshold applies to binary problems"),
        (dict(decision_threshold=np.array([0.5])), "decision_threshold must be a real number"),
    ],
)
def test_settings_that_cannot_work_are_refused_before_training(params, match, no_training):
    X, y = make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, n_classes=3, event_length=2, random_state=0
    )
    with pytest.raises((ValueError, TypeError), match=match):
        SeqAttentionClassifier(**{**TINY, **params}).fit(X, y)


def test_groups_of_mixed_types_are_refused_by_name(data, no_training):
    X, y = data
    groups = np.array([None, "a"] * 30, dtype=object)
    with pytest.raises(TypeError, match="groups must hold labels of one comparable type"):
        SeqAttentionClassifier(**TINY, early_stopping=True).fit(X, y, groups=groups)


@pytest.mark.parametrize(
    "metric, error, match",
    [
        (lambda y_true, y_pred: float("nan"), ValueError, "returned nan"),
        (lambda y_true, y_pred: "good", TypeError, "must return a number, got 'good'"),
    ],
)
def test_a_threshold_metric_must_return_finite_numbers(data, metric, error, match):
    X, y = data
    clf = SeqAttentionClassifier(
        **TINY, early_stopping=True, decision_threshold="auto", threshold_scoring=metric
    )
    with pytest.raises(error, match=f"threshold_scoring=.*{match}"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")  # a failed fit leaves the estimator as it was


def test_a_sampler_too_large_for_the_training_part_is_named():
    from imblearn.over_sampling import SMOTE

    X, y = make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, weights=[0.3, 0.7]
    )
    clf = SeqAttentionClassifier(**TINY, early_stopping=True, sampler=SMOTE(k_neighbors=30))
    with pytest.raises(
        ValueError, match=r"sampler=SMOTE\(k_neighbors=30.*\) failed on the training"
    ):
        clf.fit(X, y)


# ------------------------------------------------------------------- files
def test_load_of_the_config_file_names_its_folder(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    with pytest.raises(ValueError, match="pass the folder that holds it"):
        SeqAttentionClassifier.load(folder / "config.json")


def test_a_weights_folder_is_not_a_regular_file(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    (folder / "weights.safetensors").unlink()
    (folder / "weights.safetensors").mkdir()
    with pytest.raises(ValueError, match=r"weights.safetensors in .* is not a regular file"):
        SeqAttentionClassifier.load(folder)


def test_every_fitted_attribute_round_trips(data, tmp_path):
    """All attributes ending in "_" after save/load, for several kinds of fit."""
    X, y = data
    lengths = (X != 0).any(axis=2).sum(axis=1)
    ragged = [X[i, :n] for i, n in enumerate(lengths)]
    fits = {
        "plain": (SeqAttentionClassifier(**TINY), (X, y), {}),
        "ragged": (SeqAttentionClassifier(**TINY), (ragged, y), {}),
        "fine": (SeqAttentionClassifier(**TINY), (X, y), {"y_fine": y * 2 + (lengths % 2)}),
        "threshold": (
            SeqAttentionClassifier(**TINY, early_stopping=True, decision_threshold="auto"),
            (X, y),
            {},
        ),
        "n_init": (SeqAttentionClassifier(**TINY, early_stopping=True, n_init=2), (X, y), {}),
    }
    for name, (clf, args, kwargs) in fits.items():
        clf.fit(*args, **kwargs)
        loaded = SeqAttentionClassifier.load(clf.save(tmp_path / name))
        fitted_names = {k for k in vars(clf) if k.endswith("_") and not k.startswith("_")}
        assert fitted_names == {
            k for k in vars(loaded) if k.endswith("_") and not k.startswith("_")
        }, name
        for attr in sorted(fitted_names - {"net_", "history_"}):
            expected, got = getattr(clf, attr), getattr(loaded, attr)
            if isinstance(expected, np.ndarray):
                np.testing.assert_array_equal(got, expected, err_msg=f"{name}: {attr}")
            else:
                assert got == expected, f"{name}: {attr}"
        assert json.dumps(list(loaded.history_)) == json.dumps(list(clf.history_))
        assert_allclose(loaded.predict_proba(args[0]), clf.predict_proba(args[0]))


# ------------------------------------------------------------------- memory
def test_ragged_predictions_are_padded_batch_by_batch(fitted):
    """One long sequence among many short ones: no output pads them all to it."""
    rng = np.random.default_rng(0)
    items = [rng.normal(size=(5, 3)).astype(np.float32) for _ in range(400)]
    items.append(rng.normal(size=(20_000, 3)).astype(np.float32))
    whole = 401 * 20_000 * 3 * 4  # bytes of all of them padded to the longest
    for method in ("predict_proba", "decision_function", "transform"):
        tracemalloc.start()
        getattr(fitted, method)(items)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < whole / 10, (method, peak)


def test_self_attention_keeps_the_padding_mask_small():
    """The block's attention equals nn.MultiheadAttention's, without its (T, T) mask."""
    torch.manual_seed(0)
    block = SelfAttentionBlock(16, 4, 32).eval()
    h = torch.randn(3, 10, 16)
    padding = torch.zeros(3, 10, dtype=torch.bool)
    padding[1, 6:] = True
    padding[2, 2:] = True
    with torch.no_grad():
        z = block.norm1(h)
        expected, _ = block.attention(z, z, z, key_padding_mask=padding, need_weights=False)
        assert_allclose(block._attend(z, padding), expected, atol=1e-6)


def test_attention_events_of_the_wrong_shape_are_refused(fitted, data):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from sklearn_seqattn.plotting import AttentionDisplay

    X, _ = data
    for events in (np.zeros(12, bool), np.zeros((60, 12, 1), bool), np.zeros((5, 12), bool)):
        with pytest.raises(ValueError, match="events must have shape"):
            AttentionDisplay.from_estimator(fitted, X, events=events)
    with pytest.raises(ValueError, match="events must have the shape of weights"):
        AttentionDisplay(np.ones((2, 12)) / 12, events=np.zeros((2, 10), bool)).plot()


def test_an_npz_that_inflates_beyond_memory_is_a_clear_cli_error(
    data, tmp_path, monkeypatch, capsys
):
    from sklearn_seqattn.cli import main

    X, y = data
    path = tmp_path / "data.npz"
    np.savez_compressed(path, X=X, y=y)

    def out_of_memory(self, key):
        raise MemoryError

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", out_of_memory)
    assert main(["fit", str(path), "--out", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert "does not fit in memory once decompressed" in err and "Traceback" not in err


def test_nan_in_fine_labels_is_refused_by_name(data, no_training):
    X, y = data
    y_fine = (y * 2 + np.arange(60) % 2).astype(float)
    y_fine[3] = np.nan
    with pytest.raises(ValueError, match=r"y_fine must hold class labels, got y_fine\[3\]=nan"):
        SeqAttentionClassifier(**TINY).fit(X, y, y_fine=y_fine)


def test_weights_that_diverge_name_the_settings_that_scale_updates(data):
    """A decay of 1e9 flips and grows every weight each step: refused, naming weight_decay."""
    X, y = data
    clf = SeqAttentionClassifier(**TINY, weight_decay=1e9, early_stopping=False)
    with pytest.raises(ValueError, match=r"training diverged\. Lower lr .* weight_decay \(now 1"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
