"""
==========================
Reading attention weights
==========================

:meth:`~sklearn_seqattn.SeqAttentionClassifier.attention_weights` returns,
for every sequence, the weight the pooling layer gives each time step: zero
on padding, summing to one over the real steps. On synthetic data we know
where the class-defining events are, so we can check whether the model looks
at them.
"""

# %%
# Fit on data with known events
# -----------------------------
# ``return_events=True`` also returns a boolean ``(n_samples, n_timesteps)``
# mask of the steps where the two events were planted.
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification

X, y, events = make_sequence_classification(
    n_samples=500,
    n_timesteps=40,
    n_features=8,
    weights=[0.28, 0.72],
    return_events=True,
    random_state=2,
)
X_train, X_test, y_train, y_test, ev_train, ev_test = train_test_split(
    X, y, events, stratify=y, random_state=0
)
# ``n_conv_layers=0``: the dense layers read each step alone, so a step's weight speaks
# for that step. By default steps of 4-16 features first pass a plain convolution stack
# whose outputs each summarise 19 neighbouring steps (see the last section).
clf = SeqAttentionClassifier(
    n_conv_layers=0,
    dense_units=16,
    lstm_units=16,
    class_weight="balanced",
    max_epochs=30,
    random_state=0,
).fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# How much weight lands on the events?
# ------------------------------------
# Under uniform attention the events would receive their share of the real
# steps; the ratio says how much the model concentrates on them.
weights = clf.attention_weights(X_test)
real = ~(X_test == 0).all(axis=2)
on_events = (weights * ev_test).sum(axis=1)
event_share = ev_test.sum(axis=1) / real.sum(axis=1)
print(f"weight on padding:  {weights[~real].sum():.1f}")
print(
    f"weight on events:   {on_events.mean():.1%} (chance: {event_share.mean():.1%}, "
    f"{on_events.mean() / event_share.mean():.1f}x)"
)

# %%
# A heat map of a few test sequences
# ----------------------------------
# Rows are sequences, columns time steps; white dots mark the planted
# events. Padded steps (on the right) are exactly zero.
from sklearn_seqattn.plotting import AttentionDisplay

display = AttentionDisplay.from_estimator(
    clf, X_test, sample_indices=range(8), y=y_test, events=ev_test
)

# %%
# Attention over the input
# ------------------------
# The ``"input"`` view draws each sequence's features (grey, padding blank)
# with the attention curve on top and the events shaded; ``"relevance"``
# shows ``weight x |feature|``, which points at the features carrying the
# events.
AttentionDisplay.from_estimator(clf, X_test, sample_indices=[0, 1], view="input", events=ev_test)
display = AttentionDisplay.from_estimator(clf, X_test, sample_indices=[0, 1], view="relevance")

# %%
# Caveat
# ------
# In this run the events received about 44% of the weight while making up
# about 35% of the real steps: only slightly more than chance, and yet every
# test sequence was classified correctly. Attention weights say where the
# pooling *read* the LSTM's outputs, not which inputs caused the decision: a
# BiLSTM output at step ``t`` already summarises the whole sequence, so the
# order of the events is known at every step and the pooling need not focus
# on them. Treat the weights as a diagnostic (is the model reading padding?
# one position? the events?), not as an explanation.
#
# With the default front end for these 8 features (the plain convolution
# stack) the same fit classified every test sequence correctly too, but the
# events received 36% of the weight for their 35% of the steps: each
# convolution output already mixes 19 steps, so the pooling has even less
# reason to pick the event steps. For per-step evidence that does not depend
# on the pooling, see :func:`sklearn_seqattn.inspection.relevance`
# (integrated gradients).
