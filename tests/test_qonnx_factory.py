"""The hand-built QONNX fixtures in qonnx_factory: valid, executable, deterministic and not
saturated; the bad ones build and save and show the defect they are named after."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import pytest
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

try:
    from tests import qonnx_factory as qf
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    import qonnx_factory as qf

N_INPUTS = 8
QUANT_OPS = ("Quant", "BipolarQuant")


def _nodes(model: ModelWrapper, op_type: str):
    return [n for n in model.graph.node if n.op_type == op_type]


def _activation_quants(model: ModelWrapper):
    """Quantizers whose input is computed (not a constant weight initializer)."""
    return [
        n
        for n in model.graph.node
        if n.op_type in QUANT_OPS and model.get_initializer(n.input[0]) is None
    ]


def _weight_quants(model: ModelWrapper):
    return [
        n
        for n in model.graph.node
        if n.op_type in QUANT_OPS and model.get_initializer(n.input[0]) is not None
    ]


@pytest.fixture(scope="module", params=sorted(qf.FACTORIES))
def built(request):
    return request.param, qf.FACTORIES[request.param](0)


def test_factory_runs_with_diverse_activations(built):
    name, model = built
    assert model.check_all_tensor_shapes_specified(), name
    onnx.checker.check_model(model.model)
    lo, hi = qf.input_range(model)
    assert lo < hi
    assert len(model.graph.input) == 1
    inp = model.graph.input[0].name
    shape = model.get_tensor_shape(inp)
    assert shape[0] == 1 and np.prod(shape) <= 64

    act_quants = _activation_quants(model)
    assert act_quants, f"{name} has no activation quantizer"
    levels: dict[str, set] = {n.output[0]: set() for n in act_quants}
    rng = np.random.default_rng(1234)
    for _ in range(N_INPUTS):
        x = rng.uniform(lo, hi, size=shape).astype(np.float32)
        ctx = execute_onnx(model, {inp: x}, return_full_exec_context=True)
        for out in model.graph.output:
            y = ctx[out.name]
            assert y.shape == tuple(model.get_tensor_shape(out.name)), out.name
            assert np.all(np.isfinite(y)), f"{name}: {out.name} not finite"
        for t, seen in levels.items():
            seen.update(np.unique(ctx[t]).tolist())
    for t, seen in levels.items():
        assert len(seen) >= 2, f"{name}: activation quantizer {t} takes only {sorted(seen)}"


@pytest.mark.parametrize("name", sorted(qf.FACTORIES))
def test_factory_is_deterministic_and_calibrates_for_other_seeds(name):
    factory = qf.FACTORIES[name]
    a = factory(3).model.SerializeToString()
    assert a == factory(3).model.SerializeToString()
    assert a != factory(4).model.SerializeToString()
    for seed in (5, 6, 7):  # the builder raises if a quantizer would collapse on calibration
        factory(seed)


def _attr(node, name):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return None


def _scale(model: ModelWrapper, node) -> np.ndarray:
    return model.get_initializer(node.input[1])


def _is_pow2(s) -> bool:
    s = np.asarray(s, dtype=np.float64)
    return bool(np.all(np.log2(s) == np.round(np.log2(s))))


def _bits(model, node) -> int:
    return int(model.get_initializer(node.input[3]))


def test_preproc_mlp_structure():
    for name, pre in (("preproc_mlp", ("Sub", "Div")), ("preproc_mlp_muladd", ("Mul", "Add"))):
        m = qf.FACTORIES[name](0)
        ops = [n.op_type for n in m.graph.node]
        assert ops[:3] == [*pre, "Quant"], ops
        q_in = m.graph.node[2]
        assert _bits(m, q_in) == 8 and _attr(q_in, "signed") == 1 and _is_pow2(_scale(m, q_in))
        for q in _weight_quants(m):
            assert (_bits(m, q), _attr(q, "signed"), _attr(q, "narrow")) == (4, 1, 1)
            assert _scale(m, q).size == 1
        bns = _nodes(m, "BatchNormalization")
        assert len(bns) == 2
        assert all((m.get_initializer(bn.input[1]) < 0).any() for bn in bns)
        assert ops[-2:] == ["MatMul", "Add"]
    assert qf.input_range(qf.FACTORIES["preproc_mlp"](0)) == (0.0, 1.0)


def test_gemm_bias_structure():
    m = qf.FACTORIES["gemm_bias"](0)
    gemms = _nodes(m, "Gemm")
    assert len(gemms) == 3 and all(_attr(g, "transB") == 1 and len(g.input) == 2 for g in gemms)
    for q in _activation_quants(m)[1:]:
        assert (_bits(m, q), _attr(q, "signed"), _attr(q, "narrow")) == (3, 1, 1)
    (topk,) = _nodes(m, "TopK")
    assert [o.name for o in m.graph.output] == [topk.output[1]]
    assert m.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    both = qf.FACTORIES["gemm_bias_topk_both"](0)
    assert [o.name for o in both.graph.output] == list(_nodes(both, "TopK")[0].output)


def test_bipolar_mlp_structure():
    m = qf.FACTORIES["bipolar_mlp"](0)
    assert not _nodes(m, "Quant")
    assert len(_weight_quants(m)) == 3 and len(_activation_quants(m)) == 3
    assert [n.op_type for n in m.graph.node][-2:] == ["Mul", "Add"]
    assert m.get_initializer(m.graph.node[-2].input[1]).shape == (10,)


def test_rounding_variants_structure():
    for name, kw in qf.ROUNDING_VARIANTS.items():
        m = qf.FACTORIES[name](0)
        q = _activation_quants(m)[1]
        assert _attr(q, "rounding_mode").decode() == kw["rounding_mode"]
        assert _attr(q, "signed") == int(kw["signed"]) and _attr(q, "narrow") == int(kw["narrow"])
    # round-toward-zero and floor only differ on negative values: check the signed one has some
    m = qf.FACTORIES["quant_round_to_zero_signed"](0)
    q = _activation_quants(m)[1]
    x = np.random.default_rng(0).uniform(-1, 1, size=(1, 16)).astype(np.float32)
    assert (execute_onnx(m, {"global_in": x}, return_full_exec_context=True)[q.output[0]] < 0).any()


@pytest.mark.parametrize(
    "name, shape", [("per_channel_scales", (1, 24)), ("per_channel_scales_gemm", (24, 1))]
)
def test_per_channel_scales_structure(name, shape):
    m = qf.FACTORIES[name](0)
    wq = _weight_quants(m)
    assert _scale(m, wq[0]).shape == shape
    assert np.unique(_scale(m, wq[0])).size > 1
    assert not _is_pow2(_scale(m, _activation_quants(m)[1]))
    assert m.graph.node[-1].op_type == "Softmax"


def test_flatten_reshape_structure():
    assert qf.FACTORIES["flatten_mlp"](0).get_tensor_shape("global_in") == [1, 1, 4, 4]
    assert [n.op_type for n in qf.FACTORIES["flatten_mlp"](0).graph.node][:2] == [
        "Quant",
        "Flatten",
    ]
    assert [n.op_type for n in qf.FACTORIES["reshape_mlp"](0).graph.node][:2] == [
        "Reshape",
        "Quant",
    ]


def test_relu_quant_orders():
    def pairs(m):
        ops = [n.op_type for n in m.graph.node]
        return {(a, b) for a, b in itertools.pairwise(ops)}

    assert ("Relu", "Quant") in pairs(qf.FACTORIES["relu_then_quant"](0))
    assert ("Quant", "Relu") in pairs(qf.FACTORIES["quant_then_relu"](0))
    assert ("Quant", "Relu") not in pairs(qf.FACTORIES["relu_then_quant"](0))


# ---- bad models ---------------------------------------------------------------------------


def _has_defect(name: str, m: ModelWrapper) -> bool:
    if name == "float_only":
        return not any(n.op_type in QUANT_OPS for n in m.graph.node)
    if name == "unsupported_op":
        return bool(_nodes(m, "Cos"))
    if name == "conv_dilation":
        return any(_attr(n, "dilations") == [2, 2] for n in _nodes(m, "Conv"))
    if name == "dynamic_features":
        return m.graph.input[0].type.tensor_type.shape.dim[1].dim_param == "F"
    if name == "wide_weights":
        return all(9 <= _bits(m, q) <= 16 for q in _weight_quants(m))
    if name == "zero_scale":
        return any(np.all(_scale(m, q) == 0) for q in _nodes(m, "Quant"))
    raise AssertionError(f"no defect check for {name}")


@pytest.mark.parametrize("name", sorted(qf.BAD_FACTORIES))
def test_bad_model_builds_and_saves(name, tmp_path):
    m = qf.BAD_FACTORIES[name](0)
    assert isinstance(m, ModelWrapper)
    assert qf.input_range(m)
    path = tmp_path / f"{name}.onnx"
    onnx.save(m.model, str(path))
    reloaded = ModelWrapper(str(path))
    assert _has_defect(name, reloaded)


def test_round_to_zero_brevitas_spelling_is_rejected_by_qonnx(tmp_path):
    m = qf.UNEXECUTABLE_FACTORIES["round_to_zero_brevitas"](0)
    assert m.check_all_tensor_shapes_specified()
    onnx.save(m.model, str(tmp_path / "rtz.onnx"))
    x = np.zeros((1, 16), dtype=np.float32)
    with pytest.raises(ValueError, match="ROUND_TO_ZERO"):
        execute_onnx(m, {"global_in": x})
