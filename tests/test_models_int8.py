"""Tests of the power-of-two fixed-point zoo entries (tfc-w8a8, cnv-w8a8, cnv-w4a4, digits-w8a8,
radio1d-w4a4).

They use Brevitas' fixed-point quantizers (``Int8WeightPerTensorFixedPoint`` weights,
``QuantReLU`` + ``Uint8ActPerTensorFixedPoint`` activations, CNV's Q1.7 input), whose scales
come from statistics; what matters to the compiler is that the export holds them as constant
powers of two with zero points 0, and that the graph is made of ops the frontend accepts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from brevitas.nn import QuantReLU
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

from flows.frontend import import_model
from models.checkpoint import load_checkpoint, save_checkpoint
from models.data import load_digits_split
from models.export import export_qonnx_model, read_metadata
from models.train import predict, train
from models.zoo import build_model, get_model, list_models

NEW_NAMES = ["tfc-w8a8", "cnv-w8a8", "cnv-w4a4", "digits-w8a8", "radio1d-w4a4"]
FC_NAMES = ["tfc-w8a8", "digits-w8a8"]
CNV_NAMES = ["cnv-w8a8", "cnv-w4a4"]

#: Every op an export may contain (before the frontend's cleanup turns Gemm into MatMul).
ALLOWED_OPS = {
    "Quant",
    "Gemm",
    "MatMul",
    "Conv",
    "BatchNormalization",
    "Relu",
    "MaxPool",
    "Reshape",
    "Flatten",
    "Mul",
    "Add",
    "Sub",
    "Div",
}


# --- registry -------------------------------------------------------------------------------


def test_registry_has_new_names_after_the_old_ones() -> None:
    names = [m.name for m in list_models() if m.quant in ("bnn", "fixed_point")]
    assert names[-len(NEW_NAMES) :] == NEW_NAMES
    assert all(get_model(n).quant == "bnn" for n in names[: -len(NEW_NAMES)])


@pytest.mark.parametrize(
    ("name", "bits", "dataset", "shape", "hidden"),
    [
        ("tfc-w8a8", 8, "mnist", (1, 1, 28, 28), (64, 64, 64)),
        ("cnv-w8a8", 8, "cifar10", (1, 3, 32, 32), (64, 64, 128, 128, 256, 256, 512, 512)),
        ("cnv-w4a4", 4, "cifar10", (1, 3, 32, 32), (64, 64, 128, 128, 256, 256, 512, 512)),
        ("digits-w8a8", 8, "digits", (1, 1, 8, 8), (64, 64)),
    ],
)
def test_entry_fields(name: str, bits: int, dataset: str, shape: tuple, hidden: tuple) -> None:
    entry = get_model(name)
    assert entry.topology == name.split("-")[0]
    assert (entry.weight_bits, entry.act_bits, entry.in_bits) == (bits, bits, 8)
    assert (entry.dataset, entry.input_shape, entry.hidden) == (dataset, shape, hidden)
    assert entry.num_classes == 10
    assert entry.quant == "fixed_point"


# --- building -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> dict[str, torch.nn.Module]:
    """``build_model(entry)`` (seed 0) of every new entry, built once: CNV takes seconds."""
    return {n: build_model(get_model(n)) for n in NEW_NAMES}


@pytest.mark.parametrize("name", NEW_NAMES)
def test_builds_and_runs(built: dict[str, torch.nn.Module], name: str) -> None:
    entry = get_model(name)
    model = built[name]
    assert not model.training
    with torch.no_grad():
        y = model(torch.rand((2, *entry.input_shape[1:])))
    assert tuple(y.shape) == (2, entry.num_classes)


@pytest.mark.parametrize("name", FC_NAMES)
def test_build_is_deterministic(name: str) -> None:
    entry = get_model(name)
    a = build_model(entry, seed=0).state_dict()
    b = build_model(entry, seed=0).state_dict()
    c = build_model(entry, seed=1).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["features.2.weight"], c["features.2.weight"])


@pytest.mark.parametrize("name", FC_NAMES)
def test_untrained_model_has_varied_activations(
    built: dict[str, torch.nn.Module], name: str
) -> None:
    """BatchNorm calibration: each ReLU output uses many of its 2**A levels."""
    entry = get_model(name)
    model = built[name]
    outputs: list[torch.Tensor] = []
    acts = [m for m in model.modules() if isinstance(m, QuantReLU)]
    hooks = [m.register_forward_hook(lambda _m, _i, o: outputs.append(o)) for m in acts]
    x = torch.rand((256, *entry.input_shape[1:]), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model(x)
    for h in hooks:
        h.remove()
    assert len(outputs) == len(entry.hidden)
    for out in outputs:
        assert len(torch.unique(out)) > 2**entry.act_bits // 2
        assert 0.3 < float((out == 0).float().mean()) < 0.7  # ReLU of a centred BatchNorm
    assert len(torch.unique(y.argmax(dim=1))) >= 5


# --- export ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, built: dict[str, torch.nn.Module]
) -> dict[str, Path]:
    """The seed-0 export of every new entry (of the cached builds, the same file as without)."""
    out = tmp_path_factory.mktemp("export_int8")
    return {
        n: export_qonnx_model(get_model(n), out / f"{n}.onnx", model=built[n]) for n in NEW_NAMES
    }


def _quant_params(model: ModelWrapper) -> list[tuple[bool, np.ndarray, np.ndarray, float, dict]]:
    """Per Quant node: (is a weight quantizer, scale, zero point, bit width, attributes)."""
    params = []
    for node in model.get_nodes_by_op_type("Quant"):
        scale, zero, bits = (model.get_initializer(i) for i in node.input[1:])
        assert scale is not None and zero is not None and bits is not None, node.name
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        is_weight = model.get_initializer(node.input[0]) is not None
        params.append((is_weight, scale, zero, float(bits), attrs))
    return params


def _assert_pot_quantizers(model: ModelWrapper, name: str) -> None:
    entry = get_model(name)
    params = _quant_params(model)
    assert params, "no Quant nodes"
    for _, scale, zero, _, _ in params:
        assert np.all(scale > 0)
        np.testing.assert_array_equal(np.log2(scale), np.round(np.log2(scale)))
        assert np.all(zero == 0)
    weights = [p for p in params if p[0]]
    acts = [p for p in params if not p[0]]  # in graph order: the input quantizer first
    assert len(weights) == len(entry.hidden) + 1 and len(acts) == len(entry.hidden) + 1
    _, in_scale, _, in_bits, in_attrs = acts[0]
    assert (float(in_scale), in_bits) == (2.0**-7, 8.0)
    assert (in_attrs["signed"], in_attrs["narrow"]) == (1, 0)  # Q1.7 input
    for _, _, _, bits, attrs in weights:
        assert bits == entry.weight_bits and (attrs["signed"], attrs["narrow"]) == (1, 1)
    for _, _, _, bits, attrs in acts[1:]:
        assert bits == entry.act_bits and attrs["signed"] == 0  # after a ReLU


@pytest.mark.parametrize("name", NEW_NAMES)
def test_export_ops_and_quantizers(exported: dict[str, Path], name: str) -> None:
    model = ModelWrapper(str(exported[name]))
    ops = {n.op_type for n in model.graph.node}
    assert ops <= ALLOWED_OPS, ops - ALLOWED_OPS
    assert {"Quant", "Gemm", "BatchNormalization", "Relu"} <= ops
    if name in CNV_NAMES or name == "radio1d-w4a4":
        assert {"Conv", "MaxPool"} <= ops
    _assert_pot_quantizers(model, name)
    assert read_metadata(exported[name])["bitfab.model"] == name


@pytest.mark.parametrize("name", NEW_NAMES)
def test_frontend_imports_export(exported: dict[str, Path], name: str) -> None:
    model = import_model(exported[name])
    ops = {n.op_type for n in model.graph.node}
    assert "Gemm" not in ops and "MatMul" in ops
    _assert_pot_quantizers(model, name)


def test_export_is_byte_identical(exported: dict[str, Path], tmp_path: Path) -> None:
    """A fresh build exports the same bytes as the cached one; another seed does not."""
    name = "digits-w8a8"
    again = export_qonnx_model(get_model(name), tmp_path / "again.onnx")
    other_seed = export_qonnx_model(get_model(name), tmp_path / "seed1.onnx", seed=1)
    assert again.read_bytes() == exported[name].read_bytes()
    assert other_seed.read_bytes() != again.read_bytes()


def _onnx_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    model = ModelWrapper(str(path))
    out = model.graph.output[0].name
    return np.concatenate([execute_onnx(model, {"x": xi[None]})[out] for xi in x])


@pytest.mark.parametrize(
    ("name", "n"),
    [(n, 16) for n in [*FC_NAMES, "radio1d-w4a4"]] + [(n, 2) for n in CNV_NAMES],
)
def test_export_matches_torch(
    built: dict[str, torch.nn.Module], exported: dict[str, Path], name: str, n: int
) -> None:
    entry = get_model(name)
    rng = np.random.default_rng(3)
    x = rng.random((n, *entry.input_shape[1:]), dtype=np.float32)
    torch_model = built[name]
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    got = _onnx_outputs(exported[name], x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got.argmax(axis=1), predict(torch_model, x))


# --- training -------------------------------------------------------------------------------


@pytest.mark.slow  # ~25 s; training is in CI through test_models.py and test_train_cli.py
def test_train_digits_w8a8(tmp_path: Path) -> None:
    """Trains to >= 90 %; the learned (post-calibration) scales still export as powers of two,
    and the checkpoint and the QONNX export predict what the trained model predicts."""
    entry = get_model("digits-w8a8")
    x_train, y_train, x_test, y_test = load_digits_split()
    model, metrics = train(entry, x_train, y_train, x_test, y_test, epochs=20)
    assert metrics["test_accuracy"] >= 0.9
    labels = predict(model, x_test)

    path = save_checkpoint(model, entry, tmp_path / "digits8.pt", metrics)
    loaded, _ = load_checkpoint(entry, path)
    np.testing.assert_array_equal(predict(loaded, x_test), labels)

    onnx_path = export_qonnx_model(entry, tmp_path / "digits8.onnx", model=loaded, trained=True)
    _assert_pot_quantizers(import_model(onnx_path), entry.name)
    onnx_labels = _onnx_outputs(onnx_path, x_test[:100]).argmax(axis=1)
    np.testing.assert_array_equal(onnx_labels, labels[:100])
