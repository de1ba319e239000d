"""CancelTransposes, MaxPoolToNHWC and AbsorbTransposeIntoFlatten on tiny graphs."""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType

from flows.graph import TO_NCHW, TO_NHWC, perm
from flows.passes.streamline_transposes import (
    AbsorbTransposeIntoFlatten,
    CancelTransposes,
    MaxPoolToNHWC,
)
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot


def _ints(shape, n=6):
    return np.random.default_rng(0).integers(-8, 8, size=(n, *shape)).astype(np.float32)


def test_cancel_transposes_removes_the_pair():
    n = Net()
    a = n.node("Transpose", ["x"], ["a"], perm=list(TO_NCHW))
    b = n.node("Transpose", [a], ["b"], perm=list(TO_NHWC))
    n.node("Relu", [b], ["out"])
    before = n.model("x", [1, 3, 3, 2], "out", [1, 3, 3, 2])
    after = before.transform(CancelTransposes())
    assert op_types(after) == ["Relu"]
    assert after.graph.node[0].input[0] == "x"
    assert_same_outputs(before, after, _ints([3, 3, 2]))


def test_cancel_transposes_keeps_a_pair_that_writes_the_graph_output():
    """Nothing reads a graph output to rewire: the pass leaves the graph as it is (it used to
    rewire first and raise a ValueError after)."""
    n = Net()
    r = n.node("Relu", ["x"], ["r"])
    a = n.node("Transpose", [r], ["a"], perm=list(TO_NCHW))
    n.node("Transpose", [a], ["out"], perm=list(TO_NHWC))
    m = n.model("x", [1, 3, 3, 2], "out", [1, 3, 3, 2])
    before = snapshot(m)
    model, changed = CancelTransposes().apply(m)
    assert not changed and snapshot(model) == before


def _pool(then_nhwc: bool):
    n = Net()
    t = n.node("Transpose", ["x"], ["t"], perm=list(TO_NCHW))
    p = n.node("MaxPool", [t], ["p"], kernel_shape=[2, 2], strides=[2, 2])
    if then_nhwc:
        n.node("Transpose", [p], ["out"], perm=list(TO_NHWC))
        m = n.model("x", [1, 4, 4, 3], "out", [1, 2, 2, 3])
    else:
        n.node("Relu", [p], ["out"])
        m = n.model("x", [1, 4, 4, 3], "out", [1, 3, 2, 2])
    m.set_tensor_datatype("x", DataType["INT4"])
    return m


def test_maxpool_to_nhwc_absorbs_a_transpose_back():
    before = _pool(then_nhwc=True)
    after = before.transform(MaxPoolToNHWC())
    assert op_types(after) == ["MaxPoolNHWC"]
    assert after.get_tensor_datatype("out") == DataType["INT4"]
    assert_same_outputs(before, after, _ints([4, 4, 3]))


def test_maxpool_to_nhwc_transposes_back_to_nchw():
    before = _pool(then_nhwc=False)
    after = before.transform(MaxPoolToNHWC())
    assert op_types(after) == ["MaxPoolNHWC", "Transpose", "Relu"]
    assert perm(after.graph.node[1]) == TO_NCHW
    assert_same_outputs(before, after, _ints([4, 4, 3]))


def test_absorb_transpose_into_flatten_permutes_weight_rows():
    n = Net()
    t = n.node("Transpose", ["x"], ["t"], perm=list(TO_NCHW))
    f = n.node("Flatten", [t], ["f"], axis=1)
    w = np.random.default_rng(1).integers(-4, 4, size=(12, 5))
    n.node("MatMul", [f, n.const("w", w)], ["out"])
    before = n.model("x", [1, 2, 2, 3], "out", [1, 5])
    before.set_tensor_datatype("w", DataType["INT3"])
    after = before.transform(AbsorbTransposeIntoFlatten())
    assert op_types(after) == ["Flatten", "MatMul"]
    assert after.get_tensor_datatype("w") == DataType["INT3"]
    assert_same_outputs(before, after, _ints([2, 2, 3]))
