"""The FIFO on every edge (hls/rtl/bitfab_fifo.v): resources from the calibrated fit.

One function for the report (flows/report.py) and the folding step: a FIFO of ``width`` bits
and ``depth`` words is a register array read combinationally (LUTRAM) up to ``SRL_MAX`` words,
else a RAM of ``depth - 2`` words with a registered read (block RAM when synthesis chooses it,
flows.layers.base.memory_map) and a two-word output buffer.
"""

from __future__ import annotations

import math

from flows.layers import calibration
from flows.layers.base import memory_map

# bitfab_fifo's SRL_MAX default: the deepest FIFO built as a combinationally read array
SRL_MAX = 64


def _mem(width: int, depth: int):
    if depth <= SRL_MAX:
        return memory_map(width, depth, rom=False, async_read=True)
    return memory_map(width, depth - 2, rom=False)


def fifo_features(width: int, depth: int) -> dict[str, float]:
    """What the FIFO's LUTs and FFs scale with: its memory as mapped, pointers, buffers."""
    m = _mem(width, depth)
    ptr = math.ceil(math.log2(max(depth, 2)))
    feats = {
        "base": 1.0,
        "mem_luts": float(m.luts + m.lutram),
        "mem_ffs": float(m.ffs),
        "ptr_bits": float(ptr),
    }
    if depth > SRL_MAX:
        feats["buffer_bits"] = float(width)  # rdata, b0, b1 and their muxes
    return feats


def fifo_resources(width: int, depth: int) -> dict[str, int]:
    """LUT/BRAM18/DSP of one ``width`` x ``depth`` FIFO (LUT includes LUTRAM)."""
    f = fifo_features(width, depth)
    return {
        "LUT": calibration.estimate("fifo", "LUT", f),
        "BRAM18": _mem(width, depth).bram18,
        "DSP": 0,
    }
