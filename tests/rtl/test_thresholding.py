"""bitfab_thresholding against the numpy reference: folds, kinds, shared rows, gaps, rate."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.layers.thresholding import cost, ref
from flows.layers.thresholding.rtl import context
from flows.layers.thresholding.spec import ThresholdingSpec
from tests.helpers import in_ci
from tests.rtl_tb import CACHE, pack, run_kernel, unpack


def memory_params(inst) -> dict[str, int | str]:
    """The instance's parameters with each memory written to a content-named file (so a
    repeated configuration reuses its compiled model)."""
    params: dict[str, int | str] = dict(inst.params)
    for name, lines in inst.memories.items():
        text = "".join(f"{ln}\n" for ln in lines)
        path = CACHE / "mem" / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.mem"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(text)
        params[name] = str(path)
    return params


def stored(values: np.ndarray, dt) -> np.ndarray:
    return (values > 0).astype(np.int64) if dt == BIPOLAR else values


def make_case(
    seed: int,
    channels: int,
    idt,
    odt,
    n_thres: int,
    out_bias: int,
    shared: bool,
    pixels: int,
    pe: int | None = None,
):
    rng = np.random.default_rng(seed)
    if pe is None:
        pe = int(rng.choice([d for d in range(1, channels + 1) if channels % d == 0]))
    out_step = 2 if odt == BIPOLAR else 1
    s = ThresholdingSpec("t", channels, pe, idt, odt, n_thres, out_bias, out_step, shared, pixels)
    s.validate()
    lo, hi = int(idt.min()), int(idt.max())
    rows = 1 if shared else channels
    t = np.sort(rng.integers(lo - 1, hi + 2, (rows, n_thres)), axis=1)
    return s, t


CASES = {
    # name: (seed, C, idt, odt, n_thres, out_bias, shared, pixels, pe)
    "uint8_uint2": (1, 12, DataType["UINT8"], DataType["UINT2"], 3, 0, False, 3, None),
    "int5_int4_neg_bias": (2, 10, DataType["INT5"], DataType["INT4"], 7, -4, False, 2, None),
    "bipolar_wide_word": (3, 80, BIPOLAR, BIPOLAR, 1, -1, False, 2, 80),  # 80-bit words
    "int4_shared": (4, 8, DataType["INT4"], DataType["UINT3"], 7, 0, True, 3, 2),
    "uint3_wide_out": (5, 24, DataType["UINT3"], DataType["UINT3"], 5, 1, False, 2, 24),  # 72b
}


def run_case(name: str, images: int, gaps=(100, 100), seed=0):
    s, t = make_case(*CASES[name])
    inst = context(s, {"thresholds": t})
    rng = np.random.default_rng(seed + 100)
    lo, hi = int(s.idt.min()), int(s.idt.max())
    x = rng.integers(lo, hi + 1, (images, s.pixels, s.channels))
    if s.idt == BIPOLAR:
        x = rng.choice([-1, 1], x.shape)
    y = stored(ref.thresholding(x, t, s.out_bias, s.out_step), s.odt)
    ib, ob = s.idt.bitwidth(), s.odt.bitwidth()
    xin = stored(x, s.idt).reshape(-1, s.pe)
    words = [pack(row, ib) for row in xin]
    expect = y.reshape(-1, s.pe)
    run = run_kernel(
        inst.module,
        memory_params(inst),
        words,
        len(expect),
        seed=seed,
        valid_pct=gaps[0],
        ready_pct=gaps[1],
    )
    assert run.returncode == 0, run.stderr
    signed = s.odt.signed() and s.odt != BIPOLAR
    got = np.array([unpack(w, ob, s.pe, signed) for w in run.words])
    np.testing.assert_array_equal(got, expect)
    assert inst.in_width == s.pe * ib and inst.out_width == s.pe * ob
    return s, run


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_at_full_rate(name):
    s, run = run_case(name, images=3)
    assert run.image_periods(3) == {cost.cycles(s)}


@pytest.mark.parametrize("name", ["uint8_uint2", "int5_int4_neg_bias", "bipolar_wide_word"])
@pytest.mark.parametrize("gaps", in_ci([(60, 50), (100, 40), (45, 100)]))
def test_matches_reference_with_gaps(name, gaps):
    run_case(name, images=2, gaps=gaps, seed=gaps[0] + gaps[1])
