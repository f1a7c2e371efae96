"""
===================================================
Variable-length sequences: ragged lists and padding
===================================================

Sequences of different lengths can be given as a list of
``(n_timesteps_i, n_features)`` arrays or as one padded array. Padding is
masked everywhere in the model, so the layout does not change a prediction:
post-padding, pre-padding, extra padding and the ragged list all give the
same probabilities.
"""

# %%
# A ragged list
# -------------
import numpy as np

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.preprocessing import SequencePadder

X, y = make_sequence_classification(n_samples=300, n_timesteps=40, n_features=6, random_state=1)
lengths = (~(X == 0).all(axis=2)).sum(axis=1)
ragged = [x[:n] for x, n in zip(X, lengths, strict=True)]
print([seq.shape for seq in ragged[:4]])

# %%
# The classifier takes the list directly.
clf = SeqAttentionClassifier(dense_units=8, lstm_units=8, max_epochs=15, random_state=0)
clf.fit(ragged[:200], y[:200])

# %%
# Four layouts of the same test sequences
# ---------------------------------------
# :class:`~sklearn_seqattn.preprocessing.SequencePadder` pads a list to an
# array, after (``"post"``) or before (``"pre"``) the real steps. We also
# append 60 extra padded steps, and use NaN as the mask value.
test = ragged[200:]
post = SequencePadder(padding="post").fit_transform(test)
pre = SequencePadder(padding="pre").fit_transform(test)
longer = np.concatenate([post, np.zeros((len(post), 60, post.shape[2]), np.float32)], axis=1)
nan_padded = np.where((post == 0).all(axis=2, keepdims=True), np.nan, post)

reference = clf.predict_proba(test)
layouts = {
    "post-padded": clf.predict_proba(post),
    "pre-padded": clf.predict_proba(pre),
    "60 extra padded steps": clf.predict_proba(longer),
    "NaN padding": clf.set_params(mask_value=np.nan).predict_proba(nan_padded),
}
clf.set_params(mask_value=0.0)
for name, proba in layouts.items():
    print(
        f"{name:>22}: max |difference| to the ragged list = {np.abs(proba - reference).max():.1e}"
    )

# %%
# Attention follows the layout
# ----------------------------
# The attention weights are returned on the caller's time axis: for
# pre-padded input the weight sits on the right, padded steps get exactly
# zero, and the two layouts hold the same numbers, shifted.
import matplotlib.pyplot as plt

from sklearn_seqattn.plotting import AttentionDisplay

fig, (ax_post, ax_pre) = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
AttentionDisplay.from_estimator(clf, post, sample_indices=range(4), ax=ax_post, colorbar=False)
AttentionDisplay.from_estimator(clf, pre, sample_indices=range(4), ax=ax_pre, colorbar=False)
ax_post.set_title("post-padded")
ax_pre.set_title("pre-padded")
fig.tight_layout()
w_post, w_pre = clf.attention_weights(post[:4]), clf.attention_weights(pre[:4])
print("same weights, shifted:", np.allclose(np.sort(w_post, axis=1), np.sort(w_pre, axis=1)))
