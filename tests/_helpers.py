"""Small helpers shared by tests: the table of tiny model settings, array padding."""

import numpy as np

# The suite's one table of tiny constructor settings: fast to fit, far too small to learn
# much. A file or test that needs more (epochs to learn, no validation split, ...) says so
# with overrides: ``tiny(max_epochs=15)``.
TINY = dict(dense_units=4, lstm_units=4, max_epochs=2, n_estimators=1, random_state=0)

# The model of the session-wide ``fitted_tiny`` fixture (conftest.py), fitted on ``seq_data``:
# every sample trains (no split) and n_init="auto" cannot retry a fit that learned little.
FITTED_TINY = dict(TINY, early_stopping=False, n_init=1)


def tiny(**overrides):
    """A new dict of the ``TINY`` settings with ``overrides`` on top."""
    return {**TINY, **overrides}


def add_padding(X: np.ndarray, extra: int, side: str = "post", value: float = 0.0):
    """Append ``extra`` padded steps to every sequence, at the end or the start."""
    pad = np.full((X.shape[0], extra, X.shape[2]), value, dtype=X.dtype)
    return np.concatenate([X, pad] if side == "post" else [pad, X], axis=1)
