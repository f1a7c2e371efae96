"""The benchmarks' shared harness: options, records, machine facts, timing, tables.

Every script runs as ``python benchmarks/NAME.py`` (``--quick`` for a smoke run,
``--help`` for its options), prints markdown tables and appends its results to
one JSONL file in ``benchmarks/results/`` (``--out``): one JSON object per line,
each carrying what produced it (:func:`provenance`: the commit, the package
versions, the machine) and how (``quick``, ``threads``, ``time``). Quick runs
write ``NAME-quick.jsonl``, which git ignores.

Timing on a shared machine is noisy, so variants are run interleaved
(A B A B ...) and compared through medians of their repeats, and each timing
records both wall time and the CPU time of this process: with one torch
thread, CPU time is the work done, and stays meaningful while other jobs
compete for the cores (wall time then includes waiting).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

import sklearn_seqattn
from sklearn_seqattn import ChanceLevelWarning, SeqAttentionClassifier
from sklearn_seqattn._module import SeqAttentionModule

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# The reference user's model: 3 x Dense(32) -> 2 x BiLSTM(32) -> attention pooling.
SEED_MODEL = {
    "dense_units": 32,
    "n_dense_layers": 3,
    "lstm_units": 32,
    "n_lstm_layers": 2,
    "bidirectional": True,
    "pooling": "attention",
    "dropout": 0.1,
}
# Training settings shared by the estimator and the plain loop (the estimator's defaults).
LR = 2e-3
WEIGHT_DECAY = 1e-4
GRADIENT_CLIP = 1.0
# Distributions whose versions every record carries, where installed.
VERSIONED = ("numpy", "torch", "skorch", "scikit-learn", "aeon", "captum")


# ------------------------------------------------------------------------ options
def parse_args(
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], object] | None = None,
    *,
    results: str,
    seeds: str | None = None,
    quick_seeds: str | None = None,
) -> argparse.Namespace:
    """The options every script shares, then the script's own (``add_arguments``).

    ``--quick``, ``--threads`` (torch intra-op threads, set here) and ``--out``
    (the JSONL file records are appended to; default ``results/RESULTS.jsonl``,
    ``results/RESULTS-quick.jsonl`` with ``--quick``). Scripts that run over
    seeds pass ``seeds`` (and ``quick_seeds`` for ``--quick``) and get
    ``--seeds``, parsed into ``args.seeds``, a list of ints.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smoke run in seconds to minutes")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (default: 1)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"JSONL file the records are appended to (default: benchmarks/results/"
        f"{results}.jsonl; {results}-quick.jsonl with --quick)",
    )
    if seeds is not None:
        quick = f"; {quick_seeds} with --quick" if quick_seeds else ""
        parser.add_argument(
            "--seeds", default=None, help=f"comma-separated seeds (default: {seeds}{quick})"
        )
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    if args.out is None:
        args.out = RESULTS / f"{results}{'-quick' if args.quick else ''}.jsonl"
    if seeds is not None:
        spec = args.seeds or (quick_seeds if args.quick and quick_seeds else seeds)
        try:
            args.seeds = [int(s) for s in spec.split(",") if s.strip()]
        except ValueError:
            parser.error(f"--seeds takes comma-separated integers, got {spec!r}")
    torch.set_num_threads(args.threads)
    return args


# -------------------------------------------------------------------- provenance
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit(root: str | Path = HERE.parent) -> str:
    """The short commit of the checkout at ``root``, ``+dirty`` with uncommitted changes."""

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    return commit


def versions() -> dict:
    """Python and the versions of the package and the libraries the results depend on."""
    out = {"python": platform.python_version(), "sklearn_seqattn": sklearn_seqattn.__version__}
    for name in VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def machine() -> dict:
    """The machine a record was measured on, and how busy it was at the start."""
    info = {
        "cpu": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "load_1min": round(os.getloadavg()[0], 2),
    }
    # Only where the script already uses the GPU: asking would start CUDA in every run.
    if torch.cuda.is_initialized():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def provenance() -> dict:
    """What produced a record: the commit, the versions, the machine."""
    return {"commit": git_commit(), "versions": versions(), "machine": machine()}


