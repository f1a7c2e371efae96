"""Persistence: pickle/joblib round trips, and save/load without pickle."""

import hashlib
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.callbacks import EpochTimer

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._persistence import FORMAT_VERSION
from sklearn_seqattn.datasets import make_contour_classification, make_sequence_classification

TINY = tiny(
    n_attention_layers=1,
    n_heads=2,
    max_epochs=3,
    batch_size=16,
    validation_fraction=0.2,
    early_stopping=True,
)


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return SeqAttentionClassifier(**TINY).fit(X, y)


def _run_python(code: str, cwd) -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _write_config(folder, config):
    """Write an edited config.json with its digest recomputed, as save() would."""
    body = {k: v for k, v in config.items() if k != "config_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    config["config_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    (folder / "config.json").write_text(json.dumps(config))


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


# ------------------------------------------------------------- pickle
def test_pickle_round_trip_is_bit_identical(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    assert_array_equal(restored.attention_weights(X), fitted.attention_weights(X))


def test_joblib_round_trip_is_bit_identical(fitted, data, tmp_path):
    X, _ = data
    joblib.dump(fitted, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.slow
def test_pickle_and_save_are_bit_identical_in_another_process(fitted, data, tmp_path):
    X, _ = data
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(fitted))
    fitted.save(tmp_path / "saved")
    _run_python(
        """
        import pickle
        import numpy as np
        from sklearn_seqattn import SeqAttentionClassifier

        X = np.load("X.npy")
        with open("model.pkl", "rb") as f:
            np.save("proba_pickle.npy", pickle.load(f).predict_proba(X))
        np.save("proba_saved.npy", SeqAttentionClassifier.load("saved").predict_proba(X))
        """,
        cwd=tmp_path,
    )
    expected = fitted.predict_proba(X)
    assert_array_equal(np.load(tmp_path / "proba_pickle.npy"), expected)
    assert_array_equal(np.load(tmp_path / "proba_saved.npy"), expected)


# ---------------------------------------------------------- save/load
def test_save_load_predicts_identically(fitted, data, tmp_path):
    X, _ = data
    folder = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "history.json",
        "weights.safetensors",
    ]
    loaded = SeqAttentionClassifier.load(folder)
    assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert_array_equal(loaded.predict(X), fitted.predict(X))
    weights, maps = loaded.attention_weights(X, return_layer_maps=True)
    ref_weights, ref_maps = fitted.attention_weights(X, return_layer_maps=True)
    assert_array_equal(weights, ref_weights)
    assert_array_equal(maps[0], ref_maps[0])
    assert loaded.get_params() == fitted.get_params()
    assert loaded.n_features_in_ == fitted.n_features_in_
    assert loaded.n_iter_ == fitted.n_iter_
    assert_array_equal(loaded.class_weight_, fitted.class_weight_)


def test_config_is_plain_json_with_versions(fitted, tmp_path):
    config = _strict_json(fitted.save(tmp_path / "model") / "config.json")
    assert config["format_version"] == FORMAT_VERSION
    assert config["params"]["optimizer"] == "torch.optim.AdamW"
    assert config["versions"]["torch"] == torch.__version__
    assert "sklearn_seqattn" in config["versions"]
    assert config["classes"] == {"dtype": np.dtype(np.int64).str, "values": [0, 1]}
    assert config["n_features_in"] == 3
    assert "callbacks" not in config["params"]
    assert "accelerator" not in config["params"]


def test_history_is_saved(fitted, tmp_path):
    loaded = SeqAttentionClassifier.load(fitted.save(tmp_path / "model"))
    assert len(loaded.history_) == len(fitted.history_)
    assert loaded.history_[:, "train_loss"] == pytest.approx(fitted.history_[:, "train_loss"])
    assert loaded.history_[:, "valid_loss"] == pytest.approx(fitted.history_[:, "valid_loss"])


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog"]), np.array([-3, 7]), np.array(["a", "b"], dtype=object)],
    ids=["str", "int", "object"],
)
def test_class_labels_keep_their_dtype(data, labels, tmp_path):
    X, y = data
    y_labels = labels[y]
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}).fit(X, y_labels)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "model"))
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert_array_equal(loaded.classes_, clf.classes_)
    assert_array_equal(loaded.predict(X), clf.predict(X))


