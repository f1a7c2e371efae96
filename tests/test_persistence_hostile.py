"""save/load under failures and hostile folders: crash-safe save, integrity, limits, labels.

Every folder here starts as one that ``save`` wrote; a test then breaks it the
way a crash, a careless edit or an attacker would. Edits that "rehash"
recompute the digests as a forger would, so that the content checks, not the
digests, are what refuses them.
"""

import hashlib
import json
import os
import pickle

import numpy as np
import pytest
import safetensors.torch
import torch
from _helpers import TINY
from numpy.testing import assert_array_equal

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._persistence import FORMAT_VERSION
from sklearn_seqattn._sequence_net import SequenceNet
from sklearn_seqattn.datasets import make_sequence_classification

FILES = ["config.json", "history.json", "weights.safetensors"]


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )


@pytest.fixture(scope="module")
def model_a(data):
    X, y = data
    return SeqAttentionClassifier(**TINY).fit(X, y)


def _relabel(model, labels):
    """A copy of ``model`` whose two classes are ``labels`` (the network is unchanged)."""
    copy = pickle.loads(pickle.dumps(model))
    copy.classes_ = copy.fine_classes_ = labels
    return copy


@pytest.fixture(scope="module")
def model_b(model_a):
    """Another model: other labels, other weights."""
    model = _relabel(model_a, np.array(["cat", "dog"]))
    with torch.no_grad():
        model.net_.module_.head[-1].bias += torch.tensor([2.0, -2.0])
    return model


