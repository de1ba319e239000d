"""The RTL instance of one accumulating pool (hls/rtl/bitfab_avgpool.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.codegen.rtl_types import RtlInstance
from flows.layers.avgpool import hls
from flows.layers.avgpool.spec import AvgPoolSpec


def context(s: AvgPoolSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    h = hls.context(s, params)
    return RtlInstance(
        module="bitfab_avgpool",
        params={
            "CH": s.channels,
            "IFM_H": s.ifm_h,
            "IFM_W": s.ifm_w,
            "K_H": s.k_h,
            "K_W": s.k_w,
            "STRIDE_H": s.stride_h,
            "STRIDE_W": s.stride_w,
            "PE": s.pe,
            "BITS": h.in_bits,
            "OBITS": h.out_bits,
            "KIND": FieldKind.from_cxx(h.kind).rtl,
        },
        in_width=h.in_width,
        out_width=h.out_width,
    )
