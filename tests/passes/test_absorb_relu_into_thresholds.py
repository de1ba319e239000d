"""AbsorbReluIntoThresholds on a tiny graph: the Relu's narrowing reaches the layout ops."""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.custom_op.registry import getCustomOp

from flows.graph import TO_NHWC
from flows.passes.absorb_relu_into_thresholds import AbsorbReluIntoThresholds
from tests.passes.util import Net, Q, assert_same_outputs, op_types


def test_relu_after_thresholds_drops_the_negative_levels():
    n = Net()
    thresholds = np.sort(np.random.default_rng(0).integers(-20, 20, size=(2, 7)), axis=1)
    t = n.const("t", thresholds)
    mt = n.node("MultiThreshold", ["x", t], ["mt"], domain=Q, out_dtype="INT3", out_bias=-4.0)
    r = n.node("Relu", [mt], ["r"])
    p = n.node("MaxPool", [r], ["p"], kernel_shape=[2, 2])
    n.node("Transpose", [p], ["out"], perm=list(TO_NHWC))
    before = n.model("x", [1, 2, 4, 4], "out", [1, 2, 2, 2])
    before.set_tensor_datatype("mt", DataType["INT3"])
    after = before.transform(AbsorbReluIntoThresholds())
    assert op_types(after) == ["MultiThreshold", "MaxPool", "Transpose"]
    (mt,) = after.get_nodes_by_op_type("MultiThreshold")
    assert getCustomOp(mt).get_nodeattr("out_bias") == 0
    assert after.get_initializer(mt.input[1]).shape == (2, 3)
    for tensor in ("r", "p", "out"):  # the layout ops after it carry the narrower type
        assert after.get_tensor_datatype(tensor) == DataType["UINT2"]
    xs = np.random.default_rng(1).integers(-25, 25, size=(6, 2, 4, 4)).astype(np.float32)
    assert_same_outputs(before, after, xs)
