"""Small array helpers shared by tests."""

import numpy as np


def add_padding(X: np.ndarray, extra: int, side: str = "post", value: float = 0.0):
    """Append ``extra`` padded steps to every sequence, at the end or the start."""
    pad = np.full((X.shape[0], extra, X.shape[2]), value, dtype=X.dtype)
    return np.concatenate([X, pad] if side == "post" else [pad, X], axis=1)
