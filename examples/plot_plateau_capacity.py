"""
================================================================
Plateau: loosen the regularisation, then add capacity
================================================================

A model that no longer over-fits but whose validation score has stopped
improving is often *under*-fitting: the regularisation that cured the
over-fitting now holds it back. The sign is in the training curves: the
training loss is barely lower than the validation loss and both are flat.
The cure is to loosen the regularisation first and then to add capacity,
watching the gap between the two losses.

We compare three models on the same data:

* heavily regularised and small: dropout 0.5, weight decay 1.0, 4 LSTM units;
* the same size with the defaults' light regularisation (dropout 0.1,
  weight decay 1e-4);
* lightly regularised with 4 times the LSTM width.
"""

# %%
import time

import matplotlib.pyplot as plt
from sklearn.metrics import balanced_accuracy_score
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
    random_state=5,
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# early_stopping=True holds out a validation split for the curves ("auto" holds one out
# only from about 500 training sequences; these are 450).
# ``n_conv_layers=0``: the dense layers read each step alone, as steps of 17 features or
# more (the 136 of the typical frame features) get by default; 8 features keep the
# example fast, and on them the default convolution stack learns this task in every variant.
common = dict(
    n_conv_layers=0, class_weight="balanced", max_epochs=30, early_stopping=True, random_state=0
)
variants = {
    "heavy regularisation, 4 units": dict(
        lstm_units=4, dense_units=8, dropout=0.5, weight_decay=1.0
    ),
    "light regularisation, 4 units": dict(lstm_units=4, dense_units=8),
    "light regularisation, 16 units": dict(lstm_units=16, dense_units=16),
}
fitted = {}
for name, params in variants.items():
    start = time.perf_counter()
    clf = SeqAttentionClassifier(**params, **common).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    fitted[name] = clf
    history = clf.history_
    print(
        f"{name:>31}: test balanced accuracy "
        f"{balanced_accuracy_score(y_test, clf.predict(X_test)):.3f}, "
        f"final train loss {history[-1, 'train_loss']:.3f}, "
        f"best valid loss {min(history[:, 'valid_loss']):.3f}, {seconds:.1f} s"
    )

# %%
# The curves
# ----------
# With heavy regularisation the losses sit together near ``ln 2 = 0.69``:
# no over-fitting, and no learning either. Loosening the regularisation lets
# the small model learn; more units let it learn faster and further. The
# validation loss stays close to the training loss in all three: early
# stopping (on by default) keeps the larger model from over-fitting.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
for ax, (name, clf) in zip(axes, fitted.items(), strict=True):
    HistoryDisplay.from_estimator(clf, ax=ax, show_score=False)
    ax.set_title(name, fontsize="medium")
fig.tight_layout()

# %%
# What to try, in order
# ---------------------
# 1. Lower ``dropout`` and ``weight_decay`` until the training loss falls
#    clearly below the validation loss.
# 2. Then add width (``lstm_units``, ``dense_units``) or depth
#    (``n_lstm_layers``, ``n_attention_layers``), keeping early stopping on.
# 3. A training loss stuck exactly at ``ln(n_classes)`` is not a capacity
#    problem: the model predicts a constant. In Keras models this is often
#    caused by an activity regulariser on the LSTM outputs (see
#    :doc:`/user_guide/keras`).
