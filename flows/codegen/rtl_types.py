"""What a kind's ``rtl`` role gives the RTL backend: one kernel instance, fully parameterised.

Every RTL kernel follows one port convention (hls/rtl/README.md), so an instance is its module,
its integer parameters and its memories; the backend names the streams and wires the FIFOs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RtlInstance:
    """One kernel of hls/rtl as the stitched top instantiates it.

    ``memories`` maps a string parameter of the module (e.g. ``WEIGHT_FILE``) to the lines of
    its ``$readmemh`` file, one hex word per line; the backend writes each to
    ``<layer>_<param>.mem`` beside the Verilog and sets the parameter to that file name.
    ``sources`` are Verilog files the module needs beyond the hls/rtl library (a plug-in
    kind's own kernel); the backend copies them beside the top.
    """

    module: str
    params: dict[str, int] = field(default_factory=dict)
    memories: dict[str, list[str]] = field(default_factory=dict)
    in_width: int = 0
    out_width: int = 0
    sources: tuple[Path, ...] = ()


def hex_word(value: int, bits: int) -> str:
    """``value`` (two's complement when negative) as a ``bits``-wide hex word for $readmemh."""
    return f"{value & ((1 << bits) - 1):0{max(1, (bits + 3) // 4)}x}"


def concat(fields: list[int], bits: int) -> int:
    """One word of ``fields`` of ``bits`` each, field 0 in the low bits (the stream layout)."""
    word = 0
    for j, f in enumerate(fields):
        word |= (int(f) & ((1 << bits) - 1)) << (j * bits)
    return word
