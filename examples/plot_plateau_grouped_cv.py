"""
===========================================================
Plateau: grouped cross-validation (speaker/subject leakage)
===========================================================

When several sequences come from the same speaker, patient or recording
session, a random train/validation split puts sequences of the same speaker
on both sides. The model can then score well by recognising speakers rather
than the task — and the "plateau" you see on new speakers is the real
performance, not a tuning problem. Splitting by group
(:class:`~sklearn.model_selection.StratifiedGroupKFold`) measures what
happens on unseen speakers.

We simulate 20 speakers, each with a constant "voice" signature added to all
their steps and a class mix skewed towards one class (as when each speaker
mostly says one word), with a weak genuine order signal.
"""

# %%
import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

X, y = make_sequence_classification(
    n_samples=480,
    n_timesteps=30,
    n_features=8,
    weights=[0.5, 0.5],
    signal=0.7,
    random_state=9,
)
rng = np.random.default_rng(0)
n_speakers = 20
speaker_class = np.arange(n_speakers) % 2  # the class each speaker mostly produces
groups = np.empty(len(y), dtype=int)
for label in (0, 1):
    members = np.flatnonzero(y == label)
    # 85% of a class's sequences come from "its" speakers.
    own = rng.random(len(members)) < 0.85
    pool_own = np.flatnonzero(speaker_class == label)
    pool_other = np.flatnonzero(speaker_class != label)
    groups[members] = np.where(
        own, rng.choice(pool_own, len(members)), rng.choice(pool_other, len(members))
    )
voices = rng.normal(scale=1.0, size=(n_speakers, X.shape[2])).astype(np.float32)
padding = (X == 0).all(axis=2)
X = X + voices[groups][:, None, :]
X[padding] = 0.0
print(
    f"{n_speakers} speakers, {np.bincount(groups).min()}-{np.bincount(groups).max()} sequences each"
)

# %%
# Random versus grouped folds
# ---------------------------
# ``standardize=True`` scales by the data set's statistics. The default,
# ``standardize="auto"``, would scale each sequence by its own here and so remove
# these voices (see the end of this example).
clf = SeqAttentionClassifier(
    dense_units=16, lstm_units=16, max_epochs=15, standardize=True, random_state=0
)
random_cv = cross_val_score(
    clf, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="balanced_accuracy"
)
grouped_cv = cross_val_score(
    clf,
    X,
    y,
    groups=groups,
    cv=StratifiedGroupKFold(3, shuffle=True, random_state=0),
    scoring="balanced_accuracy",
)
print(f"random folds:  balanced accuracy {random_cv.mean():.3f} +- {random_cv.std():.3f}")
print(f"grouped folds: balanced accuracy {grouped_cv.mean():.3f} +- {grouped_cv.std():.3f}")

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.boxplot([random_cv, grouped_cv], tick_labels=["random folds", "grouped by speaker"])
ax.set_ylabel("balanced accuracy")
fig.tight_layout()

# %%
# What this means for a plateau
# -----------------------------
# * If your validation split is random and your data have speakers,
#   subjects or sessions, your validation score is optimistic and every
#   tuning decision is biased towards memorising them.
# * Use grouped splits for model selection:
#   ``GridSearchCV(..., cv=StratifiedGroupKFold(5))`` and ``fit(X, y,
#   groups=groups)``. The classifier's internal early-stopping split is
#   random; with groups, consider ``early_stopping=False`` with a fixed
#   ``max_epochs`` chosen by grouped CV, or an explicit validation set
#   passed through a skorch callback.
# * Features that identify the group without carrying the task (a recording
#   channel's gain, a speaker's pitch) can be normalised per group before
#   training.
#
# Here the voice is a constant offset on every feature, the simplest group
# signature. The default ``standardize="auto"`` finds such offsets in the
# training data (levels of their own per sequence that the class does not
# explain) and standardises each sequence by its own statistics, which removes
# them: with it, random and grouped folds both score close to 1 on these data,
# where with the data set's statistics the grouped folds fall behind (above).
# A signature that is not an offset (a speaker's pitch contour, a channel's
# frequency response) survives that scaling, so grouped folds stay the honest
# estimate.
auto = clf.set_params(standardize="auto").fit(X, y)
print(f'standardize="auto" chose {auto.standardize_!r}')
