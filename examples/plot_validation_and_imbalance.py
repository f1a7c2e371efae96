"""
==================================================
Validation you control, imbalance and embeddings
==================================================

Early stopping needs a validation split. By default the classifier holds out
a random stratified 10%; this example shows the other ways, and what the
classifier does for imbalanced data by itself:

* ``fit(X, y, groups=...)``: the validation split holds whole groups
  (speakers, subjects), so no group is on both sides;
* ``fit(X, y, X_val=..., y_val=...)``: a validation set of your own;
* ``sampler=``: resample only the training part of the split;
* ``decision_threshold="auto"``: a decision threshold chosen on the
  validation split, without refitting;
* ``loss="focal"``: the focal loss;
* ``transform`` and ``decision_function`` for other estimators.
"""

# %%
# Data: 20 speakers, an imbalanced binary task
# --------------------------------------------
import numpy as np
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

X, y = make_sequence_classification(
    n_samples=500,
    n_timesteps=24,
    n_features=6,
    weights=[0.1, 0.9],
    signal=0.9,
    event_length=3,
    random_state=0,
)
speaker = np.arange(len(X)) % 20
train, test = train_test_split(np.arange(len(X)), test_size=0.3, stratify=y, random_state=0)
params = dict(dense_units=16, lstm_units=16, max_epochs=25, random_state=0)


def report(name, clf):
    pred = clf.predict(X[test])
    print(f"{name:>34}: balanced accuracy {balanced_accuracy_score(y[test], pred):.3f}")


# %%
# A validation split of whole speakers
# ------------------------------------
clf = SeqAttentionClassifier(**params).fit(X[train], y[train], groups=speaker[train])
report("groups=speaker", clf)
print(clf.fit_diagnosis_)

# %%
# A validation set of your own
# ----------------------------
# Every training sequence is trained on; early stopping watches ``X_val``.
fit_part, val_part = train_test_split(train, test_size=0.2, stratify=y[train], random_state=1)
clf = SeqAttentionClassifier(**params).fit(
    X[fit_part], y[fit_part], X_val=X[val_part], y_val=y[val_part]
)
report("X_val / y_val", clf)

# %%
# Imbalance: resampling, a tuned threshold, the focal loss
# --------------------------------------------------------
# The sampler sees the training part only: no copy of a validation sequence
# is trained on, so early stopping is not fooled by oversampled duplicates.
from imblearn.over_sampling import RandomOverSampler

for name, extra in [
    ("no correction", {}),
    ("class_weight='balanced'", {"class_weight": "balanced"}),
    ("sampler=RandomOverSampler()", {"sampler": RandomOverSampler()}),
    ("decision_threshold='auto'", {"decision_threshold": "auto"}),
    ("loss='focal', balanced", {"loss": "focal", "class_weight": "balanced"}),
]:
    clf = SeqAttentionClassifier(**params, **extra).fit(X[train], y[train])
    report(name, clf)
    if "decision_threshold" in extra:
        print(f"{'':>34}  chosen threshold: {clf.threshold_:.3f}")

# %%
# Embeddings and scores for other estimators
# ------------------------------------------
# ``transform`` returns the pooled representation the head reads;
# ``decision_function`` the log-odds of ``classes_[1]``.
from sklearn.linear_model import LogisticRegression

clf = SeqAttentionClassifier(**params, class_weight="balanced").fit(X[train], y[train])
embeddings = clf.transform(X[train])
print("embedding shape:", embeddings.shape, clf.get_feature_names_out()[:2])
probe = LogisticRegression(max_iter=1000, class_weight="balanced").fit(embeddings, y[train])
print(
    "logistic regression on the embeddings:",
    round(balanced_accuracy_score(y[test], probe.predict(clf.transform(X[test]))), 3),
)
print(
    "ROC AUC of decision_function:",
    round(roc_auc_score(y[test], clf.decision_function(X[test])), 3),
)
