"""AbsorbIntoThresholds on tiny graphs: integer MatMuls, thresholds, identical outputs, and
an untouched graph when a layer is rejected.

Scales are powers of two, so the float32 reference is exact and the outputs before and after
must be bit-identical."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.custom_op.registry import getCustomOp

from flows.errors import UnsupportedError
from flows.passes.absorb_into_thresholds import AbsorbIntoThresholds
from flows.passes.lower_conv import LowerConvToMatMul
from flows.quantizers import QUANT_OPS
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot

GAMMA = [0.75, -1.5, 1.25, 0.5, -0.25, 2.0]  # two decreasing channels


def _two_layers(out_bits: int = 3, out_zeropt: float = 0.0):
    """``Quant -> MatMul(Quant W0) -> Mul -> Add -> Quant -> MatMul(Quant W1)``: a thresholded
    layer, then a last layer with no quantizer after it."""
    rng = np.random.default_rng(0)
    n = Net()
    xq = n.quant("x", "xq", 2.0**-3, 4, True)
    w0 = n.quant(n.const("w0", rng.normal(0, 1, (8, 6))), "w0q", 2.0**-2, 3, True)
    a = n.node("MatMul", [xq, w0], ["a"])
    b = n.node("Mul", [a, n.const("gamma", GAMMA)], ["b"])
    c = n.node("Add", [b, n.const("beta", rng.normal(0, 1, 6))], ["c"])
    yq = n.quant(c, "yq", 2.0**-2, out_bits, False, zeropt=out_zeropt)
    w1 = n.quant(n.const("w1", rng.normal(0, 1, (6, 4))), "w1q", 2.0**-1, 2, True)
    n.node("MatMul", [yq, w1], ["out"])
    return n.model("x", [1, 8], "out", [1, 4])


def _one_layer(out_zeropt: float):
    """``Quant -> MatMul(Quant W) -> Mul -> Quant``: the output quantizer ends the graph."""
    n = Net()
    xq = n.quant("x", "xq", 2.0**-3, 4, True)
    w = n.quant(n.const("w", np.random.default_rng(0).normal(0, 1, (8, 6))), "wq", 0.25, 3, True)
    a = n.node("MatMul", [xq, w], ["a"])
    b = n.node("Mul", [a, n.const("gamma", GAMMA)], ["b"])
    n.quant(b, "out", 2.0**-2, 3, False, zeropt=out_zeropt)
    return n.model("x", [1, 8], "out", [1, 6])


def _inputs(shape, n=24):
    return np.random.default_rng(1).uniform(-1.2, 1.2, size=(n, *shape)).astype(np.float32)


def test_ensures_integer_matmuls_and_thresholds():
    before = _two_layers()
    after = before.transform(AbsorbIntoThresholds())
    for mm in after.get_nodes_by_op_type("MatMul"):
        assert after.get_initializer(mm.input[1]) is not None
        assert after.get_tensor_datatype(mm.input[1]).is_integer()
        assert after.get_tensor_datatype(mm.input[0]).is_integer()
    on_weights = [
        n for n in after.graph.node if n.op_type in QUANT_OPS and after.get_initializer(n.input[0])
    ]
    assert not on_weights
    (mt,) = after.get_nodes_by_op_type("MultiThreshold")
    assert getCustomOp(mt).get_nodeattr("out_dtype") == "UINT3"
    assert after.get_initializer(mt.input[1]).shape == (6, 7)  # [C, levels - 1]
    assert "Mul" in op_types(after)  # the last layer's dequantization stays for the host
    assert_same_outputs(before, after, _inputs([8]))


def test_decreasing_channels_get_negated_weights():
    before = _two_layers()
    after = before.transform(AbsorbIntoThresholds())
    w_int = np.rint(before.get_initializer("w0") / 2.0**-2).clip(-4, 3)
    mm = after.get_nodes_by_op_type("MatMul")[0]
    w_after = after.get_initializer(mm.input[1])
    sign = np.where(np.asarray(GAMMA) < 0, -1, 1)
    assert np.array_equal(w_after, w_int * sign[None, :])


def test_conv_thresholds_run_channels_last():
    """A lowered conv's chain starts with the transpose back to NCHW: the thresholds run on
    the channels-last accumulator and a transpose restores NCHW after them."""
    rng = np.random.default_rng(2)
    n = Net()
    xq = n.quant("x", "xq", 2.0**-2, 3, True)
    w = n.quant(n.const("w", rng.normal(0, 1, (4, 2, 3, 3))), "wq", 2.0**-1, 3, True)
    a = n.node("Conv", [xq, w], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    b = n.node("Mul", [a, n.const("gamma", [[[0.5]], [[-1.0]], [[1.5]], [[0.25]]])], ["b"])
    n.quant(b, "out", 2.0**-1, 2, True)
    before = n.model("x", [1, 2, 4, 4], "out", [1, 4, 4, 4])
    lowered = before.transform(LowerConvToMatMul())
    after = lowered.transform(AbsorbIntoThresholds())
    (mt,) = after.get_nodes_by_op_type("MultiThreshold")
    assert getCustomOp(mt).get_nodeattr("data_layout") == "NHWC"
    assert after.find_consumers(mt.output[0])[0].op_type == "Transpose"
    assert_same_outputs(before, after, _inputs([2, 4, 4], n=8))


def test_rejected_activation_leaves_the_graph_unmodified():
    """The output quantizer's checks used to run after the input's Div had been inserted."""
    m = _one_layer(out_zeropt=1.0)
    before = snapshot(m)
    with pytest.raises(UnsupportedError, match="node 'Quant_2': activation zero points"):
        AbsorbIntoThresholds().apply(m)
    assert snapshot(m) == before


def test_rejected_layer_after_a_rewritten_one_leaves_the_graph_unmodified():
    m = _two_layers(out_bits=13)
    m, changed = AbsorbIntoThresholds().apply(m)  # the last layer: accepted and rewritten
    assert changed
    before = snapshot(m)
    with pytest.raises(UnsupportedError, match="node 'Quant_3': a 13-bit activation needs 8191"):
        AbsorbIntoThresholds().apply(m)
    assert snapshot(m) == before


def test_input_without_quantizer_is_rejected_unmodified():
    n = Net()
    w = n.quant(n.const("w", np.ones((4, 2))), "wq", 0.5, 2, True)
    n.node("MatMul", ["x", w], ["out"])
    m = n.model("x", [1, 4], "out", [1, 2])
    before = snapshot(m)
    with pytest.raises(UnsupportedError, match="node 'MatMul_0': its input does not come from"):
        AbsorbIntoThresholds().apply(m)
    assert snapshot(m) == before
