"""Attention and history displays, drawn under the Agg backend."""

import builtins
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from _helpers import tiny
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.pipeline import FunctionTransformer, make_pipeline

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.plotting import AttentionDisplay, HistoryDisplay
from sklearn_seqattn.plotting._base import import_pyplot

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TINY = tiny(max_epochs=3, batch_size=32, early_stopping=True)


@pytest.fixture(scope="module")
def data():
    X, y, events = make_sequence_classification(
        n_samples=60, n_timesteps=24, n_features=3, return_events=True, random_state=0
    )
    return X, y, events


@pytest.fixture(scope="module")
def clf(data):
    X, y, _ = data
    return SeqAttentionClassifier(**TINY).fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_heatmap_has_one_image_and_zero_on_padding(clf, data):
    X, y, events = data
    idx = [0, 3, 5]
    disp = AttentionDisplay.from_estimator(clf, X, sample_indices=idx, y=y, events=events)
    assert disp.figure_ is disp.ax_.figure
    assert len(disp.ax_.images) == 1
    shown = disp.images_[0].get_array()
    assert shown.shape == (3, 24)
    padded = (X[idx] == 0).all(axis=2)
    assert padded.any()
    np.testing.assert_array_equal(shown[padded], 0.0)
    np.testing.assert_allclose(shown.sum(axis=1), 1.0, atol=1e-5)
    # One marker per planted event step, on the right rows.
    offsets = disp.events_[0].get_offsets()
    assert len(offsets) == events[idx].sum()
    labels = [t.get_text() for t in disp.ax_.get_yticklabels()]
    assert labels == [f"#{i} (y={y[i]})" for i in idx]
    assert disp.colorbar_ is not None


def test_default_shows_first_five_on_given_axes(clf, data):
    X, _, _ = data
    fig, ax = plt.subplots()
    disp = AttentionDisplay.from_estimator(clf, X, ax=ax, colorbar=False)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.images_[0].get_array().shape == (5, 24)
    assert disp.colorbar_ is None and disp.events_ == []


def test_input_view_one_panel_image_and_curve_per_sample(clf, data):
    X, _, events = data
    disp = AttentionDisplay.from_estimator(
        clf, X, sample_indices=[1, 2], view="input", events=events
    )
    assert len(disp.ax_) == 2
    assert len(disp.images_) == 2 and len(disp.lines_) == 2
    for i, (image, line) in enumerate(zip(disp.images_, disp.lines_, strict=True)):
        background = image.get_array()  # (features, time), padding blank
        padded = (X[[1, 2]][i] == 0).all(axis=1)
        assert background.shape == (3, 24)
        assert (
            np.ma.getmaskarray(background)[:, padded].all()
            or np.isnan(np.asarray(background)[:, padded]).all()
        )
        np.testing.assert_array_equal(line.get_ydata()[padded], 0.0)
    assert len(disp.events_) == events[[1, 2]].sum()


def test_relevance_view_zero_on_padding(clf, data):
    X, _, _ = data
    disp = AttentionDisplay.from_estimator(clf, X, sample_indices=[4], view="relevance")
    relevance = disp.images_[0].get_array()
    padded = (X[4] == 0).all(axis=1)
    np.testing.assert_array_equal(np.asarray(relevance)[:, padded], 0.0)
    assert disp.lines_ == []


def test_ragged_list_and_pipelines(data):
    X, y, _ = data
    lengths = (~(X == 0).all(axis=2)).sum(axis=1)
    ragged = [x[:n] for x, n in zip(X, lengths, strict=True)]
    pipe = make_pipeline(FunctionTransformer(lambda s: s), SeqAttentionClassifier(**TINY))
    pipe.fit(ragged, y)
    disp = AttentionDisplay.from_estimator(pipe, ragged, sample_indices=[0, 1])
    shown = disp.images_[0].get_array()
    assert shown.shape[0] == 2
    np.testing.assert_allclose(shown.sum(axis=1), 1.0, atol=1e-5)
    # imblearn samplers take 2-D data; the classifier reads a 2-D array as univariate
    # sequences (here 24 steps x 3 features flattened into 72 steps).
    flat = X.reshape(len(X), -1)
    imb = make_imb_pipeline(RandomOverSampler(random_state=0), SeqAttentionClassifier(**TINY))
    imb.fit(flat, y)
    disp = AttentionDisplay.from_estimator(imb, flat, sample_indices=[0])
    assert disp.images_[0].get_array().shape == (1, 72)


def test_history_lines(clf):
    disp = HistoryDisplay.from_estimator(clf)
    assert set(disp.lines_) == {"train_loss", "valid_loss", "valid_score", "best_epoch"}
    np.testing.assert_allclose(disp.lines_["train_loss"].get_ydata(), clf.history_[:, "train_loss"])
    assert len(disp.ax_.get_lines()) == 3  # two losses and the best-epoch line
    assert len(disp.score_ax_.get_lines()) == 1
    # The line shows the epoch the estimator restored, not a recomputed one.
    assert clf.best_epoch_ is not None
    assert disp.lines_["best_epoch"].get_xdata()[0] == clf.best_epoch_
    rows = list(clf.history_)
    restored = max(rows, key=lambda r: (r["valid_score"], -r["valid_loss"]))["epoch"]
    assert clf.best_epoch_ == restored


def test_history_without_validation_and_shared_axes(data):
    X, y, _ = data
    no_valid = SeqAttentionClassifier(**{**TINY, "early_stopping": False}).fit(X, y)
    _, ax = plt.subplots()
    first = HistoryDisplay.from_estimator(no_valid, ax=ax, name="a")
    assert set(first.lines_) == {"train_loss"} and first.score_ax_ is None
    with_valid = SeqAttentionClassifier(**TINY).fit(X, y)
    second = HistoryDisplay.from_estimator(with_valid, ax=ax, name="b")
    third = HistoryDisplay.from_estimator(with_valid, ax=ax, name="c", mark_best=False)
    assert second.score_ax_ is third.score_ax_
    assert len(ax.get_lines()) == 1 + 3 + 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "b: valid loss" in legend and "c: valid balanced_accuracy" in legend


def test_errors(clf, data):
    X, _, _ = data
    with pytest.raises(ValueError, match="view must be one of"):
        AttentionDisplay.from_estimator(clf, X, view="bars")
    with pytest.raises(ValueError, match="sample_indices"):
        AttentionDisplay.from_estimator(clf, X, sample_indices=[100])
    with pytest.raises(TypeError, match="SeqAttentionClassifier"):
        HistoryDisplay.from_estimator(object())
    with pytest.raises(ValueError, match="needs the input"):
        AttentionDisplay(np.ones((1, 3)) / 3).plot(view="input")
    with pytest.raises(ValueError, match="train_loss"):
        HistoryDisplay.from_history([{"epoch": 1}])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"sklearn-seqattn\[plot\]"):
        import_pyplot()


@pytest.mark.slow
def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, sklearn_seqattn.plotting; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False"
