"""The RTL instance of one stream add (hls/rtl/bitfab_add.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.codegen.rtl_types import RtlInstance
from flows.layers.add.spec import AddSpec


def context(s: AddSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    return RtlInstance(
        "bitfab_add",
        {
            "PE": s.pe,
            "A_BITS": s.adt.bitwidth(),
            "A_KIND": FieldKind.from_dtype(s.adt).rtl,
            "B_BITS": s.bdt.bitwidth(),
            "B_KIND": FieldKind.from_dtype(s.bdt).rtl,
            "OUT_BITS": s.odt.bitwidth(),
            **({"A_MUL": s.a_mul, "B_MUL": s.b_mul} if (s.a_mul, s.b_mul) != (1, 1) else {}),
        },
        in_width=s.pe * s.adt.bitwidth(),
        out_width=s.pe * s.odt.bitwidth(),
    )
