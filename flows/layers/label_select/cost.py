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
    """The compare tree's PE-1 compares of a word's values (``cmp_bits``, IN_BITS+1 wide) and
    their value and index selects (``mux_bits``); with more than one word an image, the
    compare and select against the running best, and the word counter and index base
    (``ctrl_bits``); ``ff_*``: the running best, its index, the counters, the output register
    (FF fit only). One word an image needs no running best: its first word always loads."""
    b, ib = s.idt.bitwidth() + 1, _clog2(s.labels)
    running = s.words > 1
    compares = s.pe - 1 + int(running)
    return {
        "base": 1.0,
        "cmp_bits": float(compares * b),
        "mux_bits": float(compares * (b + ib)),
        "ctrl_bits": float(_clog2(s.words) + ib if running else 0),
        "ff_reg_bits": float(ib + 1 + ((b + 2 * ib + _clog2(s.words)) if running else 0)),
    }


def resources(s: LabelSelectSpec) -> dict[str, int]:
    f = lut_features(s)
    return {"LUT": calibration.estimate("label_select", "LUT", f), "BRAM18": 0, "DSP": 0}
