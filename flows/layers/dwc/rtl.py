"""The RTL instance of one width converter (hls/rtl/bitfab_dwc.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.rtl_types import RtlInstance
from flows.layers.dwc import hls
from flows.layers.dwc.spec import DwcSpec


def context(s: DwcSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    """The kernel converts a continuous element stream: ``total`` and ``reps`` need no
    parameter (the buffer is empty at every repetition boundary, as in dwc.hpp)."""
    h = hls.context(s, params)
    return RtlInstance(
        module="bitfab_dwc",
        params={"IN_ELEMS": h.in_elems, "OUT_ELEMS": h.out_elems, "BITS": h.bits},
        in_width=h.in_width,
        out_width=h.out_width,
    )