def test_nan_mask_value_and_class_weight_dict_round_trip(data, tmp_path):
    X, y = data
    X = np.where((X == 0).all(axis=2, keepdims=True), np.nan, X)
    clf = SeqAttentionClassifier(
        **{**TINY, "max_epochs": 1}, mask_value=np.nan, class_weight={0: 1.0, 1: 2.5}
    ).fit(X, y)
    folder = clf.save(tmp_path / "model")
    _strict_json(folder / "config.json")  # NaN is written as strict JSON
    loaded = SeqAttentionClassifier.load(folder)
    assert np.isnan(loaded.mask_value)
    assert loaded.class_weight == {0: 1.0, 1: 2.5}
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_callbacks_are_not_saved(data, tmp_path):
    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, callbacks=[EpochTimer()]).fit(X, y)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "model"))
    assert loaded.callbacks is None
    assert loaded.accelerator is None
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_loaded_model_can_be_refit_cloned_and_warm_started(fitted, data, tmp_path):
    X, y = data
    folder = fitted.save(tmp_path / "model")
    loaded = SeqAttentionClassifier.load(folder)
    assert not hasattr(clone(loaded), "net_")
    refit = loaded.set_params(max_epochs=1).fit(X, y)
    assert refit.predict_proba(X).shape == (len(X), 2)
    # warm_start continues from the saved weights, with early stopping as in fit.
    continued = SeqAttentionClassifier.load(folder).set_params(warm_start=True)
    continued.fit(X, y)
    assert continued.n_iter_ >= 1
    assert len(continued.history_) == len(fitted.history_) + continued.n_iter_
    assert "valid_loss" in continued.history_[-1]


