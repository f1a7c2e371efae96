"""Training through Hugging Face ``accelerate``: the net used with ``accelerator=...``."""

from __future__ import annotations

import torch
from skorch.dataset import unpack_data
from skorch.hf import AccelerateMixin

from ._sequence_net import SequenceNet
from ._skorch_compat import PrepareTrainableCriteriaOnly

__all__ = ["AcceleratedSequenceNet"]


class AcceleratedSequenceNet(PrepareTrainableCriteriaOnly, AccelerateMixin, SequenceNet):
    """The :class:`~sklearn_seqattn._sequence_net.SequenceNet` trained through ``accelerate``.

    Used when ``SeqAttentionClassifier(accelerator=...)`` is given; device
    placement, mixed precision and distribution are then the accelerator's.
    Training batches come from a ``DataLoader``, which ``accelerator.prepare``
    shards across processes (every process draws the same batch order: the
    sampler's generator is seeded from the same ``random_state``).

    Validation and prediction batches are not sharded: every process
    evaluates the whole validation set itself, so the validation loss and
    score, and so the early-stopping decisions, agree everywhere without
    gathering.
    """

    def _batch_device(self):
        return self.accelerator.device if self.accelerator.device_placement else None

    def get_iterator(self, dataset, training=False):
        if training:
            return super().get_iterator(dataset, training=True)
        from accelerate.data_loader import prepare_data_loader

        kwargs = self.get_params_for("iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        loader = self.iterator_valid(dataset, **kwargs)
        # One "process": the whole set, on the accelerator's device.
        return prepare_data_loader(
            loader,
            device=self.accelerator.device,
            num_processes=1,
            process_index=0,
            put_on_device=self.accelerator.device_placement,
        )

    def evaluation_step(self, batch, training=False):
        # Prediction batches are whole on every process (get_iterator): nothing to
        # gather, unlike AccelerateMixin's evaluation over sharded batches.
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        with torch.set_grad_enabled(training):
            self.module_.train(training)
            return self.infer(Xi)
