"""Command line: ``seqattn`` / ``python -m sklearn_seqattn``.

Commands: ``fit`` (train on an ``.npz`` file and save the model folder),
``predict`` (write predictions and probabilities as CSV), ``info`` (print a
saved model's settings), ``report`` (a saved model against cheap baselines: a
verdict and measured next steps) and ``demo`` (train and report on generated
data).
Exit status: 0 on success, 2 for a usage or input error (message on stderr,
no traceback), 1 when the reader of standard output closed it early (as
``seqattn predict ... | head`` does; nothing is printed).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import math
import os
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2
# Standard output closed by its reader (Python's own status for EPIPE, see the signal docs).
EXIT_BROKEN_PIPE = 1
# The demo's test split (20%) needs members of both classes.
MIN_DEMO_SAMPLES = 20
# Arrays the command line reads (as declared in their .npy headers), and weights of a network.
MAX_ARRAY_BYTES = 8 * 2**30

# Constructor parameters that hold Python objects and cannot be given as text.
_OBJECT_PARAMS = ("callbacks", "accelerator")


class CLIError(Exception):
    """A usage or input problem, reported as one line on stderr with exit status 2."""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqattn",
        description="Attention-LSTM sequence classification (sklearn-seqattn).",
        epilog="Exit status: 0 on success, 2 for a usage or input error, 1 when standard "
        "output was closed early (e.g. by head).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        help="train a classifier on an .npz file and save it to a folder",
        description="Train a SeqAttentionClassifier on DATA (an .npz file holding the "
        "sequences X, shape (n_samples, n_timesteps, n_features) padded with mask_value, "
        "and the labels y) and save it to the folder --out.",
    )
    fit.add_argument("data", metavar="DATA.npz", help="training data")
    fit.add_argument("--out", required=True, metavar="MODEL_DIR", help="folder to save to")
    fit.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="constructor parameter, repeatable; VALUE is read as JSON where possible "
        "(128, 5e-4, true, null, ...), else as text; e.g. --param n_attention_layers=2 "
        "--param class_weight=balanced --param optimizer=RMSprop",
    )
    fit.add_argument("--x-key", default="X", help="name of the sequences array (default: X)")
    fit.add_argument("--y-key", default="y", help="name of the labels array (default: y)")
    progress = fit.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress-bar",
        action="store_true",
        help="also show a progress bar over the batches of each epoch",
    )
    progress.add_argument("--quiet", action="store_true", help="print no table of epochs")

    predict = commands.add_parser(
        "predict",
        help="predict with a saved classifier and write a CSV file",
        description="Write one CSV row per sequence of DATA: the predicted label "
        "('prediction', as the model's predict gives it, so a fitted decision_threshold "
        "applies) and the probability of each class ('proba_<label>').",
    )
    predict.add_argument("model", metavar="MODEL_DIR", help="folder written by 'seqattn fit'")
    predict.add_argument("data", metavar="DATA.npz", help="sequences to classify")
    predict.add_argument(
        "--out", default="-", metavar="PREDICTIONS.csv", help="output file (default: stdout)"
    )
    predict.add_argument("--x-key", default="X", help="name of the sequences array (default: X)")

    info = commands.add_parser(
        "info",
        help="print a saved classifier's settings",
        description="Print the saved configuration of a model folder (its config.json: "
        "parameters, classes, number of features, class weights, epochs, versions).",
    )
    info.add_argument("model", metavar="MODEL_DIR", help="folder written by 'seqattn fit'")

    report = commands.add_parser(
        "report",
        help="diagnose a saved classifier against cheap baselines",
        description="Score a saved model on VAL, fit cheap baselines (order-blind statistics, "
        "time-binned means, MiniRocket when aeon is installed) on TRAIN and score them on VAL, "
        "read the training curves, and print a verdict (collapsed, chance, overfitting, "
        "underfitting, plateau or learned) with next steps this package has measured.",
    )
    report.add_argument("model", metavar="MODEL_DIR", help="folder written by 'seqattn fit'")
    report.add_argument("train", metavar="TRAIN.npz", help="the data the model was trained on")
    report.add_argument("val", metavar="VAL.npz", help="held-out data")
    report.add_argument("--x-key", default="X", help="name of the sequences arrays (default: X)")
    report.add_argument("--y-key", default="y", help="name of the labels arrays (default: y)")
    report.add_argument(
        "--baselines",
        default="order_blind,binned,minirocket",
        metavar="NAMES",
        help="comma-separated baselines (default: order_blind,binned,minirocket)",
    )
    report.add_argument("--json", action="store_true", help="print the report as JSON")

    demo = commands.add_parser(
        "demo",
        help="train and evaluate on generated data",
        description="Generate padded, imbalanced sequences whose class is the order of two "
        "events (shape n_samples x 100 steps x 136 features), train a SeqAttentionClassifier "
        "on 80%% and report on the other 20%%: classification report, balanced accuracy, "
        "ROC AUC, an order-blind baseline, the fit verdict and where the attention looked.",
    )
    demo.add_argument(
        "--n-samples",
        type=int,
        default=2000,
        help=f"number of generated sequences, at least {MIN_DEMO_SAMPLES} (default: 2000)",
    )
    demo.add_argument(
        "--max-epochs", type=int, default=60, help="epoch budget, at least 1 (default: 60)"
    )
    demo.add_argument(
        "--random-state", type=int, default=0, help="seed of data and model (default: 0)"
    )
    demo.add_argument("--quiet", action="store_true", help="hide the epoch table")
    return parser


# ----------------------------------------------------------------------------- inputs
def _load_arrays(path: str, keys: list[str]) -> list:
    """Read arrays ``keys`` from the ``.npz`` file ``path``."""
    import numpy as np

    file = Path(path)
    if not file.is_file():
        raise CLIError(f"data file not found: {path}")
    try:
        archive = np.load(file, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CLIError(f"could not read {path} as an .npz file: {exc}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CLIError(
            f"{path} holds a single array; save the data with numpy.savez(path, X=..., y=...)."
        )
    with archive:
        arrays = []
        for key in keys:
            if key not in archive.files:
                raise CLIError(
                    f"{path} has no array named {key!r} (it holds: "
                    f"{', '.join(archive.files) or 'nothing'}); choose one with --x-key/--y-key."
                )
            _check_declared_size(archive, key, path)
            try:
                arrays.append(archive[key])
            except ValueError as exc:  # object arrays need pickle, which stays off
                raise CLIError(
                    f"array {key!r} in {path} could not be read without pickle ({exc}); "
                    "store ragged sequences padded into one numeric array."
                ) from None
            except (OSError, EOFError, zipfile.BadZipFile) as exc:  # bad CRC, truncated
                raise CLIError(f"array {key!r} in {path} is corrupt: {exc}") from None
            except MemoryError:  # a small compressed file may inflate beyond memory
                raise CLIError(
                    f"array {key!r} in {path} does not fit in memory once decompressed "
                    f"({_declared_size(archive, key, path)[1]:,} bytes)."
                ) from None
    return arrays


def _check_declared_size(archive, key: str, path: str) -> None:
    """Refuse an array whose header declares more bytes than MAX_ARRAY_BYTES, unread."""
    shape, size = _declared_size(archive, key, path)
    if size > MAX_ARRAY_BYTES:
        raise CLIError(
            f"array {key!r} in {path} declares shape {shape} ({size:,} bytes), over the "
            f"{MAX_ARRAY_BYTES:,} bytes the command line reads."
        )


def _declared_size(archive, key: str, path: str) -> tuple[tuple, int]:
    """The shape and size in bytes that the ``.npy`` header of ``key`` declares."""
    import numpy as np

    try:
        with archive.zip.open(f"{key}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise CLIError(f"array {key!r} in {path} is corrupt: {exc}") from None
    return shape, math.prod(shape) * dtype.itemsize


def _parse_value(name: str, text: str) -> Any:
    """JSON literal where possible (numbers, true/false/null, lists, dicts), else text."""
    if name == "optimizer":
        return _optimizer_class(text)
    aliases = {"None": None, "True": True, "False": False}
    if text in aliases:
        return aliases[text]
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = _python_literal(text)
        if value is None:
            return text
    if name == "class_weight" and isinstance(value, dict):
        # JSON keys are strings; integer class labels are far more common.
        return {_maybe_number(k) if isinstance(k, str) else k: v for k, v in value.items()}
    return value


def _python_literal(text: str) -> Any:
    """A Python dict or list literal such as Keras' ``{0: 1.76, 1: 0.70}``; None otherwise."""
    import ast

    if not text.lstrip().startswith(("{", "[")) or len(text) > 10_000:
        return None
    try:
        value = ast.literal_eval(text)  # literals only: nothing is executed
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, (dict, list)) else None


