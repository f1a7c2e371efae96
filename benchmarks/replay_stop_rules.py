"""Stopping rules on the training loss, replayed exactly inside full fits (cross-validation).

A fit without a validation split trains for ``max_epochs`` and keeps the
weights of its lowest training loss. A rule that would stop it earlier (stop
once the loss has not fallen by ``tol`` for ``patience`` epochs; ``tol``
relative or absolute) changes nothing before its stop, so one full fit tells
what every rule would have given: a callback follows each rule during the
fit and, at the epoch the rule would stop, keeps the weights that the fit
would then restore (those of the lowest loss so far). Each rule's weights
are scored on the held-out fold, beside the full fit's own.

3-fold stratified CV of the official training split (the folds of
``cv_probe.py``), one network per fit, ``early_stopping=False`` (what
"auto" gives these sets). One record per data set: for each rule the mean,
sd and worst fold, the mean stop epoch, how many folds restored the same
weights as the full fit, and the CPU per full fit.

    python benchmarks/replay_stop_rules.py --data GunPoint,ArrowHead --seeds 2,3
        --rules '{"name": {"tol": 0, "patience": 40, "mode": "rel"}, ...}'

``--quick``: seed 0, ``max_epochs=12``.
"""

from __future__ import annotations

import json
import math
import warnings
from copy import deepcopy

import numpy as np
from _common import Clock, Results, parse_args, print_header, print_table
from cv_probe import folds, take, training_split
from sklearn.metrics import balanced_accuracy_score
from skorch.callbacks import Callback

from sklearn_seqattn import SeqAttentionClassifier


class ReplayStops(Callback):
    """Follow each rule; keep, at its stop, the weights of the lowest loss so far."""

    def __init__(self, rules: dict):
        self.rules = rules

    def initialize(self):
        self.lowest_, self.lowest_state_, self.lowest_epoch_ = math.inf, None, None
        self.state_ = {name: {"best": math.inf, "misses": 0} for name in self.rules}
        self.stops_ = {}  # name -> (stop epoch, restored epoch, weights)
        return self

    def on_epoch_end(self, net, **kwargs):
        loss, epoch = net.history[-1, "train_loss"], net.history[-1, "epoch"]
        if loss < self.lowest_:
            self.lowest_, self.lowest_epoch_ = loss, epoch
            self.lowest_state_ = deepcopy(net.module_.state_dict())
        for name, rule in self.rules.items():
            if name in self.stops_:
                continue
            state = self.state_[name]
            best = state["best"]
            margin = rule["tol"] * (abs(best) if rule["mode"] == "rel" else 1.0)
            if math.isinf(best) or loss < best - margin:
                state["best"], state["misses"] = loss, 0
            else:
                state["misses"] += 1
            if state["misses"] == rule["patience"]:
                self.stops_[name] = (epoch, self.lowest_epoch_, self.lowest_state_)


def replay(name: str, rules: dict, seeds: list[int], max_epochs: int) -> dict:
    X, y = training_split(name)
    scores = {"full": [], **{r: [] for r in rules}}
    stops = {r: [] for r in rules}
    same = {r: 0 for r in rules}
    cpu, n_fits = 0.0, 0
    for seed in seeds:
        for train, valid in folds(y, seed):
            replayer = ReplayStops(rules)
            est = SeqAttentionClassifier(
                random_state=seed,
                n_estimators=1,
                early_stopping=False,
                max_epochs=max_epochs,
                callbacks=[("replay", replayer)],
            )
            with Clock() as clock:
                est.fit(take(X, train), y[train])
            cpu, n_fits = cpu + clock.cpu, n_fits + 1
            X_valid = take(X, valid)
            scores["full"].append(balanced_accuracy_score(y[valid], est.predict(X_valid)))
            kept = deepcopy(est.net_.module_.state_dict())
            restored = dict(est.net_.callbacks_)["restore_best_weights"].best_epoch_
            for rule in rules:
                stop, epoch, state = replayer.stops_.get(rule, (max_epochs, restored, kept))
                stops[rule].append(stop)
                same[rule] += epoch == restored
                est.net_.module_.load_state_dict(state)
                scores[rule].append(balanced_accuracy_score(y[valid], est.predict(X_valid)))
            est.net_.module_.load_state_dict(kept)
    record = {"cpu_per_full_fit": round(cpu / n_fits, 1), "n_folds": n_fits}
    for key, values in scores.items():
        record[key] = {
            "mean": round(float(np.mean(values)), 3),
            "sd": round(float(np.std(values)), 3),
            "min": round(float(np.min(values)), 3),
            "folds": [round(float(v), 3) for v in values],
        }
        if key in rules:
            record[key]["mean_stop_epoch"] = round(float(np.mean(stops[key])), 1)
            record[key]["same_weights_as_full"] = same[key]
    return record


def main() -> None:
    def add(parser):
        parser.add_argument("--data", required=True, help="aeon data sets, comma-separated")
        parser.add_argument(
            "--rules",
            required=True,
            help='rules as JSON: \'{"name": {"tol": 0, "patience": 40, "mode": "rel"}}\'',
        )

    args = parse_args(
        __doc__.splitlines()[0], add, results="stop-rules", seeds="2,3", quick_seeds="0"
    )
    rules = json.loads(args.rules)
    for name, rule in rules.items():
        if set(rule) != {"tol", "patience", "mode"} or rule["mode"] not in ("rel", "abs"):
            raise SystemExit(f"rule {name!r}: needs tol, patience and mode ('rel' or 'abs')")
    max_epochs = 12 if args.quick else 200
    results = Results(args)
    print_header(__doc__.splitlines()[0], args)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # many fits on tiny folds
        for name in args.data.split(","):
            record = {"data": name, **replay(name, rules, args.seeds, max_epochs)}
            record.update(rules=rules, seeds=args.seeds, max_epochs=max_epochs)
            results.write(record)
            print(f"<!-- {json.dumps(record)} -->", flush=True)
            for key in ("full", *rules):
                rows.append(
                    {
                        "data": name,
                        "rule": key,
                        "mean": record[key]["mean"],
                        "min": record[key]["min"],
                        "stop epoch": record[key].get("mean_stop_epoch", max_epochs),
                        "same weights": record[key].get("same_weights_as_full", "-"),
                    }
                )
    print_table(rows, caption=f"Balanced accuracy, 3 folds x seeds {args.seeds}")


if __name__ == "__main__":
    main()
