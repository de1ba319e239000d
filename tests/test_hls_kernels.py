"""C-simulation of the HLS kernel library (hls/include/bitfab) against small numpy models.

Each case writes a generated ``tb_config.h`` (config struct, packed weights and thresholds,
input words, expected output words) into its own tmp dir, compiles the generic testbench in
``hls/tests`` with g++ and checks that it prints PASS, then reruns it with one expected word
corrupted and checks that it fails. Cases marked ``hw`` are compiled a second time with
``-DBITFAB_NO_FAST_CSIM`` so the synthesizable code path is checked too, not only the fast
native-integer path g++ normally takes.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from boards.driver.packing import pack_words_as_hex
from flows.codegen.hls_types import FieldKind
from flows.layers.label_select import ref as label_select_ref
from flows.sim.toolchain import cxx, include_flags
from tests.helpers import TB_CXXFLAGS
from tests.hls_tb import (
    TB_DIR,
    B,
    S,
    Tb,
    U,
    bounds,
    build_tb,
    check_tb,
    code_paths,
    random_fields,
    run_tb,
    storage,
)


def _signed_bits(lo: int, hi: int) -> int:
    """Bits of the smallest two's-complement field holding lo .. hi."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def _activation_out(n_thres: int, out_bias: int) -> tuple[FieldKind, int]:
    """Output kind and bits of a multi-threshold activation."""
    if out_bias >= 0:
        return U, max(1, (out_bias + n_thres).bit_length())
    return S, _signed_bits(out_bias, out_bias + n_thres)


def _thresholds(rng: np.random.Generator, values: np.ndarray, n_thres: int) -> np.ndarray:
    """Ascending thresholds per channel (column of ``values``), many hitting values exactly."""
    out = np.empty((values.shape[1], n_thres), dtype=np.int64)
    for c in range(values.shape[1]):
        col = values[:, c]
        extra = rng.integers(col.min() - 1, col.max() + 2, size=4)
        out[c] = np.sort(rng.choice(np.concatenate([col, col + 1, extra]), size=n_thres))
    return out


