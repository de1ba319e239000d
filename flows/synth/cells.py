"""Xilinx cell counts from Yosys's ``stat -json``, in the units Vivado's utilization uses.

What counts as what (the 7-series and UltraScale+ primitives ``synth_xilinx`` emits):
- LUT: each LUT1..LUT6 and LUT6_2 cell is one LUT, and so is each INV (Vivado implements an
  inverter as a LUT1). MUXF7/MUXF8/MUXF9 combine LUTs inside a slice: not LUTs, not counted.
- LUTRAM: distributed RAM, in LUTs (Vivado's "LUT as Memory"): RAM64M = 4, RAM32X1D = 2...
- SRL: SRL16E / SRLC32E, one LUT each (Vivado counts them as "LUT as Memory" too).
- FF: every FDRE/FDSE/FDCE/FDPE (and latches, which Vivado counts as registers).
- BRAM18: in 18Kb halves: RAMB18E1/E2 = 1, RAMB36E1/E2 = 2 (FIFO18/36 alike).
- DSP: DSP48E1 / DSP48E2. CARRY: CARRY4 / CARRY8, kept apart from LUTs.
The board's "Slice LUTs" budget holds LUT + LUTRAM + SRL (``Cells.slice_luts``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

# LUTs a distributed-RAM primitive occupies (UG474 / UG574)
LUTRAM_LUTS = {
    "RAM16X1S": 1,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM128X1S": 2,
    "RAM256X1S": 4,
    "RAM512X1S": 8,
    "RAM16X1D": 2,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1D": 4,
    "RAM256X1D": 8,
    "RAM32M": 4,
    "RAM64M": 4,
    "RAM32M16": 8,
    "RAM64M8": 8,
}
BRAM18_HALVES = {
    "RAMB18E1": 1,
    "RAMB36E1": 2,
    "RAMB18E2": 1,
    "RAMB36E2": 2,
    "FIFO18E1": 1,
    "FIFO36E1": 2,
    "FIFO18E2": 1,
    "FIFO36E2": 2,
}
_LUT = re.compile(r"^(LUT[1-6](_2)?|INV)$")
_FF = re.compile(r"^(FD[RSCP]E(_1)?|LD[CP]E?(_1)?)$")
_SRL = {"SRL16E", "SRLC16E", "SRLC32E"}
_DSP = {"DSP48E1", "DSP48E2"}
_CARRY = {"CARRY4", "CARRY8"}


@dataclass(frozen=True)
class Cells:
    """Post-synthesis resource counts of one module (units: see the module docstring)."""

    LUT: int = 0
    FF: int = 0
    LUTRAM: int = 0
    SRL: int = 0
    BRAM18: int = 0
    DSP: int = 0
    CARRY: int = 0

    def __add__(self, other: Cells) -> Cells:
        return Cells(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def slice_luts(self) -> int:
        """What counts against the board's LUTs: logic, distributed RAM and shift registers."""
        return self.LUT + self.LUTRAM + self.SRL

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Cells:
        return cls(**{f.name: int(data.get(f.name, 0)) for f in fields(cls)})

    @classmethod
    def from_types(cls, by_type: dict[str, int]) -> Cells:
        """Counts from ``{cell type: number}``; other types (MUXF7, blackboxes, $scopeinfo,
        I/O buffers) are not resources here."""
        c = dict.fromkeys((f.name for f in fields(cls)), 0)
        for typ, n in by_type.items():
            if _LUT.match(typ):
                c["LUT"] += n
            elif _FF.match(typ):
                c["FF"] += n
            elif typ in LUTRAM_LUTS:
                c["LUTRAM"] += n * LUTRAM_LUTS[typ]
            elif typ in _SRL:
                c["SRL"] += n
            elif typ in BRAM18_HALVES:
                c["BRAM18"] += n * BRAM18_HALVES[typ]
            elif typ in _DSP:
                c["DSP"] += n
            elif typ in _CARRY:
                c["CARRY"] += n
        return cls(**c)


def cell_types(stat: dict) -> dict[str, int]:
    """``{cell type: count}`` of the whole design from ``stat -json``'s output."""
    try:
        by_type = stat["design"]["num_cells_by_type"]
    except (KeyError, TypeError):
        raise ValueError("not Yosys `stat -json` output: no design.num_cells_by_type") from None
    return {str(k): int(v) for k, v in by_type.items()}
