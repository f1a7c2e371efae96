"""Time to result: from ``fit`` to the returned model at the reference user's scale.

The reference user holds 4,917 sequences of 100 steps x 136 features (28/72
classes) and tunes by grid search, so every fit's wall time is multiplied by
folds and grid points. Parts:

* ``fit``: default fits (and candidate settings, ``--variants``) on the seed
  shape, seeds interleaved (seed 0: every variant, then seed 1, ...). Each fit
  runs in a fresh process (so its peak memory is its own) on ``--threads``
  torch threads (default 2: the machine's cores, as a user's fit runs). A
  record holds the wall and CPU seconds to the returned model, epochs run,
  restarts (``n_init_``), the time in training and in validation batches
  (the rest: set-up, diagnosis, threshold), peak memory above the process
  before ``fit`` (and as a multiple of one float32 copy of X), and the
  balanced accuracy on 2,000 held-out sequences of the same generator.
  Data: ``make_event_order_classification`` (two 3-step events on 4 of 136
  features whose order is the class; lengths 40-100, zero post-padding) at
  ``--strength``.
* ``minirocket``: aeon's MiniRocket (``n_jobs=1``) on the same training and
  held-out sequences of each seed (channels first, zero padding as given),
  wall and CPU of its fit, balanced accuracy: the peer beside the network.
* ``memory``: peak memory of a 2-epoch fit and of ``predict_proba`` above one
  copy of X, at the seed shape and at 4x it (19,668 sequences).
* ``parallel``: k ensemble members (``n_estimators=k``) with ``n_jobs=1``
  against ``n_jobs=2``, and one network, on 2,000 sequences of the seed's
  width, a fixed 12 epochs (``--parallel-data NAME --parallel-epochs N``: an
  aeon set's training split instead, where ensembles are suggested); wall
  medians of interleaved repeats; the target is wall(k members, parallel)
  <= 0.6 x k x wall(one network).
* ``profile``: cProfile of one default fit at the seed shape: the functions
  with the largest cumulative time.
* ``trajectory``: one fit per seed with a long patience (``--variants`` may
  set it; default 20), recording every epoch's validation loss and score,
  duration and balanced accuracy on the held-out sequences; then each
  stopping rule (patience x relative loss threshold) is replayed on those
  histories: the epoch it stops at, the epoch it restores, that epoch's
  held-out accuracy and the wall time to it. Rules with a patience above the
  run's cannot be replayed.

    python benchmarks/bench_time_to_result.py [--parts fit,memory,parallel,profile,trajectory]
        [--seeds 0,1,2,3,4] [--device cuda] [--variants 'name={"batch_size": 128}' ...]
"""

from __future__ import annotations

import concurrent.futures
import cProfile
import functools
import json
import multiprocessing
import pstats
import time
import warnings

import numpy as np
from _common import (
    Clock,
    Results,
    aeon_sequences,
    current_rss_mib,
    interleave,
    parse_args,
    peak_rss_mib,
    print_header,
)
from skorch.callbacks import Callback

PARTS = ("fit", "minirocket", "memory", "parallel", "profile", "trajectory")
N_TRAIN, N_TEST, N_STEPS, N_FEATURES = 4917, 2000, 100, 136
# The parallel part: fits long enough (about 20 s each) that starting the workers (a few
# seconds: a new Python process importing torch) is paid once against real work.
PARALLEL_N, PARALLEL_EPOCHS = 2000, 12


class BatchTimer(Callback):
    """Wall seconds spent in training and in validation batches (over every restart)."""

    def __init__(self):
        self.train = 0.0
        self.valid = 0.0

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self._start = time.perf_counter()

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        elapsed = time.perf_counter() - self._start
        if training:
            self.train += elapsed
        else:
            self.valid += elapsed


