"""Tests of the model zoo: registry, seeded builds, QONNX export, checkpoints, loaders, training."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

from models.checkpoint import load_checkpoint, save_checkpoint
from models.data import load_cifar10, load_digits_split, load_mnist
from models.errors import ModelError
from models.export import export_qonnx_model, read_metadata
from models.train import evaluate, predict, train
from models.zoo import build_model, get_model, list_models

ALL_NAMES = [
    "tfc-w1a1",
    "tfc-w1a2",
    "tfc-w2a2",
    "sfc-w1a1",
    "sfc-w1a2",
    "sfc-w2a2",
    "lfc-w1a1",
    "lfc-w1a2",
    "lfc-w2a2",
    "cnv-w1a1",
    "cnv-w1a2",
    "cnv-w2a2",
    "digits-w2a2",
    "tfc-w8a8",
    "cnv-w8a8",
    "cnv-w4a4",
    "digits-w8a8",
    "resnet18-w4a4",
    "radio1d-w4a4",
    "mobilenet-v1-w4a4",
]
# building (and calibrating the BatchNorms of) ResNet-18 on the CPU takes half a minute
SLOW_NAMES = {"resnet18-w4a4", "mobilenet-v1-w4a4"}


# --- registry -------------------------------------------------------------------------------


def test_registry_lists_all_names() -> None:
    assert [m.name for m in list_models()] == ALL_NAMES


@pytest.mark.parametrize(
    ("name", "in_bits", "shape", "hidden"),
    [
        ("tfc-w1a1", 1, (1, 1, 28, 28), (64, 64, 64)),
        ("sfc-w1a2", 2, (1, 1, 28, 28), (256, 256, 256)),
        ("lfc-w2a2", 2, (1, 1, 28, 28), (1024, 1024, 1024)),
        ("cnv-w2a2", 8, (1, 3, 32, 32), (64, 64, 128, 128, 256, 256, 512, 512)),
        ("digits-w2a2", 8, (1, 1, 8, 8), (64, 64)),
    ],
)
def test_entry_fields(name: str, in_bits: int, shape: tuple, hidden: tuple) -> None:
    entry = get_model(name)
    topology, bits = name.split("-")
    assert entry.topology == topology
    assert (entry.weight_bits, entry.act_bits) == (int(bits[1]), int(bits[3]))
    assert entry.in_bits == in_bits
    assert entry.input_shape == shape
    assert entry.hidden == hidden
    assert entry.num_classes == 10


def test_unknown_model_message() -> None:
    expected = "unknown model 'xyz'; known models: " + ", ".join(ALL_NAMES)
    with pytest.raises(ModelError) as info:
        get_model("xyz")
    assert str(info.value) == expected


# --- building -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_NAMES else n for n in ALL_NAMES]
)
def test_every_model_builds_and_runs(name: str) -> None:
    entry = get_model(name)
    model = build_model(entry)
    assert not model.training
    with torch.no_grad():
        y = model(torch.rand(entry.input_shape))
    assert tuple(y.shape) == (1, entry.num_classes)


def test_build_is_deterministic_and_leaves_global_rng_alone() -> None:
    entry = get_model("tfc-w1a2")
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = build_model(entry, seed=0).state_dict()
    after = torch.rand(3)
    b = build_model(entry, seed=0).state_dict()
    c = build_model(entry, seed=1).state_dict()
    assert torch.equal(before, after)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["features.2.weight"], c["features.2.weight"])


@pytest.mark.parametrize("name", ["tfc-w1a2", "digits-w2a2"])
def test_untrained_model_has_varied_activations(name: str) -> None:
    """BatchNorm calibration: hidden activations use several levels, predictions vary."""
    entry = get_model(name)
    model = build_model(entry)
    outputs: list[torch.Tensor] = []
    hidden_acts = [m for m in model.features[1:] if type(m).__name__ == "QuantIdentity"]
    hooks = [m.register_forward_hook(lambda _m, _i, o: outputs.append(o)) for m in hidden_acts]
    x = torch.rand((256, *entry.input_shape[1:]), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model(x)
    for h in hooks:
        h.remove()
    assert len(outputs) == len(entry.hidden)
    for out in outputs:
        values, counts = torch.unique(out, return_counts=True)
        assert len(values) == 2**entry.act_bits - 1  # narrow range: 3 levels for 2 bits
        assert counts.min() > 0.1 * counts.sum()
    assert len(torch.unique(y.argmax(dim=1))) >= 5


# --- export ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("export")
    return {
        n: export_qonnx_model(get_model(n), out / f"{n}.onnx") for n in ("tfc-w1a1", "digits-w2a2")
    }


def test_export_is_byte_identical(exported: dict[str, Path], tmp_path: Path) -> None:
    again = export_qonnx_model(get_model("digits-w2a2"), tmp_path / "again.onnx")
    other_seed = export_qonnx_model(get_model("digits-w2a2"), tmp_path / "seed1.onnx", seed=1)
    assert again.read_bytes() == exported["digits-w2a2"].read_bytes()
    assert other_seed.read_bytes() != again.read_bytes()


def test_export_is_path_independent(exported: dict[str, Path]) -> None:
    """No absolute source paths (torch's per-node stack traces) end up in the file."""
    assert b"site-packages" not in exported["tfc-w1a1"].read_bytes()


@pytest.mark.parametrize(
    ("name", "quant_op"), [("tfc-w1a1", "BipolarQuant"), ("digits-w2a2", "Quant")]
)
def test_export_matches_torch(exported: dict[str, Path], name: str, quant_op: str) -> None:
    entry = get_model(name)
    model = ModelWrapper(str(exported[name]))
    ops = [n.op_type for n in model.graph.node]
    assert quant_op in ops
    assert read_metadata(exported[name]) == {
        "bitfab.model": name,
        "bitfab.trained": "false",
        "bitfab.weights": "untrained (seeded random init, seed 0)",
        "bitfab.input_range": "0,1",
    }
    assert [i.name for i in model.graph.input] == ["x"]
    torch_model = build_model(entry)
    x = torch.rand((16, *entry.input_shape[1:]), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = torch_model(x).numpy()
    got = np.concatenate(
        [execute_onnx(model, {"x": xi[None].numpy()})[model.graph.output[0].name] for xi in x]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))


def test_digits_input_quantizer_is_q1_7(exported: dict[str, Path]) -> None:
    """The first Quant has scale 2**-7, zero point 0, 8 bits, signed, not narrow."""
    model = ModelWrapper(str(exported["digits-w2a2"]))
    first = model.get_nodes_by_op_type("Quant")[0]
    scale, zero, bits = (float(model.get_initializer(i)) for i in first.input[1:])
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in first.attribute}
    assert (scale, zero, bits) == (2.0**-7, 0.0, 8.0)
    assert (attrs["signed"], attrs["narrow"]) == (1, 0)


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    entry = get_model("tfc-w1a2")
    model = build_model(entry, seed=5)
    meta = {"accuracy": 0.5, "dataset": "mnist", "epochs": 3}
    path = save_checkpoint(model, entry, tmp_path / "ck" / "tfc.pt", meta)
    loaded, got_meta = load_checkpoint(entry, path)
    assert got_meta == meta
    assert not loaded.training
    a, b = model.state_dict(), loaded.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_of_other_model(tmp_path: Path) -> None:
    path = save_checkpoint(
        build_model(get_model("tfc-w1a1")), get_model("tfc-w1a1"), tmp_path / "a.pt", {}
    )
    with pytest.raises(ModelError) as info:
        load_checkpoint(get_model("sfc-w1a1"), path)
    assert str(info.value) == (
        f"checkpoint {path} holds model 'tfc-w1a1', expected a checkpoint of model "
        "'sfc-w1a1'; pass the matching model name or a checkpoint of 'sfc-w1a1'"
    )


