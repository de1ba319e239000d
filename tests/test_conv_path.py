"""Convolutions: lowering, layout streamlining and the conv dataflow layers, exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

from flows.frontend import import_model
from flows.passes.absorb_into_thresholds import AbsorbIntoThresholds
from flows.passes.lower_conv import LowerConvToMatMul
from flows.passes.remove_scale_round_trips import RemoveScaleRoundTrips
from flows.passes.streamline_transposes import (
    AbsorbTransposeIntoFlatten,
    CancelTransposes,
    MaxPoolToNHWC,
)
from flows.verify import draw_inputs, verify_build
from tests.conv_factory import small_cnn


def _same(a, b, x):
    for xi in x:
        ya = execute_onnx(a, {a.graph.input[0].name: xi[None]})[a.graph.output[0].name]
        yb = execute_onnx(b, {b.graph.input[0].name: xi[None]})[b.graph.output[0].name]
        assert np.array_equal(ya, yb)


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    p = tmp_path_factory.mktemp("cnn") / "small_cnn.onnx"
    small_cnn(0).save(str(p))
    m0 = import_model(p)
    return p, m0, draw_inputs(m0, 8, seed=2)


def test_lower_conv_to_matmul(cnn):
    _, m0, x = cnn
    m1 = m0.transform(LowerConvToMatMul()).transform(InferShapes())
    assert not m1.get_nodes_by_op_type("Conv")
    assert len(m1.get_nodes_by_op_type("Im2Col")) == 2
    _same(m0, m1, x)


def test_weight_layout_matches_window_order(cnn):
    """Permuting the lowered weights' rows (a wrong (ky, kx, c) order) must change outputs:
    the equality test above would catch a layout mismatch."""
    _, m0, x = cnn
    m1 = m0.transform(LowerConvToMatMul()).transform(InferShapes())
    mm = m1.get_nodes_by_op_type("MatMul")[0]
    wq = m1.find_producer(mm.input[1])
    w = m1.get_initializer(wq.input[0])
    # reorder rows as (c, ky, kx) instead of (ky, kx, c)
    k, c = 3, 3
    order = np.arange(k * k * c).reshape(k, k, c).transpose(2, 0, 1).ravel()
    m1.set_initializer(wq.input[0], w[order])
    outs = [
        execute_onnx(m, {m.graph.input[0].name: x[:1]})[m.graph.output[0].name] for m in (m0, m1)
    ]
    assert not np.array_equal(*outs)


def test_streamline_transposes(cnn):
    _, m0, x = cnn
    m = m0.transform(LowerConvToMatMul()).transform(InferShapes())
    m = m.transform(AbsorbIntoThresholds()).transform(RemoveScaleRoundTrips())
    m2 = m.transform(CancelTransposes()).transform(MaxPoolToNHWC())
    m3 = m2.transform(AbsorbTransposeIntoFlatten())
    assert m3.get_nodes_by_op_type("MaxPoolNHWC") and not m3.get_nodes_by_op_type("MaxPool")
    assert len(m3.get_nodes_by_op_type("Transpose")) == 1  # only the input NCHW -> NHWC
    _same(m0, m2, x)
    _same(m0, m3, x)


@pytest.mark.csim
def test_small_cnn_builds_and_verifies(cnn, built):
    p, _, _ = cnn
    d = built(str(p))
    kinds = [lay["kind"] for lay in json.loads((d / "report.json").read_text())["layers"]]
    assert kinds.count("SlidingWindow") == 2 and "StreamingMaxPool" in kinds
    v = verify_build(d, 300)
    assert v["status"] == "pass", v


@pytest.mark.csim
@pytest.mark.parametrize("pad,stride,pool", [(0, 1, 2), (2, 1, 3), (1, 3, 1)])
def test_conv_variants_verify(tmp_path, built, pad, stride, pool):
    p = tmp_path / "v.onnx"
    small_cnn(1, pad=pad, stride=stride, pool=pool).save(str(p))
    v = verify_build(built(str(p)), 200)
    assert v["status"] == "pass", v


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnv-w1a1", "cnv-w1a2", "cnv-w2a2"])
def test_cnv_zoo_verifies(built, name):
    assert verify_build(built(name), 100)["status"] == "pass"