def _digest(config):
    """config_sha256 as the format defines it, computed independently of the package."""
    body = {k: v for k, v in config.items() if k != "config_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _edit_config(folder, edit, rehash=True):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    if rehash:
        config["config_sha256"] = _digest(config)
    path.write_text(json.dumps(config))


def _set(dotted, value):
    """An edit that sets ``config[a][b]...`` to ``value``."""

    def edit(config):
        *parents, key = dotted.split(".")
        for parent in parents:
            config = config[parent]
        config[key] = value

    return edit


def _replace_file(folder, name, data: bytes, field):
    """Write ``data`` as ``name`` and record its SHA-256 in ``field``, as a forger would."""
    (folder / name).write_bytes(data)
    _edit_config(folder, _set(field, hashlib.sha256(data).hexdigest()))


@pytest.fixture
def no_network_built(monkeypatch):
    """Fail the test if load() builds (allocates) the network."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("load() built the network of a folder it must refuse")

    monkeypatch.setattr(SequenceNet, "initialize", refuse)


class Crash(OSError):
    """Stands for a full disk, a killed process, a failing rename."""


def _fail_on_call(monkeypatch, targets, n):
    """Make the ``n``-th call to any of ``targets`` (module, name) raise :class:`Crash`."""
    calls = []

    def failing(original):
        def fail(*args, **kwargs):
            calls.append(args)
            if len(calls) == n:
                raise Crash(f"simulated failure on call {n}")
            return original(*args, **kwargs)

        return fail

    for module, name in targets:
        monkeypatch.setattr(module, name, failing(getattr(module, name)))


# Format 1 replaced files one by one with os.replace: count it with os.rename.
RENAMES = [(os, "rename"), (os, "replace")]


# ------------------------------------------------------- 1. crash-safe save
@pytest.mark.parametrize(
    "targets, n",
    [
        ([(safetensors.torch, "save")], 1),  # before anything is written
        ([(os, "fsync")], 2),  # after the first file is written
        (RENAMES, 1),  # moving the old model aside
        (RENAMES, 2),  # moving the new model into place
    ],
    ids=["serialise", "second-file", "rename-aside", "rename-into-place"],
)
def test_failed_save_keeps_the_previous_model(
    model_a, model_b, data, tmp_path, monkeypatch, targets, n
):
    X, _ = data
    folder = model_a.save(tmp_path / "model")
    _fail_on_call(monkeypatch, targets, n)
    with pytest.raises(Crash):
        model_b.save(folder)
    monkeypatch.undo()

    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary folder left behind
    assert sorted(os.listdir(folder)) == FILES
    loaded = SeqAttentionClassifier.load(folder)
    assert_array_equal(loaded.classes_, model_a.classes_)
    assert_array_equal(loaded.predict_proba(X), model_a.predict_proba(X))


def test_save_replaces_a_saved_model_whole(model_a, model_b, data, tmp_path):
    X, _ = data
    folder = model_a.save(tmp_path / "model")
    (folder / "weights.safetensors.tmp").write_bytes(b"left by a format-1 save that crashed")
    model_b.save(folder)
    assert sorted(os.listdir(tmp_path)) == ["model"]
    assert sorted(os.listdir(folder)) == FILES
    loaded = SeqAttentionClassifier.load(folder)
    assert_array_equal(loaded.predict(X), model_b.predict(X))
    assert_array_equal(loaded.predict_proba(X), model_b.predict_proba(X))


@pytest.mark.parametrize("content", ["empty", "model"])
def test_symlink_at_the_target_is_refused(model_a, tmp_path, content):
    outside = tmp_path / "outside"
    outside.mkdir()
    if content == "model":
        model_a.save(outside / "model")
        outside = outside / "model"
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    link = tmp_path / "link"
    link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="symbolic link"):
        model_a.save(link)
    assert link.is_symlink()
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before


@pytest.mark.parametrize(
    "name", ["weights.safetensors.tmp", "config.json.tmp", "history.json", "config.json"]
)
def test_symlink_planted_in_the_folder_is_never_written_through(
    model_a, model_b, data, tmp_path, name
):
    X, _ = data
    folder = model_a.save(tmp_path / "model")
    precious = tmp_path / "precious.txt"
    precious.write_text("not yours")
    (folder / name).unlink(missing_ok=True)
    (folder / name).symlink_to(precious)
    model_b.save(folder)
    assert precious.read_text() == "not yours"
    assert sorted(os.listdir(folder)) == FILES
    assert not any((folder / f).is_symlink() for f in FILES)
    assert_array_equal(SeqAttentionClassifier.load(folder).predict(X), model_b.predict(X))


@pytest.mark.parametrize("with_model", [False, True], ids=["no-model", "model"])
@pytest.mark.parametrize("other", ["notes.txt", "data/"])
def test_folder_holding_other_files_is_not_replaced(
    model_a, model_b, data, tmp_path, with_model, other
):
    X, _ = data
    folder = tmp_path / "model"
    folder.mkdir()
    if with_model:
        model_a.save(folder)
    if other.endswith("/"):
        (folder / other).mkdir()
        (folder / other / "x.npy").write_bytes(b"user data")
    else:
        (folder / other).write_text("user notes")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(ValueError, match=f"holds files that save\\(\\) did not write.*{other[:4]}"):
        model_b.save(folder)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert sorted(os.listdir(tmp_path)) == ["model"]
    if with_model:
        assert_array_equal(SeqAttentionClassifier.load(folder).predict(X), model_a.predict(X))


def test_saved_folder_and_files_have_the_usual_modes(model_a, tmp_path):
    # The staging folder comes from mkdtemp (0o700); the model must not inherit that.
    folder = model_a.save(tmp_path / "model")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain.txt").write_text("")
    assert folder.stat().st_mode == (tmp_path / "plain").stat().st_mode
    for name in FILES:
        assert (folder / name).stat().st_mode == (tmp_path / "plain.txt").stat().st_mode


# ---------------------------------------------------------- 2. integrity
@pytest.mark.parametrize(
    "edit",
    [
        lambda c: (c["classes"]["values"].reverse(), c["fine_classes"]["values"].reverse()),
        _set("class_weight", [1.0, 3.0]),
        _set("n_iter", 99),
        _set("params.dropout", 0.5),
    ],
    ids=["reordered-classes", "class-weight", "n-iter", "hyper-parameter"],
)
def test_edited_config_is_detected(model_a, tmp_path, edit):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, edit, rehash=False)
    with pytest.raises(ValueError, match=r"config\.json .* was edited or is corrupt"):
        SeqAttentionClassifier.load(folder)


def test_edited_history_is_detected(model_a, tmp_path):
    folder = model_a.save(tmp_path / "model")
    history = json.loads((folder / "history.json").read_text())
    (folder / "history.json").write_text(json.dumps([*history, history[-1]]))
    with pytest.raises(ValueError, match=r"history\.json .*edited or is corrupt"):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize(
    "edit, match",
    [
        (_set("classes.values", [0, 0]), "classes holds the label 0 more than once"),
        (_set("fine_classes.values", [1, 1]), "fine_classes holds the label 1 more than once"),
        (_set("classes", {"dtype": "<i8", "values": ["a", "b"]}), "cannot hold the value 'a'"),
        (_set("classes", {"dtype": "|u1", "values": [0, 300]}), "cannot hold the value 300"),
        (_set("classes", {"dtype": "<U1", "values": ["a", "bb"]}), "cannot hold exactly"),
        (_set("n_classes", 3), "n_classes is 3, but classes holds 2"),
        (_set("class_weight", [1.0, -1.0]), "class_weight must be finite and >= 0"),
        (_set("class_weight", [1.0, {"float": "nan"}]), "class_weight must be finite"),
        (_set("class_weight", [1.0, 1.0, 1.0]), "class_weight must be a list of 2"),
        (_set("fine_to_coarse", [0, 0]), "fine_to_coarse must map some fine label to every"),
        (_set("params.optimizer", "os.system"), "optimizer 'os.system'"),
        (_set("weights_sha256", "0" * 63), "weights_sha256 must be 64 hexadecimal digits"),
    ],
)
def test_content_is_checked_whatever_the_digest_says(
    model_a, tmp_path, no_network_built, edit, match
):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, edit)
    with pytest.raises(ValueError, match=match):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_even_with_matching_digests(model_a, tmp_path, value):
    folder = model_a.save(tmp_path / "model")
    state = safetensors.torch.load((folder / "weights.safetensors").read_bytes())
    state["head.1.weight"][0, 0] = value
    _replace_file(folder, "weights.safetensors", safetensors.torch.save(state), "weights_sha256")
    with pytest.raises(ValueError, match=r"'head\.1\.weight' holds NaN or infinite values"):
        SeqAttentionClassifier.load(folder)


def test_save_refuses_non_finite_weights(model_a, tmp_path):
    model = pickle.loads(pickle.dumps(model_a))
    with torch.no_grad():
        model.net_.module_.head[-1].bias[0] = float("nan")
    with pytest.raises(ValueError, match=r"load\(\) would refuse.*'head\.1\.bias' holds NaN"):
        model.save(tmp_path / "model")
    assert os.listdir(tmp_path) == []


def _as_format_1(config):
    config["format_version"] = 1
    del config["config_sha256"], config["history_sha256"]


def test_format_1_folder_still_loads(model_a, data, tmp_path):
    X, _ = data
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, _as_format_1, rehash=False)
    loaded = SeqAttentionClassifier.load(folder)
    assert_array_equal(loaded.predict_proba(X), model_a.predict_proba(X))
    assert len(loaded.history_) == len(model_a.history_)


def test_format_1_folder_gets_the_content_checks(model_a, tmp_path):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, lambda c: (_as_format_1(c), _set("classes.values", [1, 1])(c)), False)
    with pytest.raises(ValueError, match="more than once"):
        SeqAttentionClassifier.load(folder)


# --------------------------------------------- 3. limits on untrusted folders
@pytest.mark.parametrize(
    "edit, match",
    [
        (_set("n_features_in", 2**40), "n_features_in must be in \\[1, 1048576\\]"),
        (_set("params.lstm_units", 100_000), "would have .* weights, more than the 2,147,483,648"),
        (_set("params.dense_units", 2**21), r"dense_units must be in \[1, 1048576\], got 2097152"),
        (_set("params.n_lstm_layers", 10**6), r"n_lstm_layers must be in \[1, 128\], got 1000000"),
        (_set("downsample", 2**40), "downsample must be in"),
        (_set("params.recurrent_stride", 0), r"recurrent_stride must be in \[1, 1048576\]"),
        # The parameter's own bound, not the generic size bound.
        (_set("n_estimators", 1001), r"n_estimators must be in \[1, 1000\], got 1001"),
        # Sane sizes that the weights do not have: refused from the header, unbuilt.
        (_set("params.lstm_units", 8), r"weights\.safetensors .* holds 'lstm\..*' as"),
        (_set("n_features_in", 2), r"holds 'input_shift' as \('F32', \[3\]\).* \[2\]"),
    ],
)
def test_absurd_or_mismatched_sizes_are_refused_before_building(
    model_a, tmp_path, no_network_built, edit, match
):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, edit)
    with pytest.raises(ValueError, match=match):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_features_in", "3"),
        ("n_features_in", 3.0),
        ("n_features_in", True),
        ("n_features_in", None),
        ("n_classes", "2"),
        ("downsample", "2"),
        ("batch_size", 0),
        ("n_iter", "a"),
        ("class_weight", "balanced"),
        ("class_weight", [1.0, "x"]),
        ("classes", [0, 1]),
        ("classes", {"dtype": 5, "values": [0, 1]}),
        ("classes", {"dtype": "<i8", "values": "01"}),
        ("classes", {"dtype": "<i4,<i4", "values": [0, 1]}),
        ("fine_to_coarse", "ab"),
        ("fine_to_coarse", [0.0, 1.0]),
        ("weights_sha256", 5),
        ("format_version", "2"),
        ("params", []),
        ("params.lstm_units", [4]),
        ("params.lstm_units", "4"),
        ("params.device", 5),
        ("params.mask_value", "x"),
        ("params.optimizer", ["torch.optim.SGD"]),
        ("params.random_state", "0"),
        ("params.class_weight", {"dict": 5}),
        ("params.class_weight", {"dict": [[0, "x"], [1, 1.0]]}),
    ],
)
def test_wrong_types_are_refused_with_the_field_named(
    model_a, tmp_path, no_network_built, field, value
):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, _set(field, value))
    with pytest.raises(ValueError, match=field.rsplit(".", 1)[-1]):
        SeqAttentionClassifier.load(folder)


def test_config_of_a_newer_version_with_malformed_versions_is_refused(model_a, tmp_path):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, lambda c: c.update(format_version=FORMAT_VERSION + 1, versions=[]))
    with pytest.raises(ValueError, match="Upgrade sklearn-seqattn"):
        SeqAttentionClassifier.load(folder)


def test_deeply_nested_config_is_refused(model_a, tmp_path):
    folder = model_a.save(tmp_path / "model")
    text = (folder / "config.json").read_text()
    assert '"mask_value": 0.0' in text
    nested = "[" * 100_000 + "]" * 100_000
    (folder / "config.json").write_text(
        text.replace('"mask_value": 0.0', f'"mask_value": {nested}')
    )
    with pytest.raises(ValueError, match=r"config\.json .* is not valid JSON"):
        SeqAttentionClassifier.load(folder)


def test_deeply_nested_history_is_refused(model_a, tmp_path, no_network_built):
    folder = model_a.save(tmp_path / "model")
    nested = ("[" * 100_000 + "]" * 100_000).encode()
    _replace_file(folder, "history.json", nested, "history_sha256")
    with pytest.raises(ValueError, match=r"history\.json .* is invalid"):
        SeqAttentionClassifier.load(folder)


def test_huge_config_is_refused_unparsed(model_a, tmp_path, monkeypatch):
    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, _set("padding", "x" * 5 * 2**20))
    parsed = []
    original_loads = json.loads
    monkeypatch.setattr(
        json, "loads", lambda s, **k: parsed.append(len(s)) or original_loads(s, **k)
    )
    with pytest.raises(ValueError, match=r"config\.json .* is at most 4,194,304 bytes"):
        SeqAttentionClassifier.load(folder)
    assert all(n <= 4 * 2**20 for n in parsed)


@pytest.mark.parametrize("name", ["config.json", "history.json"])
def test_many_megabyte_file_is_refused_unread(model_a, tmp_path, no_network_built, name):
    folder = model_a.save(tmp_path / "model")
    with open(folder / name, "r+b") as f:
        f.truncate(65 * 2**20)  # sparse: costs no disk and no time
    with pytest.raises(ValueError, match=f"{name} .* is 68,157,440 bytes"):
        SeqAttentionClassifier.load(folder)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("name", FILES)
def test_pipe_in_place_of_a_file_is_refused_without_hanging(model_a, tmp_path, name):
    folder = model_a.save(tmp_path / "model")
    (folder / name).unlink()
    os.mkfifo(folder / name)  # opening it for reading blocks until a writer comes
    with pytest.raises(ValueError, match=f"{name} .* is not a regular file"):
        SeqAttentionClassifier.load(folder)


def test_weights_header_length_is_checked(model_a, tmp_path, no_network_built):
    folder = model_a.save(tmp_path / "model")
    data = (2**60).to_bytes(8, "little") + b"{}"
    _replace_file(folder, "weights.safetensors", data, "weights_sha256")
    with pytest.raises(ValueError, match="header length 1152921504606846976 does not fit"):
        SeqAttentionClassifier.load(folder)


def test_weights_larger_than_their_header_are_refused_unread(model_a, tmp_path, no_network_built):
    folder = model_a.save(tmp_path / "model")
    with open(folder / "weights.safetensors", "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.truncate(size + 64 * 2**20)
    with pytest.raises(ValueError, match=f"is {size + 64 * 2**20:,} bytes, but its header"):
        SeqAttentionClassifier.load(folder)


# ------------------------------------------------ 4. labels save writes load
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["a" * 5000, "b" * 5000]),
        np.array(["a" * 5000, "é" * 5000], dtype=object),
        np.array(["naïve 🙂", "a\x00b"]),
        np.array([0, 255], dtype=np.uint8),
        np.array([-(2**63), 2**63 - 1]),
        np.array([0.1, -2.5], dtype=np.float32),
        np.array([False, True]),
        np.array([1, 10**30], dtype=object),
    ],
    ids=[
        "str-5000",
        "object-5000",
        "unicode",
        "uint8",
        "int64-extremes",
        "float32",
        "bool",
        "bigint",
    ],
)
def test_labels_that_save_accepts_load_back_unchanged(model_a, data, tmp_path, labels):
    X, _ = data
    model = _relabel(model_a, labels)
    loaded = SeqAttentionClassifier.load(model.save(tmp_path / "model"))
    assert loaded.classes_.dtype == labels.dtype
    assert loaded.classes_.tolist() == labels.tolist()
    assert loaded.predict(X).tolist() == model.predict(X).tolist()


def test_labels_too_long_for_a_config_are_refused_by_save_as_by_load(model_a, tmp_path):
    rule = r"a saved model's config\.json is at most 4,194,304 bytes"
    labels = np.array(["a" * 1_200_000, "b" * 1_200_000])
    with pytest.raises(ValueError, match=rule):
        _relabel(model_a, labels).save(tmp_path / "model")
    assert os.listdir(tmp_path) == []

    folder = model_a.save(tmp_path / "model")
    spec = {"dtype": labels.dtype.str, "values": labels.tolist()}
    _edit_config(folder, lambda c: c.update(classes=spec, fine_classes=spec))
    with pytest.raises(ValueError, match=rule):
        SeqAttentionClassifier.load(folder)


def test_label_dtype_too_wide_is_refused_by_save_as_by_load(model_a, tmp_path, no_network_built):
    rule = "would take 24,000,000 bytes; saved labels take at most 16,777,216"
    labels = np.array(["a", "b"], dtype="<U3000000")
    with pytest.raises(ValueError, match=rule):
        _relabel(model_a, labels).save(tmp_path / "model")
    assert os.listdir(tmp_path) == []

    folder = model_a.save(tmp_path / "model")
    _edit_config(folder, _set("classes.dtype", "<U3000000"))
    with pytest.raises(ValueError, match=rule):
        SeqAttentionClassifier.load(folder)


def test_a_save_from_before_auto_convolutions_still_loads(data, tmp_path):
    """Saves made before ``n_conv_layers="auto"`` hold the count in params only."""
    X, y = data
    model = SeqAttentionClassifier(**TINY, front_end="conv", conv_skip=False).fit(X, y)
    folder = model.save(tmp_path / "m")

    def as_before(config):
        for field in ("n_conv_layers", "front_end", "fixed_filters", "conv_skip"):
            del config[field]
        config["params"]["n_conv_layers"] = model.n_conv_layers_
        config["params"]["front_end"] = "auto"
        config["params"]["conv_skip"] = False

    _edit_config(folder, as_before)
    loaded = SeqAttentionClassifier.load(folder)
    assert loaded.n_conv_layers_ == model.n_conv_layers_ == 3
    assert loaded.front_end_ == "conv"
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))

    _edit_config(folder, lambda config: config["params"].update(n_conv_layers="auto"))
    with pytest.raises(ValueError, match="n_conv_layers"):
        SeqAttentionClassifier.load(folder)
