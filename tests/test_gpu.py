"""CUDA paths: device placement, the model family on the GPU, loading and exporting a CUDA model.

Run where torch sees a CUDA device (skipped elsewhere, see conftest.py).
"""

import json
import os

import numpy as np
import pytest
import torch
from _helpers import add_padding, tiny
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.report import fit_report

pytestmark = pytest.mark.gpu

TINY = tiny(dense_units=8, lstm_units=8, max_epochs=3, n_init=1)
# cuDNN and cuBLAS pick kernels by shape: results agree to float32 rounding, not bit for bit.
ATOL = 1e-4


def _on_cuda(clf):
    return all(p.is_cuda for p in clf.net_.module_.parameters())


def test_fit_on_cuda_predicts_and_round_trips(seq_data, tmp_path):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, device="cuda", front_end="multiscale").fit(X, y)
    assert _on_cuda(clf)
    proba = clf.predict_proba(X)
    folder = clf.save(tmp_path / "model")
    loaded = SeqAttentionClassifier.load(folder)
    assert _on_cuda(loaded)
    assert_allclose(loaded.predict_proba(X), proba, atol=ATOL)
    assert np.isfinite(proba).all()


def test_auto_device_selects_cuda(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, device="auto", n_conv_layers=0).fit(X, y)
    assert clf.device_ == "cuda"
    assert _on_cuda(clf)


@pytest.fixture(scope="module")
def cuda_ensemble(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(
        **TINY, device="cuda", front_end="multiscale", conv_skip=True, n_estimators=2, n_jobs=2
    )
    return clf.fit(X, y)


def test_ensemble_on_cuda_is_padding_invariant(cuda_ensemble, seq_data):
    X, _, _ = seq_data
    assert _on_cuda(cuda_ensemble)
    proba = cuda_ensemble.predict_proba(X)
    assert_allclose(cuda_ensemble.predict_proba(add_padding(X, 25)), proba, atol=ATOL)
    assert_allclose(cuda_ensemble.predict_proba(add_padding(X, 7, side="pre")), proba, atol=ATOL)


def test_ensemble_on_cuda_averages_members_and_attends_to_real_steps(cuda_ensemble, seq_data):
    X, _, _ = seq_data
    members = cuda_ensemble.net_.module_.members
    assert len(members) == 2
    x = torch.as_tensor(X[:10], device="cuda")
    lengths = torch.as_tensor((X[:10] != 0).any(axis=2).sum(axis=1), device="cuda")
    with torch.no_grad():
        each = [torch.softmax(m(x, lengths), dim=1).double().cpu().numpy() for m in members]
    assert_allclose(cuda_ensemble.predict_proba(X[:10]), np.mean(each, axis=0), atol=ATOL)
    weights = cuda_ensemble.attention_weights(X[:10])
    assert_allclose(weights.sum(axis=1), 1, atol=1e-5)
    for i, n in enumerate(lengths.tolist()):
        assert (weights[i, n:] == 0).all()
    width = members[0].pooled_size
    assert cuda_ensemble.transform(X[:10]).shape == (10, 2 * width)


def test_cuda_model_loads_on_a_machine_without_cuda(cuda_ensemble, seq_data, tmp_path, monkeypatch):
    X, _, _ = seq_data
    folder = cuda_ensemble.save(tmp_path / "ensemble")
    assert json.loads((folder / "config.json").read_text())["params"]["device"] == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="loaded on device='cpu'"):
        loaded = SeqAttentionClassifier.load(folder)
    assert not any(p.is_cuda for p in loaded.net_.module_.parameters())
    assert_allclose(loaded.predict_proba(X), cuda_ensemble.predict_proba(X), atol=ATOL)


def test_onnx_export_of_a_cuda_model_matches(cuda_ensemble, seq_data, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklearn_seqattn import onnx_inputs

    X, _, _ = seq_data
    path = cuda_ensemble.to_onnx(tmp_path / "model.onnx")
    assert _on_cuda(cuda_ensemble)  # the export works on a copy
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (proba,) = session.run(None, onnx_inputs(cuda_ensemble, X[:40]))
    assert_allclose(proba, cuda_ensemble.predict_proba(X[:40]), atol=ATOL)


def test_deterministic_cuda_fits_repeat(seq_data):
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in (":4096:8", ":16:8"):
        pytest.skip("needs CUBLAS_WORKSPACE_CONFIG=:4096:8 set before Python starts")
    X, y, _ = seq_data
    params = dict(TINY, device="cuda", deterministic=True, front_end="multiscale")
    a = SeqAttentionClassifier(**params).fit(X, y)
    b = SeqAttentionClassifier(**params).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_bfloat16_autocast_on_cuda_learns_and_predicts_in_float32(seq_data):
    if torch.cuda.get_device_capability() < (8, 0):
        pytest.skip("bfloat16 autocast is 'auto' from compute capability 8.0")
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(
        **tiny(dense_units=16, lstm_units=16, max_epochs=40, n_init=1), device="cuda"
    ).fit(X, y)
    assert clf.autocast_ is True
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    assert clf.fit_diagnosis_.verdict == "learned"
    assert clf.score(X, y) > 0.8


def test_fit_report_reads_a_cuda_model(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, device="cuda").fit(X[:240], y[:240])
    report = fit_report(
        clf, X[240:], y[240:], X_train=X[:240], y_train=y[:240], baselines=("order_blind",)
    )
    assert report.verdict
    assert 0.0 <= report.balanced_accuracy <= 1.0
    assert [b.name for b in report.baselines] == ["order_blind"]
