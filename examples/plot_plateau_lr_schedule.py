"""
=====================================
Plateau: learning rate and schedules
=====================================

A learning rate large enough to make quick progress early can be too large to
settle later: the validation loss then wobbles instead of falling.
``lr_schedule="plateau"`` halves the learning rate whenever the monitored loss
stops improving; ``lr_schedule="cosine"`` anneals it smoothly to zero over
``max_epochs``. We compare both with a constant rate, starting from a
deliberately high rate (``lr=1e-2``) on data with 15% of the training labels
flipped (label noise makes the loss surface bumpy), and add the default rate
(``lr=2e-3``, constant) for reference.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import balanced_accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn.datasets import make_sequence_classification
from sklearn_seqattn.plotting import HistoryDisplay

X, y = make_sequence_classification(
    n_samples=600,
    n_timesteps=40,
    n_features=8,
    weights=[0.28, 0.72],
    signal=1.2,
    random_state=6,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
flip = np.random.default_rng(0).random(len(y_train)) < 0.15
y_train = np.where(flip, 1 - y_train, y_train)

settings = {
    "lr=1e-2, constant": dict(lr=1e-2),
    "lr=1e-2, plateau": dict(lr=1e-2, lr_schedule="plateau"),
    "lr=1e-2, cosine": dict(lr=1e-2, lr_schedule="cosine"),
    "lr=2e-3, constant": dict(lr=2e-3),
}
fitted = {}
for name, params in settings.items():
    clf = SeqAttentionClassifier(
        # The dense layers read each step alone, as steps of 17 features or more get by
        # default (8 features keep the example fast).
        n_conv_layers=0,
        dense_units=16,
        lstm_units=16,
        class_weight="balanced",
        max_epochs=30,
        # Hold out a validation split for the curves below ("auto" holds one out
        # only from about 500 training sequences; these are 450).
        early_stopping=True,
        # One network per setting: the default averages three on a training set this
        # small, which would hide the schedules' own effect.
        n_estimators=1,
        random_state=0,
        **params,
    ).fit(X_train, y_train)
    fitted[name] = clf
    proba = clf.predict_proba(X_test)
    print(
        f"{name:>18}: {clf.n_iter_} epochs, test balanced accuracy "
        f"{balanced_accuracy_score(y_test, clf.predict(X_test)):.3f}, "
        f"test log loss {log_loss(y_test, proba):.3f}"
    )

# %%
# Validation losses and learning rates
# ------------------------------------
# With a schedule, the history records the learning rate of every epoch as
# ``"event_lr"`` (except the epoch at which early stopping ends the run).
fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(12, 4))
for name, clf in fitted.items():
    history = clf.history_
    ax_loss.plot(history[:, "epoch"], history[:, "valid_loss"], label=name)
    constant = clf.lr_schedule is None
    rates = [clf.lr if constant else epoch.get("event_lr", np.nan) for epoch in history]
    ax_lr.plot(history[:, "epoch"], rates, label=name)
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("validation loss")
ax_loss.legend(fontsize="small")
ax_lr.set_xlabel("epoch")
ax_lr.set_ylabel("learning rate")
ax_lr.set_yscale("log")
fig.tight_layout()

# %%
# The full curves of one run
# --------------------------
display = HistoryDisplay.from_estimator(fitted["lr=1e-2, plateau"])

# %%
# Notes
# -----
# * Here the runs end close together: the schedules changed the path more
#   than the destination, and with the current defaults (input dropout) the
#   default rate got as far within the same 30 epochs. Try the rate first (a
#   factor 3 up and down), then a schedule; schedules matter most late in long
#   trainings, when the loss wobbles around a minimum.
# * All runs start to fit the flipped labels after about 15 epochs (the
#   validation loss rises); early stopping keeps the best epoch's weights.
# * With ``lr_schedule="plateau"`` the patience is half of
#   ``n_iter_no_change``, so the rate drops before early stopping gives up.
# * ``"cosine"`` plans for ``max_epochs``; when early stopping ends the run
#   sooner, the rate never reaches its low end. Use it with a realistic
#   ``max_epochs`` (or ``early_stopping=False``).
# * Any other schedule can be passed as a skorch callback:
#   ``callbacks=[skorch.callbacks.LRScheduler(policy=...)]``.
