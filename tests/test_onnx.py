"""ONNX export: onnxruntime reproduces predict_proba on padded batches of any length."""

import json
import os

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._onnx import onnx_inputs
from sklearn_seqattn.datasets import make_sequence_classification

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
onnx = pytest.importorskip("onnx")

ATOL = 1e-4
VARIANTS = {
    "no-self-attention": dict(n_attention_layers=0, pooling="attention"),
    "self-attention": dict(n_attention_layers=1, n_heads=2, n_lstm_layers=2, pooling="max"),
    "conv-front-end": dict(n_conv_layers=2, kernel_size=3, conv_channels=4),
    "conv-batch-norm": dict(n_conv_layers=2, kernel_size=3, conv_channels=4, conv_batch_norm=True),
    "downsampled": dict(downsample=2, n_conv_layers=1, conv_channels=4),
    "conv-skip": dict(downsample=2, n_conv_layers=1, conv_channels=4, conv_skip=True),
    "multiscale": dict(front_end="multiscale", front_end_filters=4, fixed_filters=True),
    "multiscale-ensemble": dict(
        front_end="multiscale", front_end_filters=4, conv_skip=True, n_estimators=2, n_init=1
    ),
    "per-series": dict(standardize="per_series", n_conv_layers=0),
    "strided": dict(front_end="multiscale", front_end_filters=4, recurrent_stride=3),
    "differences": dict(input_differences=2, n_conv_layers=1, conv_channels=4),
}

# Exports and compiles graphs: seconds per test.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, n_classes=3, event_length=2, random_state=0
    )


@pytest.fixture(scope="module", params=list(VARIANTS))
def exported(request, data, tmp_path_factory):
    X, y = data
    clf = SeqAttentionClassifier(**tiny(**VARIANTS[request.param])).fit(X, y)
    out, workdir = tmp_path_factory.mktemp("onnx"), tmp_path_factory.mktemp("cwd")
    was_training = clf.net_.module_.training
    cwd = os.getcwd()
    os.chdir(workdir)  # the export must not leave files in the working directory
    try:
        path = clf.to_onnx(out / "model.onnx")
    finally:
        os.chdir(cwd)
    assert os.listdir(workdir) == []
    assert os.listdir(out) == ["model.onnx"]
    assert clf.net_.module_.training == was_training
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return clf, path, session


def _run(session, inputs):
    (proba,) = session.run(None, inputs)
    return proba


def test_matches_predict_proba_on_the_whole_set(exported, data):
    clf, _, session = exported
    X, _ = data
    proba = _run(session, onnx_inputs(clf, X))
    assert proba.dtype == np.float32 and proba.shape == (len(X), 3)
    assert_allclose(proba, clf.predict_proba(X), atol=ATOL)


@pytest.mark.parametrize("max_length", [1, 3, 7, 12])
def test_matches_on_batches_of_several_lengths(exported, data, max_length):
    clf, _, session = exported
    X, _ = data
    rng = np.random.default_rng(max_length)
    seqs = [X[i, : rng.integers(1, max_length + 1)] for i in range(9)]
    seqs[0] = X[0, :max_length]
    inputs = onnx_inputs(clf, seqs)
    assert inputs["x"].shape[1] == max_length
    assert_allclose(_run(session, inputs), clf.predict_proba(seqs), atol=ATOL)


def test_batch_of_one_and_longer_time_axis(exported, data):
    clf, _, session = exported
    X, _ = data
    long = np.concatenate([X[:2], X[:2, ::-1]], axis=1)  # 24 steps, longer than in training
    for batch in (X[:1], long, long[:1]):
        assert_allclose(_run(session, onnx_inputs(clf, batch)), clf.predict_proba(batch), atol=ATOL)


def test_whatever_lies_beyond_lengths_is_ignored(exported, data):
    clf, _, session = exported
    X, _ = data
    inputs = onnx_inputs(clf, [X[i, : 4 + i] for i in range(6)])
    reference = _run(session, inputs)
    x = np.concatenate([inputs["x"], np.zeros_like(inputs["x"][:, :5])], axis=1)
    pad = np.arange(x.shape[1])[None, :] >= inputs["lengths"][:, None]
    for junk in (0.0, np.nan, 1e6):
        x_junk = np.where(pad[:, :, None], np.float32(junk), x)
        proba = _run(session, {"x": x_junk, "lengths": inputs["lengths"]})
        assert_allclose(proba, reference, atol=ATOL)


def test_metadata_describes_the_inputs(exported):
    clf, path, session = exported
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["classes"]) == clf.classes_.tolist()
    assert meta["n_features_in"] == "3"
    assert float(meta["mask_value"]) == clf.mask_value
    assert meta["decision_threshold"] == "none"  # three classes: predict is the argmax
    assert [i.name for i in session.get_inputs()] == ["x", "lengths"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    x_shape = session.get_inputs()[0].shape
    assert isinstance(x_shape[0], str) and isinstance(x_shape[1], str)  # dynamic axes
    assert x_shape[2] == 3


def test_export_before_fit_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        SeqAttentionClassifier().to_onnx(tmp_path / "model.onnx")


def test_an_exporter_that_fixes_the_time_axis_is_refused(data, tmp_path, monkeypatch):
    import sklearn_seqattn._onnx as onnx_code

    X, y = data
    clf = SeqAttentionClassifier(**tiny(max_epochs=1)).fit(X, y)
    seen = []
    real_check = onnx_code._time_axis_is_dynamic
    monkeypatch.setattr(
        onnx_code, "_time_axis_is_dynamic", lambda model: seen.append(real_check(model)) or False
    )
    with pytest.raises(RuntimeError, match=r"fixed number of time steps.*Upgrade torch"):
        clf.to_onnx(tmp_path / "fixed.onnx")
    assert seen == [True]  # this torch's exporter keeps the time axis free
    assert not (tmp_path / "fixed.onnx").exists()


def test_the_private_lstm_decomposition_is_where_it_was():
    # The one private torch API the export needs; if this fails, torch moved it.
    from torch.export._patches import register_lstm_while_loop_decomposition

    assert callable(register_lstm_while_loop_decomposition)


def test_a_torch_without_the_lstm_decomposition_gets_a_clear_error(data, tmp_path, monkeypatch):
    import sys

    X, y = data
    clf = SeqAttentionClassifier(**tiny(max_epochs=1)).fit(X, y)
    monkeypatch.setitem(sys.modules, "torch.export._patches", None)  # import fails
    with pytest.raises(ImportError, match=r"register_lstm_while_loop_decomposition\. Upgrade"):
        clf.to_onnx(tmp_path / "model.onnx")


@pytest.mark.filterwarnings("ignore::sklearn_seqattn._diagnosis.ChanceLevelWarning")
def test_metadata_threshold_reproduces_predict(tmp_path):
    X, y = make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )
    clf = SeqAttentionClassifier(**tiny(n_conv_layers=0, n_init=1, decision_threshold=0.9))
    clf.fit(X, y)
    path = clf.to_onnx(tmp_path / "model.onnx")
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert float(meta["decision_threshold"]) == clf.threshold_ == 0.9
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    proba = _run(session, onnx_inputs(clf, X))
    classes = np.array(json.loads(meta["classes"]))
    labels = classes[(proba[:, 1] >= float(meta["decision_threshold"])).astype(int)]
    assert (labels != classes[proba.argmax(axis=1)]).any()  # the threshold matters here
    np.testing.assert_array_equal(labels, clf.predict(X))
