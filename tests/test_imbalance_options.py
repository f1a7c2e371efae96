"""Imbalance inside the estimator: a decision threshold chosen on the validation split,
and the focal loss."""

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import balanced_accuracy_score

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._fit_inputs import validation_split
from sklearn_seqattn._module import FocalLoss
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(dense_units=8, lstm_units=8, max_epochs=15, n_init=1)  # learns the rare class


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_sequence_classification(
        n_samples=400,
        n_timesteps=24,
        n_features=4,
        weights=[0.15, 0.85],
        signal=1.5,
        event_length=3,
        random_state=3,
    )
    return X, np.where(y == 1, "common", "rare")


def test_auto_threshold_is_chosen_on_the_validation_split_and_used(imbalanced):
    X, y = imbalanced
    clf = SeqAttentionClassifier(**TINY, decision_threshold="auto").fit(X, y)
    assert 0 < clf.threshold_ < 1
    p = clf.predict_proba(X)[:, 1]
    assert_array_equal(clf.predict(X), clf.classes_[(p >= clf.threshold_).astype(int)])
    # The same split, held out explicitly: the same network.
    plain = SeqAttentionClassifier(**TINY, early_stopping=True).fit(X, y)
    assert plain.threshold_ is None
    assert_allclose(plain.predict_proba(X), clf.predict_proba(X))


def test_auto_threshold_beats_or_matches_half_on_its_split(imbalanced):
    X, y = imbalanced
    clf = SeqAttentionClassifier(**TINY, decision_threshold="auto").fit(X, y)
    _, y_idx = np.unique(y, return_inverse=True)
    # Recompute the validation split the estimator used (same seed, same rule).
    from sklearn_seqattn._random import draw_seed

    _, valid = validation_split(clf, y_idx, draw_seed(0))
    p = clf.predict_proba(X[valid])[:, 1]
    tuned = balanced_accuracy_score(y_idx[valid], p >= clf.threshold_)
    half = balanced_accuracy_score(y_idx[valid], p >= 0.5)
    assert tuned >= half


def test_fixed_threshold_and_errors(imbalanced):
    X, y = imbalanced
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, decision_threshold=0.9).fit(X, y)
    assert clf.threshold_ == 0.9
    p = clf.predict_proba(X)[:, 1]
    assert_array_equal(clf.predict(X) == "rare", p >= 0.9)  # classes_[1] is "rare"
    X3, y3 = make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=3, n_classes=3, event_length=2, random_state=0
    )
    with pytest.raises(ValueError, match="binary problems; y has 3 classes"):
        SeqAttentionClassifier(**TINY, decision_threshold=0.3).fit(X3, y3)
    with pytest.raises(ValueError, match="needs early_stopping=True"):
        SeqAttentionClassifier(**TINY, decision_threshold="auto", early_stopping=False).fit(X, y)
    with pytest.raises(ValueError, match="threshold_scoring must be one of"):
        SeqAttentionClassifier(**TINY, decision_threshold="auto", threshold_scoring="auc").fit(X, y)


def test_threshold_survives_save_and_load(imbalanced, tmp_path):
    X, y = imbalanced
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 2}, decision_threshold=0.7).fit(X, y)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.threshold_ == 0.7
    assert_array_equal(loaded.predict(X), clf.predict(X))


def test_focal_loss_against_its_formula():
    torch.manual_seed(0)
    logits, target = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    p = torch.softmax(logits, dim=1)[torch.arange(6), target]
    expected = -((1 - p) ** 2) * torch.log(p)
    assert_allclose(FocalLoss(gamma=2.0)(logits, target), expected, atol=1e-6)
    ce = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    assert_allclose(FocalLoss(gamma=0.0)(logits, target), ce, atol=1e-6)


def test_focal_loss_trains(imbalanced):
    X, y = imbalanced
    clf = SeqAttentionClassifier(**TINY, loss="focal", class_weight="balanced").fit(X, y)
    assert clf.net_.criterion_.__class__ is FocalLoss
    assert np.isfinite(clf.history_[:, "train_loss"]).all()
    with pytest.raises(ValueError, match="loss must be one of"):
        SeqAttentionClassifier(**TINY, loss="hinge").fit(X, y)
