"""The collapse and chance guard: a verdict on every fit, a warning only when it failed."""

import warnings

import numpy as np
import pytest
from _helpers import tiny
from numpy.testing import assert_allclose

from sklearn_seqattn import ChanceLevelWarning, FitDiagnosis, SeqAttentionClassifier
from sklearn_seqattn._diagnosis import diagnose_fit, prior_loss

TINY = tiny(dense_units=8, lstm_units=8)


def _diagnose(y_true, y_pred, losses=(0.1,), prior=0.69):
    n_classes = int(max(y_true.max(), y_pred.max()) + 1)
    return diagnose_fit(y_true, y_pred, n_classes, "validation", list(losses), prior)


def test_constant_predictions_are_collapsed():
    y = np.array([0] * 30 + [1] * 70)
    diagnosis = _diagnose(y, np.ones(100, dtype=int))
    assert diagnosis.verdict == "collapsed"
    assert diagnosis.majority_share == 1.0
    assert "one class for 100%" in diagnosis.message


def test_random_predictions_are_chance():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    diagnosis = _diagnose(y, rng.integers(0, 3, 300))
    assert diagnosis.verdict == "chance"
    assert diagnosis.chance_level == pytest.approx(1 / 3)
    assert diagnosis.balanced_accuracy < diagnosis.threshold


def test_good_predictions_learned_with_an_empty_message():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    pred = np.where(rng.random(200) < 0.85, y, 1 - y)
    diagnosis = _diagnose(y, pred)
    assert diagnosis.learned
    assert diagnosis.message == ""
    assert str(diagnosis).startswith("learned: balanced accuracy 0.8")


def test_threshold_is_chance_plus_two_sd_of_a_chance_predictor():
    y = np.array([0] * 25 + [1] * 75)
    pred = np.array([0, 1] * 50)  # predicted shares 1/2, 1/2
    diagnosis = _diagnose(y, pred)
    sd = np.sqrt(0.25 / 25 + 0.25 / 75) / 2
    assert diagnosis.threshold == pytest.approx(0.5 + 2 * sd)


def test_advice_separates_a_stuck_loss_from_memorisation():
    y = np.array([0, 1] * 50)
    stuck = _diagnose(y, np.ones(100, dtype=int), losses=[0.70, 0.69], prior=0.69)
    memorised = _diagnose(y, np.ones(100, dtype=int), losses=[0.6, 0.01], prior=0.69)
    assert "learned nothing at all" in stuck.message and "weight_decay" in stuck.message
    assert "memorised" in memorised.message


def test_data_of_one_dominant_class_is_not_called_collapsed():
    y = np.array([0] + [1] * 99)
    diagnosis = _diagnose(y, np.ones(100, dtype=int))
    assert diagnosis.verdict != "collapsed"


def test_prior_loss_is_the_loss_of_predicting_the_weighted_prior():
    y = np.array([0, 0, 0, 1])
    weights = np.array([1.0, 1.0, 1.0, 3.0])  # "balanced": the weighted prior is 1/2, 1/2
    assert prior_loss(y, weights, 2, 0.0) == pytest.approx(np.log(2) * weights.mean())
    unweighted = prior_loss(y, np.ones(4), 2, 0.0)
    assert unweighted == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    # Label smoothing mixes in the uniform target's cross-entropy.
    smoothed = prior_loss(y, np.ones(4), 2, 0.2)
    expected = 0.8 * unweighted - 0.2 * np.mean(np.log([0.75, 0.25]))
    assert_allclose(smoothed, expected)


def test_forced_collapse_warns_and_reports(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**TINY, lr=1e-7, early_stopping=True)
    with pytest.warns(ChanceLevelWarning, match="did not learn"):
        clf.fit(X, y)
    assert isinstance(clf.fit_diagnosis_, FitDiagnosis)
    assert clf.fit_diagnosis_.verdict in ("collapsed", "chance")
    assert clf.fit_diagnosis_.basis == "validation"
    assert clf.fit_diagnosis_.min_train_loss >= 0.97 * clf.fit_diagnosis_.prior_loss


def test_the_warning_is_a_convergence_warning_users_can_filter(seq_data):
    from sklearn.exceptions import ConvergenceWarning

    X, y, _ = seq_data
    assert issubclass(ChanceLevelWarning, ConvergenceWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, lr=1e-7).fit(X, y)


def test_a_model_that_learned_does_not_warn(seq_data):
    X, y, _ = seq_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChanceLevelWarning)
        clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 40}, class_weight="balanced")
        clf.fit(X, y)
    assert clf.fit_diagnosis_.learned
    assert clf.fit_diagnosis_.balanced_accuracy > 0.8


def test_without_early_stopping_the_verdict_uses_the_training_data(seq_data):
    X, y, _ = seq_data
    with pytest.warns(ChanceLevelWarning):
        clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, lr=1e-7, early_stopping=False)
        clf.fit(X, y)
    assert clf.fit_diagnosis_.basis == "training"
    assert clf.fit_diagnosis_.n_samples == len(y)


def test_verdict_survives_save_and_load(seq_data, tmp_path):
    X, y, _ = seq_data
    with pytest.warns(ChanceLevelWarning):
        clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 1}, lr=1e-7).fit(X, y)
    loaded = SeqAttentionClassifier.load(clf.save(tmp_path / "model"))
    assert loaded.fit_diagnosis_ == clf.fit_diagnosis_


def test_a_split_too_small_to_tell_is_inconclusive_and_silent():
    y = np.array([0, 1, 0, 1, 1, 0, 1])
    pred = np.array([0, 1, 1, 1, 0, 0, 1])  # 5 of 7 right: cannot tell on 7 samples
    diagnosis = _diagnose(y, pred, losses=[0.6, 0.2], prior=0.69)
    assert diagnosis.verdict == "inconclusive"
    assert not diagnosis.failed and not diagnosis.learned
    assert "too few to tell" in diagnosis.message
    # The same split with a training loss stuck at the prior's is a failure.
    stuck = _diagnose(y, pred, losses=[0.70, 0.69], prior=0.69)
    assert stuck.verdict == "chance" and stuck.failed


def test_inconclusive_fit_does_not_warn(seq_data):
    X, y, _ = seq_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChanceLevelWarning)
        clf = SeqAttentionClassifier(
            **{**TINY, "max_epochs": 8}, validation_fraction=0.02, early_stopping=True
        ).fit(X, y)
    assert clf.fit_diagnosis_.n_samples == 8
    assert not clf.fit_diagnosis_.failed


def test_small_split_no_better_than_the_prior_in_log_loss_is_chance():
    y = np.array([0, 1, 0, 1, 1, 0, 1])
    pred = np.array([0, 1, 1, 1, 0, 0, 1])
    worse = diagnose_fit(y, pred, 2, "validation", [0.6, 0.2], 0.69, (0.95, 0.69))
    assert worse.verdict == "chance" and worse.failed
    better = diagnose_fit(y, pred, 2, "validation", [0.6, 0.2], 0.69, (0.40, 0.69))
    assert better.verdict == "inconclusive"
