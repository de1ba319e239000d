"""The MVAU's ``rtl`` role: one ``bitfab_mvau`` instance (hls/rtl/bitfab_mvau.v).

Everything the HLS role already computes (hardware thresholds, shift offsets, ACC_BITS,
OUT_BITS, the output bias and kinds, the packed weight words) comes from ``hls.context``; this
module only lays it out as the Verilog kernel's parameters and ROM words:
 - WEIGHT_FILE: NF*SF words of PE*SIMD*W_BITS bits, word nf*SF + sf holds PE p's weight word
   (``hls`` weights[p][tile]) at bits [p*SIMD*W_BITS +: SIMD*W_BITS];
 - THRESH_FILE: NF words of PE*N_T*ACC_BITS bits, entry (p, l) at [(p*N_T + l)*ACC_BITS +:
   ACC_BITS], N_T = N_THRES (thresholds) or 1 (shift requantization: the offsets).
"""

from __future__ import annotations

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.codegen.rtl_types import RtlInstance, concat, hex_word
from flows.layers.mvau import hls
from flows.layers.mvau.spec import MvauSpec


def kind_code(cxx: str) -> int:
    """``bitfab::Kind::Signed`` (hls_types.FieldKind.cxx) -> 1."""
    return FieldKind.from_cxx(cxx).rtl


def context(s: MvauSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    h = hls.context(s, params)
    tiles = s.nf * s.sf
    ww = h.simd * h.w_bits
    weight_lines = [
        hex_word(concat([int(h.weights[p][t], 16) for p in range(h.pe)], ww), h.pe * ww)
        for t in range(tiles)
    ]
    memories = {"WEIGHT_FILE": weight_lines}
    if h.thresholds is not None:
        n_t = len(h.thresholds[0][0])
        memories["THRESH_FILE"] = [
            hex_word(
                concat([v for p in range(h.pe) for v in h.thresholds[p][nf]], h.acc_bits),
                h.pe * n_t * h.acc_bits,
            )
            for nf in range(s.nf)
        ]
    mac = 1 if s.mac == "DSP" else 0
    rtl_params = {
        "MW": h.mw,
        "MH": h.mh,
        "SIMD": h.simd,
        "PE": h.pe,
        "IN_BITS": h.in_bits,
        "W_BITS": h.w_bits,
        "ACC_BITS": h.acc_bits,
        "OUT_BITS": h.out_bits,
        "IN_KIND": kind_code(h.in_kind),
        "W_KIND": kind_code(h.w_kind),
        "OUT_KIND": kind_code(h.out_kind),
        "N_THRES": h.n_thres,
        "OUT_BIAS": h.out_bias,
        "REQUANT_SHIFT": h.requant_shift,
        "REQUANT_RNE": int(h.requant_rne),
        "MAC": mac,
        "WROM_BLOCK": int(s.ram_style == "block"),
    }
    return RtlInstance(
        module="bitfab_mvau",
        params=rtl_params,
        memories=memories,
        in_width=h.in_width,
        out_width=h.out_width,
    )
