"""What the codegen template needs for one MVAU: config values and packed memories."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from boards.driver.packing import pack_words_as_hex, to_storage
from flows.codegen.hls_types import FieldKind
from flows.codegen.param_files import ParamTable
from flows.datatypes import BIPOLAR, accumulator_bounds, signed_type_holding
from flows.errors import LayerError
from flows.layers.base import memory_map
from flows.layers.mvau.requant import shift_encoding
from flows.layers.mvau.spec import MvauSpec

TEMPLATE = Path(__file__).with_name("mvau.h.j2")


@dataclass(frozen=True)
class MvauHls:
    name: str
    mw: int
    mh: int
    simd: int
    pe: int
    in_bits: int
    w_bits: int
    acc_bits: int
    out_bits: int
    in_kind: str
    w_kind: str
    out_kind: str
    n_thres: int
    out_bias: int
    weights: list[list[str]]  # [PE][tiles] hex words of SIMD*W_BITS bits
    # The activation's table, [PE][NF][n_thres] (shift mode: [PE][NF][1], the offsets); None
    # without activation, which needs no table (bitfab::MvauPassThrough).
    thresholds: list[list[list[int]]] | None
    reps: int
    in_width: int
    out_width: int
    requant_shift: int = -1  # >= 0: shift requantization, thresholds hold one offset each
    requant_rne: bool = False
    # where synthesis puts each PE's weight ROM: "bram" or "lutram" (base.memory_map's rule)
    weight_storage: str = "lutram"

    @property
    def widest_word(self) -> int:
        """Widest ap_uint the kernel declares: a stream word or a SIMD-wide weight word."""
        return max(self.in_width, self.out_width, self.simd * self.w_bits)

    def param_tables(self) -> dict[str, ParamTable]:
        """The tables C-simulation loads from data files, named as the template registers them
        (``<layer>.weights.bin``, ``<layer>.thresholds.bin``)."""
        tables = {"weights": ParamTable.words(list(chain(*self.weights)), self.simd * self.w_bits)}
        if self.thresholds is not None:
            tables["thresholds"] = ParamTable.ints(self.thresholds, self.acc_bits)
        return tables


def hardware_thresholds(s: MvauSpec, t: np.ndarray) -> np.ndarray:
    """Thresholds in the kernel's accumulator domain.

    XNOR layers accumulate popcount p with dot = 2p - MW, so ``dot >= T`` is
    ``p >= ceil((T + MW) / 2)``; the result is clipped to [0, MW + 1] (always / never met).
    """
    t = np.asarray(t, np.int64)
    if s.xnor:
        return np.clip(-((-(t + s.mw)) // 2), 0, s.mw + 1)
    return t


def context(s: MvauSpec, params: dict[str, np.ndarray]) -> MvauHls:
    """Pack weights per PE and tile as the kernel indexes them (see hls/include/bitfab/mvau.hpp)."""
    w = params["weights"]
    t = params.get("thresholds")
    wst = to_storage(w, s.wdt == BIPOLAR)
    wbits = s.wdt.bitwidth()
    weights = []
    for p in range(s.pe):
        words = []
        for nf in range(s.nf):
            col = wst[:, nf * s.pe + p]
            words.extend(pack_words_as_hex(col, wbits, s.simd))
        weights.append(words)
    shift = -1
    if s.requant == "shift" and t is not None:
        lo_acc, hi_acc = accumulator_bounds(w, int(s.idt.min()), int(s.idt.max()))
        enc = shift_encoding(t, lo_acc, hi_acc, s.out_bias)
        if enc is None:  # the pass chose it; the same inputs must give the same answer
            raise LayerError(f"MVAU '{s.name}': shift requantization no longer matches")
        shift = enc.shift
        off = enc.offset
        acc_bits = signed_type_holding(
            min(int(lo_acc.min()), int(off.min())), max(int(hi_acc.max()), int(off.max()))
        ).bitwidth()
        thr = [[[int(off[nf * s.pe + p])] for nf in range(s.nf)] for p in range(s.pe)]
        out_bits = s.odt.bitwidth()
        out_kind = FieldKind.from_dtype(s.odt).cxx
        out_bias = s.out_bias
    elif s.n_thres > 0 and t is not None:
        ht = hardware_thresholds(s, t)
        lo = min(int(ht.min()), 0)
        hi = max(int(ht.max()), 1)
        if s.xnor:
            acc_bits = signed_type_holding(lo, max(hi, s.mw + 1)).bitwidth()
        else:
            acc_lo, acc_hi = int(s.acc_dt.min()), int(s.acc_dt.max())
            acc_bits = signed_type_holding(min(lo, acc_lo), max(hi, acc_hi)).bitwidth()
        thr = [[ht[nf * s.pe + p].tolist() for nf in range(s.nf)] for p in range(s.pe)]
        out_bits = s.odt.bitwidth()
        out_kind = FieldKind.of_output(s.odt).cxx
        out_bias = 0 if s.odt == BIPOLAR else s.out_bias
    else:
        acc_bits = max(s.acc_dt.bitwidth(), signed_type_holding(0, s.mw + 1).bitwidth())
        thr = None
        out_bits = s.acc_dt.bitwidth()
        out_kind = FieldKind.SIGNED.cxx
        out_bias = 0
    return MvauHls(
        name=s.name,
        mw=s.mw,
        mh=s.mh,
        simd=s.simd,
        pe=s.pe,
        in_bits=s.idt.bitwidth(),
        w_bits=wbits,
        acc_bits=acc_bits,
        out_bits=out_bits,
        in_kind=FieldKind.from_dtype(s.idt).cxx,
        w_kind=FieldKind.from_dtype(s.wdt).cxx,
        out_kind=out_kind,
        n_thres=s.n_thres,
        out_bias=out_bias,
        weights=weights,
        thresholds=thr,
        reps=s.pixels,
        in_width=s.simd * s.idt.bitwidth(),
        out_width=s.pe * out_bits,
        requant_shift=shift,
        requant_rne=bool(s.rne) if shift >= 0 else False,
        weight_storage=(
            "bram"
            if s.ram_style == "block"
            or memory_map(s.simd * wbits, s.nf * s.sf, rom=True).kind == "bram"
            else "lutram"
        ),
    )
