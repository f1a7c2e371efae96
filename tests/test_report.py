"""fit_report: each verdict on real arrays, baselines, text, dict and plot forms, the CLI."""

import dataclasses
import json
import warnings

import numpy as np
import pytest
from _helpers import add_padding
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_seqattn import FitReport, SeqAttentionClassifier, SequenceScaler, fit_report
from sklearn_seqattn._validation import check_sequences
from sklearn_seqattn.cli import main
from sklearn_seqattn.datasets import make_event_order_classification, make_sequence_classification
from sklearn_seqattn.report import BASELINES, SUGGESTIONS, VERDICTS
from sklearn_seqattn.report import _baselines as baselines_module
from sklearn_seqattn.report._baselines import binned_features, fit_baselines, order_blind_features
from sklearn_seqattn.report._evidence import CurveEvidence
from sklearn_seqattn.report._suggestions import Facts, suggest
from sklearn_seqattn.report._verdict import Evidence, decide_verdict

LINEAR = ("order_blind", "binned")


def slow_contour(n, n_timesteps, n_features, amplitude, seed):
    """A full sine period over each sequence on 4 features: +sin for class 0, -sin for 1."""
    rng = np.random.RandomState(seed)
    y = rng.permutation(np.arange(n) % 2)
    lengths = rng.randint(n_timesteps // 2, n_timesteps + 1, size=n)
    X = rng.standard_normal((n, n_timesteps, n_features)).astype(np.float32)
    phase = np.sin(2 * np.pi * np.arange(n_timesteps)[None, :] / lengths[:, None])
    X[:, :, :4] += (amplitude * phase * np.where(y == 0, 1.0, -1.0)[:, None])[:, :, None]
    X[np.arange(n_timesteps)[None, :] >= lengths[:, None]] = 0.0
    return X, y


def label_noise(seed=0):
    """A level shift on feature 0 decides the class; 20% of the labels flipped."""
    rng = np.random.RandomState(seed)
    n, t = 500, 30
    y = rng.permutation(np.arange(n) % 2)
    lengths = rng.randint(t // 2, t + 1, size=n)
    X = rng.standard_normal((n, t, 3)).astype(np.float32)
    X[:, :, 0] += np.where(y == 1, 3.0, -3.0)[:, None].astype(np.float32)
    X[np.arange(t)[None, :] >= lengths[:, None]] = 0.0
    return X, np.where(rng.rand(n) < 0.2, 1 - y, y)


def _report(X, y, n_train, baselines=LINEAR, **params):
    clf = SeqAttentionClassifier(random_state=0, n_init=1, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:n_train], y[:n_train])
    report = fit_report(
        clf, X[n_train:], y[n_train:], X_train=X[:n_train], y_train=y[:n_train], baselines=baselines
    )
    return clf, report


@pytest.fixture(scope="module")
def learned():
    X, y = make_event_order_classification(
        n_samples=300,
        n_timesteps=40,
        n_features=8,
        weights=None,
        min_length=30,
        strength=3.0,
        random_state=0,
    )
    clf, report = _report(X, y, 220, dense_units=16, lstm_units=16, max_epochs=25)
    return X, y, clf, report


@pytest.fixture(scope="module")
def plateau():
    X, y = label_noise()
    clf, report = _report(
        X, y, 350, dense_units=2, lstm_units=2, max_epochs=10, early_stopping=True
    )
    return X, y, clf, report


# ------------------------------------------------------------------ each verdict, real arrays
def test_collapsed_when_weight_decay_erases_the_weights():
    X, y = make_sequence_classification(
        n_samples=200, n_timesteps=20, n_features=4, signal=2.0, random_state=0
    )
    _, report = _report(X, y, 120, dense_units=4, lstm_units=4, max_epochs=3, weight_decay=100.0)
    assert report.verdict == "collapsed"
    assert report.predicted_share == 1.0
    assert any("dropout=0.1, weight_decay=1e-4" == s.change for s in report.suggestions)


def test_chance_when_labels_are_random():
    X, _ = make_sequence_classification(
        n_samples=400, n_timesteps=20, n_features=4, signal=2.0, random_state=0
    )
    y = np.random.RandomState(0).randint(0, 2, len(X))
    # The dense front end does not memorise the random labels in 15 epochs (the plain stack
    # that "auto" gives 4 features does: "overfitting", the verdict that comes first).
    _, report = _report(
        X, y, 300, n_conv_layers=0, dense_units=16, lstm_units=16, max_epochs=15,
        early_stopping=True,
    )  # fmt: skip
    assert report.verdict == "chance"
    assert report.balanced_accuracy <= report.chance_threshold


def test_overfitting_on_a_tiny_training_set():
    X, y = make_event_order_classification(
        n_samples=230,
        n_timesteps=40,
        n_features=10,
        weights=None,
        min_length=20,
        strength=2.5,
        random_state=0,
    )
    _, report = _report(X, y, 30, dense_units=16, lstm_units=16, max_epochs=40)
    assert report.verdict == "overfitting"
    assert report.gap > 0.1
    assert report.curves.valid_loss_rising is None  # no split of 30 sequences: the gap decides


def test_underfitting_when_the_network_trails_the_binned_baseline():
    X, y = slow_contour(400, 40, 8, amplitude=0.3, seed=0)
    _, report = _report(X, y, 300, n_conv_layers=0, lstm_units=2, dense_units=2, max_epochs=30)
    assert report.verdict == "underfitting"
    assert report.best_baseline.name == "binned"
    assert report.best_baseline.balanced_accuracy > report.balanced_accuracy + 0.02
    changes = [s.change for s in report.suggestions]
    assert "lstm_units=64, dense_units=64" in changes


def test_plateau_at_a_label_noise_ceiling(plateau):
    _, _, _, report = plateau
    assert report.verdict == "plateau"
    assert report.balanced_accuracy <= report.best_baseline.balanced_accuracy
    assert report.curves.flat


def test_learned_when_the_network_beats_every_baseline(learned):
    _, _, _, report = learned
    assert report.verdict == "learned"
    assert all(report.balanced_accuracy > b.balanced_accuracy for b in report.baselines)


# --------------------------------------------------------------------- the verdict's rules
_CURVES = st.builds(
    CurveEvidence,
    n_epochs=st.integers(1, 200),
    max_epochs=st.integers(1, 200),
    best_epoch=st.none() | st.integers(1, 200),
    has_validation=st.booleans(),
    stopped_early=st.booleans(),
    window=st.integers(1, 10),
    recent_gain=st.none() | st.floats(-1, 1),
    flat=st.none() | st.booleans(),
    valid_loss_rise=st.none() | st.floats(-1, 5),
    valid_loss_rising=st.none() | st.booleans(),
)
_SCORE = st.floats(0, 1)


@settings(max_examples=300, deadline=None)
@given(
    score=_SCORE,
    train=st.none() | _SCORE,
    baselines=st.lists(_SCORE, min_size=1, max_size=3),
    share=st.floats(0.5, 1),
    diagnosis=st.sampled_from([None, "learned", "inconclusive", "chance", "collapsed"]),
    curves=_CURVES,
)
def test_never_plateau_when_beating_every_baseline(
    score, train, baselines, share, diagnosis, curves
):
    names = ["order_blind", "binned", "minirocket"][: len(baselines)]
    evidence = Evidence(
        score=score,
        train_score=train,
        chance=0.5,
        threshold=0.6,
        predicted_share=share,
        true_share=0.5,
        diagnosis=diagnosis,
        curves=curves,
        baselines=dict(zip(names, baselines, strict=True)),
        baseline_train=dict(zip(names, baselines, strict=True)),
    )
    verdict, reasons = decide_verdict(evidence)
    assert verdict in VERDICTS and reasons
    if score > max(baselines):
        assert verdict != "plateau"
    if verdict == "plateau":
        assert score <= max(baselines) and curves.flat


def _at_chance(train_score, baselines):
    curves = CurveEvidence(
        n_epochs=40,
        max_epochs=40,
        best_epoch=40,
        has_validation=True,
        stopped_early=False,
        window=5,
        recent_gain=0.0,
        flat=True,
        valid_loss_rise=None,
        valid_loss_rising=False,
    )
    return Evidence(
        score=0.52,
        train_score=train_score,
        chance=0.5,
        threshold=0.57,
        predicted_share=0.6,
        true_share=0.5,
        diagnosis="chance",
        curves=curves,
        baselines=baselines,
        baseline_train=baselines,
    )


@pytest.mark.parametrize(
    ("train_score", "baselines", "expected"),
    [
        # A cheap model finds the signal; the network fits not even its training data.
        (0.58, {"order_blind": 0.47, "binned": 0.99}, "underfitting"),
        # No baseline beats chance either: nothing says the data holds a signal.
        (0.58, {"order_blind": 0.49, "binned": 0.55}, "chance"),
        # No baselines ran.
        (0.58, {}, "chance"),
        # The network fits its training data but not new data: no under-fitting.
        (0.95, {"order_blind": 0.47, "binned": 0.99}, "chance"),
    ],
)
def test_a_network_at_chance_where_a_baseline_is_not_underfits(train_score, baselines, expected):
    verdict, reasons = decide_verdict(_at_chance(train_score, baselines))
    assert verdict == expected
    if expected == "underfitting":
        assert "binned baseline reaches 0.990" in reasons[0]
        assert "training balanced accuracy 0.580 is low" in reasons[1]


def test_a_fit_diagnosed_as_a_mismatch_underfits_whatever_the_scores():
    evidence = dataclasses.replace(
        _at_chance(0.95, {"order_blind": 0.47, "binned": 0.99}), diagnosis="mismatch"
    )
    verdict, reasons = decide_verdict(evidence)
    assert verdict == "underfitting"
    assert "'mismatch'" in reasons[0] and "batch normalisation" in reasons[0]


def test_a_real_model_beating_every_baseline_is_not_a_plateau(learned):
    _, _, _, report = learned
    assert report.curves.flat is not None
    assert report.verdict != "plateau"


# -------------------------------------------------------------------------- the baselines
def test_baselines_ignore_padding():
    X, y = slow_contour(160, 30, 5, amplitude=1.0, seed=1)
    plain = check_sequences(X)
    padded = check_sequences(add_padding(X, 9))
    pre = check_sequences(add_padding(X, 4, side="pre"))
    np.testing.assert_allclose(order_blind_features(padded), order_blind_features(plain))
    np.testing.assert_allclose(binned_features(padded), binned_features(plain))
    np.testing.assert_allclose(binned_features(pre), binned_features(plain))
    first = fit_baselines(
        LINEAR, plain.take(np.arange(100)), y[:100], plain.take(np.arange(100, 160)), y[100:]
    )
    again = fit_baselines(
        LINEAR, padded.take(np.arange(100)), y[:100], pre.take(np.arange(100, 160)), y[100:]
    )
    for a, b in zip(first[0], again[0], strict=True):
        assert a.balanced_accuracy == b.balanced_accuracy
        assert a.train_balanced_accuracy == b.train_balanced_accuracy


def test_report_scores_ignore_padding(learned):
    X, y, clf, report = learned
    again = fit_report(
        clf,
        add_padding(X[220:], 5),
        y[220:],
        X_train=add_padding(X[:220], 3),
        y_train=y[:220],
        baselines=LINEAR,
    )
    assert again.balanced_accuracy == report.balanced_accuracy
    assert [b.balanced_accuracy for b in again.baselines] == [
        b.balanced_accuracy for b in report.baselines
    ]


def test_features_match_a_naive_loop():
    X, _ = slow_contour(20, 17, 3, amplitude=1.0, seed=2)
    seqs = check_sequences(X)
    blind, binned = order_blind_features(seqs), binned_features(seqs, n_bins=5)
    for i, length in enumerate(seqs.lengths):
        steps = seqs.data[i, :length].astype(np.float64)
        np.testing.assert_allclose(blind[i], np.r_[steps.mean(0), steps.std(0)], atol=1e-6)
        edges = [
            (k * length // 5, max((k + 1) * length // 5, k * length // 5 + 1)) for k in range(5)
        ]
        expected = np.concatenate([steps[a:b].mean(0) for a, b in edges])
        np.testing.assert_allclose(binned[i], expected, atol=1e-6)


def test_sequences_shorter_than_the_bins():
    seqs = check_sequences([np.array([[1.0], [3.0]]), np.array([[2.0]])])
    np.testing.assert_allclose(binned_features(seqs, 5)[1], [2.0] * 5)
    np.testing.assert_allclose(binned_features(seqs, 5)[0], [1, 1, 1, 3, 3])


def test_minirocket_runs_and_leaves_torch_threads_alone(plateau):
    pytest.importorskip("aeon")
    import torch

    X, y, clf, _ = plateau
    threads = torch.get_num_threads()
    report = fit_report(
        clf, X[350:], y[350:], X_train=X[:350], y_train=y[:350], baselines=("minirocket",)
    )
    assert [b.name for b in report.baselines] == ["minirocket"]
    assert torch.get_num_threads() == threads


def test_minirocket_skipped_silently_without_aeon(plateau, monkeypatch):
    X, y, clf, _ = plateau
    monkeypatch.setattr(baselines_module, "aeon_available", lambda: False)
    report = fit_report(clf, X[350:], y[350:], X_train=X[:350], y_train=y[:350])
    assert [b.name for b in report.baselines] == list(LINEAR)
    assert "aeon" in report.skipped_baselines["minirocket"]


def test_without_training_data_no_baseline_runs(plateau):
    X, y, clf, _ = plateau
    report = fit_report(clf, X[350:], y[350:])
    assert report.baselines == () and report.train_balanced_accuracy is None
    assert set(report.skipped_baselines) == set(BASELINES)
    assert report.verdict in ("learned", "chance", "collapsed")


# ------------------------------------------------------------------------- forms and errors
def test_text_and_dict_forms(learned):
    _, _, _, report = learned
    text = str(report)
    assert text.startswith("Fit report: LEARNED")
    for name in LINEAR:
        assert name in text
    assert "Curves:" in text and "Fit diagnosis:" in text
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["verdict"] == "learned"
    assert [b["name"] for b in data["baselines"]] == list(LINEAR)
    assert len(data["history"]["train_loss"]) == report.curves.n_epochs


def test_suggestions_quote_measurements(plateau):
    _, _, _, report = plateau
    assert report.suggestions
    text = str(report)
    for suggestion in report.suggestions:
        assert suggestion.change in text
    for entry in SUGGESTIONS:
        assert any(c.isdigit() for c in entry.gain), entry.change
        assert entry.source.startswith("docs/"), entry.change
        assert set(entry.verdicts) <= set(VERDICTS)


def test_suggestions_already_in_effect_are_left_out():
    facts = Facts(
        n_features=20,
        max_length=60,
        n_train=400,
        minority_share=0.5,
        best_baseline="binned",
        # n_init_ counts every network trained: 3 initialisations of each of 3 members.
        settings={"n_init": 9, "n_estimators": 3, "early_stopping": True, "front_end": "none"},
    )
    changes = [s.change for s in suggest("plateau", facts)]
    assert "n_init=3" not in changes and "n_estimators=3" not in changes
    fresh = Facts(20, 60, 400, 0.5, "binned", {"n_init": 1, "n_estimators": 1})
    assert "n_init=3" in [s.change for s in suggest("plateau", fresh)]


def test_per_series_scaling_is_questioned_only_where_it_was_used():
    facts = Facts(40, 30, 1000, 0.5, "order_blind", {"standardize": "per_series"})
    changes = [s.change for s in suggest("underfitting", facts)]
    assert "standardize=True" in changes and 'standardize="per_series"' not in changes
    assert "standardize=True" not in [s.change for s in suggest("learned", facts)]


def test_per_series_scaling_is_suggested_for_steps_of_several_features_only():
    for width in (136, 12):
        facts = Facts(width, 100, 1000, 0.3, "binned", {"standardize": True})
        changes = [s.change for s in suggest("plateau", facts)]
        assert 'standardize="per_series"' in changes and "standardize=True" not in changes
    narrow = Facts(3, 100, 1000, 0.3, "binned", {"standardize": True})
    assert 'standardize="per_series"' not in [s.change for s in suggest("plateau", narrow)]


def test_the_plain_stack_is_suggested_for_dense_frames_of_the_measured_widths():
    def changes(n_features, front_end):
        facts = Facts(n_features, 30, 270, 0.1, "binned", {"front_end": front_end})
        return [s.change for s in suggest("plateau", facts)]

    assert "front_end='conv'" in changes(24, "none")
    assert "front_end='conv'" in changes(40, "none")
    assert "front_end='conv'" not in changes(24, "conv")  # already in effect
    assert "front_end='conv'" not in changes(136, "none")  # it memorised faster there
    assert "front_end='conv'" not in changes(1, "none")  # the multi-scale front end's width
    learned = Facts(24, 30, 270, 0.1, "binned", {"front_end": "none"})
    assert "front_end='conv'" not in [s.change for s in suggest("learned", learned)]


def test_plot_draws_curves_and_bars(learned):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, _, _, report = learned
    axes = report.plot()
    assert len(axes) == 2
    assert len(axes[1].patches) == 1 + len(report.baselines)
    labels = axes[0].get_legend_handles_labels()[1]
    assert "train loss" in labels
    _, given_axes = plt.subplots(1, 2)
    assert report.plot(ax=given_axes)[0] is given_axes[0]
    with pytest.raises(ValueError, match="two Axes"):
        report.plot(ax=[given_axes[0]])
    plt.close("all")


def test_pipeline_and_errors(plateau):
    X, y, _, _ = plateau
    pipe = make_pipeline(
        SequenceScaler(), SeqAttentionClassifier(lstm_units=2, dense_units=2, max_epochs=2)
    )
    pipe.fit(X[:350], y[:350])
    report = fit_report(pipe, X[350:], y[350:], X_train=X[:350], y_train=y[:350], baselines=LINEAR)
    assert isinstance(report, FitReport)
    with pytest.raises(ValueError, match="baselines"):
        fit_report(pipe, X[350:], y[350:], baselines=("rocket",))
    with pytest.raises(TypeError, match="baselines"):
        fit_report(pipe, X[350:], y[350:], baselines=3)
    with pytest.raises(ValueError, match="y_train"):
        fit_report(pipe, X[350:], y[350:], X_train=X[:350])
    with pytest.raises(ValueError, match="y_val"):
        fit_report(pipe, X[350:], y[351:])
    with pytest.raises(ValueError, match="features per step"):
        fit_report(pipe, X[350:, :, :2], y[350:])
    with pytest.raises(NotFittedError):
        fit_report(SeqAttentionClassifier(), X[350:], y[350:])


# ---------------------------------------------------------------------------- command line
@pytest.fixture(scope="module")
def report_files(plateau, tmp_path_factory):
    X, y, clf, _ = plateau
    folder = tmp_path_factory.mktemp("report")
    clf.save(folder / "model")
    np.savez(folder / "train.npz", X=X[:350], y=y[:350])
    np.savez(folder / "val.npz", X=X[350:], y=y[350:])
    np.savez(folder / "narrow.npz", X=X[350:, :, :2], y=y[350:])
    return folder


def test_cli_report_prints_the_text_form(report_files, capsys):
    folder = report_files
    args = ["report", str(folder / "model"), str(folder / "train.npz"), str(folder / "val.npz")]
    assert main([*args, "--baselines", "order_blind,binned"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Fit report: PLATEAU")
    assert main([*args, "--baselines", "order_blind", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] in VERDICTS and [b["name"] for b in data["baselines"]] == ["order_blind"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "missing"}, "model folder not found"),
        ({"val": "missing.npz"}, "data file not found"),
        ({"extra": ["--x-key", "nope"]}, "no array named 'nope'"),
        ({"extra": ["--baselines", "rocket"]}, "baselines"),
        ({"val": "narrow.npz"}, "features per step"),
    ],
)
def test_cli_report_refuses_bad_input(report_files, capsys, change, message):
    folder = report_files
    model = str(folder / change.get("model", "model"))
    val = str(folder / change.get("val", "val.npz"))
    status = main(["report", model, str(folder / "train.npz"), val, *change.get("extra", [])])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1


def _ragged(X):
    lengths = (~(X == 0).all(axis=2)).sum(axis=1)
    return [x[:n] for x, n in zip(X, lengths, strict=True)]


def test_ragged_lists_and_nan_padding_give_the_same_report(plateau):
    X, y, clf, report = plateau
    ragged = fit_report(
        clf, _ragged(X[350:]), y[350:], X_train=_ragged(X[:350]), y_train=y[:350], baselines=LINEAR
    )
    assert ragged.balanced_accuracy == report.balanced_accuracy

    def scores(r):
        return [(b.name, b.balanced_accuracy, b.train_balanced_accuracy) for b in r.baselines]

    assert scores(ragged) == scores(report)
    X_nan = np.where((X == 0).all(axis=2, keepdims=True), np.nan, X)
    nan_clf = SeqAttentionClassifier(
        dense_units=2, lstm_units=2, max_epochs=3, mask_value=np.nan, random_state=0
    ).fit(X_nan[:350], y[:350])
    zero_clf = SeqAttentionClassifier(
        dense_units=2, lstm_units=2, max_epochs=3, random_state=0
    ).fit(X[:350], y[:350])
    nan_report = fit_report(
        nan_clf, X_nan[350:], y[350:], X_train=X_nan[:350], y_train=y[:350], baselines=LINEAR
    )
    zero_report = fit_report(
        zero_clf, X[350:], y[350:], X_train=X[:350], y_train=y[:350], baselines=LINEAR
    )
    assert nan_report.balanced_accuracy == zero_report.balanced_accuracy
    assert [b.balanced_accuracy for b in nan_report.baselines] == [
        b.balanced_accuracy for b in zero_report.baselines
    ]


def test_three_classes():
    X, y = make_sequence_classification(
        n_samples=240, n_timesteps=30, n_features=4, n_classes=3, signal=2.0, random_state=0
    )
    _, report = _report(X, y, 180, dense_units=8, lstm_units=8, max_epochs=3)
    assert report.chance_level == pytest.approx(1 / 3)
    assert report.verdict in VERDICTS
    assert len(report.baselines) == 2
