"""The one place that relies on skorch's private members, where no public route exists.

``tests/test_skorch_compat.py`` checks each of them against the installed
skorch and fails loudly, naming the member, when skorch changes it.
"""

from __future__ import annotations

__all__ = ["PrepareTrainableCriteriaOnly"]


class PrepareTrainableCriteriaOnly:
    """Mixin for an ``AccelerateMixin`` net: hand only trainable criteria to the accelerator.

    With several processes, ``accelerator.prepare`` wraps every module it is
    given in ``DistributedDataParallel``, which refuses a module without
    trainable parameters, like the loss. skorch prepares every criterion it
    has registered (its private ``_criteria`` list) in its private
    ``_initialize_accelerator``; neither has a public counterpart, so the list
    is narrowed around that call.
    """

    def _initialize_accelerator(self):
        criteria = self._criteria
        self._criteria = [
            name
            for name in criteria
            if any(
                p.requires_grad for p in getattr(getattr(self, name + "_"), "parameters", list)()
            )
        ]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria
