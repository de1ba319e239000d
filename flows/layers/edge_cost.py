"""The design's edge: AXI-Lite control and the two AXI-Stream adapters, from the calibrated fit.

Every design has them once (hls/rtl/bitfab_ctrl.v, bitfab_axis_in.v, bitfab_axis_out.v, as
rtl_top.v.j2 instantiates them), so the folding cannot change their cost, but the report's
total and the "fits" test must count them: on cnv-w1a1 they are ~1,500 LUT, more than all
its FIFOs together. Each adapter is a bit buffer of CAP bits that takes a beat (or word) at a
variable offset: a barrel shifter over the buffer, which is what the LUTs scale with. The
coefficients come from synthesizing ``bench/rtl/edge.v`` over a grid
(bench/calibrate.py, kind "edge").
"""

from __future__ import annotations

import math

from boards.driver.accelerator import StreamSpec
from flows.layers import calibration


def edge_features(
    dma_bits: int, in_bits: int, in_bytes: int, in_words: int, out_bits: int, out_bytes: int
) -> dict[str, float]:
    """What the edge's LUTs and FFs scale with, from the adapters' parameters (bitfab_axis_in/
    out's DW, IW/OW, BYTES, WORDS).

    The input buffer keeps only the bits that reach a word: of each 8*BYTES-bit slot the
    layer reads IW, and synthesis removes the rest of the buffer with their shifter columns
    (IW 2 of 8 takes 400 LUT where IW 8 takes 1,080 at DW 128), so it counts as
    CAP * IW / (8*BYTES) bits. The output buffer has no such dead bits: all of its CAP bits.
    The input's beat counter compares with WORDS-derived constants (log2 of WORDS)."""
    in_wb, out_wb = 8 * in_bytes, 8 * out_bytes
    in_cap = in_wb + 2 * dma_bits  # bitfab_axis_in's CAP
    out_cap = 3 * dma_bits + 2 * out_wb  # bitfab_axis_out's CAP (T + WB + DW)
    return {
        "in_kept_bits": in_cap * in_bits / in_wb,
        "out_cap_bits": float(out_cap),
        "out_word_bits": float(out_bits),
        "in_words_log2": math.log2(in_words + 1),
    }


def stream_features(dma_bits: int, sin: StreamSpec, sout: StreamSpec) -> dict[str, float]:
    """``edge_features`` of a design whose input and output the host packs as ``sin``/``sout``."""
    return edge_features(
        dma_bits, sin.bits * sin.elems, sin.nbytes, sin.words, sout.bits * sout.elems, sout.nbytes
    )


def edge_resources(dma_bits: int, sin: StreamSpec, sout: StreamSpec) -> dict[str, int]:
    """LUT/BRAM18/DSP of the control and both adapters (no memories, no multipliers)."""
    return {
        "LUT": calibration.estimate("edge", "LUT", stream_features(dma_bits, sin, sout)),
        "BRAM18": 0,
        "DSP": 0,
    }
