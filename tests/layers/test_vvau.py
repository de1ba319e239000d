"""VVAU roles: spec validation, folding options, cost formulas, the numpy reference, and the
inference pass on a lowered depthwise MatMul."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

from flows.errors import LayerError
from flows.layers.base import MAX_STREAM_BITS
from flows.layers.vvau import cost, ref
from flows.layers.vvau.infer import InferVVAU
from flows.layers.vvau.spec import VvauSpec

SPEC = VvauSpec(
    name="dw0",
    ch=8,
    k_h=3,
    k_w=3,
    simd=1,
    pe=2,
    idt=DataType["UINT4"],
    wdt=DataType["INT4"],
    odt=DataType["UINT4"],
    acc_dt=DataType["INT12"],
    n_thres=15,
    out_bias=0,
    out_step=1,
    pixels=5,
)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"pe": 3}, "VVAU 'dw0': channels=8 not divisible by PE=3"),
        ({"simd": 2, "pe": 8}, "VVAU 'dw0': 3x3=9 kernel positions not divisible by SIMD=2"),
        ({"simd": 3}, "VVAU 'dw0': SIMD=3 needs PE=8 \\(all channels\\)"),
        ({"odt": DataType["FLOAT32"]}, "output datatype FLOAT32 is not an integer type"),
        ({"requant": "magic"}, "unknown requantization 'magic'"),
        ({"acc_dt": DataType["INT33"]}, "the accumulator needs 33 bits; at most 32"),
    ],
)
def test_validate_names_the_layer_and_the_problem(change, message):
    with pytest.raises(LayerError, match=message):
        dataclasses.replace(SPEC, **change).validate()


def test_fold_options_are_legal_and_go_from_cheap_to_fast():
    opts = SPEC.fold_options(MAX_STREAM_BITS)
    assert opts[0] == {"SIMD": 1, "PE": 1} and opts[-1] == {"SIMD": 9, "PE": 8}
    for o in opts:
        dataclasses.replace(SPEC, simd=o["SIMD"], pe=o["PE"]).validate()
    lanes = [o["SIMD"] * o["PE"] for o in opts]
    assert lanes == sorted(lanes) == [1, 2, 4, 8, 24, 72]
    assert {o["SIMD"] for o in SPEC.fold_options(32)} == {1}  # 3 x 8 x 4-bit > 32 bits


def test_cycles_and_stream_words_follow_the_folding():
    assert cost.cycles(SPEC) == (8 // 2) * 9 * 5
    full = dataclasses.replace(SPEC, simd=3, pe=8)
    assert cost.cycles(full) == 3 * 5
    assert SPEC.stream_elems() == (2, 2) and full.stream_elems() == (24, 8)


def test_resources_follow_the_mac_kind():
    assert SPEC.mac == "DSP" and cost.resources(SPEC)["DSP"] == 2
    lut = dataclasses.replace(SPEC, wdt=DataType["INT2"])
    assert lut.mac == "LUT" and cost.resources(lut)["DSP"] == 0
    xnor = dataclasses.replace(SPEC, idt=DataType["BIPOLAR"], wdt=DataType["BIPOLAR"])
    assert xnor.mac == "XNOR" and "xnor_leaf_bits" in cost.lut_features(xnor)


def test_report_names_requantization():
    assert SPEC.report()["requant"] == "thresholds (15 per channel, 120 in all)"
    assert SPEC.report()["kernel"] == [3, 3]


def test_ref_equals_a_direct_loop():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 16, (2, 3, 9 * 4))
    w = rng.integers(-8, 8, (9, 4))
    t = np.sort(rng.integers(-60, 60, (4, 3)), axis=1)
    y = ref.vvau(x, w, t, out_bias=-1, out_step=2)
    acc = ref.vvau(x, w, None, 0, 1)
    for n in range(2):
        for p in range(3):
            for c in range(4):
                a = sum(int(x[n, p, k * 4 + c]) * int(w[k, c]) for k in range(9))
                assert acc[n, p, c] == a
                assert y[n, p, c] == -1 + 2 * sum(a >= int(v) for v in t[c])


def _window_matmul(w_full: np.ndarray) -> ModelWrapper:
    """Im2Col (3x3, pad 1) over [1, 4, 4, C] -> MatMul(w_full [9C, C]) -> MultiThreshold."""
    c = w_full.shape[1]
    nodes = [
        helper.make_node(
            "Im2Col",
            ["x"],
            ["win"],
            domain="qonnx.custom_op.general",
            stride=[1, 1],
            kernel_size=[3, 3],
            pad_amount=[1, 1, 1, 1],
            input_shape=f"(1,4,4,{c})",
        ),
        helper.make_node("MatMul", ["win", "w"], ["acc"], name="MatMul_0"),
        helper.make_node(
            "MultiThreshold",
            ["acc", "t"],
            ["y"],
            domain="qonnx.custom_op.general",
            out_dtype="UINT2",
            data_layout="NHWC",
        ),
    ]
    t = np.sort(np.random.default_rng(1).integers(-20, 20, (c, 3)), axis=1)
    graph = helper.make_graph(
        nodes,
        "dw",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, c])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, c])],
        initializer=[
            helper.make_tensor("w", TensorProto.FLOAT, w_full.shape, w_full.ravel()),
            helper.make_tensor("t", TensorProto.FLOAT, t.shape, t.ravel().astype(np.float32)),
        ],
    )
    m = ModelWrapper(qonnx_make_model(graph)).transform(InferShapes())
    m.set_tensor_datatype("x", DataType["UINT3"])
    m.set_tensor_datatype("w", DataType["INT3"])
    m.set_tensor_datatype("win", DataType["UINT3"])
    m.set_tensor_datatype("acc", DataType["INT10"])
    return m


def _block_diagonal(rng, c: int) -> np.ndarray:
    w = np.zeros((9, c, c), np.float32)
    w[:, np.arange(c), np.arange(c)] = rng.integers(-4, 4, (9, c))
    return w.reshape(9 * c, c)


def test_infer_takes_a_block_diagonal_matmul_and_keeps_the_outputs():
    rng = np.random.default_rng(0)
    before = _window_matmul(_block_diagonal(rng, 4))
    after = before.transform(InferVVAU())
    assert [n.op_type for n in after.graph.node] == ["Im2Col", "VVAU"]
    vv = after.graph.node[1]
    assert after.get_initializer(vv.input[1]).shape == (9, 4)
    for _ in range(3):
        x = rng.integers(0, 8, (1, 4, 4, 4)).astype(np.float32)
        ya = execute_onnx(before, {"x": x})["y"]
        yb = execute_onnx(after, {"x": x})["y"]
        assert np.array_equal(ya, yb)


def test_infer_leaves_a_dense_matmul_to_the_mvau():
    w = _block_diagonal(np.random.default_rng(0), 4)
    w[5, 0] = 1.0  # channel 1 of kernel position 1 feeds output channel 0
    m = _window_matmul(w)
    assert not InferVVAU().apply(m)[1]
