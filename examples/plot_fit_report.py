"""
=============================================
The fit report: why a model stops improving
=============================================

*"My model plateaus without over-fitting: how do I improve it?"*
:func:`~sklearn_seqattn.fit_report` answers with evidence instead of a
checklist: the network's balanced accuracy on held-out data (and on its
training data), cheap baselines fitted on the same training data (per-feature
statistics, time-binned means and, with aeon, MiniRocket), the training
curves the estimator kept, a verdict, and the parameter changes this package
has measured for that verdict, with what they gained and cost.

Two models below look alike from their curves (flat at the end, no
over-fitting); the report tells them apart.
"""

# %%
# A plateau at the data's ceiling
# -------------------------------
# The class is a level shift of one feature, but a fifth of the labels are
# flipped: no model can pass about 0.8 balanced accuracy.
import numpy as np

from sklearn_seqattn import SeqAttentionClassifier, fit_report

rng = np.random.RandomState(0)
n, n_timesteps = 500, 30
y = rng.permutation(np.arange(n) % 2)
lengths = rng.randint(15, n_timesteps + 1, size=n)
X = rng.standard_normal((n, n_timesteps, 3)).astype(np.float32)
X[:, :, 0] += np.where(y == 1, 3.0, -3.0)[:, None]
X[np.arange(n_timesteps)[None, :] >= lengths[:, None]] = 0.0  # zero post-padding
y = np.where(rng.rand(n) < 0.2, 1 - y, y)  # 20% label noise
X_train, y_train, X_val, y_val = X[:350], y[:350], X[350:], y[350:]

clf = SeqAttentionClassifier(
    dense_units=2, lstm_units=2, max_epochs=10, early_stopping=True, random_state=0
).fit(X_train, y_train)
report = fit_report(clf, X_val, y_val, X_train=X_train, y_train=y_train)
print(report)

# %%
# The verdict is "plateau": the validation score stopped moving, and the
# order-blind baseline (a logistic regression on each feature's mean and
# spread) scores the same. When a cheap model does as well, more epochs,
# width or layers will not help; the limit is in the data. The figure shows
# the learning curves with the best epoch, and the scores side by side
# (bars: validation, diamonds: training).
axes = report.plot()

# %%
# A network that trails a cheap baseline
# --------------------------------------
# Here the class is a slow contour over each whole sequence (a sine period on
# 4 of 8 features, rising first for one class and falling first for the
# other) under noise. Time-binned means see it at once; a network with two
# LSTM units learns it slowly.
rng = np.random.RandomState(1)
n, n_timesteps = 400, 40
y = rng.permutation(np.arange(n) % 2)
lengths = rng.randint(n_timesteps // 2, n_timesteps + 1, size=n)
X = rng.standard_normal((n, n_timesteps, 8)).astype(np.float32)
phase = np.sin(2 * np.pi * np.arange(n_timesteps)[None, :] / lengths[:, None])
X[:, :, :4] += (0.3 * phase * np.where(y == 0, 1.0, -1.0)[:, None])[:, :, None]
X[np.arange(n_timesteps)[None, :] >= lengths[:, None]] = 0.0
X_train, y_train, X_val, y_val = X[:300], y[:300], X[300:], y[300:]

small = SeqAttentionClassifier(
    n_conv_layers=0, lstm_units=2, dense_units=2, max_epochs=30, random_state=0
).fit(X_train, y_train)
report = fit_report(small, X_val, y_val, X_train=X_train, y_train=y_train)
print(report)

# %%
# "underfitting": the network trails the binned baseline while its training
# and validation scores agree. The next steps come from the package's own
# measurements (``docs/benchmarks.md``); each has the parameters to set.
# Take the width suggestion:
width = next(s for s in report.suggestions if s.change.startswith("lstm_units"))
print(width.change, "--", width.gain)
wider = SeqAttentionClassifier(n_conv_layers=0, max_epochs=30, random_state=0, **width.params)
wider.fit(X_train, y_train)
after = fit_report(wider, X_val, y_val, X_train=X_train, y_train=y_train)
print(
    f"{report.verdict} {report.balanced_accuracy:.3f} -> {after.verdict} "
    f"{after.balanced_accuracy:.3f}"
)
axes = after.plot()

# %%
# The wider network closes the gap (0.918 -> 0.98-0.99 in the documentation
# builds) and at best draws level with the time-binned means (0.991): on this
# task the cheap model is the one to beat, or to use. The report says so instead of a generic "add
# capacity".

# %%
# What the report reads
# ---------------------
# Everything is also available as data: ``report.to_dict()`` is JSON-ready,
# and ``seqattn report MODEL_DIR TRAIN.npz VAL.npz`` prints the same text for
# a saved model. The verdict's thresholds are named constants in
# ``sklearn_seqattn.report._verdict``, the suggestions one table in
# ``sklearn_seqattn.report._suggestions``.
print(sorted(after.to_dict()))
