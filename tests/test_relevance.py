"""relevance (integrated gradients): shape, zero padding, completeness, planted events, display."""

import builtins
import warnings

import numpy as np
import pytest
import torch
from _helpers import add_padding, tiny
from sklearn.pipeline import make_pipeline

from sklearn_seqattn import (
    SeqAttentionClassifier,
    SequenceScaler,
    relevance,
    relevance_by_feature,
    relevance_by_step,
)
from sklearn_seqattn.datasets import make_sequence_classification

pytest.importorskip("captum")


@pytest.fixture(scope="module")
def fitted(seq_data):
    """A small network that learned the planted-event task of ``seq_data``."""
    X, y, events = seq_data
    clf = SeqAttentionClassifier(**tiny(dense_units=8, lstm_units=8, max_epochs=15))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:260], y[:260])
    return clf, X[260:], y[260:], events[260:]


def _real(X):
    return ~(X == 0).all(axis=2)


def test_shape_and_zero_on_padding(fitted):
    clf, X, _, _ = fitted
    R = relevance(clf, X[:20], n_steps=8)
    assert R.shape == X[:20].shape and R.dtype == np.float32
    assert np.all(R[~_real(X[:20])] == 0.0)
    assert np.abs(R).sum() > 0


def test_appended_and_pre_padding_change_nothing(fitted):
    clf, X, _, _ = fitted
    R = relevance(clf, X[:12], n_steps=8)
    longer = relevance(clf, add_padding(X[:12], 6), n_steps=8)
    np.testing.assert_allclose(longer[:, : X.shape[1]], R, atol=1e-6)
    assert np.all(longer[:, X.shape[1] :] == 0.0)
    pre = relevance(clf, add_padding(X[:12], 4, side="pre"), n_steps=8)
    np.testing.assert_allclose(pre[:, 4:], R, atol=1e-6)
    assert np.all(pre[:, :4] == 0.0)


def test_ragged_list_matches_the_padded_array(fitted):
    clf, X, _, _ = fitted
    lengths = _real(X[:6]).sum(axis=1)
    ragged = [x[:n] for x, n in zip(X[:6], lengths, strict=True)]
    R_list = relevance(clf, ragged, n_steps=8)
    R = relevance(clf, X[:6], n_steps=8)
    np.testing.assert_allclose(R_list, R[:, : R_list.shape[1]], atol=1e-6)


def test_completeness(fitted):
    """Each sequence's relevance sums to f(x) - f(baseline) for the attributed logit."""
    clf, X, _, _ = fitted
    X = X[:8]
    target = np.searchsorted(clf.classes_, clf.predict(X))
    R = relevance(clf, X, n_steps=64)
    module = clf.net_.module_
    lengths = torch.from_numpy(_real(X).sum(axis=1))
    x = torch.from_numpy(X)
    baseline = torch.where(torch.from_numpy(_real(X))[:, :, None], module.input_shift, x)
    with torch.no_grad():
        change = module(x, lengths) - module(baseline, lengths)
    expected = change[np.arange(len(X)), target].numpy()
    np.testing.assert_allclose(R.sum(axis=(1, 2)), expected, rtol=0.05, atol=0.02)


def test_relevance_on_planted_events_exceeds_chance(fitted):
    clf, X, y, events = fitted
    assert clf.score(X, y) > 0.9
    shares = relevance_by_step(relevance(clf, X, n_steps=16))
    on_events = (shares * events).sum(axis=1)
    chance = events.sum(axis=1) / _real(X).sum(axis=1)
    assert on_events.mean() > 1.1 * chance.mean()


def test_module_stays_in_eval_mode_and_unchanged(fitted):
    clf, X, _, _ = fitted
    module = clf.net_.module_
    state = {k: v.clone() for k, v in module.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in module.parameters()]
    relevance(clf, X[:4], n_steps=4)
    assert not module.training
    for key, value in module.state_dict().items():
        assert torch.equal(value, state[key])
    # Gradients are taken with respect to the inputs only: the parameters' are untouched.
    for before, p in zip(grads, module.parameters(), strict=True):
        assert (before is None and p.grad is None) or torch.equal(before, p.grad)


