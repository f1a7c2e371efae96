"""The ``seqattn`` command line, run in-process through ``main`` (and once as a process)."""

import csv
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from _helpers import tiny

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.cli import _parse_params, _parse_value, main
from sklearn_seqattn.datasets import make_sequence_classification

# The table's settings as command-line arguments: --param dense_units=4 --param ...
TINY = [arg for k, v in tiny(early_stopping=True).items() for arg in ("--param", f"{k}={v}")]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    X, y = make_sequence_classification(n_samples=60, n_timesteps=20, n_features=3, random_state=0)
    labels = np.array(["no", "yes"])[y]  # string labels travel through the CSV
    path = tmp_path_factory.mktemp("data") / "train.npz"
    np.savez(path, X=X, y=labels, feats=X, target=labels)
    return path, X, labels


@pytest.fixture(scope="module")
def model_dir(data_file, tmp_path_factory):
    path, _, _ = data_file
    out = tmp_path_factory.mktemp("model") / "model"
    assert main(["fit", str(path), "--out", str(out), "--quiet", *TINY]) == 0
    return out


@pytest.mark.slow
def test_help_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_seqattn", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    for command in ("fit", "predict", "info", "demo"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("128", 128),
        ("5e-4", 5e-4),
        ("true", True),
        ("False", False),
        ("null", None),
        ("None", None),
        ("balanced", "balanced"),
        ('"cosine"', "cosine"),
        ("[1, 2]", [1, 2]),
    ],
)
def test_values_are_json_literals_or_text(text, expected):
    assert _parse_value("x", text) == expected


