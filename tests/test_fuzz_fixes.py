"""Focused tests for the compiler bugs the fuzzer found (tests/fuzz/regressions has the nets).

Each builds a small net from a hand-written ``NetSpec``, runs the integerize passes exactly as
the build does, and checks the structure the fix ensures and that ``execute_onnx`` gives the
same outputs before and after.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from qonnx.core.datatype import DataType
from qonnx.core.onnx_exec import execute_onnx

from flows.build import step_dataflow, step_integerize
from flows.config import BuildConfig
from flows.errors import UnsupportedError
from flows.frontend import import_model
from flows.passes.lower_conv import LowerConvToMatMul
from flows.verify import WIDE, draw_inputs, with_exact_accumulation
from tests.fuzz.builder import build_model
from tests.fuzz.spec import LayerSpec, NetSpec, QuantSpec

W4 = QuantSpec(4, True, True, True)
U4 = QuantSpec(4, False, False, True)
I4 = QuantSpec(4, True, False, True)
I8 = QuantSpec(8, True, False, True)


def _conv(out=4, k=3, s=1, p=0, act="relu_quant", aq=U4, pool=False, seed=1) -> LayerSpec:
    return LayerSpec("conv", out, W4, aq, act, kernel=k, stride=s, pad=p, pool=pool, seed=seed)


def _fc(out=6, act="none", aq=None, seed=2) -> LayerSpec:
    return LayerSpec("fc", out, W4, aq, act, seed=seed)


def _net(tmp_path, shape, layers, **kw):
    spec = NetSpec(
        seed=3, input_shape=shape, input_range=(-1.0, 1.0), iq=I8, layers=tuple(layers), **kw
    )
    path = tmp_path / "net.onnx"
    build_model(spec).save(str(path))
    ref = import_model(path)
    ctx = SimpleNamespace(model=ref, cfg=BuildConfig(model="-"))
    step_integerize(ctx)
    return ref, ctx.model


def _same_outputs(a, b, n=6):
    x = draw_inputs(a, n, seed=5)
    for xi in x:
        ya = execute_onnx(a, {a.graph.input[0].name: xi[None]})[a.graph.output[0].name]
        yb = execute_onnx(b, {b.graph.input[0].name: xi[None]})[b.graph.output[0].name]
        assert np.array_equal(ya, yb)


def _ops(m) -> list[str]:
    return [n.op_type for n in m.graph.node]


def test_conv_pool_then_fc_streams_channels_last(tmp_path):
    """conv -> MaxPool -> Flatten -> FC: the pool runs NHWC and the flatten absorbs the
    layout (it used to leave a Transpose between two dataflow layers)."""
    ref, m = _net(tmp_path, (2, 6, 6), [_conv(pool=True), _fc()])
    assert "MaxPool" not in _ops(m) and "MaxPoolNHWC" in _ops(m)
    assert _ops(m).count("Transpose") == 1  # the input, NCHW -> NHWC, on the host
    _same_outputs(ref, m)


def test_relu_after_conv_quantizer_is_absorbed(tmp_path):
    """conv -> Quant(signed) -> Relu -> conv: the Relu after the thresholds' transpose back
    to NCHW is folded in, and the narrowed datatype reaches the next sliding window."""
    ref, m = _net(tmp_path, (2, 6, 6), [_conv(act="quant_relu", aq=I4), _conv(k=2), _fc()])
    assert "Relu" not in _ops(m)
    m = m.transform(LowerConvToMatMul())
    im2col = [n for n in m.graph.node if n.op_type == "Im2Col"][1]
    assert m.get_tensor_datatype(im2col.input[0]) == DataType["UINT3"]
    assert m.get_tensor_datatype(im2col.output[0]) == DataType["UINT3"]
    _same_outputs(ref, m)


def test_uint8_image_input_thresholds_channels_last(tmp_path):
    ref, m = _net(tmp_path, (3, 5, 5), [_conv(), _fc()], int_input=True, preproc="muladd")
    mt = next(n for n in m.graph.node if n.op_type == "MultiThreshold")
    assert m.find_producer(mt.input[0]).op_type == "Transpose"  # the host transposes ints
    layout = next(a.s.decode() for a in mt.attribute if a.name == "data_layout")
    assert layout == "NHWC"
    ctx = SimpleNamespace(model=m, cfg=BuildConfig(model="-"))
    step_dataflow(ctx)
    ops = _ops(ctx.model)
    assert ops[:2] == ["Transpose", "Thresholding"] and ops[2] == "SlidingWindow"
    _same_outputs(ref, m)


def test_padded_kernel_over_a_one_pixel_input_is_a_clear_error(tmp_path):
    """A 3x3 kernel with pads 1 on a 1x1 input is a valid Conv (3 <= 1 + 1 + 1) that qonnx's
    Im2Col cannot run: it used to be reported as a kernel that does not fit, then (with
    both-sided pads counted) as an AssertionError deep in qonnx."""
    with pytest.raises(
        UnsupportedError,
        match=r"the input has height 1, so the kernel must be "
        r"1 and unpadded along it \(kernel \[3, 3\], pads \[1, 1, 1, 1\]\)",
    ):
        _net(tmp_path, (2, 1, 1), [_conv(k=3, p=1), _fc()])


def test_kernel_fit_counts_both_pads(tmp_path):
    """A 3x3 kernel with pads 1 on a 2x2 input fits."""
    ref, m = _net(tmp_path, (2, 2, 2), [_conv(k=3, p=1), _fc()])
    assert "Conv" not in _ops(m)
    _same_outputs(ref, m)


@pytest.mark.parametrize("last", ["none", "quant"])
def test_exact_accumulation_reference_runs_convs(tmp_path, last):
    """with_exact_accumulation runs Conv (onnxruntime has no float64 Conv) and, with
    power-of-two scales where float32 is exact, gives the reference's outputs."""
    layers = [_conv(p=1, s=2), _fc(act=last, aq=U4 if last == "quant" else None)]
    ref, _ = _net(tmp_path, (2, 6, 6), layers)
    exact = with_exact_accumulation(ref)
    assert not {"Conv", "MatMul"} & set(_ops(exact))
    _same_outputs(ref, exact)
    x = draw_inputs(ref, 1, seed=0)
    ctx = execute_onnx(exact, {exact.graph.input[0].name: x}, return_full_exec_context=True)
    assert any(k.endswith(WIDE) and ctx[k].dtype == np.float64 for k in ctx)


