"""InsertTopK, LabelSelectInHardware and InferLabelSelect on tiny graphs: an integer
MatMul (its output annotated INT6, as integerization leaves it) and an affine tail to a
TopK/ArgMax."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from flows.errors import UnsupportedError
from flows.layers.label_select.infer import InferLabelSelect, marked
from flows.passes.insert_topk import InsertTopK
from flows.passes.label_select_in_hardware import LabelSelectInHardware
from tests.passes.util import assert_same_outputs, op_types, snapshot

LABELS = 10
# x in INT2, weights in {-1, 0, 1}: |acc| <= 2 * 8 = 16, so INT6 holds every sum
W = np.random.default_rng(0).integers(-1, 2, size=(8, LABELS)).astype(np.float32)


def _inputs(n: int = 64) -> np.ndarray:
    """Integer inputs, a few with every label equal (ties: the lowest index wins)."""
    xs = np.random.default_rng(1).integers(-2, 2, size=(n, 8)).astype(np.float32)
    xs[:4] = 0
    return xs


def _net(tail, select: str = "topk", **select_attrs) -> ModelWrapper:
    """x -> MatMul(W) -> ``tail`` ops [(op, constant, constant first)] -> select."""
    inits = [helper.make_tensor("W", TensorProto.FLOAT, W.shape, W.ravel())]
    nodes = [helper.make_node("MatMul", ["x", "W"], ["acc"])]
    t = "acc"
    for i, (op, c, first) in enumerate(tail):
        c = np.asarray(c, np.float32)
        inits.append(helper.make_tensor(f"c{i}", TensorProto.FLOAT, c.shape, c.ravel()))
        nodes.append(helper.make_node(op, [f"c{i}", t] if first else [t, f"c{i}"], [f"t{i}"]))
        t = f"t{i}"
    if select == "topk":
        inits.append(helper.make_tensor("k", TensorProto.INT64, [1], [select_attrs.pop("k", 1)]))
        attrs = {"axis": -1, "largest": 1, "sorted": 1, **select_attrs}
        nodes.append(helper.make_node("TopK", [t, "k"], ["values", "y"], **attrs))
        out_shape = [1, 1]
    else:
        nodes.append(helper.make_node("ArgMax", [t], ["y"], axis=1, **select_attrs))
        out_shape = [1, 1] if select_attrs.get("keepdims", 1) else [1]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, out_shape)],
        initializer=inits,
    )
    m = ModelWrapper(qonnx_make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    m = m.transform(InferShapes()).transform(GiveUniqueNodeNames())
    m.set_tensor_datatype("x", DataType["INT2"])
    m.set_tensor_datatype("acc", DataType["INT6"])
    return m


# The tail of a BNN-PYNQ net: the dequantizing Mul (one value, per-label shaped), then
# TensorNorm's Sub/Div and an Add with its constant first
UNIFORM_TAIL = [
    ("Mul", np.full((1, LABELS), 0.37), False),
    ("Sub", 0.1421875, False),
    ("Div", 8.13196, False),
    ("Add", 0.5, True),
]


def test_a_uniform_affine_tail_is_dropped_and_the_topk_reads_the_integers():
    before = _net(UNIFORM_TAIL)
    after = before.transform(LabelSelectInHardware(force=True))
    assert op_types(after) == ["MatMul", "TopK"]
    (topk,) = after.get_nodes_by_op_type("TopK")
    assert topk.input[0] == "acc" and marked(after) == [topk.name]
    assert_same_outputs(before, after, _inputs())
    # run again: nothing left to do
    again = snapshot(after)
    assert snapshot(after.transform(LabelSelectInHardware(force=True))) == again


def test_infer_label_select_makes_the_kind_and_a_cast_to_the_int64_index():
    before = _net(UNIFORM_TAIL)
    after = before.transform(LabelSelectInHardware()).transform(InferLabelSelect())
    assert op_types(after) == ["MatMul", "LabelSelect", "Cast"]
    select = after.graph.node[1]
    assert after.get_tensor_datatype(select.output[0]) == DataType["UINT4"]
    assert after.get_tensor_shape(select.output[0]) == [1, 1]
    assert_same_outputs(before, after, _inputs())


@pytest.mark.parametrize("keepdims", [1, 0])
def test_argmax_becomes_a_label_select_too(keepdims):
    before = _net(UNIFORM_TAIL[1:2], select="argmax", keepdims=keepdims)
    after = before.transform(LabelSelectInHardware()).transform(InferLabelSelect())
    assert op_types(after) == ["MatMul", "LabelSelect", "Cast"]
    assert after.get_tensor_shape(after.graph.node[1].output[0]) == ([1, 1] if keepdims else [1])
    assert_same_outputs(before, after, _inputs())


def test_a_label_select_on_the_host_stays_there():
    """A TopK on integers that no pass put in hardware (--label-select host) is left alone."""
    m = _net([])
    before = snapshot(m)
    assert snapshot(m.transform(InferLabelSelect())) == before


# (tail, select attributes, the reason in the error, word for word)
REFUSED = {
    "per-label bias": (
        [("Add", np.linspace(-0.1, 0.1, LABELS).reshape(1, LABELS), False)],
        {},
        "node 'Add_0' (Add) before it applies a per-label constant (values -0.1 .. 0.1), "
        "which changes which label is largest: the select must see its output",
    ),
    "negative scale": (
        [("Mul", -0.5, False)],
        {},
        "node 'Mul_0' (Mul) before it scales by -0.5, which does not keep the order",
    ),
    "constant first": (
        [("Sub", 1.0, True)],
        {},
        "node 'Sub_0' (Sub) before it has the constant first (c - x, c / x reverse the order)",
    ),
    "float32 ties": (
        [("Add", 1e8, False)],
        {},
        "in the graph's float32, 'Add_0' maps the INT6 integers -32 and -31 both to "
        "99999968.0 (a tie the host breaks by index, the hardware by the integers)",
    ),
    "not order keeping": (
        [("Relu", None, False)],
        {},
        "node 'Relu_0' (Relu) before it is not an order-keeping op",
    ),
    "k=2": ([], {"k": 2}, "it keeps the k=2 largest"),
    "smallest": ([], {"largest": 0}, "it selects the smallest value (largest=0)"),
}


def _refused(name: str) -> ModelWrapper:
    tail, attrs, _ = REFUSED[name]
    if tail and tail[0][0] == "Relu":
        m = _net([], **attrs)
        relu = helper.make_node("Relu", ["acc"], ["r"], name="Relu_0")
        m.graph.node.insert(1, relu)
        m.get_nodes_by_op_type("TopK")[0].input[0] = "r"
        return m.transform(InferShapes())
    return _net(tail, **attrs)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_select_that_cannot_move_stays_on_the_host_or_is_refused_by_name(name):
    m = _refused(name)
    before = snapshot(m)
    assert snapshot(m.transform(LabelSelectInHardware())) == before
    why = REFUSED[name][2]
    with pytest.raises(UnsupportedError) as info:
        _refused(name).transform(LabelSelectInHardware(force=True))
    msg = str(info.value)
    assert msg.startswith("node 'TopK_0' (TopK): cannot select the label in hardware: " + why)
    assert msg.endswith("; keep it on the host (--label-select auto or host)")


def test_a_used_values_output_is_refused():
    m = _net(UNIFORM_TAIL)
    topk = m.get_nodes_by_op_type("TopK")[0]
    m.graph.output.append(helper.make_tensor_value_info("values", TensorProto.FLOAT, [1, 1]))
    with pytest.raises(UnsupportedError, match="the graph uses its values output 'values'"):
        m.transform(LabelSelectInHardware(force=True))
    assert topk.input[0] == "t3"  # nothing was changed


def test_forced_without_a_select_is_refused():
    m = _net(UNIFORM_TAIL)
    m.graph.node.remove(m.get_nodes_by_op_type("TopK")[0])
    with pytest.raises(UnsupportedError, match="the graph has no TopK/ArgMax to select the label"):
        m.transform(LabelSelectInHardware(force=True))


def test_insert_topk_makes_the_index_the_output():
    before = _net(UNIFORM_TAIL)
    scores = before.get_nodes_by_op_type("TopK")[0].input[0]
    before.graph.node.remove(before.get_nodes_by_op_type("TopK")[0])
    before.graph.output.pop()
    (vi,) = [v for v in before.graph.value_info if v.name == scores]
    before.graph.value_info.remove(vi)
    before.graph.output.append(vi)
    after = before.transform(InsertTopK()).transform(InferShapes())
    assert op_types(after)[-1] == "TopK"
    out = after.graph.output[0]
    assert out.type.tensor_type.elem_type == TensorProto.INT64
    assert after.get_tensor_shape(out.name) == [1, 1]
    for x, s in zip(_inputs(), _outputs(before, _inputs()), strict=True):
        y = execute_onnx(after, {"x": x[None]})[out.name]
        assert y.tolist() == [[int(np.argmax(s))]]
    # a graph whose output already is an index is left alone
    again = snapshot(after)
    assert snapshot(after.transform(InsertTopK())) == again


def _outputs(m: ModelWrapper, xs: np.ndarray) -> list[np.ndarray]:
    return [execute_onnx(m, {"x": x[None]})[m.graph.output[0].name] for x in xs]


def test_insert_topk_refuses_an_output_without_a_label_axis():
    m = _net(UNIFORM_TAIL)
    m.graph.node.remove(m.get_nodes_by_op_type("TopK")[0])
    m.graph.node.append(
        helper.make_node("Reshape", ["t3", "shape"], ["grid"], name="Reshape_0"),
    )
    m.set_initializer("shape", np.array([1, 2, 5], np.int64))
    m.graph.output.pop()
    m.graph.output.append(helper.make_tensor_value_info("grid", TensorProto.FLOAT, [1, 2, 5]))
    with pytest.raises(UnsupportedError, match=r"graph output 'grid' of shape \[1, 2, 5\] has no"):
        m.transform(InsertTopK())
