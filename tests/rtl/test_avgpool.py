"""bitfab_avgpool against the numpy reference: window shapes and strides (overlapping,
skipping, non-square, floor-mode drops, global), folds, signedness, wide words, gaps and
back-pressure, the rate."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.layers.avgpool import cost, ref
from flows.layers.avgpool.rtl import context
from flows.layers.avgpool.spec import AvgPoolSpec, sum_dtype
from tests.helpers import in_ci
from tests.rtl_tb import pack, run_kernel, unpack

CASES = {
    # name: (seed, C, ifm_h, ifm_w, k_h, k_w, stride_h, stride_w, pe, dtype); pe None: random
    "2x2_s2_uint4": (1, 4, 6, 6, 2, 2, 2, 2, None, DataType["UINT4"]),
    "3x3_s1_int5_overlap": (2, 6, 6, 5, 3, 3, 1, 1, None, DataType["INT5"]),
    "3x2_s21_int8_cf1": (3, 3, 7, 6, 3, 2, 2, 1, 3, DataType["INT8"]),
    "global_5x4_uint3": (4, 8, 5, 4, 5, 4, 5, 4, 2, DataType["UINT3"]),
    "wide_floor_int2": (5, 40, 5, 5, 2, 2, 2, 2, 40, DataType["INT2"]),  # 160-bit out words
    "2x1_s3_column": (6, 2, 8, 1, 2, 1, 3, 1, 2, DataType["UINT3"]),  # skipped rows
}


def make_spec(seed, c, ih, iw, kh, kw, sh, sw, pe, dt) -> AvgPoolSpec:
    if pe is None:
        rng = np.random.default_rng(seed)
        pe = int(rng.choice([d for d in range(1, c + 1) if c % d == 0 and d < c]))
    s = AvgPoolSpec("p", c, ih, iw, kh, kw, sh, sw, pe, dt, sum_dtype(dt, kh * kw))
    s.validate()
    return s


def run_case(name: str, images: int, gaps=(100, 100), seed=0):
    s = make_spec(*CASES[name])
    inst = context(s, {})
    dt, b, ob = s.idt, s.idt.bitwidth(), s.odt.bitwidth()
    rng = np.random.default_rng(seed + 7)
    x = rng.integers(int(dt.min()), int(dt.max()) + 1, (images, s.ifm_h, s.ifm_w, s.channels))
    x[0, 0, 0, 0] = dt.max()  # the extremes reach the output's range
    y = ref.sumpool(x, s)
    words = [pack(row, b) for row in x.reshape(-1, s.pe)]
    expect = y.reshape(-1, s.pe)
    run = run_kernel(
        inst.module,
        inst.params,
        words,
        len(expect),
        seed=seed,
        valid_pct=gaps[0],
        ready_pct=gaps[1],
    )
    assert run.returncode == 0, run.stderr
    got = np.array([unpack(w, ob, s.pe, dt.signed()) for w in run.words])
    np.testing.assert_array_equal(got, expect)
    assert inst.in_width == s.pe * b and inst.out_width == s.pe * ob
    return s, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_at_full_rate(name):
    s, run = run_case(name, images=3)
    assert run.image_periods(3) == {cost.cycles(s)}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("gaps", in_ci([(60, 50), (100, 30), (40, 100)]))
def test_matches_reference_with_gaps(name, gaps):
    run_case(name, images=2, gaps=gaps, seed=gaps[0] * 3 + gaps[1])


def test_extreme_sums_reach_both_ends_of_the_output_type():
    """All-min and all-max images: the sums are the bounds of the output type's range."""
    s = make_spec(*CASES["3x3_s1_int5_overlap"])
    inst = context(s, {})
    lo, hi = s.sum_bounds()
    for v, want in ((s.idt.min(), lo), (s.idt.max(), hi)):
        x = np.full((1, s.ifm_h, s.ifm_w, s.channels), int(v))
        words = [pack(row, s.idt.bitwidth()) for row in x.reshape(-1, s.pe)]
        n = s.ofm_h * s.ofm_w * s.channels // s.pe
        run = run_kernel(inst.module, inst.params, words, n)
        got = {f for w in run.words for f in unpack(w, s.odt.bitwidth(), s.pe, True)}
        assert got == {want}
