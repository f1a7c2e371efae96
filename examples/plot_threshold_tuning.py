"""
=================================================
Tuning the decision threshold and calibrating
=================================================

On imbalanced data, predicting the class with the highest probability (a
threshold of 0.5 in the binary case) favours the frequent class.
:class:`~sklearn.model_selection.TunedThresholdClassifierCV` picks the
threshold that maximises a metric by cross-validation, and
:class:`~sklearn.calibration.CalibratedClassifierCV` turns the network's
scores into better probabilities. Both wrap
:class:`~sklearn_seqattn.SeqAttentionClassifier` like any scikit-learn
classifier.
"""

# %%
# An imbalanced binary problem
# ----------------------------
# Class 0 is the rare class (20% of the sequences).
import matplotlib.pyplot as plt
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import balanced_accuracy_score, brier_score_loss
from sklearn.model_selection import TunedThresholdClassifierCV, train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

X, y = make_sequence_classification(
    n_samples=300,
    n_timesteps=24,
    n_features=4,
    event_length=3,
    weights=[0.2],
    signal=2.5,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
# ``n_conv_layers=0``: the dense layers read each step alone, the network that steps of 32
# features or more get by default. On these 4 features the default convolution stack
# separates the classes almost perfectly, leaving nothing for a threshold to repair.
params = dict(
    n_conv_layers=0,
    dense_units=8,
    lstm_units=8,
    max_epochs=40,
    batch_size=32,
    early_stopping=False,
    random_state=0,
)

clf = SeqAttentionClassifier(**params).fit(X_train, y_train)
print(
    f"threshold 0.5: balanced accuracy {balanced_accuracy_score(y_test, clf.predict(X_test)):.3f}"
)

# %%
# Tuning the threshold by cross-validation
# ----------------------------------------
# The positive class is ``classes_[1]`` (the frequent class 1): the tuned
# threshold is the probability of class 1 above which class 1 is predicted.
tuned = TunedThresholdClassifierCV(
    SeqAttentionClassifier(**params),
    scoring="balanced_accuracy",
    cv=3,
    store_cv_results=True,
    random_state=0,
).fit(X_train, y_train)
tuned_score = balanced_accuracy_score(y_test, tuned.predict(X_test))
print(f"tuned threshold {tuned.best_threshold_:.3f}: balanced accuracy {tuned_score:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(tuned.cv_results_["thresholds"], tuned.cv_results_["scores"])
ax.axvline(0.5, color="0.6", ls="--", label="default 0.5")
ax.axvline(tuned.best_threshold_, color="C3", label=f"tuned {tuned.best_threshold_:.2f}")
ax.set(xlabel="threshold on P(class 1)", ylabel="CV balanced accuracy")
ax.legend()
fig.tight_layout()

# %%
# Calibrating the probabilities
# -----------------------------
# ``class_weight="balanced"`` is another answer to imbalance, but it trains
# the network as if the classes were equally frequent, so its probabilities
# lean towards the rare class. Sigmoid (Platt) calibration, fitted on
# held-out folds, maps them back. The Brier score (lower is better) and the
# mean predicted probability measure this on the test split.
weighted = dict(params, max_epochs=15, class_weight="balanced")
raw = SeqAttentionClassifier(**weighted).fit(X_train, y_train)
calibrated = CalibratedClassifierCV(SeqAttentionClassifier(**weighted), method="sigmoid", cv=3).fit(
    X_train, y_train
)
print(f"observed share of class 1: {y_test.mean():.3f}")
for name, model in [("class-weighted", raw), ("calibrated", calibrated)]:
    p1 = model.predict_proba(X_test)[:, 1]
    brier = brier_score_loss(y_test, p1)
    print(f"{name:>14}: Brier score {brier:.3f}, mean P(class 1) {p1.mean():.3f}")
