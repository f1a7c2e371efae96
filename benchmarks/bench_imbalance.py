"""Imbalance inside the estimator: class weights, focal loss, a tuned decision threshold.

The package's generator with a 10% / 90% split (order of two motifs, 24 steps,
6 features, signal 0.9); the same network trained with the plain cross-entropy, with
``class_weight="balanced"``, with the focal loss (with and without class
weights) and with ``decision_threshold="auto"`` (chosen on the early-stopping
validation split for balanced accuracy). Held-out balanced accuracy, minority
recall and ROC AUC over several seeds. One record per fit in
``benchmarks/results/imbalance.jsonl``.

    python benchmarks/bench_imbalance.py [--quick] [--threads N] [--seeds 0,1,2,3,4]
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
from _common import Clock, Results, parse_args, print_header, print_table
from sklearn.metrics import balanced_accuracy_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

VARIANTS = {
    "cross-entropy": {},
    "cross-entropy, class_weight='balanced'": {"class_weight": "balanced"},
    "focal (gamma 2)": {"loss": "focal"},
    "focal (gamma 2), class_weight='balanced'": {"loss": "focal", "class_weight": "balanced"},
    "cross-entropy, decision_threshold='auto'": {"decision_threshold": "auto"},
}


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0], results="imbalance", seeds="0,1,2,3,4", quick_seeds="0,1"
    )
    results = Results(args)
    print_header("Imbalance: class weights, focal loss, tuned threshold", args)
    n = 300 if args.quick else 1000
    X, y = make_sequence_classification(
        n_samples=n,
        n_timesteps=24,
        n_features=6,
        weights=[0.1, 0.9],
        signal=0.9,
        event_length=3,
        random_state=0,
    )
    train, test = train_test_split(np.arange(n), test_size=0.3, stratify=y, random_state=0)
    rows = []
    for name, params in VARIANTS.items():
        bacc, recall, auc, cpu = [], [], [], []
        for seed in args.seeds:
            clf = SeqAttentionClassifier(
                **params, max_epochs=3 if args.quick else 200, random_state=seed
            )
            with warnings.catch_warnings(), Clock() as clock:
                warnings.simplefilter("ignore")
                clf.fit(X[train], y[train])
            pred = clf.predict(X[test])
            bacc.append(balanced_accuracy_score(y[test], pred))
            recall.append(recall_score(y[test], pred, pos_label=0))
            auc.append(roc_auc_score(y[test], clf.predict_proba(X[test])[:, 1]))
            cpu.append(clock.cpu)
            results.write(
                {
                    "variant": name,
                    "params": params,
                    "seed": seed,
                    "balanced_accuracy": bacc[-1],
                    "minority_recall": recall[-1],
                    "roc_auc": auc[-1],
                    "epochs": clf.n_iter_,
                    "fit_cpu_s": cpu[-1],
                    "n_train": len(train),
                    "n_test": len(test),
                }
            )
            print(f"<!-- {name} seed {seed}: {bacc[-1]:.3f} -->", flush=True)
        rows.append(
            {
                "variant": name,
                "seeds": len(args.seeds),
                "balanced accuracy": f"{statistics.fmean(bacc):.3f} ± {statistics.stdev(bacc):.3f}",
                "min": min(bacc),
                "minority recall": statistics.fmean(recall),
                "ROC AUC": statistics.fmean(auc),
                "fit CPU (s)": statistics.fmean(cpu),
            }
        )
    print_table(
        rows,
        caption=f"{len(train)} train / {len(test)} test sequences, 10% minority; held-out "
        "balanced accuracy, recall of the minority class, ROC AUC",
    )


if __name__ == "__main__":
    main()