def _to_pe_major(per_channel: np.ndarray, pe: int) -> np.ndarray:
    """[C, L] per-channel rows to the kernels' [PE][C/PE][L] layout (channel c = nf*PE + p)."""
    c, length = per_channel.shape
    return per_channel.reshape(c // pe, pe, length).transpose(1, 0, 2)


# --- MVAU ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MvauCase:
    mw: int
    mh: int
    simd: int
    pe: int
    ikind: FieldKind
    ibits: int
    wkind: FieldKind
    wbits: int
    n_thres: int
    out_bias: int = 0
    reps: int = 3
    acc_bits: int | None = None  # None: the smallest width that holds every accumulator
    hw: bool = False  # also check the synthesizable path
    shift: int = -1  # >= 0: shift requantization by this many bits (offsets per channel)
    rne: bool = False  # shift mode rounds half to even

    @property
    def xnor(self) -> bool:
        return self.ikind is B and self.wkind is B

    @property
    def name(self) -> str:
        mode = (
            "xnor"
            if self.xnor
            else f"{self.ikind.name[0]}{self.ibits}x{self.wkind.name[0]}{self.wbits}"
        )
        req = f"-shift{self.shift}{'rne' if self.rne else ''}" if self.shift >= 0 else ""
        return f"{mode}-{self.mw}x{self.mh}-simd{self.simd}-pe{self.pe}-t{self.n_thres}{req}"


MVAU_CASES = [
    # XNOR mode: binarized layer, bipolar output bit (1 threshold, 1 = +1).
    MvauCase(64, 16, 64, 16, B, 1, B, 1, n_thres=1, hw=True),
    MvauCase(64, 16, 8, 4, B, 1, B, 1, n_thres=0, hw=True),
    MvauCase(64, 16, 1, 1, B, 1, B, 1, n_thres=1, reps=2),
    MvauCase(64, 16, 16, 2, B, 1, B, 1, n_thres=3, out_bias=-1),
    MvauCase(27, 10, 9, 5, B, 1, B, 1, n_thres=1, reps=4),
    MvauCase(200, 6, 100, 3, B, 1, B, 1, n_thres=0),  # two 64-bit limbs per word, masked tail
    # MAC mode, bipolar weights with 8-bit inputs.
    MvauCase(27, 10, 3, 5, U, 8, B, 1, n_thres=0, hw=True),
    MvauCase(64, 16, 16, 4, S, 8, B, 1, n_thres=15, out_bias=-8),
    MvauCase(27, 10, 27, 10, B, 1, S, 4, n_thres=1),  # bipolar input, 4-bit weights
    # MAC mode, 2- and 4-bit signed weights with 2..8-bit inputs.
    MvauCase(27, 10, 9, 2, U, 2, S, 2, n_thres=3, reps=4),
    MvauCase(64, 16, 8, 16, S, 4, S, 4, n_thres=15),
    MvauCase(48, 10, 16, 5, U, 6, S, 4, n_thres=0, hw=True),  # 6-bit fields straddle limbs
    MvauCase(64, 8, 64, 8, S, 8, S, 2, n_thres=3, out_bias=-2, acc_bits=32, hw=True),  # 512b
    MvauCase(12, 3, 1, 1, S, 5, U, 3, n_thres=0, reps=5),
    # Shift requantization (power-of-two scales): floor and round-half-even, signed/unsigned.
    MvauCase(64, 16, 16, 4, S, 8, S, 8, n_thres=255, out_bias=-128, shift=9, hw=True),
    MvauCase(64, 16, 16, 4, S, 8, S, 8, n_thres=255, out_bias=0, shift=8, rne=True, hw=True),
    MvauCase(32, 12, 8, 6, U, 4, S, 4, n_thres=15, out_bias=0, shift=3, rne=True),
    MvauCase(27, 10, 9, 5, S, 2, S, 2, n_thres=3, out_bias=-2, shift=0),
]


def _mvau_tb(case: MvauCase, rng: np.random.Generator) -> Tb:
    sf, nf = case.mw // case.simd, case.mh // case.pe
    x = random_fields(case.ikind, rng, case.ibits, (case.reps, case.mw))
    w = random_fields(case.wkind, rng, case.wbits, (case.mw, case.mh))
    dot = x @ w
    acc = (dot + case.mw) // 2 if case.xnor else dot  # XNOR: popcount of agreeing bits

    if case.xnor:
        bound = case.mw
    else:
        xmax = max(abs(v) for v in bounds(case.ikind, case.ibits))
        wmax = max(abs(v) for v in bounds(case.wkind, case.wbits))
        bound = case.mw * xmax * wmax
    acc_bits = case.acc_bits or _signed_bits(-bound - 1, bound + 1)

    if case.shift >= 0:
        from flows.layers.mvau.requant import ShiftEncoding, shift_level

        off = rng.integers(-(1 << (case.shift + 2)), 1 << (case.shift + 2), case.mh)
        enc = ShiftEncoding(case.shift, off, 0, case.rne)
        y = shift_level(acc, enc, case.out_bias, case.out_bias + case.n_thres)
        thr = off.reshape(-1, 1)
        okind, obits = _activation_out(case.n_thres, case.out_bias)
    elif case.n_thres:
        thr = _thresholds(rng, acc, case.n_thres)
        y = case.out_bias + (acc[:, :, None] >= thr[None]).sum(axis=2)
        okind, obits = _activation_out(case.n_thres, case.out_bias)
    else:  # no activation, so no table
        thr = None
        y = dot  # the accumulator; in XNOR mode the +-1 dot product 2*popcount - MW
        okind, obits = S, _signed_bits(-bound, bound)

    # weights[p][nf*SF + sf] field s = W[sf*SIMD + s][nf*PE + p]
    ws = storage(case.wkind, w).reshape(sf, case.simd, nf, case.pe).transpose(3, 2, 0, 1)
    w_words = [pack_words_as_hex(ws[p].reshape(-1), case.wbits, case.simd) for p in range(case.pe)]
    fields = {
        "MW": case.mw, "MH": case.mh, "SIMD": case.simd, "PE": case.pe,
        "IN_BITS": case.ibits, "W_BITS": case.wbits, "ACC_BITS": acc_bits, "OUT_BITS": obits,
        "IN_KIND": case.ikind, "W_KIND": case.wkind, "OUT_KIND": okind,
        "N_THRES": case.n_thres, "OUT_BIAS": case.out_bias,
    }  # fmt: skip
    if case.shift >= 0:
        fields.update(REQUANT_SHIFT=case.shift, REQUANT_RNE=case.rne)
    return Tb(
        fields=fields,
        reps=case.reps,
        in_width=case.simd * case.ibits,
        in_words=pack_words_as_hex(storage(case.ikind, x).reshape(-1), case.ibits, case.simd),
        out_width=case.pe * obits,
        out_words=pack_words_as_hex(storage(okind, y).reshape(-1), obits, case.pe),
        weight_width=case.simd * case.wbits,
        weight_words=[word for words in w_words for word in words],
        thresholds=None if thr is None else _to_pe_major(thr, case.pe),
        config_base="bitfab::mvau_config",
    )


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(MVAU_CASES, lambda c: c.name))
def test_mvau(case: MvauCase, path: str, tmp_path: Path, pch: list[str]) -> None:
    check_tb(tmp_path, "tb_mvau", _mvau_tb(case, np.random.default_rng(0)), path, pch)