def test_targets(fitted):
    clf, X, _, _ = fitted
    R0 = relevance(clf, X[:4], n_steps=8, target=0)
    R1 = relevance(clf, X[:4], n_steps=8, target=[1, 1, 1, 1])
    # Two classes: the two logits' attributions differ.
    assert not np.allclose(R0, R1)
    with pytest.raises(ValueError, match="target"):
        relevance(clf, X[:4], target=7)
    with pytest.raises(ValueError, match="target"):
        relevance(clf, X[:4], target=[0, 1])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "saliency"}, ValueError, "method"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"n_steps": 2.5}, TypeError, "n_steps"),
        ({"n_steps": True}, TypeError, "n_steps"),
    ],
)
def test_bad_arguments_are_named(fitted, kwargs, error, match):
    clf, X, _, _ = fitted
    with pytest.raises(error, match=match):
        relevance(clf, X[:2], **kwargs)


def test_without_captum_the_error_names_the_extra(fitted, monkeypatch):
    clf, X, _, _ = fitted
    real_import = builtins.__import__

    def no_captum(name, *args, **kwargs):
        if name.startswith("captum"):
            raise ImportError("No module named 'captum'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_captum)
    with pytest.raises(ImportError, match=r"sklearn-seqattn\[explain\]"):
        relevance(clf, X[:2])


def test_reductions_are_shares():
    R = np.zeros((2, 5, 3), dtype=np.float32)
    R[0, 1] = [1.0, -1.0, 2.0]
    R[0, 3, 0] = -4.0
    by_step = relevance_by_step(R)
    np.testing.assert_allclose(by_step[0], [0, 0.5, 0, 0.5, 0])
    np.testing.assert_allclose(by_step[1], 0.0)  # nothing to share
    np.testing.assert_allclose(relevance_by_feature(R)[0], [5 / 8, 1 / 8, 2 / 8])
    np.testing.assert_allclose(relevance_by_step(R, normalize=False)[0, 1], 4.0)
    with pytest.raises(ValueError, match="3-D"):
        relevance_by_step(R[0])


def test_pipeline_and_univariate_input():
    X, y = make_sequence_classification(
        n_samples=60, n_timesteps=12, n_features=1, event_length=2, random_state=0
    )
    pipe = make_pipeline(
        SequenceScaler(),
        SeqAttentionClassifier(**tiny()),
    ).fit(X[:, :, 0], y)
    R = relevance(pipe, X[:3, :, 0], n_steps=4)
    assert R.shape == (3, 12, 1)


def test_relevance_display(fitted):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_seqattn.plotting import RelevanceDisplay

    clf, X, y, events = fitted
    disp = RelevanceDisplay.from_estimator(
        clf, X, sample_indices=[0, 2, 3], y=y, events=events, n_steps=4
    )
    shares = disp.images_[0].get_array()
    assert shares.shape == (3, X.shape[1])
    np.testing.assert_allclose(np.asarray(shares).sum(axis=1), 1.0, rtol=1e-5)
    assert disp.events_ and disp.colorbar_ is not None
    panels = RelevanceDisplay.from_estimator(clf, X, sample_indices=[1, 4], view="features")
    assert len(panels.ax_) == 2 and len(panels.images_) == 2
    with pytest.raises(ValueError, match="view"):
        RelevanceDisplay.from_estimator(clf, X, view="heatmap")
    with pytest.raises(ValueError, match="sample_indices"):
        RelevanceDisplay.from_estimator(clf, X, sample_indices=[len(X)])
    with pytest.raises(ValueError, match="events"):
        RelevanceDisplay(disp.relevance, events=events[:2]).plot()
    plt.close("all")


def test_ensembles_and_fine_labels():
    X, y = make_sequence_classification(
        n_samples=80, n_timesteps=12, n_features=3, event_length=2, random_state=0
    )
    ensemble = SeqAttentionClassifier(**tiny(n_estimators=2)).fit(X, y)
    R = relevance(ensemble, X[:3], n_steps=4)
    assert R.shape == (3, 12, 3) and np.isfinite(R).all()
    y_fine = y * 2 + (np.arange(len(y)) % 2)  # two fine labels inside each class
    fine = SeqAttentionClassifier(**tiny()).fit(X, y, y_fine=y_fine)
    R = relevance(fine, X[:3], n_steps=4, target=1)
    assert R.shape == (3, 12, 3) and np.isfinite(R).all()
