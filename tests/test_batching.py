"""The batch path: a dataset of whole batches, a length-aware sampler, torch's DataLoader."""

import numpy as np
import pytest
import torch
from _helpers import tiny
from numpy.testing import assert_array_equal
from torch.utils.data import DataLoader

from sklearn_seqattn._batching import (
    LengthBatchSampler,
    SequenceDataset,
    batch_loader,
    place_data,
)


@pytest.fixture()
def rows():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, size=20)
    data = np.zeros((20, 8, 3), np.float32)
    for i, n in enumerate(lengths):
        data[i, :n] = rng.normal(size=(n, 3))
    return data, lengths


def test_dataset_shares_the_data_and_subsets_index_into_it(rows):
    data, lengths = rows
    full = SequenceDataset(data, lengths, y=np.arange(20))
    assert full.x.data_ptr() == torch.from_numpy(data).data_ptr()  # no copy
    part = SequenceDataset(data, lengths, y=np.arange(20), rows=np.array([5, 2, 9]))
    assert part.x.data_ptr() == full.x.data_ptr() and len(part) == 3
    X, y = part.__getitems__([0, 2])
    assert_array_equal(y, [5, 9])
    width = int(max(lengths[5], lengths[9]))
    assert X["x"].shape == (2, width, 3)  # cut to the batch's longest real step
    assert_array_equal(X["x"], data[[5, 9], :width])
    assert_array_equal(X["lengths"], lengths[[5, 9]])


def test_consecutive_rows_are_sliced_not_copied(rows):
    data, lengths = rows
    X, _ = SequenceDataset(data, lengths).__getitems__([3, 4, 5])
    assert X["x"].data_ptr() == torch.from_numpy(data[3]).data_ptr()
    X, _ = SequenceDataset(data, lengths).__getitems__([5, 3])
    assert X["x"].data_ptr() != torch.from_numpy(data[5]).data_ptr()


def test_loader_is_a_torch_dataloader_over_whole_batches(rows):
    data, lengths = rows
    ds = SequenceDataset(data, lengths, y=np.arange(20))
    loader = batch_loader(ds, batch_size=6)
    assert isinstance(loader, DataLoader) and isinstance(loader.batch_sampler, LengthBatchSampler)
    assert len(loader) == 4
    ys = [y.tolist() for _, y in loader]
    assert ys == [list(range(k, min(k + 6, 20))) for k in range(0, 20, 6)]  # evaluation order
    shuffled = batch_loader(
        ds, batch_size=6, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    epoch = sorted(i for _, y in shuffled for i in y.tolist())
    assert epoch == list(range(20))


def test_loader_draws_nothing_from_the_global_rng(rows):
    data, lengths = rows
    state = torch.random.get_rng_state()
    for _ in batch_loader(SequenceDataset(data, lengths), batch_size=4):
        pass
    assert torch.equal(state, torch.random.get_rng_state())


def test_batches_bound_for_cuda_from_host_memory_are_pinned(rows):
    data, lengths = rows
    ds = SequenceDataset(data, lengths)
    assert batch_loader(ds, device="cuda").pin_memory
    assert not batch_loader(ds, device="cpu").pin_memory
    assert not batch_loader(ds).pin_memory


def test_data_goes_to_the_gpu_only_when_it_has_room(rows, monkeypatch):
    data, _ = rows
    assert place_data(data, "cpu") is data
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (data.nbytes, 10**9))
    assert place_data(data, "cuda") is data  # would take all the free memory: stays


def test_worker_processes_give_the_same_batches(rows):
    data, lengths = rows
    ds = SequenceDataset(data, lengths, y=np.arange(20))
    here = [y.tolist() for _, y in batch_loader(ds, batch_size=6)]
    there = [y.tolist() for _, y in batch_loader(ds, batch_size=6, num_workers=1)]
    assert here == there


def test_a_fitted_model_keeps_no_training_data():
    import pickle

    from sklearn_seqattn import SeqAttentionClassifier
    from sklearn_seqattn.datasets import make_sequence_classification

    X, y = make_sequence_classification(
        n_samples=400, n_timesteps=60, n_features=20, event_length=3, random_state=0
    )
    clf = SeqAttentionClassifier(**tiny(conv_channels=4))
    clf.fit(X, y)
    assert clf.net_.train_split is None
    # The weights and the history, not the 1.9 MB of data (nor its validation part).
    assert len(pickle.dumps(clf)) < X.astype(np.float32).nbytes / 10


def test_the_short_batch_comes_first_in_every_shuffled_epoch():
    """accelerate shards batches by position and drops one when a short batch is in between."""
    lengths = np.random.default_rng(0).integers(5, 40, size=108)
    dataset = SequenceDataset(np.zeros((108, 40, 1), np.float32), lengths, y=np.arange(108) % 2)
    generator = torch.Generator().manual_seed(0)
    sampler = LengthBatchSampler(
        dataset, 16, shuffle=True, bucket_by_length=True, generator=generator
    )
    for _ in range(20):
        sizes = [len(batch) for batch in sampler]
        assert sizes == [12] + [16] * 6
