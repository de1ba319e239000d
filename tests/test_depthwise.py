"""Depthwise convolutions (group = C): lowered to a sliding window and a block-diagonal MatMul,
inferred as SlidingWindow + VVAU, and built bit-exactly end to end (C-sim and RTL)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

from flows.build import step_dataflow, step_integerize
from flows.config import BuildConfig
from flows.errors import UnsupportedError
from flows.frontend import import_model
from flows.passes.lower_conv import LowerConvToMatMul
from flows.verify import draw_inputs
from tests.depthwise_factory import brevitas_dw_net, dw_cnn
from tests.helpers import run_cli


def _same(a, b, x):
    for xi in x:
        ya = execute_onnx(a, {a.graph.input[0].name: xi[None]})[a.graph.output[0].name]
        yb = execute_onnx(b, {b.graph.input[0].name: xi[None]})[b.graph.output[0].name]
        assert np.array_equal(ya, yb)


@pytest.fixture(scope="module")
def dw(tmp_path_factory):
    p = tmp_path_factory.mktemp("dw") / "dw_cnn.onnx"
    dw_cnn(0).save(str(p))
    m0 = import_model(p)
    return m0, draw_inputs(m0, 6, seed=3)


def test_lowering_gives_a_window_and_a_block_diagonal_matmul(dw):
    m0, x = dw
    m1 = m0.transform(LowerConvToMatMul()).transform(InferShapes())
    assert not m1.get_nodes_by_op_type("Conv")
    im2col = m1.get_nodes_by_op_type("Im2Col")
    assert len(im2col) == 1  # the 1x1 pointwise conv needs no window
    mm = m1.find_consumers(im2col[0].output[0])[0]
    w = m1.get_initializer(m1.find_producer(mm.input[1]).input[0]).reshape(9, 4, 4)
    off = w.copy()
    off[:, np.arange(4), np.arange(4)] = 0
    assert not off.any() and np.count_nonzero(w) > 0
    _same(m0, m1, x)


def test_depthwise_becomes_sliding_window_and_vvau(dw):
    m0, x = dw
    ctx = SimpleNamespace(model=m0, cfg=BuildConfig(model="-"))
    step_integerize(ctx)
    step_dataflow(ctx)
    m = ctx.model
    vv = m.get_nodes_by_op_type("VVAU")
    assert len(vv) == 1 and len(m.get_nodes_by_op_type("MVAU")) == 2
    assert m.find_producer(vv[0].input[0]).op_type == "SlidingWindow"
    assert not m.get_nodes_by_op_type("MultiThreshold")  # absorbed into the VVAU
    assert m.get_initializer(vv[0].input[1]).shape == (9, 4)
    _same(m0, m, x)


def _grouped(group: int, c_out: int, bipolar: bool = False):
    """x [1,4,6,6] -> Quant -> Conv 3x3 with ``group`` and ``c_out`` outputs."""
    from tests.graph_builder import GraphBuilder

    g = GraphBuilder(0)
    x = g.quant("x", "xq", 2.0**-7, 8, 1)
    shape = (c_out, 4 // group, 3, 3)
    if bipolar:
        g.node(
            "BipolarQuant", [g.const("w", g.rng.normal(0, 1, shape)), g.const("ws", 1.0)], ["wq"]
        )
        w = "wq"
    else:
        w = g.quant(g.const("w", g.rng.normal(0, 1, shape)), "wq", 0.5, 4, 1, 1)
    g.node("Conv", [x, w], ["y"], group=group, kernel_shape=[3, 3], name="dw0")
    return g.model("grouped", "x", [1, 4, 6, 6], "y", [1, c_out, 4, 4], "-1,1")


@pytest.mark.parametrize(
    "group, c_out, bipolar, message",
    [
        (2, 4, False, "node 'dw0' \\(Conv\\): group=2 is not supported with 4 input and 4 "
         "output channels; .*split it into 2 convs"),
        (4, 8, False, "group=4 is not supported with 4 input and 8 output channels"),
        (4, 4, True, "node 'dw0' \\(Conv\\): a depthwise conv with bipolar \\(BipolarQuant\\) "
         "weights is not supported"),
    ],
    ids=["grouped", "multiplier2", "bipolar"],
)  # fmt: skip
def test_grouped_convs_that_are_not_depthwise_are_refused(group, c_out, bipolar, message):
    m = _grouped(group, c_out, bipolar)
    with pytest.raises(UnsupportedError, match=message):
        LowerConvToMatMul().apply(m)


@pytest.mark.csim
def test_depthwise_net_builds_bit_exact(tmp_path):
    """The hand-built net (per-channel weight scales, BN): C-sim equals the reference."""
    p = tmp_path / "dw.onnx"
    dw_cnn(1, ch=8, stride=2).save(str(p))
    r = run_cli(["build", p, "--out", tmp_path / "b", "--verify", 100])
    assert r.exit_code == 0, r.stdout + r.stderr
    rep = json.loads((tmp_path / "b" / "report.json").read_text())
    assert "VVAU" in [lay["kind"] for lay in rep["layers"]]
    assert rep["verification"]["status"] == "pass"
    assert rep["verification"]["csim_vs_dataflow_mismatches"] == 0


@pytest.fixture(scope="module")
def dw_build(tmp_path_factory):
    d = tmp_path_factory.mktemp("dwbuild")
    onnx_path = brevitas_dw_net(d / "dw_brevitas.onnx")
    out = d / "build"
    r = run_cli(["build", onnx_path, "--out", out, "--verify", 100])
    assert r.exit_code == 0, r.stdout + r.stderr
    return out


@pytest.mark.csim
@pytest.mark.slow
def test_brevitas_depthwise_net_builds_bit_exact(dw_build):
    rep = json.loads((dw_build / "report.json").read_text())
    kinds = [lay["kind"] for lay in rep["layers"]]
    assert kinds[:2] == ["SlidingWindow", "VVAU"] and kinds.count("MVAU") == 2
    v = rep["verification"]
    assert v["status"] == "pass" and v["reference_mismatches"] == 0
    assert v["reference_rounding"] == 0  # fixed-point scales: the float reference is exact


@pytest.mark.csim
@pytest.mark.slow
def test_brevitas_depthwise_net_rtlsim(dw_build):
    r = run_cli(["rtlsim", dw_build, "--n", 2])
    assert r.exit_code == 0, r.stdout + r.stderr
    rep = json.loads((dw_build / "report.json").read_text())
    s = rep["rtlsim"]
    assert "2 images, pass" in r.stdout
    assert s["verification"]["rtlsim_vs_dataflow_mismatches"] == 0
    assert s["verification"]["reference_mismatches"] == 0
    # the VVAU (the bottleneck: C*K*K cycles a pixel at PE = C) takes its cost model's cycles
    vv = next(lay for lay in rep["layers"] if lay["kind"] == "VVAU")
    assert s["cycles_per_image"] == s["estimated_cycles_per_image"] == vv["cycles"]
