"""The weights file's header is checked (through safetensors) before any tensor is read.

Each test forges a ``weights.safetensors`` by hand and expects a ``ValueError``
naming the file and the problem: never a ``SafetensorError`` nor a torch error,
and never an allocation of what a hostile header declares.
"""

import hashlib
import json
import random
import tracemalloc
import warnings

import pytest
import safetensors.torch
from _helpers import tiny

from sklearn_seqattn import SeqAttentionClassifier
from sklearn_seqattn._diagnosis import ChanceLevelWarning
from sklearn_seqattn._sequence_net import SequenceNet
from sklearn_seqattn.datasets import make_sequence_classification

TINY = tiny(max_epochs=1)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, y = make_sequence_classification(
        n_samples=40, n_timesteps=8, n_features=3, event_length=2, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChanceLevelWarning)  # one epoch learns little
        model = SeqAttentionClassifier(**TINY).fit(X, y)
    return model.save(tmp_path_factory.mktemp("m") / "model")


@pytest.fixture
def folder(saved, tmp_path):
    """A fresh copy of the saved model, to break."""
    copy = tmp_path / "model"
    copy.mkdir()
    for path in saved.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


@pytest.fixture
def nothing_read(monkeypatch):
    """Fail the test if load() decodes the tensors or builds the network."""

    def refuse(*args, **kwargs):
        raise AssertionError("load() read the tensors of a file it must refuse")

    monkeypatch.setattr(safetensors.torch, "load", refuse)
    monkeypatch.setattr(safetensors.torch, "load_file", refuse)
    monkeypatch.setattr(SequenceNet, "initialize", refuse)


def _split(data: bytes):
    """The header (parsed here, as a forger would) and the data of a safetensors file."""
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def _write_weights(folder, data: bytes, rehash=True):
    """Replace the weights; with ``rehash``, record their SHA-256 as a forger would."""
    (folder / "weights.safetensors").write_bytes(data)
    if rehash:
        config = json.loads((folder / "config.json").read_text())
        config["weights_sha256"] = hashlib.sha256(data).hexdigest()
        body = {k: v for k, v in config.items() if k != "config_sha256"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
        config["config_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        (folder / "config.json").write_text(json.dumps(config))


def _last_tensor(header: dict) -> str:
    names = [name for name in header if name != "__metadata__"]
    return max(names, key=lambda name: header[name]["data_offsets"][1])


def test_huge_tensor_of_the_wrong_shape_is_refused_unread(folder, nothing_read):
    data = (folder / "weights.safetensors").read_bytes()
    header, body = _split(data)
    name = _last_tensor(header)
    start = header[name]["data_offsets"][0]
    huge = [2**14, 2**12]  # 256 MiB of float32, in a sparse file that costs no disk
    header[name].update(shape=huge, data_offsets=[start, start + 4 * huge[0] * huge[1]])
    path = folder / "weights.safetensors"
    path.write_bytes(_join(header, body[:start]))
    with open(path, "r+b") as f:
        f.truncate(f.seek(0, 2) + 4 * huge[0] * huge[1])

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"holds '{name}' as \('F32', \[16384, 4096\]\)"):
            SeqAttentionClassifier.load(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def _drop_last(header, body):
    start = header.pop(_last_tensor(header))["data_offsets"][0]
    return header, body[:start]  # the file stays a valid safetensors file


def _rename_last(header, body):
    header["extra"] = header.pop(_last_tensor(header))
    return header, body


def _retype_last(header, body):
    header[_last_tensor(header)]["dtype"] = "I32"  # as many bytes as F32
    return header, body


@pytest.mark.parametrize(
    "forge, match",
    [
        (_drop_last, r"does not hold the tensors its config\.json describes: missing \['[^']+'\]"),
        (_rename_last, r"missing \['[^']+'\], unexpected \['extra'\]"),
        (_retype_last, r"holds '[^']+' as \('I32', \[[\d, ]+\]\), but its config\.json .*'F32'"),
    ],
    ids=["missing", "renamed", "dtype"],
)
def test_header_that_differs_from_the_config_is_refused_unread(folder, nothing_read, forge, match):
    header, body = forge(*_split((folder / "weights.safetensors").read_bytes()))
    _write_weights(folder, _join(header, body))
    with pytest.raises(ValueError, match=match):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize("cut", [1, 100], ids=["one-byte", "hundred-bytes"])
def test_truncated_weights_are_refused_with_a_clear_message(folder, nothing_read, cut):
    data = (folder / "weights.safetensors").read_bytes()[:-cut]
    _write_weights(folder, data)
    with pytest.raises(ValueError, match=f"weights.safetensors .* is {len(data):,} bytes, but"):
        SeqAttentionClassifier.load(folder)


@pytest.mark.parametrize(
    "header",
    [b"{not json}", b"[1, 2, 3]", b'{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0]}}'],
    ids=["not-json", "not-an-object", "malformed-entry"],
)
def test_malformed_header_is_a_value_error(folder, nothing_read, header):
    _write_weights(folder, len(header).to_bytes(8, "little") + header + b"\0" * 8)
    with pytest.raises(ValueError, match=r"weights\.safetensors in .* header"):
        SeqAttentionClassifier.load(folder)


def test_random_damage_to_the_header_is_always_a_value_error(folder):
    data = (folder / "weights.safetensors").read_bytes()
    length = int.from_bytes(data[:8], "little")
    rng = random.Random(0)
    for _ in range(40):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(8, 8 + length)] = rng.randrange(256)
        _write_weights(folder, bytes(damaged), rehash=False)
        with pytest.raises(ValueError, match=r"weights\.safetensors"):
            SeqAttentionClassifier.load(folder)