def _maybe_number(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _optimizer_class(text: str):
    import torch

    name = text.removeprefix("torch.optim.")
    optimizer = getattr(torch.optim, name, None)
    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        raise CLIError(
            f"--param optimizer={text}: not an optimizer class of torch.optim "
            "(e.g. AdamW, Adam, RMSprop, SGD)."
        )
    return optimizer


def _parse_params(items: list[str]) -> dict[str, Any]:
    from ._classifier import SeqAttentionClassifier

    known = SeqAttentionClassifier().get_params()
    params: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CLIError(f"--param expects NAME=VALUE, got {item!r}.")
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise CLIError(f"unknown parameter {name!r} for SeqAttentionClassifier.{hint}")
        if name in _OBJECT_PARAMS:
            raise CLIError(f"parameter {name!r} takes Python objects; set it from Python.")
        params[name] = _parse_value(name, text.strip())
    return params


# --------------------------------------------------------------------------- commands
def _load_model(model_dir: str):
    from ._classifier import SeqAttentionClassifier

    if not Path(model_dir).is_dir():
        raise CLIError(f"model folder not found: {model_dir}")
    try:
        return SeqAttentionClassifier.load(model_dir)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise CLIError(f"could not load a model from {model_dir}: {exc}") from None


def _check_out(path: str) -> None:
    """Refuse an output folder that save() would refuse, before any training is spent.

    save() checks again when it writes: the folder may change while the model trains.
    """
    from ._persistence import _check_target

    folder = Path(path)
    # save()'s own check of the name, made before it calls _check_target.
    if os.path.basename(os.path.normpath(folder)) in ("", ".", ".."):
        raise CLIError(f"--out must name a folder, got {path!r}.")
    try:
        _check_target(folder)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot save the model to {path} (nothing was trained): {exc}") from None


def _cmd_fit(args) -> int:
    from ._classifier import SeqAttentionClassifier
    from ._diagnosis import ChanceLevelWarning
    from ._params import check_params

    params = _parse_params(args.param)
    try:
        check_params(SeqAttentionClassifier(**params))
    except (ValueError, TypeError) as exc:
        raise CLIError(f"invalid parameter: {exc}") from None
    _check_out(args.out)
    X, y = _load_arrays(args.data, [args.x_key, args.y_key])
    explicit_verbose = params.get("verbose", 0)
    if args.quiet:
        params["verbose"] = 0
    else:
        params.setdefault("verbose", 1)
    if args.progress_bar:
        from skorch.callbacks import ProgressBar

        params["callbacks"] = [("progress_bar", ProgressBar())]
    clf = SeqAttentionClassifier(**params)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # The verdict is printed below, in one line of its own.
            warnings.simplefilter("ignore", ChanceLevelWarning)
            clf.fit(X, y)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"cannot fit on {args.data}: {exc}") from None
    except MemoryError:
        raise CLIError(
            f"not enough memory to fit on {args.data}; lower batch_size or the widths."
        ) from None
    seconds = time.perf_counter() - start
    # The table of epochs is the command's output, not a setting to keep with the model.
    clf.set_params(verbose=explicit_verbose, callbacks=None)
    try:
        clf.save(args.out)
    except (OSError, ValueError) as exc:
        raise CLIError(f"could not save the model to {args.out}: {exc}") from None
    print(
        f"Trained on {len(y)} sequences ({clf.n_iter_} epochs, {seconds:.1f} s); "
        f"classes {clf.classes_.tolist()}; saved to {args.out}"
    )
    print(f"Fit verdict: {clf.fit_diagnosis_}")
    if clf.fit_diagnosis_.failed:
        print(
            f"seqattn fit: warning: the model did not learn ({clf.fit_diagnosis_.verdict}); "
            "see the verdict above.",
            file=sys.stderr,
        )
    return EXIT_OK