def _data(n_train: int, seed: int, strength: float):
    from sklearn_seqattn.datasets import make_event_order_classification

    X, y = make_event_order_classification(
        n_train + N_TEST, N_STEPS, N_FEATURES, strength=strength, random_state=seed
    )
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _reset_peak() -> None:
    """Start the peak resident set size (VmHWM) afresh from the current size."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _one_fit(params: dict, seed: int, n_train: int, strength: float, threads: int) -> dict:
    """One fit in this (fresh) process: times, epochs, memory, accuracy."""
    import torch
    from sklearn.metrics import balanced_accuracy_score

    from sklearn_seqattn import ChanceLevelWarning, SeqAttentionClassifier

    torch.set_num_threads(threads)
    X, y, X_test, y_test = _data(n_train, seed, strength)
    timer = BatchTimer()
    clf = SeqAttentionClassifier(random_state=seed, callbacks=[("timer", timer)], **params)
    before = current_rss_mib()
    _reset_peak()
    with Clock() as clock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ChanceLevelWarning)
        clf.fit(X, y)
    fit_peak = peak_rss_mib() - before
    before = current_rss_mib()
    _reset_peak()
    proba = clf.predict_proba(X_test)
    predict_peak = peak_rss_mib() - before
    x_mib = X.nbytes / 2**20
    return {
        "wall_s": clock.wall,
        "cpu_s": clock.cpu,
        "epochs": int(clf.n_iter_),
        # Releases before n_init_ listed one validation score per initialisation.
        "n_init": int(getattr(clf, "n_init_", len(getattr(clf, "init_scores_", [0])))),
        "best_epoch": clf.best_epoch_,
        "train_batches_s": timer.train,
        "valid_batches_s": timer.valid,
        "other_s": clock.wall - timer.train - timer.valid,
        "batch_size": int(clf.batch_size_),
        "fit_peak_mib": fit_peak,
        "fit_peak_x": fit_peak / x_mib,
        "predict_peak_mib": predict_peak,
        "predict_peak_x": predict_peak / (X_test.nbytes / 2**20),
        "x_mib": x_mib,
        "balanced_accuracy": float(
            balanced_accuracy_score(y_test, clf.classes_[proba.argmax(axis=1)])
        ),
        "verdict": clf.fit_diagnosis_.verdict,
        "warned": any(issubclass(w.category, ChanceLevelWarning) for w in caught),
    }


def _in_fresh_process(func, *args):
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(func, *args).result()


def run_fit(args, results: Results, variants: dict) -> None:
    rows = {name: [] for name in variants}
    n_train = 400 if args.quick else N_TRAIN
    for seed in args.seeds:
        for name, params in variants.items():
            if args.quick:
                params = {**params, "max_epochs": 3}
            if args.device is not None:
                params = {"device": args.device, **params}
            record = _in_fresh_process(
                _one_fit, params, seed, n_train, args.strength, args.fit_threads
            )
            record = {"part": "fit", "variant": name, "params": params, "seed": seed, **record}
            results.write(record)
            rows[name].append(record)
            print(
                f"seed {seed} {name}: {record['wall_s']:.0f} s wall, {record['cpu_s']:.0f} s CPU, "
                f"{record['epochs']} epochs x {record['n_init']} init, "
                f"BA {record['balanced_accuracy']:.3f}",
                flush=True,
            )
    first = next(iter(variants))
    base = np.median([r["wall_s"] for r in rows[first]])
    print()
    print(
        "| variant | wall (s) | CPU (s) | wall / " + first + " | epochs | restarts | "
        "validation (s) | other (s) | balanced accuracy | worst | fit peak / X |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, recs in rows.items():
        values = {
            key: np.array([r[key] for r in recs], dtype=float)
            for key in recs[0]
            if isinstance(recs[0][key], int | float)
        }
        ba = values["balanced_accuracy"]
        sd = ba.std(ddof=1) if len(ba) > 1 else 0.0
        wall = np.median(values["wall_s"])
        print(
            f"| {name} | {wall:.0f} | {np.median(values['cpu_s']):.0f} | {wall / base:.2f} | "
            f"{np.median(values['epochs']):.0f} | {values['n_init'].mean():.1f} | "
            f"{np.median(values['valid_batches_s']):.1f} | {np.median(values['other_s']):.1f} | "
            f"{ba.mean():.3f} ± {sd:.3f} | {ba.min():.3f} | "
            f"{np.median(values['fit_peak_x']):.2f} |"
        )


def _minirocket_fit(seed: int, strength: float) -> dict:
    from aeon.classification.convolution_based import MiniRocketClassifier
    from sklearn.metrics import balanced_accuracy_score

    X, y, X_test, y_test = _data(N_TRAIN, seed, strength)
    model = MiniRocketClassifier(random_state=seed, n_jobs=1)
    with Clock() as clock:
        model.fit(X.transpose(0, 2, 1).astype(np.float64), y)
    predicted = model.predict(X_test.transpose(0, 2, 1).astype(np.float64))
    return {
        "wall_s": clock.wall,
        "cpu_s": clock.cpu,
        "balanced_accuracy": float(balanced_accuracy_score(y_test, predicted)),
    }


def run_minirocket(args, results: Results) -> None:
    rows = []
    for seed in args.seeds:
        record = _in_fresh_process(_minirocket_fit, seed, args.strength)
        rows.append(results.write({"part": "minirocket", "seed": seed, **record}))
        print(
            f"seed {seed} MiniRocket: {record['wall_s']:.0f} s wall, {record['cpu_s']:.0f} s CPU, "
            f"BA {record['balanced_accuracy']:.3f}",
            flush=True,
        )
    ba = np.array([r["balanced_accuracy"] for r in rows])
    sd = ba.std(ddof=1) if len(ba) > 1 else 0.0
    print(
        f"\nMiniRocket: {ba.mean():.3f} ± {sd:.3f} (worst {ba.min():.3f}), "
        f"CPU {np.median([r['cpu_s'] for r in rows]):.0f} s per fit (median)"
    )


def run_memory(args, results: Results, params: dict) -> None:
    print(
        "\n| sequences | X (MiB) | fit peak above X0 (MiB) | / X | predict peak (MiB) | / X_test |"
    )
    print("|---|---|---|---|---|---|")
    n_train = 400 if args.quick else N_TRAIN
    for scale in (1, 4):
        record = _in_fresh_process(
            _one_fit,
            {**params, "max_epochs": 2},
            0,
            n_train * scale,
            args.strength,
            args.fit_threads,
        )
        record = {"part": "memory", "scale": scale, "n_train": n_train * scale, **record}
        results.write(record)
        print(
            f"| {n_train * scale:,} | {record['x_mib']:.0f} | {record['fit_peak_mib']:.0f} | "
            f"{record['fit_peak_x']:.2f} | {record['predict_peak_mib']:.0f} | "
            f"{record['predict_peak_x']:.2f} |",
            flush=True,
        )


def _parallel_data(name: str):
    """The parallel part's training data: the seed-width synthetic set, or an aeon set's."""
    if name == "synthetic":
        X, y, _, _ = _data(PARALLEL_N, 0, 2.0)
        return X, y
    from aeon.datasets import load_classification

    X, y = load_classification(name, split="train")
    return aeon_sequences(X), np.asarray(y)


def _members_wall(k: int, n_jobs: int, threads: int, data: str, epochs: int) -> float:
    import torch

    from sklearn_seqattn import SeqAttentionClassifier

    torch.set_num_threads(threads)
    X, y = _parallel_data(data)
    clf = SeqAttentionClassifier(
        n_estimators=k,
        n_init=1,
        n_jobs=n_jobs,
        max_epochs=epochs,
        early_stopping=False,
        random_state=0,
    )
    with Clock() as clock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    # joblib keeps its workers for reuse; this process ends here, so stop them now.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    return clock.wall


def run_parallel(args, results: Results) -> None:
    variants = {
        "1 network": (1, 1),
        "2 members, n_jobs=1": (2, 1),
        "2 members, n_jobs=2": (2, 2),
        "4 members, n_jobs=2": (4, 2),
    }
    walls = interleave(
        {
            name: functools.partial(
                _in_fresh_process,
                _members_wall,
                k,
                n_jobs,
                args.fit_threads,
                args.parallel_data,
                args.parallel_epochs,
            )
            for name, (k, n_jobs) in variants.items()
        },
        args.repeats,
    )
    one = float(np.median(walls["1 network"]))
    print("\n| fit | wall (s, median) | / (k x one network) |")
    print("|---|---|---|")
    for name, (k, n_jobs) in variants.items():
        wall = float(np.median(walls[name]))
        results.write(
            {
                "part": "parallel",
                "data": args.parallel_data,
                "epochs": args.parallel_epochs,
                "variant": name,
                "k": k,
                "n_jobs": n_jobs,
                "walls": walls[name],
                "wall_s": wall,
                "ratio": wall / (k * one),
            }
        )
        print(f"| {name} | {wall:.1f} | {wall / (k * one):.2f} |")


def _profiled_fit(seed: int, strength: float, threads: int, top: int) -> list:
    import torch

    from sklearn_seqattn import SeqAttentionClassifier

    torch.set_num_threads(threads)
    X, y, _, _ = _data(N_TRAIN, seed, strength)
    profiler = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiler.runcall(SeqAttentionClassifier(random_state=seed).fit, X, y)
    stats = pstats.Stats(profiler)
    total = max(v[3] for v in stats.stats.values())
    rows = sorted(
        (
            (f"{k[0].split('site-packages/')[-1]}:{k[1]}({k[2]})", v[3])
            for k, v in stats.stats.items()
        ),
        key=lambda kv: -kv[1],
    )
    return [(name, cum, cum / total) for name, cum in rows[:top]]


def run_profile(args, results: Results) -> None:
    rows = _in_fresh_process(_profiled_fit, 0, args.strength, args.fit_threads, 40)
    print("\n| function | cumulative (s) | share |")
    print("|---|---|---|")
    for name, cum, share in rows:
        print(f"| `{name}` | {cum:.1f} | {share:.0%} |")
    results.write({"part": "profile", "rows": rows})


class HeldOutScore(Callback):
    """Each epoch's balanced accuracy on held-out sequences (zero post-padding)."""

    def __init__(self, X, y):
        self.X, self.y = X, y
        self.lengths = (np.abs(X).sum(axis=2) != 0).cumsum(axis=1).argmax(axis=1) + 1
        self.scores = []

    def on_train_begin(self, net, **kwargs):
        self.scores = []  # a restart (n_init) trains afresh

    def on_epoch_end(self, net, **kwargs):
        import torch
        from sklearn.metrics import balanced_accuracy_score

        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            logits = [
                module(
                    torch.as_tensor(self.X[i : i + 500]), torch.as_tensor(self.lengths[i : i + 500])
                )
                for i in range(0, len(self.X), 500)
            ]
        module.train(was_training)
        predicted = torch.cat(logits).argmax(dim=1).numpy()
        self.scores.append(float(balanced_accuracy_score(self.y, predicted)))


