"""Random VVAU layers for the kernel tests (HLS C-sim and RTL): a spec, its memories, windows
and the expected outputs from the numpy oracle (flows/layers/vvau/ref.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.datatype import DataType

from boards.driver.packing import to_storage
from flows.datatypes import BIPOLAR, accumulator_bounds, signed_type_holding
from flows.layers.mvau.requant import shift_encoding
from flows.layers.vvau import ref
from flows.layers.vvau.spec import VvauSpec


@dataclass(frozen=True)
class VvauCase:
    name: str
    ch: int
    k: int  # square kernel, k x k positions
    simd: int
    pe: int
    idt: str
    wdt: str
    act: str = "thresholds"  # "none", "thresholds", "shift"
    n_thres: int = 15
    out_bias: int = 0
    shift: int = 0
    rne: bool = False
    seed: int = 0
    hw: bool = False  # HLS: also the synthesizable code path


def _values(dt: DataType, rng: np.random.Generator, shape) -> np.ndarray:
    if dt == BIPOLAR:
        return rng.choice(np.array([-1, 1]), size=shape)
    return rng.integers(int(dt.min()), int(dt.max()) + 1, size=shape)


def _out_dtype(n_thres: int, out_bias: int) -> DataType:
    hi = out_bias + n_thres
    if out_bias >= 0:
        return DataType[f"UINT{max(1, hi.bit_length())}"]
    return signed_type_holding(out_bias, hi)


def build(case: VvauCase, n_win: int):
    """(spec, params, windows x [n_win, K*C] in (k, c) order, expected outputs as stored)."""
    rng = np.random.default_rng(case.seed)
    idt, wdt = DataType[case.idt], DataType[case.wdt]
    kk = case.k * case.k
    w = _values(wdt, rng, (kk, case.ch))
    x = _values(idt, rng, (n_win, kk * case.ch))
    lo, hi = accumulator_bounds(w, int(idt.min()), int(idt.max()))
    acc_dt = signed_type_holding(int(lo.min()), int(hi.max()))
    acc = ref.vvau(x, w, None, 0, 1)
    t = None
    out_step = 1
    if case.act == "none":
        odt, n_thres, out_bias = acc_dt, 0, 0
    else:
        n_thres, out_bias = case.n_thres, case.out_bias
        if n_thres == 1 and out_bias == -1:  # a bipolar activation
            odt, out_step = BIPOLAR, 2
        else:
            odt = _out_dtype(n_thres, out_bias)
        if case.act == "shift":
            off = rng.integers(-(1 << (case.shift + 2)), 1 << (case.shift + 2), case.ch)
            levels = out_bias + 1 + np.arange(n_thres, dtype=np.int64)
            k = case.shift
            start = ((2 * levels - 1) << (k - 1)) + (levels & 1) if case.rne else levels << k
            t = start[None, :] - off[:, None]
            enc = shift_encoding(t, lo, hi, out_bias)
            assert enc is not None and (enc.shift, enc.rne) == (case.shift, case.rne)
        else:
            t = np.empty((case.ch, n_thres), np.int64)
            for c in range(case.ch):  # many thresholds hit accumulators exactly
                col = acc[:, c]
                extra = rng.integers(col.min() - 2, col.max() + 3, size=4)
                t[c] = np.sort(rng.choice(np.concatenate([col, col + 1, extra]), size=n_thres))
    spec = VvauSpec(
        name=case.name,
        ch=case.ch,
        k_h=case.k,
        k_w=case.k,
        simd=case.simd,
        pe=case.pe,
        idt=idt,
        wdt=wdt,
        odt=odt,
        acc_dt=acc_dt,
        n_thres=n_thres,
        out_bias=out_bias,
        out_step=out_step,
        pixels=1,
        requant="shift" if case.act == "shift" else "thresholds",
        shift=case.shift if case.act == "shift" else -1,
        rne=case.rne,
    )
    spec.validate()
    params = {"weights": w} if t is None else {"weights": w, "thresholds": t}
    y = ref.vvau(x, w, t, out_bias, out_step)
    return spec, params, x, to_storage(y, odt == BIPOLAR)


def input_fields(spec: VvauSpec, x: np.ndarray) -> np.ndarray:
    """Windows as the kernel's input words' fields [n, SF*NF, SIMD*PE]: word sf*NF + nf
    field s*PE + p is x[(sf*SIMD + s)*C + nf*PE + p] (vvau.hpp's layout, written out)."""
    n = len(x)
    xs = np.asarray(x).reshape(n, spec.sf, spec.simd, spec.nf, spec.pe)
    return xs.transpose(0, 1, 3, 2, 4).reshape(n, spec.sf * spec.nf, spec.simd * spec.pe)


CASES = [
    VvauCase("u4xs4-pe4", 16, 3, 1, 4, "UINT4", "INT4", hw=True),
    VvauCase("u4xs4-pe1", 8, 3, 1, 1, "UINT4", "INT4", n_thres=3),
    VvauCase("s8xs8-full", 8, 3, 9, 8, "INT8", "INT8", act="none", hw=True),
    VvauCase("u2xs2-simd3", 6, 3, 3, 6, "UINT2", "INT2", n_thres=3, out_bias=-1),
    VvauCase("xnor", 12, 3, 1, 3, "BIPOLAR", "BIPOLAR", n_thres=1, out_bias=-1, hw=True),
    VvauCase("s8xbip-k5", 4, 5, 5, 4, "INT8", "BIPOLAR", n_thres=7, out_bias=-4),
    VvauCase("shift-floor", 16, 3, 1, 8, "UINT4", "INT4", "shift", 15, 0, shift=3),
    VvauCase("shift-rne", 8, 3, 1, 2, "INT8", "INT4", "shift", 255, -128, shift=4, rne=True),
]
