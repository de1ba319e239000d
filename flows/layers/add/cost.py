"""Stream add estimates: features of hls/rtl/bitfab_add.v x coefficients fitted to its Yosys
synthesis (bench/calibrate.py).

A constant multiplier (paths of different scales) is free when it is a power of two (a
shift). Otherwise Yosys' synth_xilinx maps the product to a DSP48 when it is at least
``DSP_MIN_PRODUCT_BITS`` wide (mul2dsp's threshold), the lane's add and output register
going into the DSP's post-adder and pipeline register; a narrower product becomes a LUT
shift-and-add network of one adder per further set bit of the constant."""

from __future__ import annotations

import math

from flows.layers import calibration
from flows.layers.add.spec import AddSpec

DSP_MIN_PRODUCT_BITS = 9  # synth_xilinx: mul2dsp -D DSP_Y_MINWIDTH=9
DSP_A_BITS, DSP_B_BITS = 25, 18  # DSP48E1 multiplier operands


def cycles(s: AddSpec) -> int:
    return s.words


def _multiplies(s: AddSpec) -> list[tuple[int, int]]:
    """(input value bits, constant) of each multiplier that is not a shift."""
    out = []
    for k, dt in ((s.a_mul, s.adt), (s.b_mul, s.bdt)):
        if k > 0 and k & (k - 1) == 0:
            continue  # 1 or a power of two: wiring
        vbits = dt.bitwidth() + (0 if dt.signed() else 1)
        out.append((vbits, k))
    return out


def dsp_per_lane(s: AddSpec) -> int:
    """DSP48s per lane: the multipliers whose product synth_xilinx puts on DSPs."""
    n = 0
    for vbits, k in _multiplies(s):
        kbits = abs(k).bit_length()
        if min(vbits + kbits, s.odt.bitwidth()) >= DSP_MIN_PRODUCT_BITS:
            hi, lo = max(vbits, kbits), min(vbits, kbits)
            n += math.ceil(hi / DSP_A_BITS) * math.ceil(lo / DSP_B_BITS)
    return n


def lut_features(s: AddSpec) -> dict[str, float]:
    """PE adders of OUT_BITS (a LUT and a carry bit each), the handshake; ``mul_bits``: the
    LUT multipliers' adders (one of OUT_BITS per further set bit of the constant);
    ``ff_out_bits``: the output register (FF fit only). A lane on DSPs keeps neither its
    adder nor its register in the fabric."""
    if dsp_per_lane(s):
        return {"base": 1.0}
    mul_bits = 0.0
    for _, k in _multiplies(s):
        mul_bits += s.pe * s.odt.bitwidth() * max(1, bin(abs(k)).count("1") - 1)
    return {
        "base": 1.0,
        "sum_bits": float(s.pe * s.odt.bitwidth()),
        "mul_bits": mul_bits,
        "ff_out_bits": float(s.pe * s.odt.bitwidth()),
    }


def resources(s: AddSpec) -> dict[str, int]:
    return {
        "LUT": calibration.estimate("add", "LUT", lut_features(s)),
        "BRAM18": 0,
        "DSP": s.pe * dsp_per_lane(s),
    }
