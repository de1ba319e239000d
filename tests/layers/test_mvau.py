"""MVAU roles: spec validation, folding options, cost formulas, and the numpy reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.base import MAX_STREAM_BITS
from flows.layers.mvau import cost, ref
from flows.layers.mvau.spec import MvauSpec

SPEC = MvauSpec(
    name="fc0",
    mw=12,
    mh=8,
    simd=3,
    pe=2,
    idt=DataType["INT4"],
    wdt=DataType["INT4"],
    odt=DataType["UINT2"],
    acc_dt=DataType["INT14"],
    n_thres=3,
    out_bias=0,
    out_step=1,
    pixels=5,
)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"simd": 5}, "MVAU 'fc0': MW=12 not divisible by SIMD=5"),
        ({"pe": 3}, "MVAU 'fc0': MH=8 not divisible by PE=3"),
        ({"odt": DataType["FLOAT32"]}, "output datatype FLOAT32 is not an integer type"),
        ({"requant": "magic"}, "unknown requantization 'magic'"),
        ({"acc_dt": DataType["INT33"]}, "the accumulator needs 33 bits; at most 32"),
        ({"ram_style": "ultra"}, "ram_style 'ultra' unknown; one of auto, block"),
    ],
)
def test_validate_names_the_layer_and_the_problem(change, message):
    with pytest.raises(LayerError, match=message):
        dataclasses.replace(SPEC, **change).validate()


def test_fold_options_divide_and_go_from_cheap_to_fast():
    opts = SPEC.fold_options(MAX_STREAM_BITS)
    assert opts[0] == {"SIMD": 1, "PE": 1, "ram_style": "auto"}
    assert opts[-1]["SIMD"] == 12 and opts[-1]["PE"] == 8
    assert all(SPEC.mw % o["SIMD"] == 0 and SPEC.mh % o["PE"] == 0 for o in opts)
    lanes = [o["SIMD"] * o["PE"] for o in opts]
    assert lanes == sorted(lanes)
    auto = [o for o in opts if o["ram_style"] == "auto"]
    assert len(auto) == 6 * 4  # every divisor pair fits 1024-bit words here
    # block RAM is offered exactly where synthesis would build the ROM in LUTs
    for o in opts:
        if o["ram_style"] == "block":
            s = dataclasses.replace(SPEC, simd=o["SIMD"], pe=o["PE"])
            assert cost.memories(s)[0].kind == "logic"
            blk = dataclasses.replace(s, ram_style="block")
            assert cost.memories(blk)[0].kind == "bram" and cost.resources(blk)["BRAM18"] > 0
    assert any(o["ram_style"] == "block" for o in opts)
    narrow = SPEC.fold_options(8)  # INT4 input: at most 2 lanes of input per word
    assert {o["SIMD"] for o in narrow} == {1, 2} and {o["PE"] for o in narrow} <= {1, 2, 4}


def test_cycles_are_neuron_folds_times_synapse_folds_times_pixels():
    assert cost.cycles(SPEC) == (8 // 2) * (12 // 3) * 5


def test_resources_follow_the_mac_kind():
    assert SPEC.mac == "DSP" and cost.resources(SPEC)["DSP"] == SPEC.simd * SPEC.pe
    xnor = dataclasses.replace(SPEC, idt=DataType["BIPOLAR"], wdt=DataType["BIPOLAR"])
    assert xnor.mac == "XNOR" and cost.resources(xnor)["DSP"] == 0
    lut = dataclasses.replace(SPEC, wdt=DataType["INT2"])
    assert lut.mac == "LUT" and cost.resources(lut)["DSP"] == 0
    big = dataclasses.replace(SPEC, mw=1024, mh=1024, simd=32, pe=32)
    assert cost.resources(big)["BRAM18"] > 0


def test_report_names_requantization():
    assert SPEC.report()["requant"] == "thresholds (3 per channel, 24 in all)"
    shift = dataclasses.replace(SPEC, requant="shift", shift=4, rne=True)
    assert shift.report()["requant"].startswith("shift by 4, round half to even")
    assert dataclasses.replace(SPEC, n_thres=0).report()["requant"] == "none (accumulator out)"


def test_ref_equals_a_direct_loop():
    rng = np.random.default_rng(0)
    x = rng.integers(-8, 8, (2, 5, 12))
    w = rng.integers(-8, 8, (12, 8))
    t = np.sort(rng.integers(-60, 60, (8, 3)), axis=1)
    y = ref.mvau(x, w, t, out_bias=-1, out_step=2)
    for n in range(2):
        for p in range(5):
            for c in range(8):
                acc = sum(int(x[n, p, k]) * int(w[k, c]) for k in range(12))
                assert y[n, p, c] == -1 + 2 * sum(acc >= int(v) for v in t[c])
    np.testing.assert_array_equal(ref.mvau(x, w, None, 0, 1), x @ w)
