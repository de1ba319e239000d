"""Max-pool estimates."""

from __future__ import annotations

from flows.layers.base import memory_cost
from flows.layers.maxpool.spec import MaxPoolSpec


def cycles(s: MaxPoolSpec) -> int:
    """Input-bound: every input word is read once."""
    return s.ifm_h * s.ifm_w * (s.channels // s.pe)


def resources(s: MaxPoolSpec) -> dict[str, int]:
    """Comparators per PE, a buffer of one output row of partial maxima."""
    bits = s.dtype.bitwidth()
    mem_luts, bram = memory_cost(s.pe * bits, s.ofm_w * (s.channels // s.pe))
    return {"LUT": int(60 + s.pe * bits * 3 + mem_luts), "BRAM18": int(bram), "DSP": 0}
