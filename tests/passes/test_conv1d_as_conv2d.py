"""Conv1dAsConv2d on tiny 1-D graphs: every window op 2-D with height 1, the same outputs,
and a 1-D net it cannot rewrite refused by name with the model left as it was."""

from __future__ import annotations

import re

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx

from flows.errors import UnsupportedError
from flows.passes.conv1d_as_conv2d import Conv1dAsConv2d
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot

RNG = np.random.default_rng(0)


def _conv1d_net(tail: str = "fc"):
    """``Quant -> Conv(k3, pad 1, Quant W with per-channel scales) -> Mul (1,C,1) -> Add (C,1)
    -> Relu -> Quant (per-channel (1,C,1)) -> MaxPool(k3, s2, pad 1) -> Conv(k2, s2, dil 2)
    -> BatchNorm -> Quant`` then ``tail``: "fc" flattens into a MatMul, "conv" ends in the
    3-D tensor, "transpose" transposes it (refused)."""
    n = Net()
    xq = n.quant("x", "xq", 0.25, 4, True)
    w0 = n.const("w0", RNG.normal(0, 1, (4, 3, 3)))
    w0q = n.quant(w0, "w0q", RNG.uniform(0.2, 0.5, (4, 1, 1)), 3, True)
    a = n.node("Conv", [xq, w0q], ["a"], kernel_shape=[3], pads=[1, 1], strides=[1])
    a = n.node("Mul", [a, n.const("m", RNG.uniform(0.5, 2, (1, 4, 1)))], ["am"])
    a = n.node("Add", [a, n.const("b", RNG.normal(0, 1, (4, 1)))], ["ab"])
    a = n.node("Relu", [a], ["ar"])
    a = n.quant(a, "aq", RNG.uniform(0.1, 0.3, (1, 4, 1)), 3, False)
    p = n.node("MaxPool", [a], ["p"], kernel_shape=[3], strides=[2], pads=[1, 1])
    w1 = n.quant(n.const("w1", RNG.normal(0, 1, (5, 4, 2))), "w1q", 0.5, 3, True)
    c = n.node("Conv", [p, w1], ["c"], kernel_shape=[2], strides=[2], dilations=[2])
    bn = [n.const(f"bn{i}", v) for i, v in enumerate(RNG.uniform(0.5, 1.5, (4, 5)))]
    c = n.node("BatchNormalization", [c, *bn], ["cb"])
    c = n.quant(c, "cq", 0.5, 4, True)  # [1, 5, 3]
    if tail == "fc":
        f = n.node("Flatten", [c], ["f"], axis=1)
        w2 = n.quant(n.const("w2", RNG.normal(0, 1, (15, 3))), "w2q", 0.5, 3, True)
        n.node("MatMul", [f, w2], ["out"])
        return n.model("x", [1, 3, 15], "out", [1, 3])
    if tail == "transpose":
        n.node("Transpose", [c], ["out"], perm=[0, 2, 1])
        return n.model("x", [1, 3, 15], "out", [1, 3, 5])
    n.node("Identity", [c], ["out"])
    return n.model("x", [1, 3, 15], "out", [1, 5, 3])


def _xs(shape) -> np.ndarray:
    return np.random.default_rng(1).uniform(-2, 2, size=(6, *shape[1:])).astype(np.float32)


@pytest.mark.parametrize("tail", ["fc", "conv"])
def test_ensures_height_one_windows_and_same_outputs(tail):
    before = _conv1d_net(tail)
    after = before.transform(Conv1dAsConv2d())
    x, y = after.graph.input[0].name, after.graph.output[0].name
    assert after.get_tensor_shape(x) == [1, 3, 15]  # the graph's input and output stay 1-D
    assert after.get_tensor_shape(y) == before.get_tensor_shape(y)
    first = after.find_consumers(x)
    assert [n.op_type for n in first] == ["Reshape"]  # one Reshape, on the host side
    assert after.get_tensor_shape(first[0].output[0]) == [1, 3, 1, 15]
    c0, c1 = after.get_nodes_by_op_type("Conv")
    (mp,) = after.get_nodes_by_op_type("MaxPool")
    for node in (c0, c1, mp):
        assert len(after.get_tensor_shape(node.input[0])) == 4
    attrs = {a.name: list(a.ints) for a in c1.attribute}
    assert attrs == {"kernel_shape": [1, 2], "strides": [1, 2], "dilations": [1, 2]}
    assert {a.name: list(a.ints) for a in mp.attribute}["pads"] == [0, 1, 0, 1]
    wq = after.find_producer(c0.input[1])
    assert after.get_initializer(wq.input[0]).shape == (4, 3, 1, 3)
    assert after.get_initializer(wq.input[1]).shape == (4, 1, 1, 1)  # per-channel scale
    assert after.get_tensor_shape(c1.output[0]) == [1, 5, 1, 3]
    if tail == "conv":  # the 3-D output is seen again: one Reshape back at the end
        assert after.find_producer(y).op_type == "Reshape"
    assert op_types(after).count("Reshape") == 2 if tail == "conv" else 1
    assert_same_outputs(before, after, _xs([1, 3, 15]))


