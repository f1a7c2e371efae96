"""
=================================================
Scaling, padding and resampling sequence datasets
=================================================

scikit-learn's scalers and imbalanced-learn's samplers expect 2-D tables;
on ``(n_samples, n_timesteps, n_features)`` data they stop at "Found array
with dim 3". :class:`~sklearn_seqattn.preprocessing.SequenceScaler`,
:class:`~sklearn_seqattn.preprocessing.SequencePadder` and
:class:`~sklearn_seqattn.resampling.SequenceResampler` do the same jobs on
padded arrays and ragged lists, and never mistake padding for data.
"""

# %%
# An imbalanced dataset of sequences of different lengths
# -------------------------------------------------------
# Sequences are zero-padded at the end; class 0 is the rare one.
import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.preprocessing import SequencePadder, SequenceScaler
from sklearn_seqattn.resampling import SequenceResampler

X, y = make_sequence_classification(
    n_samples=300,
    n_timesteps=24,
    n_features=4,
    event_length=3,
    weights=[0.15],
    signal=2.5,
    random_state=0,
)
X = X * 5.0 + np.where((X != 0).any(axis=-1, keepdims=True), 20.0, 0.0)  # far from 0 mean/unit
lengths = (X != 0).any(axis=-1).sum(axis=1)
print(f"X: {X.shape}, lengths {lengths.min()}..{lengths.max()}, class counts {np.bincount(y)}")

# %%
# Scaling learned from real steps only
# ------------------------------------
# A plain ``StandardScaler`` on the flattened steps would count the padded
# zeros as data and pull the mean towards 0. ``SequenceScaler`` uses real
# steps only and leaves padding exactly at the mask value.
scaler = SequenceScaler().fit(X)
Xt = scaler.transform(X)
real = (X != 0).any(axis=-1)
print("learned mean  ", scaler.center_.round(2))
print("mean with pads", X.reshape(-1, 4).mean(axis=0).round(2))
print("scaled real steps: mean", Xt[real].mean().round(3), "std", Xt[real].std().round(3))
print("padding untouched:", bool((Xt[~real] == 0).all()))

# %%
# The same on a ragged list, and padding it into one array
# --------------------------------------------------------
ragged = [x[:n] for x, n in zip(X, lengths, strict=True)]
scaled_list = SequenceScaler().fit_transform(ragged)  # list in, list out
padder = SequencePadder(quantile=0.9, padding="pre", truncating="pre").fit(scaled_list)
X_fixed = padder.transform(scaled_list)
print(f"{len(scaled_list)} sequences -> array {X_fixed.shape} (90% quantile length)")

# %%
# SMOTE on sequences
# ------------------
# Sequences of different lengths have no common steps, so by default
# ``SequenceResampler`` resamples them in time to a common grid; SMOTE then
# interpolates two neighbours step by step, the length is interpolated too,
# and the new sequence is brought back to its own length. Originals come back
# untouched, and padding never enters an interpolation.
resampler = SequenceResampler(SMOTE(k_neighbors=3, random_state=0))
X_res, y_res = resampler.fit_resample(Xt, y)
new = np.flatnonzero(resampler.source_indices_ < 0)
print(f"after SMOTE: {X_res.shape}, class counts {np.bincount(y_res)}, {len(new)} synthetic")

fig, ax = plt.subplots(figsize=(7, 3))
minority = np.flatnonzero(y == 0)
for i in minority[:6]:
    ax.plot(Xt[i, : lengths[i], 0], color="0.7", lw=1)
for i in new[:3]:
    n = int((X_res[i] != 0).any(axis=-1).sum())
    ax.plot(X_res[i, :n, 0], lw=2, label=f"synthetic ({n} steps)")
ax.set(xlabel="time step", ylabel="feature 0 (scaled)", title="Minority sequences (grey)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# In a pipeline: resampling during fit only
# -----------------------------------------
# imbalanced-learn's pipeline applies samplers in ``fit`` and skips them in
# ``predict``, so test data is never resampled. Below, three ways of handling
# the imbalance are compared on a held-out quarter of the data. This
# synthetic problem is easy once the order of the events is learned, so the
# differences are small; with a test set of this size they amount to a few
# sequences.
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model_kwargs = dict(
    dense_units=8, lstm_units=8, max_epochs=40, batch_size=32, early_stopping=False, random_state=0
)

models = {
    "no resampling": make_pipeline(SequenceScaler(), SeqAttentionClassifier(**model_kwargs)),
    "class weights": make_pipeline(
        SequenceScaler(), SeqAttentionClassifier(**model_kwargs, class_weight="balanced")
    ),
    "SMOTE": make_pipeline(
        SequenceScaler(),
        SequenceResampler(SMOTE(k_neighbors=3, random_state=0)),
        SeqAttentionClassifier(**model_kwargs),
    ),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    score = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name:>14}: balanced accuracy {score:.3f}")
