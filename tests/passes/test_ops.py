"""flows.ops: each op class written once; the host op set comes from the driver's table."""

from __future__ import annotations

import numpy as np
import pytest

from boards.driver.host_graph import HOST_OPS, OPS, HostGraph, HostOp
from flows import frontend, ops, partition, quantizers


def test_host_ops_are_the_drivers_dispatch_table():
    assert partition.HOST_OPS is HOST_OPS == frozenset(OPS)
    assert {"Mul", "Quant", "TopK", "Transpose"} <= HOST_OPS


def test_host_graph_dispatches_every_output():
    x = np.array([[3.0, -1.0, 2.0, 2.0]], np.float32)
    g = HostGraph(
        "x",
        "v",
        [
            HostOp("Relu", ["x"], ["r"]),
            HostOp("TopK", ["r", "k"], ["v", "i"], {"axis": -1, "largest": 1}),
        ],
        {"k": np.array([2], np.int64)},
    )
    env = g.run(x)
    assert env["v"].tolist() == [[3.0, 2.0]] and env["i"].tolist() == [[0, 2]]


def test_unknown_host_op_is_named():
    g = HostGraph("x", "y", [HostOp("Cos", ["x"], ["y"])], {})
    with pytest.raises(ValueError, match="host op Cos is not supported by the driver"):
        g.run(np.zeros(1, np.float32))


def test_one_source_for_each_op_class():
    assert frontend.QUANT_OPS is quantizers.QUANT_OPS is ops.QUANT_OPS
    assert frontend.SUPPORTED_OPS is ops.SUPPORTED_OPS
    assert ops.SUPPORTED_OPS == {
        *("Quant", "BipolarQuant", "MatMul", "Gemm", "Conv", "Mul", "Add", "Sub", "Div"),
        *("BatchNormalization", "Relu", "Identity", "Reshape", "Flatten", "Transpose"),
        *("MaxPool", "TopK", "ArgMax", "Softmax"),
        *("Trunc", "AveragePool", "GlobalAveragePool", "ReduceMean"),
    }


def test_layout_classes_nest():
    assert ops.RESHAPE_OPS < ops.LAYOUT_OPS < ops.DTYPE_PRESERVING_OPS < ops.SCALE_COMMUTING_OPS
    assert ops.MONOTONE_OPS < ops.SCALE_COMMUTING_OPS
    assert "Relu" in ops.MONOTONE_OPS and "Relu" not in ops.DTYPE_PRESERVING_OPS
    assert ops.HEAD_LAYOUT_OPS <= ops.LAYOUT_OPS
    assert ops.ORDERED_AFFINE_OPS < ops.AFFINE_OPS < ops.CHAIN_OPS
