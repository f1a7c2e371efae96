"""Ensembles of networks: the accuracy-cost curve (k = 1, 3, 5) on aeon's official splits.

One ``SeqAttentionClassifier(n_estimators=5)`` per data set and seed; the
ensembles of its first k members (k = 1, 3, 5) are scored on the test split
by averaging those members' probabilities, so the curve is paired: member 0
is the plain fit of that seed (``n_estimators=1`` gives the same network),
and k = 3 adds members 1 and 2 of the same run. CPU seconds per member stand
beside each point. One JSON line per data set, seed and k, with the commit
and package versions.

    python benchmarks/bench_ensemble.py ArrowHead,GunPoint '{"front_end": "multiscale"}' 0,1,2
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import torch
from _common import provenance
from aeon.datasets import load_classification
from sklearn.metrics import balanced_accuracy_score

from sklearn_seqattn import SeqAttentionClassifier

SIZES = (1, 3, 5)


def _ours(X) -> list | np.ndarray:
    """aeon's (n, channels, T) arrays or lists as (T, channels) sequences."""
    items = [np.asarray(x, dtype=np.float32).T for x in X]
    if len({len(x) for x in items}) == 1 and not any((x == 0).all(axis=1).any() for x in items):
        return np.stack(items)
    return items


def run(name: str, params: dict, seed: int) -> list[dict]:
    X_train, y_train = load_classification(name, split="train")
    X_test, y_test = load_classification(name, split="test")
    X_train, X_test = _ours(X_train), _ours(X_test)
    clf = SeqAttentionClassifier(**params, n_estimators=max(SIZES), random_state=seed)
    start = time.process_time()
    clf.fit(X_train, np.asarray(y_train))
    cpu = time.process_time() - start
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
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    names = sys.argv[1].split(",")
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    seeds = [int(s) for s in sys.argv[3].split(",")] if len(sys.argv) > 3 else [0, 1, 2]
    origin = provenance()
    for name in names:
        for seed in seeds:
            for record in run(name, params, seed):
                print(json.dumps({**record, **origin}), flush=True)


if __name__ == "__main__":
    main()
