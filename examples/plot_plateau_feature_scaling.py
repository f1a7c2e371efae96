"""
=====================================
Plateau: scale the features
=====================================

Features on very different scales — energies in the thousands next to
coefficients around one, or large constant offsets — slow gradient descent
down and can make it stall early. Standardising each feature fixes this,
but with padded sequences the statistics must ignore the padding, and the
padding must stay recognisable afterwards.

:class:`~sklearn_seqattn.SeqAttentionClassifier` does this inside the
network by default (``standardize="auto"``, which is ``True`` on these 8
features): it learns each feature's mean and standard deviation from the
real training steps and keeps them with the model.
:class:`~sklearn_seqattn.preprocessing.SequenceScaler` does the same as a
pipeline step (also with ``method="robust"``), for other models or for
inspection. Here we switch the internal standardisation off to show what it
protects against.
"""

# %%
# Badly scaled data
# -----------------
# We take a synthetic task and give each feature its own scale (from 0.01 to
# 100) and offset, keeping the zero padding.
import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.preprocessing import SequenceScaler

X, y = make_sequence_classification(
    n_samples=600,
    n_timesteps=40,
    n_features=8,
    weights=[0.28, 0.72],
    signal=1.2,
    random_state=7,
)
rng = np.random.default_rng(0)
scales = 10.0 ** rng.uniform(-2, 2, size=X.shape[2])
offsets = rng.uniform(-50, 50, size=X.shape[2])
padding = (X == 0).all(axis=2)
X_raw = (X * scales + offsets).astype(np.float32)
X_raw[padding] = 0.0
print("per-feature standard deviation of real steps:", np.round(X_raw[~padding].std(axis=0), 2))
X_train, X_test, y_train, y_test = train_test_split(X_raw, y, stratify=y, random_state=0)

# %%
# Without and with scaling
# ------------------------
# ``n_conv_layers=0``: the dense layers read each step alone, as steps of 17 features or
# more (the 136 of the typical frame features) get by default; 8 features keep the
# example fast, and on them the default convolution stack, with batch normalisation after
# each convolution, suffers less from unscaled input (0.995 against 1.000).
params = dict(
    n_conv_layers=0,
    dense_units=16,
    lstm_units=16,
    class_weight="balanced",
    max_epochs=25,
    random_state=0,
)
unscaled = SeqAttentionClassifier(**params, standardize=False).fit(X_train, y_train)
internal = SeqAttentionClassifier(**params).fit(X_train, y_train)  # "auto": True here
scaled = make_pipeline(SequenceScaler(), SeqAttentionClassifier(**params, standardize=False)).fit(
    X_train, y_train
)
for name, model in [
    ("unscaled", unscaled),
    ("standardize=True", internal),
    ("SequenceScaler", scaled),
]:
    bacc = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name:>16}: test balanced accuracy {bacc:.3f}")

# %%
# Padding is preserved
# --------------------
Xt = scaled[0].transform(X_test)
test_padding = (X_test == 0).all(axis=2)
print("padded steps still all zero:", bool((Xt[test_padding] == 0).all()))
print(
    "real steps: mean",
    np.round(Xt[~test_padding].mean(), 3),
    "std",
    np.round(Xt[~test_padding].std(), 3),
)

# %%
# Curves side by side
# -------------------
import matplotlib.pyplot as plt

from sklearn_seqattn.plotting import HistoryDisplay

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
HistoryDisplay.from_estimator(unscaled, ax=axes[0], show_score=False)
HistoryDisplay.from_estimator(internal, ax=axes[1], show_score=False)
axes[0].set_title("standardize=False, unscaled input")
axes[1].set_title("standardize=True (the default here)")
fig.tight_layout()

# %%
# Why not scikit-learn's StandardScaler?
# --------------------------------------
# It expects 2-D data; reshaping to ``(n_samples * n_timesteps, n_features)``
# would count padded zeros in the statistics and turn the padding into
# non-zero values, so the classifier could no longer mask it.
