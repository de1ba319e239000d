"""bitfab_add with constant multipliers (the join of two paths of different scales) against
the numpy reference: the fork -> thresholds -> add design through the RTL backend, Verilator
and the driver's packing, signed and unsigned lanes, a negative multiplier and a 32-bit sum.
The kernel is two-input, so it runs inside the smallest design that feeds it (tests/fork_join)
rather than the one-stream kernel testbench."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx

from boards.driver.packing import from_beats, image_bytes, pack, to_beats, unpack
from boards.driver.rtlsim import RtlsimBackend
from flows.codegen.design import build_design
from flows.codegen.rtl import RtlBackend
from flows.layers.dwc.insert import InsertDWC
from flows.sim.rtlsim import compile_top, load_rtl, record_model
from tests.fork_join import fork_join_model

pytestmark = pytest.mark.csim
BEAT, C, PIXELS, N = 64, 16, 5, 6


@pytest.mark.parametrize(
    "odt_a, odt_b, pe, a_mul, b_mul",
    [
        ("UINT3", "UINT4", 4, 12, 5),
        ("INT3", "UINT2", 8, -3, 7),
        ("UINT1", "UINT1", 2, (1 << 31) - 1, 1 << 30),  # a 32-bit sum
    ],
)
def test_add_with_multipliers_matches_the_reference_in_rtlsim(
    tmp_path, odt_a, odt_b, pe, a_mul, b_mul
):
    m = fork_join_model(
        pe, pe, c=C, pixels=PIXELS, odt_a=odt_a, odt_b=odt_b, pe=pe, a_mul=a_mul, b_mul=b_mul
    )
    m = m.transform(InsertDWC())
    design = build_design(m)
    d = tmp_path / "rtl"
    d.mkdir()
    RtlBackend().render(design, d, "addmul", BEAT)
    rtl = load_rtl(tmp_path)
    record_model(rtl, compile_top(rtl))
    ein, eout = design.input, design.output
    backend = RtlsimBackend(
        rtl.dir,
        image_bytes(ein.words, ein.nbytes, BEAT),
        image_bytes(eout.words, eout.nbytes, BEAT),
        BEAT,
    )
    x = np.random.default_rng(7).integers(0, 16, (N, PIXELS, C))
    want = np.stack([execute_onnx(m, {"x": xi[None].astype(np.float32)})["y"][0] for xi in x])
    obuf, _ = backend.transfer(to_beats(pack(x.reshape(N, -1), ein.bits, ein.elems), BEAT))
    got = unpack(from_beats(obuf, eout.words, eout.nbytes), eout.bits, eout.elems, eout.signed)
    np.testing.assert_array_equal(got.reshape(want.shape), want.astype(np.int64))
    assert len(np.unique(want)) >= 4  # every (a, b) pair of the UINT1 case, more elsewhere
