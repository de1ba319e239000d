"""The design is a graph: a hand-made fork -> two branches -> join design is rendered,
C-simulated through the host's packing and DMA beats, and equals the dataflow reference bit
for bit. The real StreamFork and StreamAdd kinds (tests/fork_join.py)."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx

from boards.driver.packing import from_beats, pack, to_beats, unpack
from flows.codegen.design import build_design
from flows.codegen.hls import HlsBackend
from flows.errors import LayerError
from flows.layers.dwc.insert import InsertDWC
from flows.sim.csim import compile_csim
from tests.fork_join import PIXELS, C, fork_join_model

BEAT = 64


def test_fork_join_design_is_a_graph():
    m = fork_join_model().transform(InsertDWC())
    design = build_design(m)
    assert [layer.kind.op_type for layer in design.layers].count("StreamingDWC") == 2
    fork = design.layers[0]
    assert fork.outputs == ("xa", "xb") and len(design.producers) == len(design.streams) - 1
    add = design.layers[-1]
    assert len(add.inputs) == 2 and add.outputs == ("y",)
    assert all(s.depth >= 2 for s in design.streams.values())


@pytest.mark.csim
def test_fork_join_csim_equals_reference(tmp_path):
    m = fork_join_model().transform(InsertDWC())
    design = build_design(m)
    HlsBackend().render(design, tmp_path / "hls", "fork_join", BEAT)
    lib = ctypes.CDLL(str(compile_csim(tmp_path / "hls", tmp_path / "sim")))
    lib.bitfab_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.bitfab_load_params.argtypes = [ctypes.c_char_p]
    # the C-sim library reads its tables from the data files, as the driver has it do
    assert lib.bitfab_load_params(str(tmp_path / "hls" / "params").encode()) == 0
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


def test_a_stream_read_twice_needs_a_fork():
    m = fork_join_model()
    fork = m.graph.node[0]
    m.graph.node.remove(fork)
    for node in m.graph.node:
        node.input[:] = ["x" if t in ("xa", "xb") else t for t in node.input]
    with pytest.raises(LayerError, match="stream 'x' feeds 2 layers .*fork layer"):
        build_design(m)
