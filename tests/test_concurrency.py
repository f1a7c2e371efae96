"""One fitted model, many callers: predictions from several threads equal the serial ones."""

import threading

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_array_equal

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=120, n_timesteps=20, n_features=2, event_length=3, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(data):
    """Dropout and batch norm everywhere: a mode switch would show in the outputs."""
    X, y = data
    clf = SeqAttentionClassifier(
        **tiny(
            front_end="multiscale",
            front_end_filters=4,
            dense_units=8,
            lstm_units=8,
            dropout=0.5,
            batch_size=16,
        )
    )
    return clf.fit(X, y)


def _run_in_threads(work, n_threads=4):
    errors, barrier = [], threading.Barrier(n_threads)

    def target():
        barrier.wait()
        try:
            work()
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=target) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_threads_predict_exactly_as_serial_and_change_nothing(fitted, data):
    X, _ = data
    module = fitted.net_.module_
    buffers = {k: v.clone() for k, v in module.state_dict().items()}
    serial = fitted.predict_proba(X)
    serial_attention = fitted.attention_weights(X[:20])
    results = []

    def work():
        for _ in range(3):
            results.append((serial, fitted.predict_proba(X)))
            results.append((serial_attention, fitted.attention_weights(X[:20])))

    _run_in_threads(work)
    assert len(results) == 24
    for expected, result in results:
        assert_array_equal(result, expected)
    assert not module.training
    for name, value in module.state_dict().items():
        assert torch.equal(value, buffers[name]), name


def test_a_fitted_module_stays_in_evaluation_mode(fitted, data, tmp_path):
    X, _ = data
    assert not fitted.net_.module_.training
    loaded = SeqAttentionClassifier.load(fitted.save(tmp_path / "model"))
    assert not loaded.net_.module_.training
    assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))


def test_predictions_during_a_warm_start_come_from_one_model(data):
    X, y = data
    clf = SeqAttentionClassifier(**tiny(dense_units=8, lstm_units=8, n_conv_layers=0)).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(warm_start=True, max_epochs=3)
    seen, done = [], threading.Event()

    def predict_meanwhile():
        while not done.is_set():
            seen.append(clf.predict_proba(X))

    reader = threading.Thread(target=predict_meanwhile)
    reader.start()
    try:
        clf.fit(X, y)
    finally:
        done.set()
        reader.join()
    after = clf.predict_proba(X)
    assert not np.array_equal(before, after)
    for proba in seen:
        assert np.array_equal(proba, before) or np.array_equal(proba, after)
