"""Fine labels for a merged class: train on the original classes, predict the merged ones.

The reference user's class 1 is seven classes merged. This benchmark builds
such a task with the package's generator: eight classes (orders of four
motifs), class 0 (28%) against classes 1-7 merged into class 1 (72%). The same
classifier is trained on the merged binary label (``fit(X, y)``) and on the
eight original labels (``fit(X, y, y_fine=fine)``); both predict the binary
label, scored by held-out balanced accuracy over several seeds. One record per
fit in ``benchmarks/results/fine-labels.jsonl``.

    python benchmarks/bench_fine_labels.py [--quick] [--threads N] [--seeds 0,1,2,3,4]
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
from _common import Clock, Results, parse_args, print_header, print_table
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification


def make_task(quick: bool):
    n = 400 if quick else 1600
    weights = [0.28] + [0.72 / 7] * 7
    X, fine = make_sequence_classification(
        n_samples=n,
        n_timesteps=60,
        n_features=32,
        n_classes=8,
        weights=weights,
        event_length=4,
        signal=1.0,
        random_state=0,
    )
    y = (fine > 0).astype(int)
    train, test = train_test_split(np.arange(n), test_size=0.25, stratify=fine, random_state=0)
    return X, y, fine, train, test


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0], results="fine-labels", seeds="0,1,2,3,4", quick_seeds="0,1"
    )
    results = Results(args)
    print_header("Fine labels for a merged class", args)
    X, y, fine, train, test = make_task(args.quick)
    params = {"class_weight": "balanced", "max_epochs": 3 if args.quick else 200}
    rows = []
    for variant in ("merged label (y)", "fine labels (y_fine)"):
        scores, aucs, cpu, epochs = [], [], [], []
        for seed in args.seeds:
            clf = SeqAttentionClassifier(**params, random_state=seed)
            extra = {"y_fine": fine[train]} if variant.startswith("fine") else {}
            with warnings.catch_warnings(), Clock() as clock:
                warnings.simplefilter("ignore")
                clf.fit(X[train], y[train], **extra)
            proba = clf.predict_proba(X[test])[:, 1]
            scores.append(balanced_accuracy_score(y[test], clf.predict(X[test])))
            aucs.append(roc_auc_score(y[test], proba))
            cpu.append(clock.cpu)
            epochs.append(clf.n_iter_)
            results.write(
                {
                    "training target": variant,
                    "seed": seed,
                    "balanced_accuracy": scores[-1],
                    "roc_auc": aucs[-1],
                    "epochs": epochs[-1],
                    "fit_cpu_s": cpu[-1],
                    "params": params,
                    "n_train": len(train),
                    "n_test": len(test),
                }
            )
            print(f"<!-- {variant} seed {seed}: {scores[-1]:.3f} -->", flush=True)
        rows.append(
            {
                "training target": variant,
                "seeds": len(args.seeds),
                "balanced accuracy": f"{statistics.fmean(scores):.3f} ± "
                f"{statistics.stdev(scores):.3f}",
                "min": min(scores),
                "ROC AUC": statistics.fmean(aucs),
                "epochs": statistics.fmean(epochs),
                "fit CPU (s)": statistics.fmean(cpu),
            }
        )
    print_table(
        rows,
        caption=f"{len(train)} train / {len(test)} test sequences (60 steps, 32 features), "
        "class 0 (28%) against 7 merged classes; held-out balanced accuracy of the binary label",
    )


if __name__ == "__main__":
    main()
