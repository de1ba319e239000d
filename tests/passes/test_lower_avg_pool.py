"""LowerAveragePool: a quantized average pool becomes an exact window sum and thresholds, with
execute_onnx giving bit-identical outputs before and after; inexpressible pools are refused."""

from __future__ import annotations

import numpy as np
import pytest

from flows.errors import UnsupportedError
from flows.passes.lower_avg_pool import LowerAveragePool
from tests.avgpool_factory import quant_avgpool
from tests.passes.util import assert_same_outputs, op_types, snapshot

CASES = {
    # Brevitas' TruncAvgPool2d: Trunc at s_x/(k*k), dropping 2 bits, both rounding modes
    "trunc_floor": dict(),
    "trunc_round": dict(rounding="ROUND"),
    "trunc_signed_3x3_s1": dict(signed=True, k=3, stride=1, hw=5, out_bits=5),
    "trunc_keeps_all_bits": dict(out_bits=6),
    "trunc_global": dict(global_pool=True, hw=3, out_bits=5),  # 9 values: not a power of two
    "trunc_pow2_scale": dict(s_x=0.25, rounding="ROUND"),
    # an exact average straight into a Quant: power-of-two scale, ties decided by the same
    # float32 ops in the thresholds as in the reference
    "quant_pow2": dict(s_x=0.125, end="quant", rounding="ROUND"),
    # a sum pool: Mul(k*k) after the average, then the quantizer
    "mul_quant": dict(s_x=0.0721, end="mul_quant", out_bits=6),
}


def _inputs(model, n=40, seed=0):
    """Random inputs over and past the quantizer's range, and the exact extremes."""
    rng = np.random.default_rng(seed)
    shape = model.get_tensor_shape("x")[1:]
    s = float(model.get_initializer("q_scale"))
    xs = rng.uniform(-20 * s, 20 * s, (n, *shape)).astype(np.float32)
    xs[0] = 20 * s
    xs[1] = -20 * s
    return xs


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_identical_and_structure(name):
    before = quant_avgpool(**CASES[name])
    after = before.transform(LowerAveragePool())
    types = op_types(after)
    assert "AveragePool" not in types and "GlobalAveragePool" not in types
    assert "Trunc" not in types and types.count("Quant") == 1  # only the input quantizer
    assert types[-5:] == ["Transpose", "QuantAvgPool2d", "MultiThreshold", "Transpose", "Mul"]
    pool = after.get_nodes_by_op_type("QuantAvgPool2d")[0]
    assert after.get_tensor_datatype(pool.output[0]).is_integer()
    assert_same_outputs(before, after, _inputs(before))


def test_reduce_mean_over_both_spatial_axes_is_a_global_pool():
    before = quant_avgpool(global_pool=True, hw=4, out_bits=4)
    gap = before.get_nodes_by_op_type("GlobalAveragePool")[0]
    gap.op_type = "ReduceMean"
    from onnx import helper

    gap.attribute.extend(
        [helper.make_attribute("axes", [2, 3]), helper.make_attribute("keepdims", 1)]
    )
    after = before.transform(LowerAveragePool())
    assert "ReduceMean" not in op_types(after)
    assert_same_outputs(before, after, _inputs(before))


def test_a_pool_without_a_quantizer_after_it_is_left_alone():
    m = quant_avgpool()
    trunc = m.get_nodes_by_op_type("Trunc")[0]
    m.graph.node.remove(trunc)
    m.graph.output[0].name = "avg"
    before = snapshot(m)
    m2, changed = LowerAveragePool().apply(m)
    assert not changed and snapshot(m2) == before


def test_an_inexpressible_truncation_is_refused():
    """A non-power-of-two input scale and an average straight into a Quant at the same
    scale: sums 2 mod 4 average to exactly half a step, and float32 rounding of each window's
    values decides which way the reference rounds. The result is not a function of the
    integer sum, so it cannot be built exactly."""
    m = quant_avgpool(s_x=0.0721, end="quant", rounding="ROUND")
    with pytest.raises(UnsupportedError, match=r"node 'AveragePool_0': the truncation after"):
        m.transform(LowerAveragePool())


def test_padding_is_refused_naming_the_node():
    m = quant_avgpool()
    from onnx import helper

    m.get_nodes_by_op_type("AveragePool")[0].attribute.append(
        helper.make_attribute("pads", [1, 1, 1, 1])
    )
    with pytest.raises(UnsupportedError, match=r"node 'AveragePool_0': AveragePool with padding"):
        m.transform(LowerAveragePool())


@pytest.mark.parametrize("end", ["trunc", "quant"])
def test_a_relu_between_quantizer_and_pool_moves_into_the_integer_domain(end):
    """``Quant(signed) -> Relu -> pool`` (the quantizer before the Relu): the Relu is applied
    to the integers (``Div -> Relu``, where AbsorbReluIntoThresholds can fold it into the
    layer before) and the pool sums the non-negative integers, a narrower type."""
    from onnx import helper
    from qonnx.transformation.infer_shapes import InferShapes

    before = quant_avgpool(signed=True, k=3, stride=1, hw=5, out_bits=5, end=end, s_x=0.125)
    pool = before.get_nodes_by_op_type("AveragePool")[0]
    relu = helper.make_node("Relu", ["q"], ["q_relu"], name="Relu_0")
    before.graph.node.insert(list(before.graph.node).index(pool), relu)
    pool.input[0] = "q_relu"
    before = before.transform(InferShapes())
    after = before.transform(LowerAveragePool())
    types = op_types(after)
    assert types[:4] == ["Quant", "Div", "Relu", "Transpose"] and types.count("Relu") == 1
    sums = after.get_nodes_by_op_type("QuantAvgPool2d")[0]
    assert after.get_tensor_datatype(sums.input[0]).name == "UINT3"  # relu(INT4)
    assert_same_outputs(before, after, _inputs(before))


def test_ties_after_a_3x3_pool_of_a_power_of_two_scale_fall_as_in_the_reference():
    """A power-of-two input scale adds exactly, so the float32 average of a 3x3 window is a
    function of its sum; a Quant at twice the input scale then meets exact ties at every odd
    multiple of 9 (used to be refused as decided by float32 rounding). The thresholds take
    the graph's own pool op for each sum, and round-half-even ties match the reference."""
    before = quant_avgpool(s_x=0.125, k=3, stride=1, hw=5, end="quant", out_bits=4)
    y_quant = next(n for n in before.graph.node if n.output[0] == "y")
    before.set_initializer(y_quant.input[1], np.float32(0.25))
    after = before.transform(LowerAveragePool())
    assert "AveragePool" not in op_types(after)
    xs = _inputs(before)
    xs[2] = 0.125  # every window sums to 9: an average of half a step
    xs[3] = 0.375  # 27: one and a half steps
    assert_same_outputs(before, after, xs)