# ----------------------------------------------------------------------- records
class Results:
    """The JSONL file of a run: every record gets the run's provenance attached.

    ``write(record)`` appends one JSON line: the record's fields, then
    :func:`provenance` (taken once, at the start of the run), ``quick``,
    ``threads`` and the time. ``table(rows, ...)`` prints a markdown table and
    writes each row as a record (``"table"``: the caption), for results that
    are tables of medians.
    """

    def __init__(self, args: argparse.Namespace, **fields):
        self.path = Path(args.out)
        self.context = {
            **provenance(),
            "quick": bool(args.quick),
            "threads": args.threads,
            **fields,
        }

    def write(self, record: dict) -> dict:
        # The run's context last: a record cannot claim another commit or machine.
        record = {
            **record,
            **self.context,
            "time": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=_jsonable) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return record

    def table(self, rows: Sequence[dict], columns=None, caption: str | None = None, **fields):
        print_table(rows, columns, caption)
        for row in rows:
            self.write({"table": caption, **fields, **row})


def _jsonable(value):
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    return str(value)


def read_records(path: str | Path) -> list[dict]:
    """Every record of a JSONL file, in order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def aeon_sequences(X) -> list[np.ndarray]:
    """aeon's series (an ``(n, channels, T)`` array or a list of ``(channels, T_i)``) as
    float32 ``(T_i, channels)`` sequences, the layout the classifier reads."""
    return [np.asarray(x, dtype=np.float32).T for x in X]


DELTA_ORDERS = {"": 0, "delta": 1, "delta2": 2, "delta3": 3}


def split_delta_name(name: str) -> tuple[str, int]:
    """``"<set>+delta"`` -> ``("<set>", 1)``, ``"+delta2"`` -> 2 (``"+delta3"`` -> 3), a plain
    name -> 0."""
    base, _, suffix = name.partition("+")
    if suffix not in DELTA_ORDERS:
        raise SystemExit(f"unknown suffix {suffix!r} of {name!r}: +delta, +delta2 or +delta3")
    return base, DELTA_ORDERS[suffix]


def with_deltas(sequence: np.ndarray, order: int) -> np.ndarray:
    """A ``(T, channels)`` sequence with its first ``order`` differences over time appended
    as further channels (speech's delta features; the first step's difference is 0)."""
    parts = [sequence]
    for _ in range(order):
        parts.append(np.diff(parts[-1], axis=0, prepend=parts[-1][:1]))
    return np.concatenate(parts, axis=1)


# ------------------------------------------------------------------------ tables
def print_header(title: str, args: argparse.Namespace) -> None:
    """The title, then the facts of the run: date, commit, machine, versions, mode, records."""
    print(f"## {title}\n")
    origin = provenance()
    info = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "commit": origin["commit"],
        **{k: v for k, v in origin["machine"].items() if k != "platform"},
        **origin["versions"],
        "torch threads": torch.get_num_threads(),
        "mode": "quick" if args.quick else "full",
        "records": args.out,
    }
    print(", ".join(f"{k}: {v}" for k, v in info.items()))
    print()


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    columns = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        if value == 0 or 0.01 <= abs(value) < 1e5:
            return f"{value:.3g}" if abs(value) < 10 else f"{value:,.0f}"
        return f"{value:.2e}"
    return str(value)


def print_table(rows, columns=None, caption: str | None = None) -> None:
    if caption:
        print(f"**{caption}**\n")
    print(markdown_table(rows, columns))
    print(flush=True)


def interleave(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, list]:
    """Run every variant once per round, in turn (A B A B ...), ``repeats`` rounds.

    Returns the list of results of each variant. Interleaving spreads slow
    phases of a shared machine over all variants instead of one.
    """
    results: dict[str, list] = {name: [] for name in variants}
    for round_ in range(repeats):
        names = list(variants)
        if round_ % 2:  # alternate the order too: A B, B A, ...
            names.reverse()
        for name in names:
            results[name].append(variants[name]())
    return results


def run_worker(cmd: Sequence[str], env: dict | None = None) -> dict:
    """Run ``cmd`` (a fresh Python process) and return the JSON object its last line prints.

    A fresh process measures one run alone (its peak memory, or the package
    from another checkout) without what the calling process has loaded.
    """
    out = subprocess.run(list(cmd), capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values) -> float:
    return float(statistics.median(values))


class Clock:
    """Wall and process CPU seconds of a ``with`` block: ``.wall``, ``.cpu``."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of ``fn()``."""
    with Clock() as clock:
        fn()
    return clock.wall, clock.cpu


class EpochClock(Callback):
    """skorch callback: ``times`` holds ``(wall, cpu)`` seconds of every epoch."""

    def initialize(self):
        self.times = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self._clock = Clock().__enter__()

    def on_epoch_end(self, net, **kwargs):
        self._clock.__exit__()
        self.times.append((self._clock.wall, self._clock.cpu))


