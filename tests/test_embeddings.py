"""Embeddings (transform) and scores (decision_function) for other estimators."""

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, softmax
from sklearn.ensemble import StackingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(dense_units=8, lstm_units=8, max_epochs=25)  # learns the order task


@pytest.fixture(scope="module")
def fitted(seq_data):
    X, y, _ = seq_data
    return SeqAttentionClassifier(**TINY, class_weight="balanced").fit(X[:280], y[:280])


def test_transform_returns_the_pooled_representation(fitted, seq_data):
    X = seq_data[0]
    Z = fitted.transform(X)
    # 2 x 8 units, and the plain stack's mean over time (6 features: conv_skip by default).
    assert (fitted.front_end_, fitted.conv_skip_) == ("conv", True)
    width = 16 + fitted.conv_channels
    assert Z.shape == (len(X), width) and Z.dtype == np.float32
    # The head is linear on Z: the logits are recovered from the embedding.
    head = fitted.net_.module_.head[-1]
    logits = Z @ head.weight.detach().numpy().T + head.bias.detach().numpy()
    assert_allclose(softmax(logits, axis=1), fitted.predict_proba(X), atol=1e-5)
    names = fitted.get_feature_names_out()
    assert names.tolist() == [f"seqattentionclassifier{i}" for i in range(width)]


def test_transform_feeds_another_estimator_in_a_pipeline(fitted, seq_data):
    X, y, _ = seq_data
    pipe = make_pipeline(fitted, LogisticRegression(max_iter=1000))
    # The pipeline refits the classifier; its embedding separates the classes.
    pipe.fit(X[:280], y[:280])
    assert pipe.score(X[280:], y[280:]) > 0.8


def test_binary_decision_function_is_the_log_odds(fitted, seq_data):
    X, y, _ = seq_data
    scores = fitted.decision_function(X)
    assert scores.shape == (len(X),)
    assert_allclose(expit(scores), fitted.predict_proba(X)[:, 1], atol=1e-6)
    assert_array_equal(fitted.classes_[(scores > 0).astype(int)], fitted.predict(X))
    assert roc_auc_score(y[280:], scores[280:]) > 0.85


def test_multiclass_decision_function_and_fine_labels():
    X, fine = make_sequence_classification(
        n_samples=120, n_timesteps=16, n_features=3, n_classes=3, event_length=2, random_state=0
    )
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 2}).fit(X, fine)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X), 3)
    assert_allclose(softmax(scores, axis=1), clf.predict_proba(X), atol=1e-6)
    merged = SeqAttentionClassifier(**{**TINY, "max_epochs": 2}).fit(X, fine > 0, y_fine=fine)
    log_odds = merged.decision_function(X)
    assert log_odds.shape == (len(X),)
    assert_allclose(expit(log_odds), merged.predict_proba(X)[:, 1], atol=1e-6)


def test_stacking_uses_decision_function(seq_data):
    X, y, _ = seq_data
    stack = StackingClassifier(
        [("seq", SeqAttentionClassifier(**{**TINY, "max_epochs": 2}))],
        final_estimator=LogisticRegression(),
        stack_method="decision_function",
        cv=2,
    )
    stack.fit(X[:200], y[:200])
    assert stack.predict_proba(X[200:]).shape == (160, 2)


def test_unfitted_methods_raise():
    for method in ("transform", "decision_function", "get_feature_names_out"):
        with pytest.raises(NotFittedError):
            args = () if method == "get_feature_names_out" else (np.ones((2, 3, 1)),)
            getattr(SeqAttentionClassifier(), method)(*args)