def _contour_data(n_train: int, n_test: int, seed: int, amplitude: float):
    """``make_contour_classification``, split so that no speaker is on both sides."""
    from sklearn.model_selection import GroupShuffleSplit

    from sklearn_seqattn.datasets import make_contour_classification

    n = n_train + n_test
    X, y, groups = make_contour_classification(
        n, N_STEPS, N_FEATURES, amplitude=amplitude, return_groups=True, random_state=seed
    )
    split = GroupShuffleSplit(1, train_size=n_train / n, random_state=seed)
    train, test = next(split.split(X, y, groups))
    return X[train], y[train], X[test], y[test]


def _trajectory_fit(
    params: dict, seed: int, strength: float, threads: int, data: str, n_train: int, n_test: int
) -> dict:
    """One fit's epochs: validation loss and score, duration, held-out accuracy."""
    import torch

    from sklearn_seqattn import SeqAttentionClassifier

    torch.set_num_threads(threads)
    if data == "contour":
        X, y, X_test, y_test = _contour_data(n_train, n_test, seed, strength)
    else:
        X, y, X_test, y_test = _data(n_train, seed, strength)
        X_test, y_test = X_test[:n_test], y_test[:n_test]
    held_out = HeldOutScore(X_test, y_test)
    clf = SeqAttentionClassifier(random_state=seed, callbacks=[("held_out", held_out)], **params)
    with Clock() as clock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    history = clf.history_
    return {
        "wall_s": clock.wall,
        "valid_loss": [float(v) for v in history[:, "valid_loss"]],
        "valid_score": [float(v) for v in history[:, "valid_score"]],
        "dur": [float(v) for v in history[:, "dur"]],
        "held_out": held_out.scores,
        "n_init": int(clf.n_init_),
        "n_train": len(y),
        "batch_size": int(clf.batch_size_),
    }