def fit_timed(est, X, y) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    """Fit ``est``; return ``(wall, cpu)`` of the whole fit and of each epoch.

    The epochs are those of one network: ``n_estimators="auto"`` is pinned to
    1 (on small data it would average three, whose joined net keeps no epoch
    clock); an explicit ``n_estimators`` above 1 is refused.
    """
    if est.n_estimators == "auto":
        est.set_params(n_estimators=1)
    elif est.n_estimators != 1:
        raise ValueError("fit_timed times the epochs of one network: set n_estimators=1.")
    est.set_params(callbacks=[("epoch_clock", EpochClock())])
    with Clock() as clock, warnings.catch_warnings():
        # Timing runs train a few epochs: a model at chance is expected, not news.
        warnings.simplefilter("ignore", ChanceLevelWarning)
        est.fit(X, y)
    epochs = dict(est.net_.callbacks_)["epoch_clock"].times
    return (clock.wall, clock.cpu), epochs


def medians(pairs) -> tuple[float, float]:
    """Medians of the wall and of the CPU parts of ``(wall, cpu)`` pairs."""
    pairs = list(pairs)
    return median(p[0] for p in pairs), median(p[1] for p in pairs)


def peak_rss_mib() -> float:
    """Peak resident set size of this process, MiB.

    Read from ``VmHWM``: unlike ``getrusage``'s ``ru_maxrss``, which Linux
    carries over an ``exec`` from the parent, it starts afresh in a new process.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ----------------------------------------------------------------- models and loops
def seed_estimator(**overrides) -> SeqAttentionClassifier:
    """SeqAttentionClassifier configured as the reference user's model, fixed epochs."""
    params = {
        **SEED_MODEL,
        "early_stopping": False,
        "max_epochs": 3,
        "batch_size": 32,
        "lr": LR,
        "weight_decay": WEIGHT_DECAY,
        "gradient_clip": GRADIENT_CLIP,
        "bucket_by_length": False,
        "random_state": 0,
    }
    params.update(overrides)
    return SeqAttentionClassifier(**params)


def seed_module(n_features: int, n_classes: int = 2, **overrides) -> SeqAttentionModule:
    params = {**SEED_MODEL, **overrides}
    return SeqAttentionModule(n_features, n_classes, **params)


class PlainLoop:
    """A minimal hand-written training loop over padded tensors.

    The same optimizer (AdamW), loss (per-sample weighted cross-entropy),
    gradient clipping and batch order as the estimator; no callbacks, no
    history, no validation of the input.
    """

    def __init__(self, module: nn.Module, X, lengths, y, batch_size: int, seed: int = 0):
        self.module = module
        self.x = torch.as_tensor(X, dtype=torch.float32)
        self.lengths = torch.as_tensor(lengths, dtype=torch.int64)
        self.y = torch.as_tensor(y, dtype=torch.int64)
        self.w = torch.ones(len(self.y))
        self.batch_size = batch_size
        self.optimizer = torch.optim.AdamW(module.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
        self.criterion = nn.CrossEntropyLoss(reduction="none")
        self.generator = torch.Generator().manual_seed(seed)

    def batches(self, bucket: bool = False, window_batches: int = 50):
        order = torch.randperm(len(self.y), generator=self.generator)
        if bucket:
            window = self.batch_size * window_batches
            chunks = [c[torch.argsort(self.lengths[c], stable=True)] for c in order.split(window)]
            batches = list(torch.cat(chunks).split(self.batch_size))
            return [batches[i] for i in torch.randperm(len(batches), generator=self.generator)]
        return list(order.split(self.batch_size))

    def epoch(self, bucket: bool = False, autocast: bool = False) -> tuple[float, float]:
        """Train one epoch; return its ``(wall, cpu)`` seconds."""
        clock = Clock().__enter__()
        self.module.train()
        for index in self.batches(bucket):
            lengths = self.lengths[index]
            x = self.x[index, : int(lengths.max())]
            self.optimizer.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                logits = self.module(x, lengths)
            loss = (self.criterion(logits.float(), self.y[index]) * self.w[index]).mean()
            loss.backward()
            nn.utils.clip_grad_norm_(self.module.parameters(), GRADIENT_CLIP)
            self.optimizer.step()
        clock.__exit__()
        return clock.wall, clock.cpu

    def predict(self, X=None, lengths=None) -> np.ndarray:
        x_all = self.x if X is None else torch.as_tensor(X, dtype=torch.float32)
        len_all = self.lengths if lengths is None else torch.as_tensor(lengths)
        self.module.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(len_all), self.batch_size):
                lengths = len_all[start : start + self.batch_size]
                x = x_all[start : start + self.batch_size, : int(lengths.max())]
                out.append(torch.softmax(self.module(x, lengths), dim=1))
        return torch.cat(out).numpy()
