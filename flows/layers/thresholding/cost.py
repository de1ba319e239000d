"""Thresholding cycle and resource estimates."""

from __future__ import annotations

from flows.layers.base import memory_cost
from flows.layers.thresholding.spec import ThresholdingSpec


def cycles(s: ThresholdingSpec) -> int:
    return (s.channels // s.pe) * s.pixels


def resources(s: ThresholdingSpec) -> dict[str, int]:
    """A comparator per threshold and PE; each PE's threshold memory (a row of n thresholds
    per channel it serves) in LUTRAM or BRAM18 by the shared rule."""
    bits = s.idt.bitwidth() + 1
    rows = 1 if s.shared else s.channels // s.pe
    mem_luts, bram = (s.pe * v for v in memory_cost(s.n_thres * bits, rows))
    compare = s.pe * s.n_thres * bits
    return {"LUT": int(compare + mem_luts + 50), "BRAM18": int(bram), "DSP": 0}
