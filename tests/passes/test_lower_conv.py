"""LowerConvToMatMul on tiny graphs: the sliding window + MatMul structure with identical
outputs, and a rejected Conv that leaves the graph as it was."""

from __future__ import annotations

import numpy as np
import pytest

from flows.errors import UnsupportedError
from flows.passes.lower_conv import LowerConvToMatMul
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot


def _conv(weight_op: str = "Quant", **second):
    """``Quant -> Conv(Quant W) -> Conv(weights behind ``weight_op``)``, defaults implicit."""
    rng = np.random.default_rng(0)
    n = Net()
    xq = n.quant("x", "xq", 0.5, 3, True)
    w0 = n.quant(n.const("w0", rng.normal(0, 1, (3, 2, 3, 3))), "w0q", 0.5, 3, True)
    a = n.node("Conv", [xq, w0], ["a"], pads=[1, 1, 1, 1])
    w1 = n.const("w1", rng.integers(-2, 3, size=(2, 3, 1, 1)))
    if weight_op == "Quant":
        w1 = n.quant(w1, "w1q", 1.0, 3, True)
    else:
        w1 = n.node(weight_op, [w1], ["w1_" + weight_op])
    n.node("Conv", [a, w1], ["out"], **second)
    return n.model("x", [1, 2, 4, 4], "out", [1, 2, 4, 4])


def test_ensures_sliding_window_and_matmul():
    before = _conv()
    after = before.transform(LowerConvToMatMul())
    assert "Conv" not in op_types(after)
    first, second = after.get_nodes_by_op_type("MatMul")
    assert after.find_producer(first.input[0]).op_type == "Im2Col"  # 3x3, padded
    assert after.find_producer(second.input[0]).op_type == "Transpose"  # 1x1: no window
    for mm in (first, second):
        assert after.find_consumers(mm.output[0])[0].op_type == "Transpose"
    xs = np.random.default_rng(1).uniform(-2, 2, size=(4, 2, 4, 4)).astype(np.float32)
    assert_same_outputs(before, after, xs)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("group", "node 'Conv_1' \\(Conv\\): group=2 is not supported"),
        ("weights", "node 'Conv_1': Conv weights must come from a constant Quant"),
    ],
    ids=["group", "weights"],
)
def test_a_rejected_conv_leaves_the_graph_as_it_was(kind, message):
    """Defaults used to be written into the Convs before a later one was rejected."""
    m = _conv(group=2) if kind == "group" else _conv(weight_op="Identity")
    before = snapshot(m)
    with pytest.raises(UnsupportedError, match=message):
        LowerConvToMatMul().apply(m)
    assert snapshot(m) == before
