"""Stream add estimates: features of hls/rtl/bitfab_add.v x coefficients fitted to its Yosys
synthesis (bench/calibrate.py)."""

from __future__ import annotations

from flows.layers import calibration
from flows.layers.add.spec import AddSpec


def cycles(s: AddSpec) -> int:
    return s.words


def lut_features(s: AddSpec) -> dict[str, float]:
    """PE adders of OUT_BITS (a LUT and a carry bit each), the handshake; ``ff_out_bits``:
    the output register (FF fit only)."""
    return {
        "base": 1.0,
        "sum_bits": float(s.pe * s.odt.bitwidth()),
        "ff_out_bits": float(s.pe * s.odt.bitwidth()),
    }


def resources(s: AddSpec) -> dict[str, int]:
    return {"LUT": calibration.estimate("add", "LUT", lut_features(s)), "BRAM18": 0, "DSP": 0}
