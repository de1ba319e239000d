"""Width converter estimates: features of hls/rtl/bitfab_dwc.v x coefficients fitted to its
Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

import math

from flows.layers import calibration
from flows.layers.dwc.spec import DwcSpec


def cycles(s: DwcSpec) -> int:
    return (s.total // min(s.in_elems, s.out_elems)) * s.reps


def lut_features(s: DwcSpec) -> dict[str, float]:
    """The buffer of IN+OUT-1 elements, the shifter placing a word at one of OUT_ELEMS
    offsets, and the pop shift."""
    bits = s.dtype.bitwidth()
    buf = (s.in_elems + s.out_elems - 1) * bits
    return {
        "base": 1.0,
        "buf_bits": float(buf),
        "shift_bits": float(buf * math.ceil(math.log2(s.out_elems + 1))),
        "in_bits": float(s.in_elems * bits * math.ceil(math.log2(s.out_elems + 1))),
        # one element's bits times the output position counter's: the placement of a field
        "field_count_bits": float(bits * math.ceil(math.log2(s.out_elems + 1))),
    }


def resources(s: DwcSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("dwc", "LUT", f),
        "BRAM18": 0,
        "DSP": 0,
    }
