"""The demo reports the labels of ``predict``, as a user of the classifier gets them."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

import sklearn_seqattn.demo as demo
from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.filterwarnings("ignore::sklearn_seqattn._diagnosis.ChanceLevelWarning")
def test_demo_scores_the_labels_of_predict(monkeypatch):
    made, scored = [], []

    def thresholded(**params):
        # One epoch leaves probabilities near the prior: 0.9 moves labels off the argmax.
        clf = SeqAttentionClassifier(decision_threshold=0.9, **params)
        made.append(clf)
        return clf

    real_score = demo.balanced_accuracy_score

    def recording_score(y_true, y_pred):
        scored.append(np.asarray(y_pred))
        return real_score(y_true, y_pred)

    monkeypatch.setattr(demo, "SeqAttentionClassifier", thresholded)
    monkeypatch.setattr(demo, "balanced_accuracy_score", recording_score)
    lines = []
    demo.run_demo(60, 20, 3, max_epochs=1, random_state=0, verbose=0, print_fn=lines.append)

    # The demo's test split, drawn as run_demo draws it.
    X, y, _ = make_sequence_classification(
        60, 20, 3, weights=[0.28, 0.72], return_events=True, random_state=0
    )
    _, test = train_test_split(np.arange(60), test_size=0.2, stratify=y, random_state=0)
    (clf,) = made
    assert clf.threshold_ == 0.9
    expected = clf.predict(X[test])
    argmax = clf.classes_[clf.predict_proba(X[test]).argmax(axis=1)]
    assert (expected != argmax).any()  # else this test could not tell them apart
    assert len(scored) == 2  # the order-blind baseline, then the classifier
    np.testing.assert_array_equal(scored[1], expected)
