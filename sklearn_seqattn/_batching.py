"""Batches for torch's ``DataLoader``: a dataset that returns whole batches, a length-aware sampler.

The training data is held once: :class:`SequenceDataset` wraps the validated
array without copying it, and a dataset of a subset (the training or the
validation split) holds row indices into it. A batch is gathered in one
indexing operation (``__getitems__``, which ``DataLoader`` calls with the
sampler's list of indices) and cut to its longest real step, so training
cost follows real steps rather than padded ones. :class:`LengthBatchSampler`
decides which samples go together; :func:`batch_loader` wires both into a
``torch.utils.data.DataLoader``, which Accelerate shards natively and which
supports ``pin_memory`` and ``num_workers``.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["LengthBatchSampler", "SequenceDataset", "batch_loader", "place_data"]


class SequenceDataset(Dataset):
    """Post-padded sequences as tensors, with targets and per-sample loss weights.

    Parameters
    ----------
    data : ndarray of float32 or tensor, shape (n_rows, n_timesteps, n_features)
        Shared, not copied (a float32 array is wrapped as it is; a tensor,
        e.g. already on a GPU, is used as it is).
    lengths : ndarray of int, shape (n_rows,)
    y : ndarray of int, shape (n_rows,), default=None
        Class indices; zeros when None (prediction).
    weights : ndarray of float, shape (n_rows,), default=None
        Loss weight of each sample (class weight times sample weight).
    targets : ndarray of int, shape (n_rows,), default=None
        Output indices the loss is computed on (fine labels); ``y`` when None.
        ``y`` is what validation scores compare predictions with.
    rows : ndarray of int, shape (n_samples,), default=None
        The rows of ``data`` this dataset consists of, in order; None means
        all of them. Item ``i`` is row ``rows[i]``.
    """

    def __init__(self, data, lengths, y=None, weights=None, targets=None, rows=None):
        n_rows = len(lengths)
        if isinstance(data, torch.Tensor):
            self.x = data
        else:
            self.x = torch.as_tensor(np.asarray(data, dtype=np.float32))
        self.rows = None if rows is None else torch.as_tensor(rows, dtype=torch.int64)

        def per_item(values, default, dtype):
            values = torch.as_tensor(default if values is None else values, dtype=dtype)
            return values if self.rows is None else values[self.rows]

        self.lengths = per_item(lengths, None, torch.int64)
        self.y = per_item(y, np.zeros(n_rows), torch.int64)
        self.weights = per_item(weights, np.ones(n_rows), torch.float32)
        self.targets = self.y if targets is None else per_item(targets, None, torch.int64)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getstate__(self) -> dict:
        # The data travels as a NumPy array, which joblib memory-maps for its workers
        # (one file for all of them) where a tensor would be copied into every task.
        state = self.__dict__.copy()
        if self.x.device.type == "cpu":
            state["x"] = self.x.numpy()
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state["x"], np.ndarray):
            with warnings.catch_warnings():
                # A read-only memory map: shared, and never written (batches are copies
                # or views that the network only reads).
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                state["x"] = torch.from_numpy(np.asarray(state["x"]))
        self.__dict__.update(state)

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, items) -> tuple[dict, torch.Tensor]:
        """``(X_dict, y)`` for the samples at ``items``, cut to their longest real step.

        ``X_dict`` holds ``x`` ``(batch, width, n_features)``, ``lengths``,
        ``weights`` and ``targets``. Consecutive rows are sliced (a view),
        others gathered in one copy.
        """
        items = torch.as_tensor(items, dtype=torch.int64)
        lengths = self.lengths[items]
        width = int(lengths.max())  # on the CPU: no device synchronisation
        rows = items if self.rows is None else self.rows[items]
        first = int(rows[0])
        if bool((rows == torch.arange(first, first + len(rows))).all()):
            x = self.x[first : first + len(rows), :width]
        else:
            x = self.x[rows, :width]
        X = {"x": x, "lengths": lengths, "weights": self.weights[items]}
        X["targets"] = self.targets[items]
        return X, self.y[items]


class LengthBatchSampler(Sampler[list[int]]):
    """Batches of dataset positions: in order, shuffled, or shuffled in buckets of lengths.

    Parameters
    ----------
    dataset : SequenceDataset
    batch_size : int
    shuffle : bool, default=False
        Draw a new order every epoch (training). Without it, batches follow
        the dataset's order (evaluation: outputs come back in that order).
    bucket_by_length : bool, default=False
        When shuffling, order each window of ``window_batches * batch_size``
        shuffled samples by length within each class (classes interleaved in
        proportion, ranks jittered) before cutting it into batches, then
        shuffle the batches. Batches then hold similar lengths and are cut
        short, which saves the time spent on padding, while every batch holds
        every class and batches are new sets every epoch.
    generator : torch.Generator, default=None
        Source of randomness for shuffling.
    """

    window_batches = 50

    def __init__(
        self, dataset, batch_size: int, shuffle=False, bucket_by_length=False, generator=None
    ):
        self.lengths = dataset.lengths
        self.classes = dataset.y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.bucket_by_length = bucket_by_length
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        for batch in self._batches():
            yield batch.tolist()

    def _batches(self) -> list[torch.Tensor]:
        n = len(self.lengths)
        if not self.shuffle:
            return list(torch.split(torch.arange(n), self.batch_size))
        order = torch.randperm(n, generator=self.generator)
        if not self.bucket_by_length:
            return list(torch.split(order, self.batch_size))
        window = self.batch_size * self.window_batches
        chunks = [self._bucket(chunk) for chunk in torch.split(order, window)]
        batches = list(torch.split(torch.cat(chunks), self.batch_size))
        permutation = torch.randperm(len(batches), generator=self.generator)
        batches = [batches[i] for i in permutation]
        # The one short batch goes first. accelerate, which shards batches across
        # processes, drops a batch when a short one lies between full ones, and completes
        # a short last one with repeated samples; a short first batch is sharded whole.
        return sorted(batches, key=lambda batch: len(batch) == self.batch_size)

    def _bucket(self, chunk: torch.Tensor) -> torch.Tensor:
        """Order a window so that cut batches hold similar lengths and every class.

        Within each class, samples are ranked by length; a sample's key is its
        rank, jittered by up to two batches' worth of its class, divided by
        the class's size. Sorting by the key interleaves the classes in
        proportion (a short minority class is not gathered into batches of
        its own) and, through the jitter, batches are new sets every epoch
        even when all lengths differ.
        """
        lengths = self.lengths[chunk].double()
        classes = self.classes[chunk]
        keys = torch.empty(len(chunk), dtype=torch.float64)
        for label in torch.unique(classes):
            members = torch.nonzero(classes == label).flatten()
            ranks = torch.empty(len(members), dtype=torch.float64)
            ranks[torch.argsort(lengths[members], stable=True)] = torch.arange(
                len(members), dtype=torch.float64
            )
            per_batch = self.batch_size * len(members) / len(chunk)
            jitter = torch.rand(len(members), generator=self.generator, dtype=torch.float64)
            keys[members] = (ranks + 2 * per_batch * jitter) / len(members)
        return chunk[torch.argsort(keys)]


def _is_cuda(device) -> bool:
    return torch.device(device).type == "cuda"


# Share of the GPU's free memory the training data may take to be moved there once.
DEVICE_DATA_SHARE = 0.25


def place_data(data: np.ndarray, device) -> np.ndarray | torch.Tensor:
    """The training data, moved to ``device`` once when it is a GPU with room for it.

    Batches are then gathered on the GPU: no copy from the host per batch.
    Data larger than ``DEVICE_DATA_SHARE`` of the free GPU memory stays in
    host memory, and its batches are pinned on the way (:func:`batch_loader`).
    """
    if device is None or not _is_cuda(device):
        return data
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    if data.nbytes > DEVICE_DATA_SHARE * free:
        return data
    return torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)).to(device)


def whole_batch(batch):
    """``collate_fn`` for datasets whose ``__getitems__`` already returns the batch."""
    return batch


def batch_loader(
    dataset,
    batch_size: int = 64,
    shuffle: bool = False,
    bucket_by_length: bool = False,
    generator=None,
    device=None,
    **kwargs,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` driven by a :class:`LengthBatchSampler`.

    skorch calls it as its iterator (``iterator_train``/``iterator_valid``)
    with ``batch_size`` and ``shuffle``. Batches bound for a CUDA ``device``
    from data in host memory are pinned, so their copy does not block; other
    keyword arguments (``num_workers``, ...) go to ``DataLoader``.
    """
    on_host = dataset.x.device.type == "cpu"
    kwargs.setdefault("pin_memory", on_host and device is not None and _is_cuda(device))
    sampler = LengthBatchSampler(dataset, batch_size, shuffle, bucket_by_length, generator)
    # The loader draws a seed for its workers every epoch; a generator of its own keeps
    # that draw off torch's global RNG (which dropout in a fit on another thread uses).
    kwargs.setdefault("generator", torch.Generator())
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=whole_batch, **kwargs)
