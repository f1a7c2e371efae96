"""The skorch net the estimator composes: per-sample weighted loss, fine labels.

Internal: users meet it as ``SeqAttentionClassifier.net_``; it is built by
:func:`~sklearn_seqattn._net.build_net`. The module is run through
:func:`~sklearn_seqattn._inference.run_batch`, as for every prediction.
"""

from __future__ import annotations

from skorch import NeuralNetClassifier
from skorch.utils import to_tensor

from ._inference import merge_fine_proba, run_batch

__all__ = ["SequenceNet"]


class SequenceNet(NeuralNetClassifier):
    """skorch classifier whose loss is weighted per sample.

    With ``label_groups`` (the class index of each output), the network
    predicts fine labels and ``predict_proba`` sums them into classes.

    The criterion must use ``reduction="none"``; ``get_loss`` averages the
    per-sample losses weighted by the batch's ``weights`` (class weight times
    sample weight), the empirical risk that scikit-learn estimators minimise.
    With ``autocast=True`` the forward pass runs under bfloat16 autocast.
    """

    def __init__(self, *args, autocast=False, label_groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast = autocast
        self.label_groups = label_groups

    def _batch_device(self):
        """Device that batches are moved to (None: the accelerator's loader placed them)."""
        return self.device

    def infer(self, x, **fit_params):
        return run_batch(self.module_, x, self._batch_device(), self.autocast, **fit_params)

    def predict_proba(self, X):
        """Class probabilities; with ``label_groups``, fine outputs summed per class."""
        proba = super().predict_proba(X)
        if self.label_groups is None:
            return proba
        return merge_fine_proba(proba, self.label_groups, int(self.label_groups.max()) + 1)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # The loss is on the outputs' own targets (fine labels); y_true holds the classes
        # that validation scores are computed on.
        targets = to_tensor(X["targets"], device=y_pred.device)
        losses = self.criterion_(y_pred.float(), targets)  # (batch,)
        weights = to_tensor(X["weights"], device=y_pred.device)
        return (losses * weights).mean()
