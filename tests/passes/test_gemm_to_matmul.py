"""GemmToMatMul on tiny graphs: the same op sequence ONNX specifies, and every Gemm checked
before any is rewritten."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.transformation.infer_shapes import InferShapes

from flows.errors import UnsupportedError
from flows.passes.gemm_to_matmul import GemmToMatMul
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot


def _gemms(computed_bias: bool = False, **second):
    """``Gemm(transB) -> Gemm(**second)`` with small-integer operands (float32 exact); the
    second Gemm's bias is a constant, or computed by a Relu when ``computed_bias``."""
    rng = np.random.default_rng(0)
    n = Net()
    w0 = n.const("w0", rng.integers(-3, 4, size=(5, 4)))  # transB: [N, K]
    a = n.node("Gemm", ["x", w0, n.const("c0", rng.integers(-3, 4, 5))], ["a"], transB=1)
    c1 = n.const("c1", [1.0, -2.0, 0.5])
    if computed_bias:
        c1 = n.node("Relu", [c1], ["c1_relu"])
    n.node("Gemm", [a, n.const("w1", rng.integers(-3, 4, size=(5, 3))), c1], ["out"], **second)
    return n.model("x", [1, 4], "out", [1, 3])


def _ints(n=6):
    return np.random.default_rng(1).integers(-4, 5, size=(n, 4)).astype(np.float32)


def test_ensures_matmul_and_same_outputs():
    before = _gemms(alpha=0.5, beta=2.0)
    after = before.transform(GemmToMatMul()).transform(InferShapes())  # as the frontend does
    assert "Gemm" not in op_types(after)
    assert op_types(after).count("MatMul") == 2
    assert op_types(after).count("Transpose") == 1  # B of the first Gemm
    assert_same_outputs(before, after, _ints())


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ({"transA": 1}, "node 'Gemm_1': Gemm with transA=1 is not supported"),
        ({"beta": 2.0, "computed_bias": True}, "node 'Gemm_1': Gemm with beta != 1 needs a const"),
    ],
    ids=["transA", "beta-with-computed-bias"],
)
def test_a_rejected_gemm_leaves_every_gemm_as_it_was(second, message):
    """The first Gemm used to be rewritten before the second was found unsupported."""
    m = _gemms(**second)
    before = snapshot(m)
    with pytest.raises(UnsupportedError, match=message):
        GemmToMatMul().apply(m)
    assert snapshot(m) == before
