"""The RTL instance of one label select (hls/rtl/bitfab_label_select.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.codegen.rtl_types import RtlInstance
from flows.layers.label_select.spec import LabelSelectSpec


def context(s: LabelSelectSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    return RtlInstance(
        module="bitfab_label_select",
        params={
            "N": s.labels,
            "PE": s.pe,
            "IN_BITS": s.idt.bitwidth(),
            "IN_KIND": FieldKind.from_dtype(s.idt).rtl,
            "OUT_BITS": s.odt.bitwidth(),
        },
        in_width=s.pe * s.idt.bitwidth(),
        out_width=s.odt.bitwidth(),
    )
