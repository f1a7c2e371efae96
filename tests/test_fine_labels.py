"""Training on fine labels (y_fine) while predicting the merged classes (y)."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from sklearn_seqattn import SeqAttentionClassifier, SequenceScaler
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(dense_units=8, lstm_units=8)


@pytest.fixture(scope="module")
def merged():
    """Four fine classes (orders of three motifs); class 'b' merges fine classes 1-3."""
    X, fine = make_sequence_classification(
        n_samples=240,
        n_timesteps=24,
        n_features=4,
        n_classes=4,
        signal=2.0,
        event_length=3,
        random_state=0,
    )
    coarse = np.where(fine == 0, "a", "b")
    return X, coarse, fine


@pytest.fixture(scope="module")
def fitted(merged):
    X, coarse, fine = merged
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 12}, class_weight="balanced")
    return clf.fit(X, coarse, y_fine=fine)


def test_predictions_are_on_the_merged_classes(fitted, merged):
    X, _coarse, _fine = merged
    assert_array_equal(fitted.classes_, ["a", "b"])
    assert_array_equal(fitted.fine_classes_, [0, 1, 2, 3])
    assert_array_equal(fitted.fine_to_coarse_, [0, 1, 1, 1])
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert_allclose(proba.sum(axis=1), 1)
    assert set(fitted.predict(X)) <= {"a", "b"}


def test_class_probability_is_the_sum_of_its_fine_labels(fitted, merged):
    import torch

    X = merged[0][:20]
    seqs = fitted._check_fitted_input(X)
    fine = torch.softmax(torch.from_numpy(fitted._forward(seqs)).double(), dim=1).numpy()
    proba = fitted.predict_proba(X)
    assert fine.shape == (20, 4)
    assert_allclose(proba[:, 0], fine[:, 0])
    assert_allclose(proba[:, 1], fine[:, 1:].sum(axis=1))


def test_class_weight_is_keyed_by_the_merged_classes(merged):
    X, coarse, fine = merged
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, class_weight={"a": 3.0, "b": 1.0})
    clf.fit(X, coarse, y_fine=fine)
    assert_allclose(clf.class_weight_, [3.0, 1.0])


def test_fine_labels_must_refine_the_classes(merged):
    X, coarse, fine = merged
    crossing = fine.copy()
    crossing[np.flatnonzero(coarse == "a")[0]] = 2  # fine label 2 now in both classes
    with pytest.raises(ValueError, match=r"y_fine must refine y \(each .*\): fine label 2 occurs"):
        SeqAttentionClassifier(**TINY).fit(X, coarse, y_fine=crossing)
    with pytest.raises(ValueError, match="X and y_fine have inconsistent numbers of samples"):
        SeqAttentionClassifier(**TINY).fit(X, coarse, y_fine=fine[:-1])


@pytest.mark.slow
def test_save_load_and_onnx_keep_the_merge(fitted, merged, tmp_path):
    X = merged[0]
    loaded = SeqAttentionClassifier.load(fitted.save(tmp_path / "m"))
    assert_array_equal(loaded.fine_classes_, fitted.fine_classes_)
    assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X))
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklearn_seqattn._onnx import onnx_inputs

    path = fitted.to_onnx(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_proba,) = session.run(None, onnx_inputs(fitted, X[:16]))
    assert_allclose(onnx_proba, fitted.predict_proba(X[:16]), atol=1e-4)


def test_grid_search_in_a_pipeline_splits_y_fine_with_y(merged):
    X, coarse, fine = merged
    pipe = make_pipeline(SequenceScaler(), SeqAttentionClassifier(**TINY))
    search = GridSearchCV(
        pipe,
        {"seqattentionclassifier__lstm_units": [4, 8]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    )
    search.fit(X, coarse, seqattentionclassifier__y_fine=fine)
    clf = search.best_estimator_[-1]
    assert_array_equal(clf.classes_, ["a", "b"])
    assert len(clf.fine_classes_) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert set(search.predict(X)) <= {"a", "b"}


def test_without_y_fine_the_outputs_are_the_classes(merged):
    X, coarse, _ = merged
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}).fit(X, coarse)
    assert_array_equal(clf.fine_classes_, clf.classes_)
    assert_array_equal(clf.fine_to_coarse_, [0, 1])