def _cmd_predict(args) -> int:
    clf = _load_model(args.model)
    (X,) = _load_arrays(args.data, [args.x_key])
    try:
        proba = clf.predict_proba(X)
        # predict, not the argmax of proba: it applies a fitted decision threshold.
        labels = clf.predict(X)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"cannot predict on {args.data}: {exc}") from None
    header = ["prediction"] + [f"proba_{c}" for c in clf.classes_.tolist()]
    rows = (
        [_plain(label)] + [f"{p:.6g}" for p in row]
        for label, row in zip(labels.tolist(), proba, strict=True)
    )
    if args.out == "-":
        _write_csv(sys.stdout, header, rows)
    else:
        try:
            with open(args.out, "w", newline="", encoding="utf-8") as f:
                _write_csv(f, header, rows)
        except OSError as exc:
            raise CLIError(f"could not write {args.out}: {exc}") from None
        print(f"Wrote {len(labels)} predictions to {args.out}", file=sys.stderr)
    return EXIT_OK


def _plain(value):
    return value.decode() if isinstance(value, bytes) else value


def _write_csv(stream, header, rows) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def _cmd_info(args) -> int:
    from ._persistence import read_config

    folder = Path(args.model)
    if not folder.is_dir():
        raise CLIError(f"model folder not found: {args.model}")
    try:
        config = read_config(folder)
    except (OSError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    print(json.dumps(config, indent=2))
    return EXIT_OK


def _cmd_report(args) -> int:
    from .report import fit_report

    clf = _load_model(args.model)
    X_train, y_train = _load_arrays(args.train, [args.x_key, args.y_key])
    X_val, y_val = _load_arrays(args.val, [args.x_key, args.y_key])
    baselines = tuple(name.strip() for name in args.baselines.split(",") if name.strip())
    try:
        report = fit_report(
            clf, X_val, y_val, X_train=X_train, y_train=y_train, baselines=baselines
        )
    except (ValueError, TypeError) as exc:
        raise CLIError(f"cannot report on {args.train} and {args.val}: {exc}") from None
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return EXIT_OK


def _cmd_demo(args) -> int:
    from .demo import run_demo

    if args.n_samples < MIN_DEMO_SAMPLES:
        raise CLIError(
            f"--n-samples must be at least {MIN_DEMO_SAMPLES} (a test split with both "
            f"classes), got {args.n_samples}."
        )
    if args.max_epochs < 1:
        raise CLIError(f"--max-epochs must be at least 1, got {args.max_epochs}.")
    if not 0 <= args.random_state < 2**32:
        raise CLIError(f"--random-state must be in [0, 2**32), got {args.random_state}.")
    run_demo(
        args.n_samples,
        max_epochs=args.max_epochs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    return EXIT_OK


_COMMANDS = {
    "fit": _cmd_fit,
    "predict": _cmd_predict,
    "info": _cmd_info,
    "report": _cmd_report,
    "demo": _cmd_demo,
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 for a usage or input error (reported on stderr), 1
        when standard output was closed by its reader before all was written
        (reported nowhere: ``seqattn predict ... | head`` is no error).
    """
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        status = _COMMANDS[args.command](args)
        # Output still buffered would meet a closed pipe at exit, out of reach of the except.
        sys.stdout.flush()
    except CLIError as exc:
        print(f"seqattn {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return status


def _discard_stdout() -> None:
    """Point standard output at devnull, so that the exit's flush finds no closed pipe.

    Python's recipe for SIGPIPE (see the docs of the ``signal`` module).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (captured in-process): nothing to flush
        pass
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
