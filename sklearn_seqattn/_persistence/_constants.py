"""Names and limits of the saved format, shared by saving and loading."""

from __future__ import annotations

from .._params import MAX_ESTIMATORS, MAX_LAYERS, MAX_WIDTH

FORMAT_NAME = "sklearn-seqattn"
FORMAT_VERSION = 3
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
HISTORY_FILE = "history.json"
# What save() may replace: its own files, and those a format-1 save left when it crashed.
OWN_FILES = frozenset(
    name + suffix for name in (CONFIG_FILE, WEIGHTS_FILE, HISTORY_FILE) for suffix in ("", ".tmp")
)

# Limits checked before anything is read or built, by load and by save alike.
MAX_CONFIG_BYTES = 4 * 2**20
MAX_HISTORY_BYTES = 64 * 2**20
# The safetensors header (names, dtypes and shapes); safetensors itself allows 100 MB.
MAX_HEADER_BYTES = 16 * 2**20
MAX_DIM = MAX_WIDTH  # n_features_in, number of labels, every width of the network
MAX_N_LAYERS = MAX_LAYERS  # each n_*_layers
MAX_N_NETWORKS = MAX_ESTIMATORS  # networks of an ensemble, as the parameter allows
MAX_LABEL_BYTES = 16 * 2**20  # classes_ (or fine_classes_) in memory: n_labels * itemsize
