"""The VVAU's ``rtl`` role: one ``bitfab_vvau`` instance (hls/rtl/bitfab_vvau.v).

The MVAU's rtl role lays out everything already (hardware thresholds, shift offsets, ACC_BITS,
the weight and threshold ROM words, whose layout bitfab_vvau shares with MW = K, MH = CH);
this module renames the dimensions and sets the VVAU's input word.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flows.codegen.rtl_types import RtlInstance
from flows.layers.mvau import rtl as mvau_rtl
from flows.layers.vvau.spec import VvauSpec


def context(s: VvauSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    inst = mvau_rtl.context(s, params)
    p = dict(inst.params)
    p.pop("WROM_BLOCK")
    rtl_params = {"CH": p.pop("MH"), "K": p.pop("MW"), **p}
    return dataclasses.replace(
        inst,
        module="bitfab_vvau",
        params=rtl_params,
        in_width=s.simd * s.pe * p["IN_BITS"],
    )
