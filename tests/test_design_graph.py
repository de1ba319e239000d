"""The design is a graph: a hand-made fork -> two branches -> join design is rendered,
C-simulated through the host's packing and DMA beats, and equals the dataflow reference bit
for bit. Test-only stand-ins play the fork and the add (tests/kinds/branches.py)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.basic import qonnx_make_model

from boards.driver.packing import from_beats, pack, to_beats, unpack
from flows.codegen.design import build_design
from flows.codegen.hls import HlsBackend
from flows.errors import LayerError
from flows.layers.common import DOMAIN
from flows.layers.dwc.insert import InsertDWC
from flows.layers.registry import register, unregister
from flows.sim.csim import compile_csim
from tests.kinds.branches import ADD, FORK

PIXELS, C = 4, 16
BEAT = 64


@pytest.fixture
def branch_kinds():
    for k in (FORK, ADD):
        register(k)
    yield
    for k in (FORK, ADD):
        unregister(k)


def _thresholding(name: str, src: str, dst: str, t_name: str, pe: int):
    return helper.make_node(
        "Thresholding",
        [src, t_name],
        [dst],
        domain=DOMAIN,
        name=name,
        C=C,
        PE=pe,
        idt="UINT4",
        odt="UINT2",
        n_thres=3,
        pixels=PIXELS,
    )


def fork_join_model(pe_a: int = 4, pe_b: int = 8) -> ModelWrapper:
    """x (UINT4) -> fork -> Thresholding A (PE pe_a) / Thresholding B (PE pe_b) -> add."""
    rng = np.random.default_rng(0)
    lanes = dict(domain=DOMAIN, C=C, pixels=PIXELS, PE=4)
    nodes = [
        helper.make_node(
            "TestFork", ["x"], ["xa", "xb"], name="Fork_0", idt="UINT4", odt="UINT4", **lanes
        ),
        _thresholding("Thr_a", "xa", "ya", "Ta", pe_a),
        _thresholding("Thr_b", "xb", "yb", "Tb", pe_b),
        helper.make_node(
            "TestAdd", ["ya", "yb"], ["y"], name="Add_0", idt="UINT2", odt="UINT3", **lanes
        ),
    ]
    shape = [1, PIXELS, C]
    vi = [
        helper.make_tensor_value_info(t, TensorProto.FLOAT, shape) for t in ("xa", "xb", "ya", "yb")
    ]
    g = helper.make_graph(
        nodes,
        "fork_join",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        value_info=vi,
    )
    m = ModelWrapper(qonnx_make_model(g))
    for name in ("Ta", "Tb"):
        m.set_initializer(name, np.sort(rng.integers(0, 16, (C, 3)), axis=1).astype(np.int64))
    for t, dt in (
        ("x", "UINT4"),
        ("xa", "UINT4"),
        ("xb", "UINT4"),
        ("ya", "UINT2"),
        ("yb", "UINT2"),
        ("y", "UINT3"),
    ):
        m.set_tensor_datatype(t, DataType[dt])
    return m


def test_fork_join_design_is_a_graph(branch_kinds):
    m = fork_join_model().transform(InsertDWC())
    design = build_design(m)
    assert [layer.kind.op_type for layer in design.layers].count("StreamingDWC") == 2
    fork = design.layers[0]
    assert fork.outputs == ("xa", "xb") and len(design.producers) == len(design.streams) - 1
    add = design.layers[-1]
    assert len(add.inputs) == 2 and add.outputs == ("y",)
    assert all(s.depth >= 2 for s in design.streams.values())


@pytest.mark.csim
def test_fork_join_csim_equals_reference(branch_kinds, tmp_path):
    m = fork_join_model().transform(InsertDWC())
    design = build_design(m)
    HlsBackend().render(design, tmp_path / "hls", "fork_join", BEAT)
    lib = ctypes.CDLL(str(compile_csim(tmp_path / "hls", tmp_path / "sim")))
    lib.bitfab_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    n = 11
    x = np.random.default_rng(1).integers(0, 16, (n, PIXELS, C))
    want = np.stack([execute_onnx(m, {"x": xi[None].astype(np.float32)})["y"][0] for xi in x])
    ein, eout = design.input, design.output
    ibuf = to_beats(pack(x.reshape(n, -1), ein.bits, ein.elems), BEAT)
    obytes = lib.bitfab_out_bytes_per_image()
    obuf = np.zeros((n, obytes), np.uint8)
    assert lib.bitfab_run(ibuf.ctypes.data, obuf.ctypes.data, n) == 0
    got = unpack(from_beats(obuf, eout.words, eout.nbytes), eout.bits, eout.elems, eout.signed)
    np.testing.assert_array_equal(got.reshape(want.shape), want.astype(np.int64))
    assert (want > 3).any()  # the sum leaves UINT2's range: the add's output width matters


def test_a_stream_read_twice_needs_a_fork(branch_kinds):
    m = fork_join_model()
    fork = m.graph.node[0]
    m.graph.node.remove(fork)
    for node in m.graph.node:
        node.input[:] = ["x" if t in ("xa", "xb") else t for t in node.input]
    with pytest.raises(LayerError, match="stream 'x' feeds 2 layers .*fork layer"):
        build_design(m)
