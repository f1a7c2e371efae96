"""
===================================================
Searching architectures and cross-validating groups
===================================================

:class:`~sklearn_seqattn.SeqAttentionClassifier` is a scikit-learn
estimator, so the usual model-selection tools apply to sequences unchanged:
grid, randomized and successive-halving searches over architecture
parameters, and grouped cross-validation where all sequences of one speaker
stay on the same side of every split, with ``groups`` and ``sample_weight``
routed through scikit-learn's metadata routing.
"""

# %%
# Data: several sequences per speaker
# -----------------------------------
import numpy as np
import sklearn
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_validate,
)

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

X, y = make_sequence_classification(
    n_samples=160, n_timesteps=20, n_features=4, event_length=3, signal=3.0, random_state=0
)
rng = np.random.default_rng(0)
speakers = rng.integers(0, 12, size=len(y))
# e.g. down-weight sequences recorded in bad conditions
sample_weight = rng.choice([0.5, 1.0], size=len(y), p=[0.2, 0.8])
base = SeqAttentionClassifier(
    dense_units=8,
    lstm_units=8,
    n_heads=2,
    max_epochs=25,
    batch_size=32,
    lr=1e-2,
    early_stopping=False,
    random_state=0,
)

# %%
# Grid search over the architecture, two fits at a time
# -----------------------------------------------------
grid = GridSearchCV(
    base,
    {"lstm_units": [4, 8], "pooling": ["attention", "mean"]},
    cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
    scoring="balanced_accuracy",
    n_jobs=2,
).fit(X, y)
results = grid.cv_results_
for params, score in zip(results["params"], results["mean_test_score"], strict=True):
    print(f"{params}: {score:.3f}")
print("best:", grid.best_params_)

# %%
# Successive halving: many candidates on few samples, few on many
# ---------------------------------------------------------------
# Each round keeps the best half of the candidates and doubles the number of
# training sequences.
halving = HalvingRandomSearchCV(
    base,
    {"lstm_units": [4, 8, 16], "n_attention_layers": [0, 1], "pooling": ["attention", "max"]},
    n_candidates=4,
    factor=2,
    min_resources=40,
    cv=2,
    scoring="balanced_accuracy",
    n_jobs=2,
    random_state=0,
).fit(X, y)
print("sequences per round:", list(halving.n_resources_))
print("candidates per round:", list(halving.n_candidates_))
print("best:", halving.best_params_)

# %%
# Grouped cross-validation with metadata routing
# ----------------------------------------------
# ``StratifiedGroupKFold`` keeps every speaker in one fold. With metadata
# routing enabled, ``groups`` goes to the splitter (which requests it), and
# ``sample_weight`` goes to the classifier's ``fit`` and to the scorer because
# both ask for it.
with sklearn.config_context(enable_metadata_routing=True):
    result = cross_validate(
        base.set_fit_request(sample_weight=True),
        X,
        y,
        cv=StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0),
        scoring=make_scorer(balanced_accuracy_score).set_score_request(sample_weight=True),
        params={"groups": speakers, "sample_weight": sample_weight},
        return_indices=True,
    )
for train, test, score in zip(
    result["indices"]["train"], result["indices"]["test"], result["test_score"], strict=True
):
    test_speakers = sorted(int(s) for s in set(speakers[test]))
    shared = set(speakers[train]) & set(speakers[test])
    print(
        f"test speakers {test_speakers}: score {score:.3f}, speakers also in train: {len(shared)}"
    )