def test_special_values():
    assert _parse_value("optimizer", "RMSprop") is torch.optim.RMSprop
    assert _parse_value("optimizer", "torch.optim.SGD") is torch.optim.SGD
    assert _parse_value("class_weight", '{"0": 2, "1": 0.5}') == {0: 2, 1: 0.5}
    assert _parse_params(["n_attention_layers=2", "lr_schedule=plateau"]) == {
        "n_attention_layers": 2,
        "lr_schedule": "plateau",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["lstm_unit=3"], "Did you mean 'lstm_units'?"),
        (["lstm_units"], "expects NAME=VALUE"),
        (["lstm_units=abc"], "invalid parameter: lstm_units must be an int"),
        (["dropout=1.5"], "invalid parameter: dropout must be in"),
        (["optimizer=Adamm"], "not an optimizer class"),
        (["callbacks=[]"], "takes Python objects"),
    ],
)
def test_bad_params_exit_2_without_traceback(data_file, tmp_path, capsys, params, message):
    path, _, _ = data_file
    argv = ["fit", str(path), "--out", str(tmp_path / "m")]
    for p in params:
        argv += ["--param", p]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_input_errors_exit_2(data_file, tmp_path, capsys):
    path, _, _ = data_file
    out = str(tmp_path / "m")
    assert main(["fit", str(tmp_path / "missing.npz"), "--out", out]) == 2
    assert "data file not found" in capsys.readouterr().err
    assert main(["fit", str(path), "--out", out, "--x-key", "inputs"]) == 2
    err = capsys.readouterr().err
    assert "no array named 'inputs'" in err and "X, y, feats, target" in err
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    assert main(["fit", str(single), "--out", out]) == 2
    assert "single array" in capsys.readouterr().err
    not_npz = tmp_path / "bad.npz"
    not_npz.write_text("not numpy")
    assert main(["fit", str(not_npz), "--out", out]) == 2
    assert "could not read" in capsys.readouterr().err
    bad_shape = tmp_path / "bad_shape.npz"
    np.savez(bad_shape, X=np.zeros((4, 2, 2, 2)), y=[0, 1, 0, 1])
    assert main(["fit", str(bad_shape), "--out", out]) == 2
    assert "must be a 3-D array" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nowhere"), str(path)]) == 2
    assert "model folder not found" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "nowhere")]) == 2
    assert main(["info", str(tmp_path)]) == 2  # a folder without a saved model
    assert "config.json" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["fit"]) == 2
    assert main(["train", "x.npz"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_fit_predict_info_round_trip(model_dir, data_file, tmp_path, capsys):
    path, X, labels = data_file
    preds = tmp_path / "preds.csv"
    assert main(["predict", str(model_dir), str(path), "--out", str(preds)]) == 0
    with open(preds, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["prediction", "proba_no", "proba_yes"]
    assert len(rows) == 1 + len(X)
    clf = SeqAttentionClassifier.load(model_dir)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(np.array(rows[1:])[:, 1:].astype(float), proba, atol=1e-5)
    assert [r[0] for r in rows[1:]] == clf.predict(X).tolist()
    assert set(clf.predict(X)) <= set(labels)

    capsys.readouterr()
    assert main(["info", str(model_dir)]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["params"]["lstm_units"] == 4 and config["params"]["max_epochs"] == 2
    assert config["params"]["verbose"] == 0  # --quiet is not a setting of the model
    assert config["classes"]["values"] == ["no", "yes"]
    assert config["n_features_in"] == 3 and config["n_iter"] == 2


def test_predict_to_stdout_and_other_keys(model_dir, data_file, tmp_path, capsys):
    path, X, _ = data_file
    capsys.readouterr()
    assert main(["predict", str(model_dir), str(path), "--x-key", "feats"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction,proba_no,proba_yes" and len(lines) == 1 + len(X)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, X=X[:, :, :2])
    assert main(["predict", str(model_dir), str(wrong)]) == 2
    assert "2 features per step" in capsys.readouterr().err


def test_fit_prints_epochs_and_honours_keys(data_file, tmp_path, capsys):
    path, _, _ = data_file
    out = tmp_path / "m"
    argv = ["fit", str(path), "--out", str(out), "--x-key", "feats", "--y-key", "target"]
    assert main([*argv, *TINY]) == 0
    printed = capsys.readouterr().out
    assert "train_loss" in printed and "valid_loss" in printed  # the epoch table
    assert f"saved to {out}" in printed
    assert SeqAttentionClassifier.load(out).n_iter_ == 2


def test_fit_prints_the_verdict_and_warns_in_one_line(data_file, tmp_path, capsys):
    path, _, _ = data_file
    out = tmp_path / "m"
    argv = ["fit", str(path), "--out", str(out), "--quiet", "--param", "lr=1e-9"]
    assert main([*argv, *TINY]) == 0
    captured = capsys.readouterr()
    verdict = [line for line in captured.out.splitlines() if line.startswith("Fit verdict: ")]
    assert len(verdict) == 1 and "did not" not in verdict[0]
    assert verdict[0].split(": ")[1].startswith(("chance", "collapsed"))
    assert "warning: the model did not learn" in captured.err
    assert "ChanceLevelWarning" not in captured.err  # no Python warning text
    config = json.loads((out / "config.json").read_text())
    assert config["fit_diagnosis"]["verdict"] in ("chance", "collapsed")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_demo_runs(capsys):
    argv = ["demo", "--n-samples", "60", "--max-epochs", "1", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Balanced accuracy" in printed and "Fit verdict: " in printed


def test_progress_bar_is_not_saved(data_file, tmp_path, capsys):
    path, _, _ = data_file
    out = tmp_path / "m"
    assert main(["fit", str(path), "--out", str(out), "--progress-bar", *TINY]) == 0
    assert "it/s" in capsys.readouterr().err  # the bar, on stderr
    config = json.loads((out / "config.json").read_text())
    assert "callbacks" not in config["params"] and config["params"]["verbose"] == 0


def test_hostile_npz_files_exit_2_in_one_line(tmp_path, capsys):
    import zipfile

    huge = tmp_path / "huge.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1,), np.float32))
    header["shape"] = (10**6, 10**4, 10**3)  # 40 TB declared, a few bytes stored
    with zipfile.ZipFile(huge, "w") as archive, archive.open("X.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(b"\0" * 16)
    assert main(["fit", str(huge), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "declares shape (1000000, 10000, 1000)" in err and "Traceback" not in err

    good = tmp_path / "good.npz"
    np.savez(good, X=np.arange(4000, dtype=np.float32).reshape(40, 10, 10), y=np.arange(40) % 2)
    raw = bytearray(good.read_bytes())
    raw[200] ^= 0xFF  # flip bits inside the first array's data: the CRC no longer matches
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(bytes(raw))
    assert main(["fit", str(corrupt), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err


def test_settings_that_would_not_fit_in_memory_exit_2(data_file, tmp_path, capsys):
    path, _, _ = data_file
    argv = ["fit", str(path), "--out", str(tmp_path / "m"), "--param", "lstm_units=1000000"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the network would have" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, match",
    [
        (["demo", "--n-samples", "1"], "--n-samples must be at least 20"),
        (["demo", "--max-epochs", "0"], "--max-epochs must be at least 1"),
    ],
)
def test_demo_arguments_are_checked(argv, match, capsys):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_demo_help_documents_its_options(capsys):
    assert main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    assert "number of generated sequences" in out and "epoch budget" in out


def test_broken_model_folder_exits_2(tmp_path, capsys, data_file):
    path, _, _ = data_file
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    assert main(["predict", str(folder), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqattn predict: error: could not load") and "Traceback" not in err


def test_keras_style_class_weight_dict(data_file, tmp_path, capsys):
    from sklearn_seqattn.cli import _parse_value

    assert _parse_value("class_weight", "{0: 1.76, 1: 0.70}") == {0: 1.76, 1: 0.70}
    assert _parse_value("class_weight", '{"0": 2}') == {0: 2}  # JSON keys are strings
    assert _parse_value("scoring", "{__import__('os')}") == "{__import__('os')}"  # no code run
    path, _, _ = data_file  # labels "no" and "yes"
    out = tmp_path / "m"
    weights = "{'no': 1.76, 'yes': 0.70}"
    argv = ["fit", str(path), "--out", str(out), "--quiet", "--param", f"class_weight={weights}"]
    assert main([*argv, *TINY]) == 0
    np.testing.assert_allclose(SeqAttentionClassifier.load(out).class_weight_, [1.76, 0.70])
    bad = ["fit", str(path), "--out", str(out), "--param", "class_weight={'no': -1.0}"]
    assert main([*bad, *TINY]) == 2
    assert "class_weight values must be finite and non-negative" in capsys.readouterr().err


@pytest.fixture(scope="module")
def thresholded_model_dir(data_file, tmp_path_factory):
    """A binary model saved with decision_threshold=0.9: predict differs from the argmax."""
    from sklearn_seqattn._diagnosis import ChanceLevelWarning

    _, X, labels = data_file
    clf = SeqAttentionClassifier(**tiny(n_conv_layers=0, n_init=1, decision_threshold=0.9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChanceLevelWarning)  # two epochs learn little
        clf.fit(X, labels)
    return clf.save(tmp_path_factory.mktemp("thresholded") / "model")


def test_predict_applies_the_decision_threshold(thresholded_model_dir, data_file, tmp_path):
    path, X, _ = data_file
    preds = tmp_path / "preds.csv"
    assert main(["predict", str(thresholded_model_dir), str(path), "--out", str(preds)]) == 0
    with open(preds, newline="") as f:
        rows = list(csv.reader(f))[1:]
    clf = SeqAttentionClassifier.load(thresholded_model_dir)
    assert clf.threshold_ == 0.9
    argmax = clf.classes_[clf.predict_proba(X).argmax(axis=1)]
    assert (clf.predict(X) != argmax).any()  # else this test could not tell them apart
    assert [r[0] for r in rows] == clf.predict(X).tolist()
    np.testing.assert_allclose(np.array(rows)[:, 1:].astype(float), clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("content", ["notes.txt", "a file"])
def test_fit_refuses_an_occupied_out_before_training(
    data_file, tmp_path, capsys, monkeypatch, content
):
    def no_fit(self, *args, **kwargs):
        raise AssertionError("fit ran although --out would be refused")

    monkeypatch.setattr(SeqAttentionClassifier, "fit", no_fit)
    path, _, _ = data_file
    if content == "a file":
        out = tmp_path / "model"
        out.write_text("mine")
        expected = "existing file"
    else:
        out = tmp_path / "results"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        expected = "notes.txt"
    assert main(["fit", str(path), "--out", str(out), "--quiet", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seqattn fit: error: cannot save the model to {out}")
    assert expected in err and "Traceback" not in err
    assert out.read_text() == "mine" if content == "a file" else (out / "notes.txt").exists()


def test_fit_refuses_an_out_that_names_no_folder(data_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(SeqAttentionClassifier, "fit", lambda *a, **k: pytest.fail("fit ran"))
    monkeypatch.chdir(tmp_path)
    path, _, _ = data_file
    assert main(["fit", str(path), "--out", ".", *TINY]) == 2
    assert "--out must name a folder" in capsys.readouterr().err


def test_fit_may_replace_a_saved_model(model_dir, data_file, tmp_path, capsys):
    import shutil

    path, _, _ = data_file
    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    assert main(["fit", str(path), "--out", str(out), "--quiet", *TINY]) == 0
    assert SeqAttentionClassifier.load(out).n_iter_ == 2


@pytest.mark.slow
def test_predict_into_a_pipe_closed_early_exits_quietly(model_dir, data_file, tmp_path):
    _, X, _ = data_file
    many = tmp_path / "many.npz"
    # Far more CSV than a pipe buffers (64 KiB on Linux), so writing meets the closed pipe.
    np.savez(many, X=np.tile(X, (200, 1, 1)))
    with subprocess.Popen(
        [sys.executable, "-m", "sklearn_seqattn", "predict", str(model_dir), str(many)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout.readline() == b"prediction,proba_no,proba_yes\n"
        process.stdout.close()  # as `| head -1` does
        err = process.stderr.read().decode()
        status = process.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert err == ""
    assert status == 1
