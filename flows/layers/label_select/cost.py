"""Label select estimates: features of hls/rtl/bitfab_label_select.v x coefficients fitted to
its Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

from flows.layers import calibration
from flows.layers.label_select.spec import LabelSelectSpec


def cycles(s: LabelSelectSpec) -> int:
    """Input-bound: one word a cycle, N/PE words an image."""
    return s.words


def _clog2(v: int) -> int:
    """clog2 of bitfab_label_select.v: at least 1."""
    return max(1, (v - 1).bit_length())


def lut_features(s: LabelSelectSpec) -> dict[str, float]:
    """PE compares of IN_BITS (PE-1 within the word, one against the running best:
    ``cmp_bits``), each choosing a value and an index (``mux_bits``); the word counter and
    its last-word compare (``ctrl_bits``); ``ff_*``: the running best, its index and the
    output register (FF fit only)."""
    b, ib = s.idt.bitwidth(), _clog2(s.labels)
    return {
        "base": 1.0,
        "cmp_bits": float(s.pe * b),
        "mux_bits": float(s.pe * (b + ib)),
        "ctrl_bits": float(_clog2(s.words)),
        "ff_reg_bits": float(b + 2 * ib),
    }


def resources(s: LabelSelectSpec) -> dict[str, int]:
    f = lut_features(s)
    return {"LUT": calibration.estimate("label_select", "LUT", f), "BRAM18": 0, "DSP": 0}
