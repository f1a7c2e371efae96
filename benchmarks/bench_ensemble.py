"""Ensembles of networks: the accuracy-cost curve (k = 1, 3, 5) on aeon's official splits.

One ``SeqAttentionClassifier(n_estimators=5)`` per data set and seed; the
ensembles of its first k members (k = 1, 3, 5) are scored on the test split
by averaging those members' probabilities, so the curve is paired: member 0
is the plain fit of that seed (``n_estimators=1`` gives the same network),
and k = 3 adds members 1 and 2 of the same run. CPU seconds per member stand
beside each point. One record per data set, seed and k, appended to ``--out``
(default ``benchmarks/results/ensemble.jsonl``).

    python benchmarks/bench_ensemble.py --data ArrowHead,GunPoint
        [--params '{"front_end": "multiscale"}'] [--seeds 0,1,2]

``--quick``: seed 0, ``max_epochs=3``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import torch
from _common import Clock, Results, aeon_sequences, parse_args, print_header, print_table
from aeon.datasets import load_classification
from sklearn.metrics import balanced_accuracy_score

from sklearn_seqattn import SeqAttentionClassifier

SIZES = (1, 3, 5)


def _ours(X) -> list | np.ndarray:
    """aeon's (n, channels, T) arrays or lists as (T, channels) sequences."""
    items = aeon_sequences(X)
    if len({len(x) for x in items}) == 1 and not any((x == 0).all(axis=1).any() for x in items):
        return np.stack(items)
    return items


def run(name: str, params: dict, seed: int) -> list[dict]:
    X_train, y_train = load_classification(name, split="train")
    X_test, y_test = load_classification(name, split="test")
    X_train, X_test = _ours(X_train), _ours(X_test)
    clf = SeqAttentionClassifier(**params, n_estimators=max(SIZES), random_state=seed)
    with Clock() as clock:
        clf.fit(X_train, np.asarray(y_train))
    cpu = clock.cpu
    members = clf.net_.module_.members
    # Each member's probabilities, as the ensemble's own inference path computes them.
    probas = []
    for i in range(len(members)):
        single = [members[i]]
        clf.net_.module_.members = torch.nn.ModuleList(single)
        probas.append(clf.predict_proba(X_test))
    clf.net_.module_.members = members
    records = []
    for k in SIZES:
        proba = np.mean(probas[:k], axis=0)
        pred = clf.classes_[proba.argmax(axis=1)]
        records.append(
            {
                "data": name,
                "k": k,
                "seed": seed,
                "balanced_accuracy": round(float(balanced_accuracy_score(y_test, pred)), 4),
                "cpu_s": round(cpu * k / max(SIZES), 1),
                "params": params,
            }
        )
    return records


def main() -> None:
    def add(parser):
        parser.add_argument("--data", required=True, help="aeon data sets, comma-separated")
        parser.add_argument(
            "--params", default="{}", help="classifier parameters as JSON (default: {})"
        )

    args = parse_args(
        __doc__.splitlines()[0], add, results="ensemble", seeds="0,1,2", quick_seeds="0"
    )
    params = json.loads(args.params)
    if args.quick:
        params = {**params, "max_epochs": 3}
    results = Results(args)
    print_header("Ensembles: balanced accuracy against the number of networks", args)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.data.split(","):
            for seed in args.seeds:
                for record in run(name, params, seed):
                    results.write(record)
                    rows.append(record)
    print_table(
        rows, ["data", "seed", "k", "balanced_accuracy", "cpu_s"], caption="Test split, per seed"
    )


if __name__ == "__main__":
    main()
