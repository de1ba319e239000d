"""Residual blocks: Brevitas' residual add becomes StreamFork -> two paths -> StreamAdd ->
thresholds, verified bit-exact in C-sim and rtlsim, with paths of one scale or of two (the
add's constant multipliers); the skip path's FIFO decides between running and deadlock, and
rtlsim's sizing finds a depth that runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx

from flows.codegen.design import build_design
from flows.layers.dwc.insert import InsertDWC
from flows.verify import verify_build
from tests import brevitas_factory
from tests.fork_join import fork_join_model
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


@pytest.fixture(scope="module")
def residual(tmp_path_factory):
    return brevitas_factory.residual_cnn(tmp_path_factory.mktemp("res") / "res.onnx")


def test_residual_block_builds_into_fork_and_add_and_verifies(residual, built):
    d = built(str(residual))
    report = json.loads((d / "report.json").read_text())
    kinds = [lay["kind"] for lay in report["layers"]]
    assert kinds.count("StreamFork") == 1 and kinds.count("StreamAdd") == 1
    add = next(lay for lay in report["layers"] if lay["kind"] == "StreamAdd")
    assert add["out_dtype"] == "UINT5"  # UINT4 + UINT4, exact
    v = verify_build(d, 30)
    assert v["status"] == "pass" and v["reference_mismatches"] == 0, v


def test_residual_rtlsim_passes_with_the_default_depths(residual, built):
    r = run_cli(["rtlsim", built(str(residual)), "--n", "3"])
    assert r.exit_code == 0, r.stderr  # the join rule gives the skip path room


@pytest.mark.slow
def test_an_undersized_skip_fifo_deadlocks_and_sizing_fixes_it(residual, built, tmp_path):
    d = built(str(residual))
    folding = json.loads((d / "folding.json").read_text())
    folding["layers"]["Add_0"]["inFIFODepths"] = [2, 2]
    f = tmp_path / "small.json"
    f.write_text(json.dumps(folding))
    small = built(str(residual), folding=f)
    r = run_cli(["rtlsim", small, "--n", "2"])
    assert r.exit_code == 3 and "deadlock" in r.stderr and "Add_0" in r.stderr, r.stderr
    r = run_cli(["rtlsim", small, "--n", "3", "--size-fifos"])
    assert r.exit_code == 0, r.stderr
    sized = json.loads((small / "folding.json").read_text())["layers"]["Add_0"]["inFIFODepths"]
    assert sized[1] > 2  # the skip input (the add's second) was grown


def test_a_residual_add_too_wide_for_exact_multipliers_is_refused_naming_the_node(tmp_path):
    """A learned scale and 2^-12 times 1.1 times it: the exact sum would need 35 bits."""
    p = brevitas_factory.residual_cnn(tmp_path / "r.onnx", main_scale_ratio=1.1 / 4096)
    r = run_cli(["build", p, "--out", tmp_path / "o"])
    assert r.exit_code == 1, r.stderr
    assert "node 'Add_0'" in r.stderr and "more than the 32 bits" in r.stderr, r.stderr
    assert "one shared quantizer" in r.stderr and "power-of-two" in r.stderr


def _scaled_add(d):
    report = json.loads((d / "report.json").read_text())
    return next(lay for lay in report["layers"] if lay["kind"] == "StreamAdd")


@pytest.mark.slow
def test_paths_of_power_of_two_scales_add_with_a_shift_and_verify(tmp_path, built):
    """Skip path at 0.25, main path at 0.0625 (Brevitas' const-scaled QuantReLUs): the main
    path's integers count a quarter as much, z = 4*skip + main."""
    p = brevitas_factory.residual_two_scales(tmp_path / "r.onnx", 0.25, 0.0625)
    d = built(str(p))
    add = _scaled_add(d)
    assert add["multipliers"] == [1, 4] and add["out_dtype"] == "UINT7", add
    v = verify_build(d, 30)
    assert v["status"] == "pass" and v["reference_mismatches"] == 0, v


@pytest.mark.slow
@pytest.mark.parametrize(
    "scales, bn_after, muls, odt",
    [((0.375, 0.15625), True, [5, 12], "UINT8"), ((0.25, 0.0625), False, [1, 4], "UINT7")],
)
def test_paths_of_different_scales_verify_in_csim_and_rtlsim(
    tmp_path, built, scales, bn_after, muls, odt
):
    """Non-power-of-two scales 12:5 with a BatchNorm after the add (per-channel thresholds
    on the scaled sum), and the power-of-two pair: bit-exact in C-sim and in rtlsim."""
    p = brevitas_factory.residual_two_scales(tmp_path / "r.onnx", *scales, bn_after=bn_after)
    d = built(str(p))
    add = _scaled_add(d)
    assert add["multipliers"] == muls and add["out_dtype"] == odt, add
    v = verify_build(d, 30)
    assert v["status"] == "pass" and v["reference_mismatches"] == 0, v
    r = run_cli(["rtlsim", d, "--n", "3"])
    assert r.exit_code == 0, r.stderr


@pytest.mark.slow
def test_learned_scales_in_an_awkward_ratio_add_exactly_with_wide_multipliers(tmp_path, built):
    """A learned scale and 1.1 times it (rounded to float32): the common unit is tiny, the
    multipliers ~2^20 and the sums 26 bits, beyond float32's exact integers; C-sim, the
    dataflow model (float64 there) and rtlsim still agree exactly with the reference."""
    p = brevitas_factory.residual_cnn(tmp_path / "r.onnx", main_scale_ratio=1.1)
    d = built(str(p))
    add = _scaled_add(d)
    assert min(add["multipliers"]) > 1 << 20 and add["out_dtype"] == "UINT26", add
    v = verify_build(d, 100)
    assert v["status"] == "pass" and v["reference_mismatches"] == 0, v
    assert v["csim_vs_dataflow_mismatches"] == 0
    r = run_cli(["rtlsim", d, "--n", "3"])
    assert r.exit_code == 0, r.stderr


ADD_CASES = [
    ("INT2", "UINT3", 2, 8, 4, 1, 1),
    ("INT3", "INT2", 16, 1, 16, 1, 1),
    ("UINT1", "UINT2", 1, 1, 1, 1, 1),
    # differing scales: constant multipliers (even, odd, negative, one side only, 2^k-wide)
    ("UINT3", "UINT4", 4, 4, 4, 12, 5),
    ("INT3", "UINT2", 2, 8, 4, -3, 7),
    ("UINT2", "INT4", 16, 1, 16, 1, 1 << 20),
    ("UINT1", "UINT1", 1, 1, 1, (1 << 31) - 1, 1 << 30),  # a 32-bit sum
]


@pytest.mark.parametrize("odt_a, odt_b, pe_a, pe_b, pe, a_mul, b_mul", ADD_CASES)
def test_fork_and_add_kernels_signed_and_mixed_in_csim(
    tmp_path, odt_a, odt_b, pe_a, pe_b, pe, a_mul, b_mul
):
    """Both kernels through the HLS backend at several foldings, signed and unsigned lanes,
    the add with and without constant multipliers, against the numpy reference."""
    import ctypes

    from boards.driver.packing import from_beats, pack, to_beats, unpack
    from flows.codegen.hls import HlsBackend
    from flows.sim.csim import compile_csim

    m = fork_join_model(
        pe_a, pe_b, c=16, pixels=5, odt_a=odt_a, odt_b=odt_b, pe=pe, a_mul=a_mul, b_mul=b_mul
    )
    m = m.transform(InsertDWC())
    design = build_design(m)
    HlsBackend().render(design, tmp_path / "hls", "fj", 64)
    lib = ctypes.CDLL(str(compile_csim(tmp_path / "hls", tmp_path / "sim")))
    lib.bitfab_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    assert lib.bitfab_load_params(str(tmp_path / "hls" / "params").encode()) == 0
    n = 7
    x = np.random.default_rng(3).integers(0, 16, (n, 5, 16))
    want = np.stack([execute_onnx(m, {"x": xi[None].astype(np.float32)})["y"][0] for xi in x])
    ein, eout = design.input, design.output
    ibuf = to_beats(pack(x.reshape(n, -1), ein.bits, ein.elems), 64)
    obuf = np.zeros((n, lib.bitfab_out_bytes_per_image()), np.uint8)
    assert lib.bitfab_run(ibuf.ctypes.data, obuf.ctypes.data, n) == 0
    got = unpack(from_beats(obuf, eout.words, eout.nbytes), eout.bits, eout.elems, eout.signed)
    np.testing.assert_array_equal(got.reshape(want.shape), want.astype(np.int64))
    if "INT" in odt_a and not odt_a.startswith("U"):
        assert (want < 0).any()  # signed lanes really were exercised


def test_a_residual_add_of_two_shapes_is_refused_naming_the_node():
    """Valid ONNX (it broadcasts), but two streams of different lengths cannot be added."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.basic import qonnx_make_model

    from flows.errors import UnsupportedError
    from flows.passes.integer_residual_add import IntegerResidualAdd

    nodes = [
        helper.make_node("Mul", ["a", "s"], ["fa"], name="deq_a"),
        helper.make_node("Mul", ["b", "s"], ["fb"], name="deq_b"),
        helper.make_node("Add", ["fa", "fb"], ["y"], name="Add_skip"),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 8, 4, 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 8, 1, 1]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 4, 4])],
    )
    m = ModelWrapper(qonnx_make_model(g))
    m.set_initializer("s", np.float32(0.25))
    for t in ("a", "b"):
        m.set_tensor_datatype(t, DataType["UINT4"])
    with pytest.raises(UnsupportedError, match=r"node 'Add_skip': adds a \[1, 8, 4, 4\] tensor"):
        m.transform(IntegerResidualAdd())
