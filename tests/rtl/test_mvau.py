"""bitfab_mvau under Verilator against the MVAU's numpy oracle (flows/layers/mvau/ref.py).

Each case builds an MvauSpec with random weights (and thresholds, or thresholds that are a
power-of-two requantization so the shift form is chosen), takes the instance from the rtl
role, writes its memories, streams a few vectors and compares every output field exactly.
One compile per parameter set: the gap variants of a case reuse its model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from boards.driver.packing import to_storage
from flows.datatypes import BIPOLAR, accumulator_bounds, signed_type_holding
from flows.layers.mvau import cost, ref, rtl
from flows.layers.mvau.requant import shift_encoding
from flows.layers.mvau.spec import MvauSpec
from tests.helpers import in_ci
from tests.rtl_tb import CACHE, pack, run_kernel, unpack

MAX_VECTORS = 8


@dataclass(frozen=True)
class Case:
    name: str
    mw: int
    mh: int
    simd: int
    pe: int
    idt: str
    wdt: str
    act: str = "thresholds"  # "none", "thresholds", "shift"
    n_thres: int = 1
    out_bias: int = 0
    shift: int = 0
    rne: bool = False
    seed: int = 0
    ram_style: str = "auto"  # "block": the weight ROM asks for block RAM (WROM_BLOCK)


def _out_dtype(n_thres: int, out_bias: int) -> DataType:
    hi = out_bias + n_thres
    if out_bias >= 0:
        return DataType[f"UINT{max(1, hi.bit_length())}"]
    return signed_type_holding(out_bias, hi)


def _random_values(dt: DataType, rng: np.random.Generator, shape) -> np.ndarray:
    if dt == BIPOLAR:
        return rng.choice(np.array([-1, 1]), size=shape)
    return rng.integers(int(dt.min()), int(dt.max()) + 1, size=shape)


def _random_thresholds(rng: np.random.Generator, dots: np.ndarray, n: int) -> np.ndarray:
    """Ascending thresholds per channel, many hitting the dot products exactly."""
    out = np.empty((dots.shape[1], n), np.int64)
    for c in range(dots.shape[1]):
        col = dots[:, c]
        extra = rng.integers(col.min() - 2, col.max() + 3, size=4)
        out[c] = np.sort(rng.choice(np.concatenate([col, col + 1, extra]), size=n))
    return out


def _shift_thresholds(case: Case, off: np.ndarray) -> np.ndarray:
    """The exact thresholds of clip(R((acc + off) / 2^k)): where level L starts, minus off."""
    levels = case.out_bias + 1 + np.arange(case.n_thres, dtype=np.int64)
    k = case.shift
    start = ((2 * levels - 1) << (k - 1)) + (levels & 1) if case.rne else levels << k
    return start[None, :] - off[:, None]


def build(case: Case, n_vec: int):
    """(spec, params, x, expected output fields [n_vec, MH] as stored)."""
    rng = np.random.default_rng(case.seed)
    idt, wdt = DataType[case.idt], DataType[case.wdt]
    w = _random_values(wdt, rng, (case.mw, case.mh))
    # the same memories whatever n_vec, so every run of a case shares one compiled model
    assert n_vec <= MAX_VECTORS
    x = _random_values(idt, rng, (MAX_VECTORS, case.mw))
    lo, hi = accumulator_bounds(w, int(idt.min()), int(idt.max()))
    acc_dt = signed_type_holding(int(lo.min()), int(hi.max()))
    dots = x @ w
    t = None
    if case.act == "none":
        odt, n_thres, out_bias, out_step = acc_dt, 0, 0, 1
    else:
        n_thres, out_bias, out_step = case.n_thres, case.out_bias, 1
        if case.n_thres == 1 and case.out_bias == -1:  # bipolar activation (+-1)
            odt, out_step = BIPOLAR, 2
        else:
            odt = _out_dtype(n_thres, out_bias)
        if case.act == "shift":
            off = rng.integers(-(1 << (case.shift + 2)), 1 << (case.shift + 2), case.mh)
            t = _shift_thresholds(case, off)
            enc = shift_encoding(t, lo, hi, out_bias)
            assert enc is not None and (enc.shift, enc.rne) == (case.shift, case.rne)
        else:
            t = _random_thresholds(rng, dots, n_thres)
    spec = MvauSpec(
        name=case.name,
        mw=case.mw,
        mh=case.mh,
        simd=case.simd,
        pe=case.pe,
        idt=idt,
        wdt=wdt,
        odt=odt,
        acc_dt=acc_dt,
        n_thres=n_thres,
        out_bias=out_bias,
        out_step=out_step,
        requant="shift" if case.act == "shift" else "thresholds",
        shift=case.shift if case.act == "shift" else -1,
        rne=case.rne,
        ram_style=case.ram_style,
    )
    spec.validate()
    params = {"weights": w} if t is None else {"weights": w, "thresholds": t}
    x = x[:n_vec]
    y = ref.mvau(x, w, t, out_bias, out_step)
    return spec, params, x, to_storage(y, odt == BIPOLAR)


def _mem_file(lines: list[str]) -> str:
    """The $readmemh file of ``lines``, named by its content: a parameter set (file names
    included) then means one compiled model, cached across runs."""
    text = "".join(f"{ln}\n" for ln in lines)
    d = CACHE / "mem"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{hashlib.sha256(text.encode()).hexdigest()[:20]}.mem"
    if not p.exists():
        tmp = p.with_suffix(f".{np.random.randint(1 << 30)}.tmp")
        tmp.write_text(text)
        tmp.replace(p)
    return str(p)


def simulate(case: Case, n_vec: int = 4, seed: int = 0, valid_pct=100, ready_pct=100):
    spec, params, x, expected = build(case, n_vec)
    inst = rtl.context(spec, params)
    assert inst.module == "bitfab_mvau"
    p = inst.params
    assert inst.in_width == spec.simd * p["IN_BITS"]
    assert inst.out_width == spec.pe * p["OUT_BITS"]
    assert ("THRESH_FILE" in inst.memories) == (p["N_THRES"] > 0)
    assert p["WROM_BLOCK"] == int(spec.ram_style == "block")
    kparams: dict[str, int | str] = dict(p)
    for name, lines in inst.memories.items():
        kparams[name] = _mem_file(lines)
    xs = to_storage(x, spec.idt == BIPOLAR)
    words = [
        pack(xs[v, sf * spec.simd : (sf + 1) * spec.simd], p["IN_BITS"])
        for v in range(n_vec)
        for sf in range(spec.sf)
    ]
    n_out = n_vec * spec.nf
    run = run_kernel(
        "bitfab_mvau",
        kparams,
        words,
        n_out,
        seed=seed,
        valid_pct=valid_pct,
        ready_pct=ready_pct,
    )
    assert run.returncode == 0, run.stderr
    got = np.array([unpack(wd, p["OUT_BITS"], spec.pe) for wd in run.words]).reshape(n_vec, -1)
    mask = (1 << p["OUT_BITS"]) - 1
    np.testing.assert_array_equal(got, np.asarray(expected, np.int64) & mask)
    return spec, inst, run


XNOR_T = Case("xnor-thres", 64, 16, 16, 4, "BIPOLAR", "BIPOLAR", n_thres=1, out_bias=-1)
LUT_U2 = Case("lut-u2xs2", 27, 10, 9, 2, "UINT2", "INT2", n_thres=3)
DSP_T = Case("dsp-s8-thres", 32, 8, 8, 2, "INT8", "INT8", n_thres=15, out_bias=-8)
# wide ports: 144-bit input words, 648-bit weight words, 81-bit output words
XNOR_WIDE = Case("xnor-none-wide", 144, 18, 72, 9, "BIPOLAR", "BIPOLAR", act="none")

CASES = [
    XNOR_T,
    XNOR_WIDE,
    LUT_U2,
    Case("lut-s8xbip", 24, 6, 4, 3, "INT8", "BIPOLAR", n_thres=7, out_bias=-4),
    DSP_T,
    Case("shift-floor", 32, 8, 8, 4, "UINT4", "INT4", "shift", 15, -8, shift=5),
    # 72-bit input words: 8-bit fields straddling 64-bit limbs
    Case("shift-rne", 18, 12, 9, 3, "INT8", "INT4", "shift", 255, -128, shift=4, rne=True),
    # the weight ROM in block RAM: the same function through the other generate branch
    Case(
        "xnor-block", 64, 16, 16, 4, "BIPOLAR", "BIPOLAR", n_thres=1, out_bias=-1, ram_style="block"
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_mvau_matches_the_reference(case):
    simulate(case, n_vec=MAX_VECTORS)


GAPS = [(60, 50), (100, 35), (45, 100)]


@pytest.mark.parametrize("case", [XNOR_T, LUT_U2, DSP_T], ids=lambda c: c.name)
@pytest.mark.parametrize("gaps", in_ci(GAPS), ids=lambda g: f"v{g[0]}r{g[1]}")
def test_mvau_under_valid_and_ready_gaps(case, gaps):
    simulate(case, n_vec=6, seed=sum(gaps), valid_pct=gaps[0], ready_pct=gaps[1])


@pytest.mark.parametrize("case", [XNOR_T, LUT_U2, DSP_T], ids=lambda c: c.name)
def test_mvau_full_rate_is_one_tile_per_clock(case):
    spec, inst, run = simulate(case, n_vec=6)
    per_vec = spec.nf * spec.sf
    assert cost.cycles(spec) == per_vec
    c = run.cycles
    # vector v's words leave exactly NF*SF cycles after vector v-1's: no gap between vectors
    assert all(c[i] - c[i - spec.nf] == per_vec for i in range(spec.nf, len(c)))
    assert run.steady_cycles == (6 - 1) * per_vec + (spec.nf - 1) * spec.sf


def test_mvau_wide_ports():
    spec, inst, run = simulate(XNOR_WIDE, n_vec=3, seed=5, valid_pct=60, ready_pct=50)
    p = inst.params
    assert p["SIMD"] * p["W_BITS"] > 64 and inst.in_width > 64 and inst.out_width > 64


def _random_cases(n: int) -> list[Case]:
    rng = np.random.default_rng(2024)
    dts = ["BIPOLAR", "UINT1", "UINT2", "INT2", "INT3", "UINT4", "INT5", "INT8"]
    out = []
    for i in range(n):
        mw, mh = int(rng.integers(2, 41)), int(rng.integers(1, 17))
        simd = int(rng.choice([d for d in range(1, mw + 1) if mw % d == 0]))
        pe = int(rng.choice([d for d in range(1, mh + 1) if mh % d == 0]))
        idt, wdt = str(rng.choice(dts)), str(rng.choice(dts))
        act = str(rng.choice(["none", "thresholds"]))
        n_thres = int(rng.integers(1, 8))
        out_bias = int(rng.integers(-4, 2))
        out.append(Case(f"rand{i}", mw, mh, simd, pe, idt, wdt, act, n_thres, out_bias, seed=i))
    return out


@pytest.mark.parametrize("case", _random_cases(2), ids=lambda c: c.name)
def test_mvau_random_folding(case):
    simulate(case, n_vec=5, seed=case.seed, valid_pct=70, ready_pct=60)


def test_rtl_role_parameters_and_memories():
    """No simulation: MAC resource, kind codes, ROM depths and widths of the instance."""
    expect = {
        XNOR_T: (0, 2, 2, 0, 1),
        LUT_U2: (0, 0, 1, 0, 3),
        DSP_T: (1, 1, 1, 1, 15),
        next(c for c in CASES if c.name == "shift-rne"): (1, 1, 1, 1, 1),  # one offset a channel
    }
    for case, (mac, ik, wk, ok, n_t) in expect.items():
        spec, params, _, _ = build(case, 1)
        inst = rtl.context(spec, params)
        p = inst.params
        assert (p["MAC"], p["IN_KIND"], p["W_KIND"], p["OUT_KIND"]) == (mac, ik, wk, ok)
        weights, thresh = inst.memories["WEIGHT_FILE"], inst.memories["THRESH_FILE"]
        assert len(weights) == spec.nf * spec.sf and len(thresh) == spec.nf
        assert all(len(w) == (spec.pe * spec.simd * p["W_BITS"] + 3) // 4 for w in weights)
        assert all(len(t) == (spec.pe * n_t * p["ACC_BITS"] + 3) // 4 for t in thresh)
    spec, params, _, _ = build(XNOR_WIDE, 1)
    assert "THRESH_FILE" not in rtl.context(spec, params).memories