@pytest.mark.csim
@pytest.mark.parametrize("wrong", ["value", "count"])
def test_mvau_tb_rejects_wrong_expected(wrong: str, tmp_path: Path, pch: list[str]) -> None:
    """A wrong expected word written into the generated header itself makes the tb fail."""
    tb = _mvau_tb(MvauCase(27, 10, 9, 5, U, 2, S, 2, n_thres=3), np.random.default_rng(0))
    if wrong == "value":
        # Off by one in output channel 7 of the first vector: field 2 (bits 4..5) of word 1.
        word = int(tb.out_words[1], 16)
        field = (word >> 4) & 3
        tb.out_words[1] = hex(word & ~(3 << 4) | ((field + 1) % 4) << 4)
        expect = "MISMATCH word 1:"
    else:
        tb.out_words.append("0x0")
        expect = "MISMATCH count:"
    result = run_tb(build_tb(tmp_path, "tb_mvau", tb, "fast", pch))
    assert result.returncode == 1, result.stdout
    assert expect in result.stdout, result.stdout


@pytest.mark.csim
@pytest.mark.parametrize(
    ("missing", "message"),
    [("MW", "mvau: set MW and MH"), ("ACC_BITS", "mvau: ACC_BITS must be in [2, 32]")],
)
def test_mvau_config_without_a_required_field_does_not_compile(
    missing: str, message: str, tmp_path: Path, pch: list[str]
) -> None:
    """A field whose bitfab::mvau_config default is 0 must be set: the kernel says which."""
    tb = _mvau_tb(MvauCase(27, 10, 9, 5, U, 2, S, 2, n_thres=3), np.random.default_rng(0))
    del tb.fields[missing]
    (tmp_path / "tb_config.h").write_text(tb.header())
    cmd = [
        cxx(),
        *TB_CXXFLAGS,
        *pch,
        *include_flags(),
        "-I",
        str(TB_DIR),
        "-I",
        ".",
        "-fsyntax-only",
    ]
    result = subprocess.run(
        [*cmd, str(TB_DIR / "tb_mvau.cpp")], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


# --- Thresholding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdingCase:
    c: int
    pe: int
    ikind: FieldKind
    ibits: int
    n_thres: int
    out_bias: int = 0
    t_bits: int | None = None  # None: one bit more than the input values need
    reps: int = 4
    hw: bool = False

    @property
    def name(self) -> str:
        return f"c{self.c}-pe{self.pe}-{self.ikind.name[0]}{self.ibits}-t{self.n_thres}"


THRESHOLDING_CASES = [
    ThresholdingCase(64, 8, S, 8, n_thres=3, hw=True),
    ThresholdingCase(10, 5, U, 4, n_thres=15, out_bias=-8, t_bits=16),
    ThresholdingCase(3, 3, B, 1, n_thres=1, reps=6),
    ThresholdingCase(64, 16, U, 6, n_thres=7, out_bias=-4, hw=True),  # 96-bit words
]


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(THRESHOLDING_CASES, lambda c: c.name))
def test_thresholding(case: ThresholdingCase, path: str, tmp_path: Path, pch: list[str]) -> None:
    rng = np.random.default_rng(1)
    x = random_fields(case.ikind, rng, case.ibits, (case.reps, case.c))
    lo, hi = bounds(case.ikind, case.ibits)
    t_bits = case.t_bits or _signed_bits(lo - 1, hi + 1)
    thr = np.clip(_thresholds(rng, x, case.n_thres), lo - 1, hi + 1)
    y = case.out_bias + (x[:, :, None] >= thr[None]).sum(axis=2)
    okind, obits = _activation_out(case.n_thres, case.out_bias)

    fields = {
        "C": case.c, "PE": case.pe, "IN_BITS": case.ibits, "IN_KIND": case.ikind, "T_BITS": t_bits,
        "OUT_BITS": obits, "OUT_KIND": okind, "N_THRES": case.n_thres, "OUT_BIAS": case.out_bias,
    }  # fmt: skip
    tb = Tb(
        fields=fields,
        reps=case.reps,
        in_width=case.pe * case.ibits,
        in_words=pack_words_as_hex(storage(case.ikind, x).reshape(-1), case.ibits, case.pe),
        out_width=case.pe * obits,
        out_words=pack_words_as_hex(storage(okind, y).reshape(-1), obits, case.pe),
        thresholds=_to_pe_major(thr, case.pe),
        config_base="bitfab::thresholding_config",
    )
    check_tb(tmp_path, "tb_thresholding", tb, path, pch)


