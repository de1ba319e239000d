"""bitfab_maxpool against the numpy reference: window shapes and strides (overlapping, skipping,
non-square, floor-mode drops), folds, kinds, wide words, gaps and back-pressure, the rate."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.layers.maxpool import cost, ref
from flows.layers.maxpool.rtl import context
from flows.layers.maxpool.spec import MaxPoolSpec
from tests.helpers import in_ci
from tests.rtl_tb import pack, run_kernel, unpack

CASES = {
    # name: (seed, C, ifm_h, ifm_w, k_h, k_w, stride_h, stride_w, pe, dtype); pe None: random
    "2x2_s2_uint4": (1, 4, 6, 6, 2, 2, 2, 2, None, DataType["UINT4"]),
    "3x3_s1_int5_overlap": (2, 6, 6, 5, 3, 3, 1, 1, None, DataType["INT5"]),
    "3x2_s21_int8_cf1": (3, 3, 7, 6, 3, 2, 2, 1, 3, DataType["INT8"]),
    "bipolar_wide_floor": (4, 70, 5, 5, 2, 2, 2, 2, 70, BIPOLAR),  # 70-bit words, drops row/col
    "2x1_s3_column": (5, 2, 8, 1, 2, 1, 3, 1, 2, DataType["UINT3"]),  # skipped rows, 1 word/row
}


def make_spec(seed, c, ih, iw, kh, kw, sh, sw, pe, dt) -> MaxPoolSpec:
    if pe is None:
        rng = np.random.default_rng(seed)
        pe = int(rng.choice([d for d in range(1, c + 1) if c % d == 0 and d < c]))
    s = MaxPoolSpec("p", c, ih, iw, kh, kw, sh, sw, pe, dt)
    s.validate()
    return s


def run_case(name: str, images: int, gaps=(100, 100), seed=0):
    s = make_spec(*CASES[name])
    inst = context(s, {})
    dt, b = s.dtype, s.dtype.bitwidth()
    rng = np.random.default_rng(seed + 7)
    x = rng.integers(int(dt.min()), int(dt.max()) + 1, (images, s.ifm_h, s.ifm_w, s.channels))
    if dt == BIPOLAR:
        x = rng.choice([-1, 1], x.shape, p=[0.7, 0.3])
    y = ref.maxpool(x, s)
    store = (lambda v: (v > 0).astype(np.int64)) if dt == BIPOLAR else (lambda v: v)
    words = [pack(row, b) for row in store(x).reshape(-1, s.pe)]
    expect = store(y).reshape(-1, s.pe)
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
    signed = dt.signed() and dt != BIPOLAR
    got = np.array([unpack(w, b, s.pe, signed) for w in run.words])
    np.testing.assert_array_equal(got, expect)
    assert inst.in_width == inst.out_width == s.pe * b
    return s, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_at_full_rate(name):
    s, run = run_case(name, images=3)
    assert run.image_periods(3) == {cost.cycles(s)}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("gaps", in_ci([(60, 50), (100, 30), (40, 100)]))
def test_matches_reference_with_gaps(name, gaps):
    run_case(name, images=2, gaps=gaps, seed=gaps[0] * 3 + gaps[1])
