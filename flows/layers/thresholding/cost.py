"""Thresholding cycle and resource estimates."""

from __future__ import annotations

import math

from flows.layers.thresholding.spec import ThresholdingSpec


def cycles(s: ThresholdingSpec) -> int:
    return (s.channels // s.pe) * s.pixels


def resources(s: ThresholdingSpec) -> dict[str, int]:
    """A comparator per threshold and PE; threshold memory in LUTRAM or BRAM18."""
    bits = s.idt.bitwidth() + 1
    rows = 1 if s.shared else s.channels
    mem_bits = rows * s.n_thres * bits
    bram = 0 if mem_bits <= 8192 else s.pe * math.ceil(mem_bits / s.pe / 18432)
    return {"LUT": int(s.pe * s.n_thres * bits + 50), "BRAM18": int(bram), "DSP": 0}