def test_checkpoint_not_a_checkpoint(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    entry = get_model("tfc-w1a1")
    for path in (garbage, foreign):
        with pytest.raises(ModelError, match=r"not a bitfab checkpoint \(expected a checkpoint"):
            load_checkpoint(entry, path)
    with pytest.raises(
        ModelError, match=r"missing\.pt: no such file \(expected a checkpoint of model 'tfc-w1a1'\)"
    ):
        load_checkpoint(entry, tmp_path / "missing.pt")


# --- data loaders ---------------------------------------------------------------------------


def _write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def _fake_mnist(directory: Path, n_train: int = 6, n_test: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for i, (name, arr) in enumerate(arrays.items()):
        _write_idx(directory / name, arr, compress=i % 2 == 1)  # a mix of plain and .gz
    return arrays


def test_load_mnist_fake_files(tmp_path: Path) -> None:
    arrays = _fake_mnist(tmp_path)
    x_train, y_train, x_test, y_test = load_mnist(tmp_path)
    assert x_train.shape == (6, 1, 28, 28) and x_test.shape == (4, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    np.testing.assert_array_equal(x_train[:, 0] * 255, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_torchvision_layout(tmp_path: Path) -> None:
    _fake_mnist(tmp_path / "MNIST" / "raw")
    assert load_mnist(tmp_path)[0].shape == (6, 1, 28, 28)


def test_load_mnist_missing_files(tmp_path: Path) -> None:
    _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((1, 28, 28)))
    with pytest.raises(ModelError) as info:
        load_mnist(tmp_path)
    assert str(info.value) == (
        f"MNIST directory {tmp_path}: missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte (or .gz); it needs train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte "
        "as distributed on the MNIST page, here or in MNIST/raw/"
    )


def test_load_mnist_corrupt_file(tmp_path: Path) -> None:
    _fake_mnist(tmp_path)
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(ModelError, match=r"train-images-idx3-ubyte: header says \(6, 28, 28\)"):
        load_mnist(tmp_path)


def _fake_cifar(directory: Path, n: int = 3, protocol: int = 2) -> list[dict]:
    rng = np.random.default_rng(1)
    directory.mkdir(parents=True, exist_ok=True)
    batches = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
        }
        (directory / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        batches.append(batch)
    return batches


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_load_cifar10_fake_files(tmp_path: Path, protocol: int) -> None:
    batches = _fake_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol)
    x_train, y_train, x_test, y_test = load_cifar10(tmp_path)
    assert x_train.shape == (15, 3, 32, 32) and x_test.shape == (3, 3, 32, 32)
    assert x_train.dtype == np.float32 and y_test.dtype == np.int64
    # channel-major rows: the first 1024 bytes of a row are the red plane
    np.testing.assert_array_equal(x_train[0, 0].ravel() * 255, batches[0][b"data"][0, :1024])
    np.testing.assert_array_equal(y_train, np.concatenate([b[b"labels"] for b in batches[:5]]))
    np.testing.assert_array_equal(y_test, batches[-1][b"labels"])


def test_load_cifar10_missing_files(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=r"CIFAR-10 directory .*: missing data_batch_1, .*test_batch"
    ):
        load_cifar10(tmp_path)


def test_load_cifar10_refuses_code(tmp_path: Path) -> None:
    _fake_cifar(tmp_path)

    class Evil:
        def __reduce__(self) -> tuple:
            return (print, ("pwned",))

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(
        ModelError, match=r"test_batch: not a CIFAR-10 python batch .*builtins\.print"
    ):
        load_cifar10(tmp_path)


def test_digits_split() -> None:
    x_train, y_train, x_test, y_test = load_digits_split()
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert np.all((x_train * 16) == np.round(x_train * 16))  # pixel k/16, exact
    np.testing.assert_array_equal(np.bincount(y_test), np.bincount(load_digits_split()[3]))
    assert np.all(np.abs(np.bincount(y_test) - 36) <= 1)  # stratified


# --- training -------------------------------------------------------------------------------


def test_train_is_deterministic() -> None:
    entry = get_model("digits-w2a2")
    data = load_digits_split()
    a, metrics_a = train(entry, *data, epochs=1, seed=3)
    b, metrics_b = train(entry, *data, epochs=1, seed=3)
    assert metrics_a["test_accuracy"] == metrics_b["test_accuracy"]
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def test_train_digits_export_and_checkpoint(tmp_path: Path) -> None:
    """Trained digits reaches 90 %; its checkpoint and QONNX export predict the same labels."""
    entry = get_model("digits-w2a2")
    x_train, y_train, x_test, y_test = load_digits_split()
    model, metrics = train(entry, x_train, y_train, x_test, y_test, epochs=20)
    assert metrics["test_accuracy"] >= 0.9
    assert evaluate(model, x_test, y_test) == metrics["test_accuracy"]

    path = save_checkpoint(model, entry, tmp_path / "digits.pt", metrics)
    loaded, meta = load_checkpoint(entry, path)
    assert meta["test_accuracy"] == metrics["test_accuracy"]
    labels = predict(loaded, x_test)
    np.testing.assert_array_equal(labels, predict(model, x_test))

    onnx_path = export_qonnx_model(entry, tmp_path / "digits.onnx", model=loaded, trained=True)
    assert read_metadata(onnx_path)["bitfab.trained"] == "true"
    assert read_metadata(onnx_path)["bitfab.weights"] == "trained"
    wrapper = ModelWrapper(str(onnx_path))
    out = wrapper.graph.output[0].name
    onnx_labels = [
        int(np.argmax(execute_onnx(wrapper, {"x": xi[None]})[out])) for xi in x_test[:100]
    ]
    np.testing.assert_array_equal(onnx_labels, labels[:100])