def test_exact_accumulation_keeps_an_exactly_zero_sum_zero():
    """Integers 3*2 + 2*(-3) = 0 with non-power-of-two scales: the float32 Quant outputs
    round q*s, so a float sum of them misses 0 (a bipolar quantizer then flips); the exact
    re-check sums the integers (regression 100227)."""
    from onnx import helper

    from flows.exact_ops import ExactAccumulate

    sa, sb = np.float32(0.03774116), np.float32(0.0711)
    a = (np.array([[3, 2]], np.float32) * sa).astype(np.float32)
    b = (np.array([[2], [-3]], np.float32) * sb).astype(np.float32)
    assert np.float64(a) @ np.float64(b) != 0  # the float reference misses zero
    node = helper.make_node(
        "ExactAccumulate", ["a", "b", "", "sa", "sb"], ["y", "y64"], kind="MatMul"
    )
    ctx = {"a": a, "b": b, "sa": sa, "sb": sb, "y": None, "y64": None}
    ExactAccumulate(node).execute_node(ctx, None)
    assert ctx["y64"][0, 0] == 0.0 and ctx["y"][0, 0] == 0.0


@pytest.mark.parametrize("avgpool", ["trunc", "quant"])
def test_avgpool_after_quant_then_relu_is_lowered(tmp_path, avgpool):
    """conv -> Quant(signed) -> Relu -> AveragePool -> Trunc|Quant: the pool used to be
    refused (its input was a Relu, not a quantizer); the Relu now moves onto the integers
    and folds into the conv's thresholds, and the pool sums UINT3 (relu of INT4)."""
    aq = QuantSpec(4, True, False, True, "round" if avgpool == "trunc" else "ROUND")
    conv = dataclasses.replace(
        _conv(act="quant_relu", aq=I4),
        avgpool=avgpool,
        avg_op="AveragePool",
        avg_kernel=2,
        avg_stride=1,
        avg_q=aq,
    )
    ref, m = _net(tmp_path, (2, 6, 6), [conv, _fc()])
    assert "Relu" not in _ops(m) and "AveragePool" not in _ops(m)
    pool = m.get_nodes_by_op_type("QuantAvgPool2d")[0]
    assert m.get_tensor_datatype(pool.input[0]) == DataType["UINT3"]
    _same_outputs(ref, m)