def test_a_per_length_constant_gets_the_height_axis_before_the_length():
    """A constant (1, 1, L) scaling each position differently becomes (1, 1, 1, L)."""
    n = Net()
    xq = n.quant("x", "xq", 0.25, 4, True)
    w = n.quant(n.const("w", RNG.normal(0, 1, (2, 2, 3))), "wq", 0.5, 3, True)
    c = n.node("Conv", [xq, w], ["c"], kernel_shape=[3], pads=[1, 1])
    n.node("Mul", [c, n.const("ramp", np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5))], ["y"])
    before = n.model("x", [1, 2, 5], "y", [1, 2, 5])
    after = before.transform(Conv1dAsConv2d())
    mul = after.get_nodes_by_op_type("Mul")[0]
    assert after.get_initializer(mul.input[1]).shape == (1, 1, 1, 5)
    assert_same_outputs(before, after, _xs([1, 2, 5]))


def test_a_2d_net_is_left_alone():
    n = Net()
    xq = n.quant("x", "xq", 0.25, 4, True)
    w = n.quant(n.const("w", RNG.normal(0, 1, (2, 2, 3, 3))), "wq", 0.5, 3, True)
    n.node("Conv", [xq, w], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    before = n.model("x", [1, 2, 5, 5], "y", [1, 2, 5, 5])
    was = snapshot(before)
    after = before.transform(Conv1dAsConv2d())
    assert snapshot(after) == was


def test_a_transpose_of_a_1d_tensor_is_refused_by_name():
    before = _conv1d_net("transpose")
    was = snapshot(before)
    name = before.get_nodes_by_op_type("Transpose")[0].name
    msg = re.escape(
        f"node '{name}' (Transpose) reads 'cq' [1, 5, 3], a tensor of a 1-D conv net, which "
        "bitfab runs as a 2-D net of height 1; between and after 1-D convs and pools it can "
        "rewrite quantizers, BatchNorm, Mul/Add/Sub/Div, Relu, global pools and Reshape/"
        "Flatten, not a Transpose: flatten the tensor (Flatten/Reshape) before the Transpose, "
        "or express it with those ops"
    )
    with pytest.raises(UnsupportedError, match=f"^{msg}$"):
        before.transform(Conv1dAsConv2d())
    assert snapshot(before) == was


def test_computed_1d_conv_weights_are_refused_by_name():
    n = Net()
    xq = n.quant("x", "xq", 0.25, 4, True)
    w = n.node("Identity", [n.const("w", RNG.normal(0, 1, (2, 2, 3)))], ["wi"])
    n.node("Conv", [xq, w], ["y"], kernel_shape=[3])
    m = n.model("x", [1, 2, 5], "y", [1, 2, 3])
    conv = m.get_nodes_by_op_type("Conv")[0].name
    with pytest.raises(UnsupportedError, match=f"node '{conv}' \\(Conv\\): a 1-D conv's weights"):
        m.transform(Conv1dAsConv2d())


def test_flatten_axes_keep_the_element_order():
    """Flatten of the 3-D tensor at every axis (negative ones too) gives the same matrix."""
    for axis in (-3, -2, -1, 0, 1, 2, 3):
        n = Net()
        xq = n.quant("x", "xq", 0.25, 4, True)
        w = n.quant(n.const("w", RNG.normal(0, 1, (2, 2, 3))), "wq", 0.5, 3, True)
        c = n.node("Conv", [xq, w], ["c"], kernel_shape=[3], pads=[1, 1])
        n.node("Flatten", [c], ["y"], axis=axis)
        k = axis % 3 if axis < 0 else axis
        rows = int(np.prod([1, 2, 5][:k]))
        before = n.model("x", [1, 2, 5], "y", [rows, 10 // rows])
        after = before.transform(Conv1dAsConv2d())
        y = after.graph.output[0].name
        assert after.get_tensor_shape(y) == [rows, 10 // rows], axis
        assert_same_outputs(before, after, _xs([1, 2, 5]))


def test_reshape_to_3d_feeds_a_conv_lifted():
    """An FC output reshaped to (N, C, L) for a conv: the Reshape itself gives (N, C, 1, L)."""
    n = Net()
    xq = n.quant("x", "xq", 0.25, 4, True)
    w0 = n.quant(n.const("w0", RNG.normal(0, 1, (6, 8))), "w0q", 0.5, 3, True)
    h = n.node("MatMul", [xq, w0], ["h"])
    r = n.node("Reshape", [h, n.const("s", [1, 2, 4], np.int64)], ["r"])
    w1 = n.quant(n.const("w1", RNG.normal(0, 1, (3, 2, 3))), "w1q", 0.5, 3, True)
    n.node("Conv", [r, w1], ["y"], kernel_shape=[3], pads=[1, 1])
    before = n.model("x", [1, 6], "y", [1, 3, 4])
    after = before.transform(Conv1dAsConv2d())
    reshape = after.get_nodes_by_op_type("Reshape")[0]
    assert after.get_tensor_shape(reshape.output[0]) == [1, 2, 1, 4]
    assert after.find_consumers(reshape.output[0])[0].op_type == "Conv"
    assert_same_outputs(before, after, _xs([1, 6]))


def _same_padded_conv1d(per_channel: bool):
    """``Quant -> Conv(k3, s2, auto_pad SAME_UPPER, bias) -> Quant``: power-of-two scales
    (float32 exact), per-channel weight scales [O, 1, 1] when asked."""
    n = Net()
    xq = n.quant("x", "xq", 0.25, 4, True)
    ws = 2.0 ** -RNG.integers(0, 3, (3, 1, 1)) if per_channel else 0.5
    w = n.quant(n.const("w", RNG.normal(0, 1, (3, 2, 3))), "wq", ws, 3, True)
    bias = n.const("bias", RNG.integers(-2, 3, 3).astype(np.float32) / 4)
    c = n.node("Conv", [xq, w, bias], ["c"], kernel_shape=[3], strides=[2], auto_pad="SAME_UPPER")
    n.quant(c, "y", 0.5, 6, True)
    return n.model("x", [1, 2, 8], "y", [1, 3, 4])


@pytest.mark.parametrize("per_channel", [False, True])
def test_auto_pad_and_bias(per_channel):
    before = _same_padded_conv1d(per_channel)
    after = before.transform(Conv1dAsConv2d())
    conv = after.get_nodes_by_op_type("Conv")[0]
    assert after.get_tensor_shape(conv.output[0]) == [1, 3, 1, 4]
    assert_same_outputs(before, after, _xs([1, 2, 8]))


@pytest.mark.parametrize("per_channel", [False, True])
def test_exact_accumulation_runs_1d_convs(per_channel):
    """verify's rounding re-check runs the original 1-D reference: with_exact_accumulation of a
    1-D Conv (auto_pad, stride, bias, per-channel scales) gives the reference's outputs when
    float32 is exact (power-of-two scales), and its float64 accumulator."""
    from flows.verify import WIDE, _conv_pads, with_exact_accumulation

    ref = _same_padded_conv1d(per_channel)
    assert _conv_pads(ref, ref.get_nodes_by_op_type("Conv")[0]) == [0, 1]  # 8 -> 4, k3, s2
    exact = with_exact_accumulation(ref)
    assert "Conv" not in op_types(exact)
    assert_same_outputs(ref, exact, _xs([1, 2, 8]))
    ctx = execute_onnx(exact, {"x": _xs([1, 2, 8])[:1]}, return_full_exec_context=True)
    assert ctx["c" + WIDE].dtype == np.float64 and ctx["c" + WIDE].shape == (1, 3, 4)
