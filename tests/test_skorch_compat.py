"""The skorch private members the package relies on (all in ``_skorch_compat``) still exist.

Each test names the member; a failure here means skorch changed it and
``sklearn_seqattn/_skorch_compat.py`` must follow.
"""

import inspect

import numpy as np
import pytest
import torch

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._net import build_net

accelerate = pytest.importorskip("accelerate")


def _resolved(est):
    """``est`` with the fitted choices that ``build_net`` reads, as a fit would set them."""
    est.classes_ = est.fine_classes_ = np.array([0, 1])
    est.batch_size_, est.downsample_, est.n_conv_layers_ = 8, 1, 0
    est.front_end_, est.fixed_filters_, est.input_dropout_ = "none", False, 0.0
    est.restore_best_weights_, est.lr_schedule_, est.conv_skip_ = False, None, False
    est.n_iter_no_change_, est.tol_, est.standardize_ = 20, 0.0, True
    return est


def _net():
    est = _resolved(SeqAttentionClassifier(dense_units=4, lstm_units=4))
    return build_net(est, 3, "cpu", None, None)


def test_criteria_are_registered_in_the_private_criteria_list():
    net = _net().initialize()
    assert getattr(net, "_criteria", None) == ["criterion"], (
        "skorch no longer lists criteria in NeuralNet._criteria"
    )
    assert isinstance(net.criterion_, torch.nn.Module)


def test_accelerate_mixin_prepares_the_criteria_in_initialize_accelerator():
    from skorch.hf import AccelerateMixin

    method = getattr(AccelerateMixin, "_initialize_accelerator", None)
    assert method is not None, "skorch's AccelerateMixin._initialize_accelerator is gone"
    source = inspect.getsource(method)
    assert "_criteria" in source and "prepare" in source, (
        "AccelerateMixin._initialize_accelerator no longer prepares self._criteria"
    )


def test_only_trainable_criteria_reach_the_accelerator():
    from sklearn_seqattn._accelerate import AcceleratedSequenceNet

    prepared = []

    class Recording(accelerate.Accelerator):
        def prepare(self, *args, **kwargs):
            prepared.extend(args)
            return super().prepare(*args, **kwargs)

    est = _resolved(
        SeqAttentionClassifier(dense_units=4, lstm_units=4, accelerator=Recording(cpu=True))
    )
    net = build_net(est, 3, "cpu", None, None)
    assert isinstance(net, AcceleratedSequenceNet)
    net.initialize()
    assert net.module_ in prepared or any(p is net.module_ for p in prepared)
    assert not any(isinstance(p, torch.nn.CrossEntropyLoss) for p in prepared)
    assert net._criteria == ["criterion"]  # restored after initialisation
