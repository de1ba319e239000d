"""Max-pool estimates."""

from __future__ import annotations

from flows.layers.maxpool.spec import MaxPoolSpec


def cycles(s: MaxPoolSpec) -> int:
    """Input-bound: every input word is read once."""
    return s.ifm_h * s.ifm_w * (s.channels // s.pe)


def resources(s: MaxPoolSpec) -> dict[str, int]:
    """Comparators per PE, a buffer of one output row of partial maxima."""
    bits = s.dtype.bitwidth()
    buf = s.ofm_w * s.channels * bits
    return {"LUT": int(60 + s.pe * bits * 3 + buf // 64), "BRAM18": 0, "DSP": 0}