def replay_stopping(
    record: dict, patience: int, threshold: float, min_delta: float = 0.0
) -> tuple[int, int]:
    """(epochs run, epoch restored), both 1-based: the package's own stopping callback
    driven by one recorded history."""
    from types import SimpleNamespace

    import torch
    from skorch.history import History

    from sklearn_seqattn._stopping import LossOrScoreStopping

    stopping = LossOrScoreStopping(
        patience, threshold=threshold, min_delta=min_delta, restore=False
    )
    # What the callback reads of a net; the module stands in for the weights it keeps.
    net = SimpleNamespace(history=History(), verbose=0, module_=torch.nn.Linear(1, 1))
    stopping.on_train_begin(net)
    pairs = zip(record["valid_loss"], record["valid_score"], strict=True)
    for epoch, (loss, score) in enumerate(pairs, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        net.history.record("valid_score", score)
        try:
            stopping.on_epoch_end(net)
        except KeyboardInterrupt:  # how the callback stops training
            return epoch, stopping.best_epoch_
    return len(record["valid_loss"]), stopping.best_epoch_


def run_trajectory(args, results: Results, variants: dict) -> None:
    params = {"n_iter_no_change": 20}
    for extra in list(variants.values())[1:]:
        params.update(extra)
    records = []
    for seed in args.seeds:
        record = _in_fresh_process(
            _trajectory_fit, params, seed, args.strength, args.fit_threads,
            args.trajectory_data, args.n_train, args.n_test,
        )  # fmt: skip
        head = {"part": "trajectory", "data": args.trajectory_data, "params": params}
        records.append(results.write({**head, "seed": seed, **record}))
        print(
            f"seed {seed}: {len(record['dur'])} epochs, {record['wall_s']:.0f} s, "
            f"held-out BA at the end {record['held_out'][-1]:.4f}",
            flush=True,
        )
    print_replay(records, params["n_iter_no_change"])


def print_replay(records: list, run_patience: int) -> None:
    """Each stopping rule replayed on the recorded histories, against the run's own rule."""
    print(
        "\n| patience | loss threshold (relative) | min delta (absolute) | epochs run | "
        "wall / the run's rule, median | held-out BA | worst |"
    )
    print("|---|---|---|---|---|---|---|")
    for patience in sorted({run_patience, 100, 60, 40, 30, 20, 10, 7, 5}):
        if patience > run_patience:
            continue
        for threshold, min_delta in (
            (1e-4, 0),
            (1e-3, 0),
            (1e-4, 1e-4),
            (1e-4, 3e-4),
            (1e-4, 1e-3),
        ):
            epochs, ratios, scores = [], [], []
            for record in records:
                stop, best = replay_stopping(record, patience, threshold, min_delta)
                base, _ = replay_stopping(record, run_patience, 1e-4)
                epochs.append(stop)
                ratios.append(sum(record["dur"][:stop]) / sum(record["dur"][:base]))
                scores.append(record["held_out"][best - 1])
            print(
                f"| {patience} | {threshold:g} | {min_delta:g} | {min(epochs)}-{max(epochs)} | "
                f"{np.median(ratios):.2f} | {np.mean(scores):.4f} | {min(scores):.4f} |"
            )


def main():
    def add(parser):
        parser.add_argument("--parts", default=",".join(PARTS), help="parts to run")
        parser.add_argument(
            "--variants",
            nargs="*",
            default=[],
            help='extra settings to compare with the defaults, each NAME=JSON ({"lr": 1e-3})',
        )
        parser.add_argument("--strength", type=float, default=2.0, help="event strength")
        parser.add_argument(
            "--device", default=None, help="the fit part's device, e.g. 'cuda' (default: cpu)"
        )
        parser.add_argument(
            "--fit-threads", type=int, default=2, help="torch threads of each fit (default 2)"
        )
        parser.add_argument("--repeats", type=int, default=3, help="repeats of the parallel part")
        parser.add_argument(
            "--trajectory-data",
            choices=("event-order", "contour"),
            default="event-order",
            help="the trajectory part's data: make_event_order_classification at --strength "
            "(default) or make_contour_classification at amplitude --strength, speaker-disjoint",
        )
        parser.add_argument(
            "--n-train", type=int, default=N_TRAIN, help=f"the trajectory part's training "
            f"sequences (default {N_TRAIN})"
        )  # fmt: skip
        parser.add_argument(
            "--n-test", type=int, default=N_TEST, help=f"the trajectory part's held-out "
            f"sequences (default {N_TEST})"
        )  # fmt: skip
        parser.add_argument(
            "--parallel-data",
            default="synthetic",
            help="the parallel part's data: 'synthetic' (2,000 seed-width sequences, default) "
            "or the name of an aeon set (its training split)",
        )
        parser.add_argument(
            "--parallel-epochs",
            type=int,
            default=PARALLEL_EPOCHS,
            help=f"fixed epochs of the parallel part's fits (default {PARALLEL_EPOCHS})",
        )

    args = parse_args(
        __doc__.splitlines()[0], add, results="time-to-result", seeds="0,1,2,3,4", quick_seeds="0"
    )
    variants = {"defaults": {}}
    for spec in args.variants:
        name, _, params = spec.partition("=")
        variants[name] = json.loads(params)
    parts = args.parts.split(",")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"--parts: unknown {unknown}; choose from {PARTS}")
    results = Results(args, strength=args.strength, fit_threads=args.fit_threads)
    print_header(__doc__.splitlines()[0], args)
    with Clock() as total:
        if "fit" in parts:
            run_fit(args, results, variants)
        if "minirocket" in parts:
            run_minirocket(args, results)
        if "memory" in parts:
            run_memory(args, results, {})
        if "parallel" in parts:
            run_parallel(args, results)
        if "profile" in parts:
            run_profile(args, results)
        if "trajectory" in parts:
            run_trajectory(args, results, variants)
    print(f"\nRecords appended to {args.out}. Total wall {total.wall:.0f} s.")


if __name__ == "__main__":
    main()
