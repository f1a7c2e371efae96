"""Model-selection recipes: searches, grouped CV with metadata routing, thresholds, calibration."""

import numpy as np
import pytest
import sklearn
import torch
from _helpers import tiny
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import randint
from sklearn.calibration import CalibratedClassifierCV
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    StratifiedGroupKFold,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_validate,
    train_test_split,
)

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(n_heads=2, max_epochs=3, batch_size=16, early_stopping=False)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    # Tiny models: intra-op threads only add contention on a small shared machine.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def small():
    X, y = make_sequence_classification(
        n_samples=72, n_timesteps=20, n_features=3, event_length=3, random_state=0
    )
    return X, y


# ---------------------------------------------------------------- searches
@pytest.mark.slow
def test_grid_search_parallel_equals_serial(small):
    X, y = small
    grid = {"lstm_units": [4, 8], "pooling": ["attention", "mean"]}
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    parallel = GridSearchCV(SeqAttentionClassifier(**TINY), grid, cv=cv, n_jobs=2).fit(X, y)
    serial = GridSearchCV(SeqAttentionClassifier(**TINY), grid, cv=cv, n_jobs=1).fit(X, y)
    scores = parallel.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.isfinite(scores).all()
    # Seeded and single-threaded: worker processes reproduce the serial run.
    assert_allclose(scores, serial.cv_results_["mean_test_score"])
    assert parallel.best_params_ == serial.best_params_
    assert parallel.best_estimator_.lstm_units == parallel.best_params_["lstm_units"]
    assert parallel.predict(X).shape == (len(X),)


def test_randomized_search_over_architecture(small):
    X, y = small
    search = RandomizedSearchCV(
        SeqAttentionClassifier(**TINY),
        {
            "lstm_units": randint(2, 7),
            "n_attention_layers": [0, 1],
            "pooling": ["attention", "mean", "max", "last"],
        },
        n_iter=4,
        cv=3,
        n_jobs=2,
        random_state=0,
    ).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 4
    assert all(2 <= p["lstm_units"] <= 6 for p in params)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict_proba(X[:3]).shape == (3, 2)


def test_halving_random_search_grows_samples(small):
    X, y = small
    search = HalvingRandomSearchCV(
        SeqAttentionClassifier(**TINY),
        {"lstm_units": [2, 4, 6, 8], "n_attention_layers": [0, 1]},
        n_candidates=4,
        factor=2,
        min_resources=18,
        cv=2,
        n_jobs=2,
        random_state=0,
    ).fit(X, y)
    assert list(search.n_resources_) == [18, 36, 72]
    assert list(search.n_candidates_) == [4, 2, 1]
    assert search.best_estimator_.predict(X).shape == (len(X),)


# ----------------------------------------- grouped CV with metadata routing
@pytest.fixture(scope="module")
def subjects():
    X, y = make_sequence_classification(
        n_samples=90, n_timesteps=20, n_features=3, event_length=3, random_state=1
    )
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 9, size=len(y))  # nine "speakers"
    weights = rng.uniform(0.5, 2.0, size=len(y))
    return X, y, groups, weights


@pytest.mark.parametrize(
    "cv",
    [StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0), StratifiedKFold(n_splits=3)],
    ids=["StratifiedGroupKFold", "StratifiedKFold"],
)
def test_cross_validate_routes_groups_and_sample_weight(subjects, cv):
    X, y, groups, weights = subjects
    params = {"sample_weight": weights}
    if isinstance(cv, StratifiedGroupKFold):
        params["groups"] = groups  # routed to the splitter, which requests it
    with sklearn.config_context(enable_metadata_routing=True):
        clf = SeqAttentionClassifier(**TINY).set_fit_request(sample_weight=True)
        scorer = make_scorer(balanced_accuracy_score).set_score_request(sample_weight=True)
        result = cross_validate(
            clf,
            X,
            y,
            cv=cv,
            scoring=scorer,
            params=params,
            return_estimator=True,
            return_indices=True,
        )
    trains, tests = result["indices"]["train"], result["indices"]["test"]
    for train, test, fitted in zip(trains, tests, result["estimator"], strict=True):
        if isinstance(cv, StratifiedGroupKFold):
            assert not set(groups[train]) & set(groups[test])  # no speaker on both sides
        # The fold's model is exactly the one fitted on the fold's weights.
        manual = SeqAttentionClassifier(**TINY).fit(X[train], y[train], weights[train])
        assert_array_equal(fitted.predict_proba(X[test]), manual.predict_proba(X[test]))
    unweighted = SeqAttentionClassifier(**TINY).fit(X[trains[0]], y[trains[0]])
    assert not np.allclose(
        unweighted.predict_proba(X[tests[0]]), result["estimator"][0].predict_proba(X[tests[0]])
    )
    assert np.isfinite(result["test_score"]).all()


def test_sample_weight_needs_a_request(subjects):
    X, y, groups, weights = subjects
    with (
        sklearn.config_context(enable_metadata_routing=True),
        pytest.raises(ValueError, match="sample_weight"),
    ):
        cross_validate(
            SeqAttentionClassifier(**TINY),
            X,
            y,
            cv=StratifiedGroupKFold(n_splits=3),
            params={"sample_weight": weights, "groups": groups},
        )


# -------------------------------------------------- thresholds, calibration
@pytest.fixture(scope="module")
def imbalanced():
    # Class 0 is the rare one (20%); 40 epochs of a small model learn the order signal.
    X, y = make_sequence_classification(
        n_samples=300,
        n_timesteps=24,
        n_features=4,
        event_length=3,
        weights=[0.2],
        signal=2.5,
        random_state=0,
    )
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)


# The dense front end: its probabilities on this task leave room for a threshold and for
# calibration (the plain stack that "auto" gives 4 features separates it almost perfectly).
MODEL = dict(
    n_conv_layers=0,
    dense_units=8,
    lstm_units=8,
    max_epochs=40,
    batch_size=32,
    early_stopping=False,
)


@pytest.mark.slow
def test_tuned_threshold_improves_balanced_accuracy(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    clf = SeqAttentionClassifier(**MODEL, random_state=0).fit(X_train, y_train)
    before = balanced_accuracy_score(y_test, clf.predict(X_test))
    tuned = TunedThresholdClassifierCV(
        SeqAttentionClassifier(**MODEL, random_state=0),
        scoring="balanced_accuracy",
        cv=3,
        random_state=0,
    ).fit(X_train, y_train)
    after = balanced_accuracy_score(y_test, tuned.predict(X_test))
    # The positive class is the frequent one, so its threshold moves up.
    assert tuned.best_threshold_ > 0.6
    assert after > before
    assert set(tuned.predict(X_test)) == {0, 1}


def test_calibration_repairs_class_weighted_probabilities(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    # Balanced class weights push probabilities towards the rare class.
    weighted = dict(MODEL, max_epochs=15, class_weight="balanced", random_state=0)
    raw = SeqAttentionClassifier(**weighted).fit(X_train, y_train)
    calibrated = CalibratedClassifierCV(
        SeqAttentionClassifier(**weighted), method="sigmoid", cv=3
    ).fit(X_train, y_train)
    proba = calibrated.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(calibrated.classes_, [0, 1])
    raw_brier = brier_score_loss(y_test, raw.predict_proba(X_test)[:, 1])
    calibrated_brier = brier_score_loss(y_test, proba[:, 1])
    assert calibrated_brier < raw_brier - 0.05
    assert abs(proba[:, 1].mean() - y_test.mean()) < 0.05
