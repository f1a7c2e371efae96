"""The collapse and chance guard: a verdict on every fit, a warning only when it failed."""

import dataclasses
import warnings

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_allclose
from skorch.callbacks import Callback

from sklearn_seqattn import (
    ChanceLevelWarning,
    FitDiagnosis,
    PredictionMismatchWarning,
    SeqAttentionClassifier,
)
from sklearn_seqattn._diagnosis import (
    MISMATCH_PRIOR_SHARE,
    MISMATCH_RATIO,
    diagnose_fit,
    prior_loss,
)
from sklearn_seqattn._persistence._encoding import decode_diagnosis, encode_diagnosis

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


# ------------------------------------------------- predicting unlike training: "mismatch"
def _learned_predictions(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, np.where(rng.random(n) < 0.85, y, 1 - y)


def test_training_series_lost_at_prediction_is_a_mismatch_whatever_the_accuracy():
    y, pred = _learned_predictions()
    # Above chance by accuracy, but its loss at prediction is 20x the training loss.
    diagnosis = diagnose_fit(y, pred, 2, "training", [0.6, 0.1], 0.69, None, (0.1, 2.0))
    assert diagnosis.verdict == "mismatch" and diagnosis.failed and not diagnosis.learned
    assert diagnosis.balanced_accuracy > diagnosis.threshold
    assert (diagnosis.kept_train_loss, diagnosis.prediction_train_loss) == (0.1, 2.0)
    assert "2.000" in diagnosis.message and "0.100" in diagnosis.message
    assert "input_dropout=0" in diagnosis.message


@pytest.mark.parametrize(
    "kept, at_prediction",
    [
        (0.3, 0.3 * MISMATCH_RATIO * 0.95),  # a gap below the ratio
        (0.01, 0.95 * MISMATCH_PRIOR_SHARE * 0.69),  # many times a tiny loss, still small
        (0.2, 0.1),  # lower at prediction, as dropout makes it
        (float("nan"), 5.0),  # no finite training loss to compare with
    ],
)
def test_what_is_not_a_mismatch(kept, at_prediction):
    y, pred = _learned_predictions()
    diagnosis = diagnose_fit(y, pred, 2, "training", [0.6, 0.1], 0.69, None, (kept, at_prediction))
    assert diagnosis.verdict == "learned"


class _DriftRunningEstimates(Callback):
    """At the end of training, move batch normalisation's running estimates far from the
    batch statistics the network trained with, as a train/predict disagreement does."""

    def on_train_end(self, net, **kwargs):
        with torch.no_grad():
            for name, buffer in net.module_.named_buffers():
                if name.endswith("running_var"):
                    buffer.mul_(1e-4)


def test_a_network_that_predicts_unlike_it_trained_warns_and_is_not_retried(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(
        **{**TINY, "max_epochs": 15},
        front_end="conv",
        early_stopping=False,
        restore_best_weights=False,
        n_init="auto",
        callbacks=[_DriftRunningEstimates()],
    )
    with pytest.warns(PredictionMismatchWarning, match="far worse than it fitted them"):
        clf.fit(X, y)
    diagnosis = clf.fit_diagnosis_
    assert diagnosis.verdict == "mismatch" and diagnosis.basis == "training"
    assert diagnosis.prediction_train_loss > MISMATCH_RATIO * diagnosis.kept_train_loss
    assert clf.n_init_ == 1  # "auto" retries chance and collapse, not the settings' fault
    assert issubclass(PredictionMismatchWarning, ChanceLevelWarning)


def test_a_fit_that_learned_predicts_its_training_series_as_well_as_it_trained(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 15}, early_stopping=False).fit(X, y)
    diagnosis = clf.fit_diagnosis_
    losses = [row["train_loss"] for row in clf.history_]
    assert diagnosis.kept_train_loss == pytest.approx(min(losses))  # the restored epoch
    assert 0 < diagnosis.prediction_train_loss < MISMATCH_RATIO * diagnosis.kept_train_loss
    assert diagnosis.verdict == "learned"


def test_with_early_stopping_the_kept_epoch_is_the_restored_one(seq_data):
    X, y, _ = seq_data
    clf = SeqAttentionClassifier(**{**TINY, "max_epochs": 6}, early_stopping=True).fit(X, y)
    kept = next(r["train_loss"] for r in clf.history_ if r["epoch"] == clf.best_epoch_)
    assert clf.fit_diagnosis_.kept_train_loss == pytest.approx(kept)
    assert np.isfinite(clf.fit_diagnosis_.prediction_train_loss)


def test_diagnoses_saved_before_the_training_losses_still_load():
    y, pred = _learned_predictions()
    diagnosis = diagnose_fit(y, pred, 2, "training", [0.6, 0.1], 0.69, None, (0.1, 0.09))
    spec = encode_diagnosis(diagnosis)
    assert decode_diagnosis(spec) == diagnosis
    older = {k: v for k, v in spec.items() if k not in ("kept_train_loss", "prediction_train_loss")}
    loaded = decode_diagnosis(older)
    assert loaded.verdict == "learned" and np.isnan(loaded.kept_train_loss)
    assert decode_diagnosis({**spec, "unknown": 1}) is None
    fields = {f.name for f in dataclasses.fields(FitDiagnosis)}
    assert decode_diagnosis({k: v for k, v in spec.items() if k != "verdict"}) is None
    assert set(spec) == fields
