"""IntegerResidualAdd on residual adds of differing scales: the multipliers (flows.dyadic)
are exact and smallest on awkward float32 scales; the pass's integer sum and thresholds give
the exact-math result on every pair of input integers; verification's exact re-check
(flows.exact_ops) reproduces it where the float32 reference rounds; what cannot be added
exactly is refused naming the node."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from flows.dyadic import multipliers, scaled_sum
from flows.errors import UnsupportedError
from flows.passes.integer_residual_add import IntegerResidualAdd
from flows.verify import with_exact_accumulation

Q = "qonnx.custom_op.general"
F32 = np.float32


def _check(sa, sb) -> tuple[int, int, float]:
    ka, kb, s = multipliers(sa, sb)
    assert Fraction(float(F32(sa))) == ka * Fraction(s)
    assert Fraction(float(F32(sb))) == kb * Fraction(s)
    assert float(F32(s)) == s and s > 0
    assert math.gcd(ka, kb) == 1  # coprime: no larger common unit, no smaller multipliers
    return ka, kb, s


@pytest.mark.parametrize(
    "sa, sb, want",
    [
        (0.25, 0.25, (1, 1)),
        (0.375, 0.15625, (12, 5)),
        (0.25, 0.0625, (4, 1)),
        (F32(0.1), F32(0.2), (1, 2)),
        (-0.25, 0.75, (-1, 3)),
        (2.0**-100, 1.0, (1, 2**100)),
    ],
)
def test_multipliers_are_exact_and_smallest(sa, sb, want):
    assert _check(sa, sb)[:2] == want


def test_multipliers_on_random_awkward_float32_scales():
    """Learned-looking scales (full 24-bit mantissas) and small exact ratios of them."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        sa = F32(rng.uniform(1e-4, 2.0))
        _check(sa, F32(rng.uniform(1e-4, 2.0)))
        r = F32(rng.choice([0.5, 1.5, 3.0, 0.75, 1.25, 1.1]))
        ka, kb, _ = _check(sa, sa * r)  # float32 rounds sa*r: exact whatever the ratio is
        assert abs(kb / ka - float(r)) < 1e-6


def test_per_channel_scales_in_one_ratio_share_the_multipliers():
    sa = np.array([0.25, 0.125, 0.375], F32).reshape(1, 3, 1, 1)
    ss = scaled_sum(sa, sa * F32(3), "node 'x'")
    assert (ss.ka, ss.kb) == (1, 3) and np.array_equal(ss.scale, sa)
    with pytest.raises(UnsupportedError, match=r"node 'x'.*different ratio in different channels"):
        scaled_sum(sa, np.array([0.25, 0.25, 0.25], F32).reshape(1, 3, 1, 1), "node 'x'")
    with pytest.raises(UnsupportedError, match=r"node 'x'.*zero or non-finite scale"):
        scaled_sum(np.float32(0.0), np.float32(1.0), "node 'x'")


def _quant(nodes, inits, x, out, scale, bits, signed=False):
    for suffix, v in (("_s", scale), ("_z", 0.0), ("_b", float(bits))):
        inits.append(helper.make_tensor(out + suffix, TensorProto.FLOAT, [], [float(v)]))
    nodes.append(
        helper.make_node(
            "Quant",
            [x, out + "_s", out + "_z", out + "_b"],
            [out],
            domain=Q,
            signed=int(signed),
            narrow=0,
            rounding_mode="ROUND",
        )
    )