def test_hyper_parameter_that_json_cannot_hold_is_skipped_with_a_warning(data, tmp_path):
    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, "random_state": np.random.RandomState(0)})
    clf.set_params(max_epochs=1).fit(X, y)
    with pytest.warns(UserWarning, match=r"\['random_state'\] cannot be stored as JSON"):
        folder = clf.save(tmp_path / "model")
    loaded = SeqAttentionClassifier.load(folder)
    assert loaded.random_state is None
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_invalid_setting_in_config_is_refused(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["params"]["n_heads"] = 3
    _write_config(folder, config)
    with pytest.raises(ValueError, match="invalid setting: n_heads=3 must divide"):
        SeqAttentionClassifier.load(folder)


def test_load_leaves_global_rng_untouched(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    SeqAttentionClassifier.load(folder)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert_array_equal(np.random.get_state()[1], np_state[1])  # noqa: NPY002


# ------------------------------------------------------------- safety
class _Payload:
    """Unpickling this creates the file ``path``: a stand-in for arbitrary code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize(
    "name",
    ["f_params.pt", "model.pkl", "pytorch_model.bin", "optimizer.pt", "history.pkl"],
)
def test_untrusted_pickle_in_the_folder_is_never_executed(
    fitted, data, tmp_path, monkeypatch, name
):
    X, _ = data
    folder = fitted.save(tmp_path / "model")
    # The payload works: unpickling it does run code.
    pickle.loads(pickle.dumps(_Payload(tmp_path / "proof")))
    assert (tmp_path / "proof").exists()

    sentinel = tmp_path / "pwned"
    (folder / name).write_bytes(pickle.dumps(_Payload(sentinel)))
    torch.save({"payload": _Payload(sentinel)}, folder / ("torch_" + name))

    def refuse(*args, **kwargs):
        raise AssertionError("load() must not unpickle anything")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    loaded = SeqAttentionClassifier.load(folder)
    loaded.predict_proba(X)
    assert not sentinel.exists()


@pytest.mark.parametrize("dotted", ["os.system", "builtins.eval", "torch.optim.Optimizer"])
def test_optimizer_outside_allow_list_is_refused(fitted, tmp_path, dotted):
    folder = fitted.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["params"]["optimizer"] = dotted
    _write_config(folder, config)
    with pytest.raises(ValueError, match=f"optimizer '{dotted}'.*torch.optim"):
        SeqAttentionClassifier.load(folder)


def test_custom_optimizer_class_is_refused_at_save(data, tmp_path):
    class MyAdam(torch.optim.Adam):
        pass

    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, optimizer=MyAdam).fit(X, y)
    with pytest.raises(ValueError, match=r"optimizer=.*MyAdam"):
        clf.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_model_trained_on_cuda_loads_on_cpu(fitted, data, tmp_path, monkeypatch):
    X, _ = data
    folder = fitted.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["params"]["device"] = "cuda:0"
    _write_config(folder, config)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="device='cuda:0'.*loaded on device='cpu'"):
        loaded = SeqAttentionClassifier.load(folder)
    assert loaded.device == "cpu"
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def test_newer_format_version_gives_clear_error(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["format_version"] = FORMAT_VERSION + 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1}.*Upgrade"):
        SeqAttentionClassifier.load(folder)


def test_tampered_weights_are_detected(fitted, tmp_path):
    folder = fitted.save(tmp_path / "model")
    raw = bytearray((folder / "weights.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (folder / "weights.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256"):
        SeqAttentionClassifier.load(folder)


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        SeqAttentionClassifier.load(tmp_path)


def test_save_before_fit_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        SeqAttentionClassifier().save(tmp_path / "model")


def test_model_saved_before_conv_skip_existed_loads_without_it(data, tmp_path):
    X, y = data
    clf = SeqAttentionClassifier(**TINY, n_conv_layers=1, conv_channels=4, conv_skip=False)
    folder = clf.fit(X, y).save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    del config["params"]["conv_skip"]
    _write_config(folder, config)
    loaded = SeqAttentionClassifier.load(folder)
    assert loaded.conv_skip is False
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_the_input_dropout_rate_is_saved_and_older_saves_get_the_rate_they_trained_with(tmp_path):
    from sklearn_seqattn._params import AUTO_INPUT_DROPOUT, AUTO_WIDE_INPUT_DROPOUT

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6, 32)).astype(np.float32)  # wide steps: the wide rate
    y = np.repeat([0, 1], 20)
    clf = SeqAttentionClassifier(**TINY).fit(X, y)
    assert clf.input_dropout_ == AUTO_WIDE_INPUT_DROPOUT
    folder = clf.save(tmp_path / "model")
    loaded = SeqAttentionClassifier.load(folder)
    assert loaded.input_dropout_ == AUTO_WIDE_INPUT_DROPOUT
    assert loaded.net_.module_.input_dropout.p == AUTO_WIDE_INPUT_DROPOUT
    config = json.loads((folder / "config.json").read_text())
    del config["input_dropout"]  # as written before the rate depended on the width
    _write_config(folder, config)
    older = SeqAttentionClassifier.load(folder)
    assert older.input_dropout_ == older.net_.module_.input_dropout.p == AUTO_INPUT_DROPOUT
    assert_array_equal(older.predict_proba(X), clf.predict_proba(X))
    config["input_dropout"] = 1.5
    _write_config(folder, config)
    with pytest.raises(ValueError, match=r"input_dropout must be null or a number in \[0, 1\)"):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize(
    "front_end, params",
    [("none", {"n_conv_layers": 0}), ("conv", {"front_end": "conv", "conv_channels": 4})],
)
def test_the_schedule_is_saved_and_older_saves_without_multiscale_read_none(
    data, tmp_path, front_end, params
):
    """The dense front end trains with the recipe's schedule since round 26, the plain stack
    since round 30; saves from before the schedule was saved trained at a constant rate."""
    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, "early_stopping": False, **params}).fit(X, y)
    assert (clf.front_end_, clf.lr_schedule_) == (front_end, "plateau")
    folder = clf.save(tmp_path / "model")
    assert SeqAttentionClassifier.load(folder).lr_schedule_ == "plateau"
    config = json.loads((folder / "config.json").read_text())
    assert config["lr_schedule"] == "plateau"
    del config["lr_schedule"]  # as written before the schedule was saved
    _write_config(folder, config)
    older = SeqAttentionClassifier.load(folder)
    assert older.lr_schedule_ is None
    assert_array_equal(older.predict_proba(X), clf.predict_proba(X))
    config["lr_schedule"] = "linear"
    _write_config(folder, config)
    with pytest.raises(ValueError, match="lr_schedule must be one of null, 'plateau', 'cosine'"):
        SeqAttentionClassifier.load(folder)


@pytest.mark.filterwarnings("ignore::sklearn_seqattn.ChanceLevelWarning")
def test_the_scaling_is_saved_and_older_saves_read_the_parameter(tmp_path):
    """standardize="auto" saves what it resolved to; saves from before it read the parameter."""
    X, y = make_contour_classification(n_samples=40, n_features=40, random_state=0)
    clf = SeqAttentionClassifier(**{**TINY, "early_stopping": False}).fit(X, y)
    assert clf.standardize_ == "per_series"
    folder = clf.save(tmp_path / "model")
    loaded = SeqAttentionClassifier.load(folder)
    assert loaded.standardize_ == "per_series" and loaded.net_.module_.per_series
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    config = json.loads((folder / "config.json").read_text())
    assert (config["standardize"], config["params"]["standardize"]) == ("per_series", "auto")
    del config["standardize"]  # as written before standardize took "auto"
    _write_config(folder, config)
    with pytest.raises(ValueError, match="standardize is 'auto' unresolved"):
        SeqAttentionClassifier.load(folder)
    config["params"]["standardize"] = "per_series"
    _write_config(folder, config)
    assert SeqAttentionClassifier.load(folder).standardize_ == "per_series"
    config["standardize"] = "per_step"
    _write_config(folder, config)
    with pytest.raises(ValueError, match="standardize must be true, false, 'per_series' or null"):
        SeqAttentionClassifier.load(folder)


def test_the_ensemble_size_is_saved_and_older_saves_read_the_parameter(data, tmp_path):
    X, y = data
    clf = SeqAttentionClassifier(**{**TINY, "n_estimators": 2}).fit(X, y)
    folder = clf.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    assert config["n_estimators"] == 2
    del config["n_estimators"]  # as written before n_estimators took "auto"
    _write_config(folder, config)
    older = SeqAttentionClassifier.load(folder)
    assert older.n_estimators_ == 2
    assert_array_equal(older.predict_proba(X), clf.predict_proba(X))
    config["params"]["n_estimators"] = "auto"  # unresolved: which network would it be?
    _write_config(folder, config)
    with pytest.raises(ValueError, match="n_estimators is 'auto' unresolved"):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize(
    "name, front_end, n_conv_layers, threshold",
    [("format2_conv", "conv", 3, None), ("format2_dense", "none", 0, 0.4)],
)
def test_a_save_of_format_2_loads_and_predicts_as_it_did(name, front_end, n_conv_layers, threshold):
    """Folders written by the release before format 3 (kept in tests/data) still load."""
    folder = Path(__file__).parent / "data" / name
    expected = np.load(folder.with_suffix(".npz"))
    loaded = SeqAttentionClassifier.load(folder)
    assert (loaded.front_end_, loaded.n_conv_layers_) == (front_end, n_conv_layers)
    assert loaded.threshold_ == threshold and loaded.conv_skip_ is False
    assert loaded.lr_schedule_ is None and not loaded.early_stopping_
    assert not loaded.restore_best_weights_  # that release kept the last weights here
    assert loaded.n_iter_no_change_ == loaded.n_iter_no_change == 20  # the parameter itself
    assert loaded.tol_ == 0.0  # no absolute tolerance then
    assert loaded.input_dropout_ == (0.0 if front_end == "conv" else 0.2)  # as trained then
    assert loaded.net_.module_.recurrent_stride == 1  # the recurrent layers read every step
    assert_allclose(loaded.predict_proba(expected["X"]), expected["proba"], atol=1e-6)
    assert_array_equal(loaded.predict(expected["X"]), expected["pred"])
