"""Every pass: its structural promise, and identical execute_onnx outputs before and after.

The models used have power-of-two scales, where the integer rewrite is exact in float32 too,
so outputs must be bit-identical (no tolerance)."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp

from flows.frontend import import_model, load_model
from flows.layers.common import DOMAIN
from flows.layers.dwc.insert import InsertDWC
from flows.passes.absorb_into_thresholds import AbsorbIntoThresholds
from flows.passes.gemm_to_matmul import GemmToMatMul
from flows.passes.infer_dataflow_layers import InferDataflowLayers
from flows.passes.remove_scale_round_trips import RemoveScaleRoundTrips
from flows.verify import draw_inputs

MODELS = ["tfc-w1a1", "tfc-w2a2", "digits-w2a2"]


def _same_outputs(a, b, x):
    ia, ib = a.graph.input[0].name, b.graph.input[0].name
    for xi in x:
        ya = execute_onnx(a, {ia: xi[None]})[a.graph.output[0].name]
        yb = execute_onnx(b, {ib: xi[None]})[b.graph.output[0].name]
        assert np.array_equal(ya, yb), (ya, yb)


@pytest.fixture(scope="module", params=MODELS)
def stages(request, zoo_onnx):
    m0 = import_model(zoo_onnx(request.param))
    m1 = m0.transform(AbsorbIntoThresholds())
    m2 = m1.transform(RemoveScaleRoundTrips())
    m3 = m2.transform(InferDataflowLayers())
    x = draw_inputs(m0, 12, seed=1)
    return m0, m1, m2, m3, x


def test_gemm_to_matmul(zoo_onnx):
    raw = load_model(zoo_onnx("tfc-w1a1"))
    from qonnx.util.cleanup import cleanup_model

    before = cleanup_model(raw)
    from qonnx.transformation.infer_shapes import InferShapes

    after = before.transform(GemmToMatMul()).transform(InferShapes())
    assert not after.get_nodes_by_op_type("Gemm")
    assert len(after.get_nodes_by_op_type("MatMul")) == 4
    # Transposes of weights remain until FoldTransposeIntoQuantInit; outputs are the same.
    _same_outputs(before, after, draw_inputs(before, 8, seed=0))


def test_absorb_into_thresholds(stages):
    m0, m1, _, _, x = stages
    for mm in m1.get_nodes_by_op_type("MatMul"):
        assert m1.get_initializer(mm.input[1]) is not None
        assert m1.get_tensor_datatype(mm.input[1]).is_integer()
        assert m1.get_tensor_datatype(mm.input[0]).is_integer()
    quant_on_weights = [
        n
        for n in m1.graph.node
        if n.op_type in ("Quant", "BipolarQuant") and m1.get_initializer(n.input[0]) is not None
    ]
    assert not quant_on_weights
    assert m1.get_nodes_by_op_type("MultiThreshold")
    _same_outputs(m0, m1, x)


def test_remove_scale_round_trips(stages):
    _, m1, m2, _, x = stages
    for div in m2.get_nodes_by_op_type("Div"):
        prod = m2.find_producer(div.input[0])
        assert (
            prod is None
            or prod.op_type != "Mul"
            or not np.array_equal(
                m2.get_initializer(prod.input[1]), m2.get_initializer(div.input[1])
            )
        )
    assert len(m2.graph.node) < len(m1.graph.node)
    _same_outputs(m1, m2, x)


def test_infer_dataflow_layers(stages):
    _, _, m2, m3, x = stages
    assert not m3.get_nodes_by_op_type("MatMul")
    assert not m3.get_nodes_by_op_type("MultiThreshold")
    mvaus = m3.get_nodes_by_op_type("MVAU")
    assert mvaus
    for n in mvaus:
        s = getCustomOp(n).spec()
        s.validate()
        w = m3.get_initializer(n.input[1])
        assert (s.name, s.mw, s.mh, s.simd, s.pe) == (n.name, *w.shape, 1, 1)
        assert s.idt == m3.get_tensor_datatype(n.input[0])
        assert s.wdt == m3.get_tensor_datatype(n.input[1])
        assert s.odt == m3.get_tensor_datatype(n.output[0])
        if s.n_thres:  # the thresholds are the third input, one row per output channel
            assert m3.get_initializer(n.input[2]).shape == (s.mh, s.n_thres)
    for n in m3.graph.node:
        if n.domain == DOMAIN:
            getCustomOp(n).spec().validate()
    _same_outputs(m2, m3, x)


def test_insert_dwc(stages):
    from flows.partition import split

    _, _, _, m3, _ = stages
    part = split(m3, "test")
    df = part.dataflow
    nodes = [n for n in df.graph.node]
    getCustomOp(nodes[0]).set_nodeattr("PE", 2)
    df2 = df.transform(InsertDWC())
    dwcs = df2.get_nodes_by_op_type("StreamingDWC")
    assert len(dwcs) == 1 and getCustomOp(dwcs[0]).get_nodeattr("in_elems") == 2
    rng = np.random.default_rng(0)
    iname = df.graph.input[0].name
    dt = df.get_tensor_datatype(iname)
    lo, hi = int(dt.min()), int(dt.max())
    xi = rng.integers(lo, hi + 1, size=df.get_tensor_shape(iname)).astype(np.float32)
    if dt.name == "BIPOLAR":
        xi = np.where(xi >= 0, 1.0, -1.0).astype(np.float32)
    a = execute_onnx(df, {iname: xi})[df.graph.output[0].name]
    b = execute_onnx(df2, {iname: xi})[df2.graph.output[0].name]
    assert np.array_equal(a, b)


def test_decreasing_channels_get_negated_weights(zoo_onnx):
    """A negative BatchNorm gamma makes a channel decreasing: its integer weights are negated
    (so its thresholds stay increasing), the other channels' are untouched; outputs stay exact."""

    def first_layer_weights(m):
        mm = m.get_nodes_by_op_type("MatMul")[0]
        return mm.name, m.get_initializer(mm.input[1])

    plain = import_model(zoo_onnx("tfc-w2a2")).transform(AbsorbIntoThresholds())
    name, w_plain = first_layer_weights(plain)
    m0 = import_model(zoo_onnx("tfc-w2a2"))
    bn = m0.get_nodes_by_op_type("BatchNormalization")[0]
    gamma = m0.get_initializer(bn.input[1]).copy()
    gamma[::2] *= -1
    m0.set_initializer(bn.input[1], gamma)
    m1 = m0.transform(AbsorbIntoThresholds())
    name1, w = first_layer_weights(m1)
    assert name1 == name and np.any(w_plain != 0)
    flipped = np.arange(w.shape[1]) % 2 == 0
    assert np.array_equal(w[:, flipped], -w_plain[:, flipped])
    assert np.array_equal(w[:, ~flipped], w_plain[:, ~flipped])
    _same_outputs(m0, m1, draw_inputs(m0, 12, seed=3))


def test_absorb_relu_into_thresholds(tmp_path):
    from flows.passes.absorb_relu_into_thresholds import AbsorbReluIntoThresholds
    from tests import qonnx_factory as qf

    p = tmp_path / "qtr.onnx"
    qf.FACTORIES["quant_then_relu"](0).save(str(p))
    m0 = import_model(p)
    m2 = m0.transform(AbsorbIntoThresholds()).transform(RemoveScaleRoundTrips())
    assert m2.get_nodes_by_op_type("Relu")
    m3 = m2.transform(AbsorbReluIntoThresholds())
    assert not m3.get_nodes_by_op_type("Relu")
    for mt in m3.get_nodes_by_op_type("MultiThreshold"):
        assert getCustomOp(mt).get_nodeattr("out_bias") >= 0
    _same_outputs(m2, m3, draw_inputs(m0, 12, seed=4))
