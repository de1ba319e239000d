"""InputQuantToThresholds on tiny integer-input graphs: the input quantizer becomes a
MultiThreshold with identical outputs, or the head stays on the host untouched."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType
from qonnx.custom_op.registry import getCustomOp

from flows.passes.input_quant_to_thresholds import InputQuantToThresholds
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot

MEAN = [[[100.0]], [[120.0]], [[90.0]]]  # per channel, NCHW-shaped
STD = [[[60.0]], [[-70.0]], [[50.0]]]


def _image(std=STD):
    """UINT8 ``[1, 3, 4, 4] -> Sub(mean) -> Div(std) -> Quant``, per-channel constants."""
    n = Net()
    a = n.node("Sub", ["x", n.const("mean", MEAN)], ["a"])
    b = n.node("Div", [a, n.const("std", std)], ["b"])
    n.quant(b, "out", 2.0**-3, 4, True)
    m = n.model("x", [1, 3, 4, 4], "out", [1, 3, 4, 4])
    m.set_tensor_datatype("x", DataType["UINT8"])
    return m


def _flat(scale: float):
    """UINT8 ``[1, 6] -> Reshape -> Mul(scale) -> Quant``."""
    n = Net()
    r = n.node("Reshape", ["x", n.const("shape", [1, 6], np.int64)], ["r"])
    a = n.node("Mul", [r, n.const("k", scale)], ["a"])
    n.quant(a, "out", 2.0**-2, 3, False)
    m = n.model("x", [1, 6], "out", [1, 6])
    m.set_tensor_datatype("x", DataType["UINT8"])
    return m


def _uint8(shape, n=16):
    return np.random.default_rng(0).integers(0, 256, size=(n, *shape)).astype(np.float32)


@pytest.mark.parametrize("std", [STD, np.abs(STD)], ids=["decreasing-channel", "increasing"])
def test_image_input_thresholds_run_channels_last(std):
    before = _image(std)
    after = before.transform(InputQuantToThresholds())
    if np.any(np.asarray(std) < 0):  # a decreasing channel keeps the head on the host
        assert snapshot(after) == snapshot(before)
        return
    assert op_types(after) == ["Transpose", "MultiThreshold", "Transpose", "Mul"]
    (mt,) = after.get_nodes_by_op_type("MultiThreshold")
    assert getCustomOp(mt).get_nodeattr("data_layout") == "NHWC"
    assert after.get_tensor_datatype(mt.input[0]) == DataType["UINT8"]
    assert after.get_tensor_datatype(mt.output[0]) == DataType["INT4"]
    assert_same_outputs(before, after, _uint8([3, 4, 4]))


def test_flat_input_keeps_its_reshape_and_shares_one_threshold_row():
    before = _flat(1 / 255)
    after = before.transform(InputQuantToThresholds())
    assert op_types(after) == ["Reshape", "MultiThreshold", "Mul"]
    (mt,) = after.get_nodes_by_op_type("MultiThreshold")
    assert after.get_initializer(mt.input[1]).shape == (1, 7)  # one row for all channels
    assert after.get_tensor_datatype("r") == DataType["UINT8"]
    assert_same_outputs(before, after, _uint8([6]))


def test_per_element_constants_stay_on_the_host():
    n = Net()
    a = n.node("Mul", ["x", n.const("k", np.linspace(0.01, 0.02, 12).reshape(1, 3, 2, 2))], ["a"])
    n.quant(a, "out", 2.0**-2, 3, False)
    m = n.model("x", [1, 3, 2, 2], "out", [1, 3, 2, 2])
    m.set_tensor_datatype("x", DataType["UINT8"])
    model, changed = InputQuantToThresholds().apply(m)
    assert not changed and snapshot(model) == snapshot(m)


def test_float_input_is_left_alone():
    m = _flat(1 / 255)
    m.set_tensor_datatype("x", DataType["FLOAT32"])
    before = snapshot(m)
    assert InputQuantToThresholds().apply(m)[1] is False
    assert snapshot(m) == before
