"""Training through skorch's Accelerate integration, on CPU."""

import json
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._accelerate import AcceleratedSequenceNet
from sklearn_seqattn._batching import SequenceDataset, batch_loader
from sklearn_seqattn.datasets import make_sequence_classification

accelerate = pytest.importorskip("accelerate")

SMALL = dict(
    dense_units=8,
    lstm_units=8,
    max_epochs=15,
    batch_size=16,
    early_stopping=True,
    random_state=0,
)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def data():
    return make_sequence_classification(
        n_samples=120, n_timesteps=20, n_features=4, event_length=3, signal=3.0, random_state=0
    )


def test_single_process_cpu_matches_plain_training(data, capsys):
    X, y = data
    accelerated = SeqAttentionClassifier(**SMALL, accelerator=accelerate.Accelerator(cpu=True)).fit(
        X, y
    )
    assert capsys.readouterr().out == ""  # verbose=0 stays silent
    assert isinstance(accelerated.net_, AcceleratedSequenceNet)
    proba = accelerated.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert accelerated.score(X, y) > 0.65
    # One CPU process: the same batches and updates as without an accelerator.
    plain = SeqAttentionClassifier(**SMALL).fit(X, y)
    assert_allclose(proba, plain.predict_proba(X), atol=1e-6)
    assert accelerated.history_[:, "valid_loss"] == pytest.approx(plain.history_[:, "valid_loss"])


def test_verbose_prints_through_the_accelerator(data, capsys):
    X, y = data
    SeqAttentionClassifier(
        **dict(SMALL, max_epochs=2), verbose=1, accelerator=accelerate.Accelerator(cpu=True)
    ).fit(X, y)
    assert "valid_loss" in capsys.readouterr().out


def test_accelerate_shards_the_loader_evenly():
    from accelerate.data_loader import prepare_data_loader

    lengths = np.random.default_rng(0).integers(1, 6, size=37)
    # y holds the sample ids, so the shards can be compared sample by sample.
    dataset = SequenceDataset(np.ones((37, 5, 2), np.float32), lengths, y=np.arange(37))

    def shard(k, num_processes=3):
        loader = batch_loader(
            dataset, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(3)
        )
        # What accelerator.prepare does with the training loader of each process.
        return prepare_data_loader(
            loader, num_processes=num_processes, process_index=k, put_on_device=False
        )

    shards = [[y.tolist() for _, y in shard(k)] for k in range(3)]
    # 10 batches padded to 12: 4 steps per process.
    assert [len(s) for s in shards] == [4, 4, 4] == [len(shard(k)) for k in range(3)]
    ids = [i for s in shards for batch in s for i in batch]
    assert sorted(set(ids)) == list(range(37))
    unsharded = [y.tolist() for _, y in shard(0, num_processes=1)]
    assert len(unsharded) == 10
    assert shards[0][0] == unsharded[0] and shards[1][0] == unsharded[1]
    # The padding steps repeat the first samples of the epoch.
    assert set(shards[1][-1]) <= set(unsharded[0] + unsharded[1])


def test_several_processes_need_an_int_random_state(data):
    X, y = data

    class TwoProcesses:
        num_processes = 2

        def prepare(self, *args):
            return args

    clf = SeqAttentionClassifier(**dict(SMALL, random_state=None), accelerator=TwoProcesses())
    with pytest.raises(ValueError, match="over 2 processes needs an int random_state"):
        clf.fit(X, y)


SCRIPT = textwrap.dedent(
    """
    import json, sys
    import torch
    from accelerate import Accelerator
    from sklearn_seqattn import SeqAttentionClassifier
    from sklearn_seqattn.datasets import make_sequence_classification

    accelerator = Accelerator(cpu=True)
    X, y = make_sequence_classification(
        n_samples=120, n_timesteps=20, n_features=4, event_length=3, random_state=0
    )
    clf = SeqAttentionClassifier(
        dense_units=8, lstm_units=8, max_epochs=3, batch_size=16, early_stopping=True,
        random_state=0, accelerator=accelerator,
    ).fit(X, y)
    record = {
        "rank": accelerator.process_index,
        "world": accelerator.num_processes,
        "members": clf.n_estimators_,
        "train_batches": [
            sum(b.get("train_batch_size", 0) > 0 for b in epoch["batches"])
            for epoch in clf.history_
        ],
        "train_samples": [
            sum(b.get("train_batch_size", 0) for b in epoch["batches"]) for epoch in clf.history_
        ],
        "valid_loss": clf.history_[:, "valid_loss"],
        "proba": clf.predict_proba(X).tolist(),
    }
    with open(f"{sys.argv[1]}/rank{accelerator.process_index}.json", "w") as f:
        json.dump(record, f)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_cpu_processes_shard_training_and_agree(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={port}",
        str(script),
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{k}.json").read_text()) for k in range(2)]
    assert [r["world"] for r in ranks] == [2, 2]
    # 2,400 real steps: n_estimators="auto" trains an ensemble, each member distributed.
    assert [r["members"] for r in ranks] == [3, 3]
    # 108 training samples in batches of 16: 7 batches, padded to 8, 4 per process.
    assert ranks[0]["train_batches"] == ranks[1]["train_batches"] == [4, 4, 4]
    per_epoch = np.add(ranks[0]["train_samples"], ranks[1]["train_samples"])
    assert (per_epoch >= 108).all() and (per_epoch <= 108 + 16).all()
    # Gradients are averaged, so both processes hold the same model.
    assert_array_equal(ranks[0]["valid_loss"], ranks[1]["valid_loss"])
    assert_allclose(ranks[0]["proba"], ranks[1]["proba"], atol=1e-6)
