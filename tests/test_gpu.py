"""CUDA paths (the fused LSTM, device placement, loading a CUDA model): run where CUDA is."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose

from sklearn_seqattn import SeqAttentionClassifier

pytestmark = pytest.mark.gpu

TINY = tiny(dense_units=8, lstm_units=8, max_epochs=3, n_init=1)


def test_fit_on_cuda_predicts_and_round_trips(seq_data, tmp_path):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, device="cuda", front_end="multiscale").fit(X, y)
    assert next(clf.net_.module_.parameters()).is_cuda
    proba = clf.predict_proba(X)
    folder = clf.save(tmp_path / "model")
    loaded = SeqAttentionClassifier.load(folder)
    assert_allclose(loaded.predict_proba(X), proba, atol=1e-4)
    assert np.isfinite(proba).all()


def test_auto_device_selects_cuda(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, device="auto", n_conv_layers=0).fit(X, y)
    assert next(clf.net_.module_.parameters()).is_cuda
