"""bitfab_label_select against the numpy reference: folds (one word an image, one value a word,
a PE that is no power of two), kinds, ties (the lowest index wins), gaps and back-pressure,
and the rate of the cost model."""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.layers.label_select import cost, ref
from flows.layers.label_select.rtl import context
from flows.layers.label_select.spec import LabelSelectSpec, index_dtype
from tests.helpers import in_ci
from tests.rtl_tb import pack, run_kernel

CASES = {
    # name: (labels, PE, input type)
    "n10_pe5_int8": (10, 5, DataType["INT8"]),
    "n10_pe1_uint4": (10, 1, DataType["UINT4"]),
    "n12_pe12_int3": (12, 12, DataType["INT3"]),  # one word an image, 16-leaf tree
    "n6_pe3_bipolar": (6, 3, BIPOLAR),
    "n16_pe4_uint2": (16, 4, DataType["UINT2"]),  # an index of 4 bits, N = 2^4
    "n1_pe1_int5": (1, 1, DataType["INT5"]),
}


def draw(s: LabelSelectSpec, images: int, seed: int) -> np.ndarray:
    """Values with many ties: each image from a narrow range, plus all-equal images and one
    whose maximum is its last value."""
    rng = np.random.default_rng(seed)
    dt = s.idt
    lo, hi = int(dt.min()), int(dt.max())
    x = rng.integers(max(lo, hi - 2), hi + 1, (images, s.labels))
    x[0] = lo
    x[1, :] = lo
    x[1, -1] = hi
    x[2] = rng.integers(lo, hi + 1, s.labels)
    if dt == BIPOLAR:
        x = np.where(x > 0, 1, -1)
    return x


def run_case(name: str, images: int, gaps=(100, 100), seed=0):
    n, pe, dt = CASES[name]
    s = LabelSelectSpec("ls", n, pe, dt, index_dtype(n))
    s.validate()
    inst = context(s, {})
    x = draw(s, images, seed + 5)
    store = (lambda v: (v > 0).astype(np.int64)) if dt == BIPOLAR else (lambda v: v)
    words = [pack(row, dt.bitwidth()) for row in store(x).reshape(-1, pe)]
    expect = ref.label_select(x, keepdims=False)
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
    assert run.words == [int(i) for i in expect]
    assert inst.in_width == pe * dt.bitwidth() and inst.out_width == s.odt.bitwidth()
    return s, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_at_full_rate(name):
    s, run = run_case(name, images=8)
    assert run.image_periods(8) == {cost.cycles(s)}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("gaps", in_ci([(60, 50), (100, 30), (40, 100)]))
def test_matches_reference_with_gaps(name, gaps):
    run_case(name, images=6, gaps=gaps, seed=gaps[0] * 3 + gaps[1])
