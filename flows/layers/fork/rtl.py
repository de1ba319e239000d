"""The RTL instance of one stream fork (hls/rtl/bitfab_fork.v)."""

from __future__ import annotations

import numpy as np

from flows.codegen.rtl_types import RtlInstance
from flows.layers.fork.spec import ForkSpec


def context(s: ForkSpec, params: dict[str, np.ndarray]) -> RtlInstance:
    return RtlInstance("bitfab_fork", {"W": s.width}, in_width=s.width, out_width=s.width)
