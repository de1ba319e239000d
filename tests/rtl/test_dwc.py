"""bitfab_dwc against the reference (identity on the element stream): down, up, non-divisible
ratios, wide words, gaps and back-pressure, and the cost model's rate."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.layers.dwc import cost, ref
from flows.layers.dwc.rtl import context
from flows.layers.dwc.spec import DwcSpec
from tests.helpers import in_ci
from tests.rtl_tb import pack, run_kernel, unpack

CASES = {
    # name: (in_elems, out_elems, dtype, total, reps)
    "down_12_4_wide": (12, 4, DataType["INT7"], 24, 2),  # 84-bit input words
    "up_2_6": (2, 6, DataType["UINT8"], 12, 3),
    "down_6_4": (6, 4, DataType["INT5"], 24, 1),
    "up_3_10_bipolar": (3, 10, BIPOLAR, 30, 2),
    # the three structures of bitfab_dwc.v: shift-in upsizer, load-and-shift downsizer, and
    # the general placement shifter (6 -> 4 and 3 -> 10 above)
    "up_1_8": (1, 8, DataType["UINT3"], 16, 2),
    "down_8_1": (8, 1, DataType["INT4"], 16, 2),
}


def run_case(name: str, images: int, gaps=(100, 100), seed=0):
    i, o, dt, total, reps = CASES[name]
    s = DwcSpec("d", i, o, dt, total, reps)
    s.validate()
    inst = context(s, {})
    rng = np.random.default_rng(seed + len(name))
    x = rng.integers(int(dt.min()), int(dt.max()) + 1, (images, reps, total))
    if dt == BIPOLAR:
        x = rng.choice([-1, 1], x.shape)
    b = dt.bitwidth()
    store = (x > 0).astype(np.int64) if dt == BIPOLAR else x
    words = [pack(row, b) for row in store.reshape(-1, i)]
    expect = ref.dwc(store).reshape(-1, o)
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
    got = np.array([unpack(w, b, o, signed) for w in run.words])
    np.testing.assert_array_equal(got, expect)
    assert (inst.in_width, inst.out_width) == (i * b, o * b)
    return s, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_at_full_rate(name):
    s, run = run_case(name, images=3)
    assert run.image_periods(3) == {cost.cycles(s)}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("gaps", in_ci([(60, 50), (100, 40), (45, 100)]))
def test_matches_reference_with_gaps(name, gaps):
    run_case(name, images=2, gaps=gaps, seed=gaps[0] * 7 + gaps[1])