def _join(sa, sb, s_out, dt="UINT4", quantized=False, bn=False) -> ModelWrapper:
    """a, b -> [Quant(sa) / Quant(sb) | Mul(sa) / Mul(sb)] -> Add -> [BN as Mul/Add] -> Relu
    -> Quant(u4, s_out), on [1, C] tensors (one channel per pair of integers)."""
    nodes, inits = [], []
    c = 2 ** (2 * DataType[dt].bitwidth())
    for x, s in (("a", sa), ("b", sb)):
        if quantized:
            _quant(nodes, inits, x, "f" + x, s, DataType[dt].bitwidth(), DataType[dt].signed())
        else:
            inits.append(helper.make_tensor("s" + x, TensorProto.FLOAT, [], [float(s)]))
            nodes.append(helper.make_node("Mul", [x, "s" + x], ["f" + x], name="deq_" + x))
    nodes.append(helper.make_node("Add", ["fa", "fb"], ["sum"], name="Add_join"))
    t = "sum"
    if bn:  # a per-channel affine (BN folded after the add), positive
        g = np.linspace(0.5, 2.0, c).astype(F32)
        inits.append(helper.make_tensor("g", TensorProto.FLOAT, [c], g))
        inits.append(helper.make_tensor("h", TensorProto.FLOAT, [c], (g - 1.2).astype(F32)))
        nodes.append(helper.make_node("Mul", [t, "g"], ["bn_m"], name="bn_mul"))
        nodes.append(helper.make_node("Add", ["bn_m", "h"], ["bn_a"], name="bn_add"))
        t = "bn_a"
    nodes.append(helper.make_node("Relu", [t], ["r"], name="relu"))
    _quant(nodes, inits, "r", "y", s_out, 4)
    nodes[-1].name = "q_out"
    vi = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, c])  # noqa: E731
    g = helper.make_graph(nodes, "join", [vi("a"), vi("b")], [vi("y")], initializer=inits)
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid(Q, 1)]
    m = ModelWrapper(qonnx_make_model(g, opset_imports=opsets))
    if not quantized:
        for x in ("a", "b"):
            m.set_tensor_datatype(x, DataType[dt])
    return m.transform(InferShapes())


def _pairs(dt="UINT4"):
    d = DataType[dt]
    v = np.arange(int(d.min()), int(d.max()) + 1)
    a, b = np.meshgrid(v, v, indexing="ij")
    return a.reshape(1, -1).astype(F32), b.reshape(1, -1).astype(F32)


def _run(m, a, b):
    return execute_onnx(m, {"a": a, "b": b})["y"]


@pytest.mark.parametrize(
    "sa, sb, s_out, bn",
    [
        (0.375, 0.15625, 0.3, False),  # 12:5, a float32-exact reference
        (0.25, 0.0625, 0.2, True),  # power-of-two scales, BN after the add
        (F32(0.1), F32(0.2), F32(0.2), False),  # 1:2 on 0.1f: the float32 reference rounds
        (F32(0.3) * F32(1.1), F32(0.3), F32(0.25), True),  # 11:10 on 0.03f, BN after
    ],
)
def test_integer_sum_and_thresholds_give_the_exact_result_on_every_pair(sa, sb, s_out, bn):
    a, b = _pairs()
    m = _join(sa, sb, s_out, bn=bn).transform(IntegerResidualAdd())
    types = [n.op_type for n in m.graph.node]
    assert "MultiThreshold" in types and "Relu" not in types and types.count("Add") == 1
    hw = _run(m, a, b)
    # the exact math: sa*ia + sb*ib as a rational, scaled once into float32, then the chain
    ss = scaled_sum(np.float32(sa), np.float32(sb), "")
    ref = _join(sa, sb, s_out, quantized=True, bn=bn)
    exact = _run(with_exact_accumulation(ref), a * F32(sa), b * F32(sb))
    np.testing.assert_array_equal(hw, exact)
    assert len(np.unique(hw)) > 8  # the requantization spans many levels over the pairs
    assert ss.integers(a, b).max() == ss.ka * 15 + ss.kb * 15  # every pair was exercised


def test_the_exact_recheck_tells_reference_rounding_apart():
    """On 0.1f and 0.2f the float32 reference rounds ``sa*ia + sb*ib``; the output quantizer's
    rounding boundaries (odd multiples of 0.1f) sit on exact sums, so the reference lands on
    the other side for some pairs, where the hardware and the exact re-check agree."""
    sa, sb, s_out = F32(0.1), F32(0.2), F32(0.2)
    a, b = _pairs()
    hw = _run(_join(sa, sb, s_out).transform(IntegerResidualAdd()), a, b)
    ref = _join(sa, sb, s_out, quantized=True)
    fa, fb = a * sa, b * sb
    assert not np.array_equal(_run(ref, fa, fb), hw)  # the float32 reference rounds...
    np.testing.assert_array_equal(_run(with_exact_accumulation(ref), fa, fb), hw)  # ...not this


def test_a_sum_wider_than_32_bits_is_refused_naming_the_node():
    m = _join(F32(0.1), F32(0.3), 0.5, dt="INT8")
    with pytest.raises(
        UnsupportedError, match=r"node 'Add_join'.*needs 3\d bits, more than the 32"
    ):
        m.transform(IntegerResidualAdd())