# --- Data-width converter -----------------------------------------------------------------------


@dataclass(frozen=True)
class DwcCase:
    in_elems: int
    out_elems: int
    bits: int
    total: int  # elements per rep
    reps: int = 3
    hw: bool = False

    @property
    def name(self) -> str:
        return f"{self.in_elems}to{self.out_elems}-b{self.bits}"


DWC_CASES = [
    DwcCase(8, 2, 4, 32),
    DwcCase(2, 8, 1, 16),
    DwcCase(6, 4, 2, 36, reps=2, hw=True),
    DwcCase(4, 6, 3, 24, hw=True),
    DwcCase(1, 16, 8, 32, reps=2, hw=True),
    DwcCase(5, 3, 7, 15, reps=4),
]


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(DWC_CASES, lambda c: c.name))
def test_dwc(case: DwcCase, path: str, tmp_path: Path, pch: list[str]) -> None:
    rng = np.random.default_rng(2)
    elems = random_fields(U, rng, case.bits, (case.reps * case.total,))
    tb = Tb(
        fields={
            "IN_ELEMS": case.in_elems,
            "OUT_ELEMS": case.out_elems,
            "BITS": case.bits,
            "TOTAL": case.total,
        },
        reps=case.reps,
        in_width=case.in_elems * case.bits,
        in_words=pack_words_as_hex(elems, case.bits, case.in_elems),
        out_width=case.out_elems * case.bits,
        out_words=pack_words_as_hex(elems, case.bits, case.out_elems),  # same elements, regrouped
        config_base="bitfab::dwc_config",
    )
    check_tb(tmp_path, "tb_dwc", tb, path, pch)


# --- Label select -------------------------------------------------------------------------------

LABEL_SELECT_CASES = [
    # (N, PE, IN_KIND, IN_BITS, OUT_BITS)
    (10, 5, U, 4, 4),
    (16, 1, S, 8, 5),
    (12, 12, S, 3, 8),
]
# Bipolar fields and a single label: opt-in (each case compiles two testbenches)
LABEL_SELECT_SLOW_CASES = [(6, 3, B, 1, 3), (1, 1, S, 5, 1)]


@pytest.mark.csim
@pytest.mark.parametrize("path", ["fast", "hw"])  # it reads fields through FieldReader
@pytest.mark.parametrize(
    ("n", "pe", "ikind", "ibits", "out_bits"),
    [
        pytest.param(*c, id=f"n{c[0]}-pe{c[1]}-{c[2].name[0]}{c[3]}", marks=m)
        for cases, m in ((LABEL_SELECT_CASES, ()), (LABEL_SELECT_SLOW_CASES, pytest.mark.slow))
        for c in cases
    ],
)
def test_label_select(
    n: int,
    pe: int,
    ikind: FieldKind,
    ibits: int,
    out_bits: int,
    path: str,
    tmp_path: Path,
    pch: list[str],
) -> None:
    rng = np.random.default_rng(3)
    lo, hi = bounds(ikind, ibits)
    # Few distinct values so most reps tie; plus all-equal and last-wins reps.
    x = rng.integers(max(lo, hi - 2), hi + 1, size=(8, n))
    x[0] = lo
    x[1] = lo
    x[1, -1] = hi
    x[2] = rng.integers(lo, hi + 1, size=n)
    if ikind is B:
        x = np.where(x > 0, 1, -1)
    labels = label_select_ref.label_select(x, keepdims=False)  # the first maximum wins
    tb = Tb(
        fields={"N": n, "PE": pe, "IN_BITS": ibits, "IN_KIND": ikind, "OUT_BITS": out_bits},
        reps=x.shape[0],
        in_width=pe * ibits,
        in_words=pack_words_as_hex(storage(ikind, x).reshape(-1), ibits, pe),
        out_width=out_bits,
        out_words=pack_words_as_hex(labels, out_bits, 1),
        config_base="bitfab::label_select_config",
    )
    check_tb(tmp_path, "tb_label_select", tb, path, pch)
