"""The RTL instance of one Thresholding layer (hls/rtl/bitfab_thresholding.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.codegen.rtl_types import RtlInstance, concat, hex_word
from flows.datatypes import BIPOLAR
from flows.layers.thresholding import hls
from flows.layers.thresholding.spec import ThresholdingSpec


def thresh_rom(h: hls.ThresholdingHls) -> list[str]:
    """One ROM word per channel group nf: threshold l of PE p at ``(p*N + l)*T_BITS``."""
    nf = h.channels // h.pe
    width = h.pe * h.n_thres * h.t_bits
    lines = []
    for f in range(nf):
        fields = [h.thresholds[p][f][lv] for p in range(h.pe) for lv in range(h.n_thres)]
        lines.append(hex_word(concat(fields, h.t_bits), width))
    return lines


def context(s: ThresholdingSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    """Shared thresholds as the HLS context sees them: C = PE channels, more repetitions."""
    h = hls.context(s, params)
    assert s.odt != BIPOLAR or (h.out_bits == 1 and h.n_thres == 1)
    return RtlInstance(
        module="bitfab_thresholding",
        params={
            "C": h.channels,
            "PE": h.pe,
            "IN_BITS": h.in_bits,
            "IN_KIND": FieldKind.from_cxx(h.in_kind).rtl,
            "T_BITS": h.t_bits,
            "N_THRES": h.n_thres,
            "OUT_BITS": h.out_bits,
            "OUT_BIAS": h.out_bias,
        },
        memories={"THRESH_FILE": thresh_rom(h)},
        in_width=h.in_width,
        out_width=h.out_width,
    )
