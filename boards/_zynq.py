"""Board family bases: what every board of a family shares."""

from __future__ import annotations

from dataclasses import dataclass

from boards.errors import BoardError


@dataclass(frozen=True)
class Board:
    """A board: FPGA part, processing system, AXI width, PL clock and resource counts."""

    name: str
    part: str
    ps: str  # "zynq7" or "zynq_us+"
    hp_port_bits: int
    default_clock_mhz: float
    max_clock_mhz: float
    luts: int
    ffs: int
    bram18: int
    dsps: int
    urams: int = 0
    board_part: str = ""  # Vivado board part (board files), e.g. "tul.com.tw:pynq-z2:part0:1.0"

    def budget(self) -> dict[str, int]:
        return {"LUT": self.luts, "BRAM18": self.bram18, "DSP": self.dsps}

    def check_clock(self, mhz: float) -> None:
        if not (0 < mhz <= self.max_clock_mhz):
            raise BoardError(
                f"board '{self.name}': clock {mhz} MHz is outside (0, {self.max_clock_mhz}] MHz, "
                f"the range its PL supports; the default is {self.default_clock_mhz} MHz"
            )


# The Zynq-7020 device (PYNQ-Z1 and PYNQ-Z2 carry the same part)
XC7Z020 = {"part": "xc7z020clg400-1", "luts": 53200, "ffs": 106400, "bram18": 280, "dsps": 220}


def _family_board(ps: str, hp_port_bits: int, max_clock_mhz: float, **fields) -> Board:
    """A board of one family: the family fixes PS kind, HP width and PL clock limits."""
    return Board(
        ps=ps,
        hp_port_bits=hp_port_bits,
        default_clock_mhz=100.0,
        max_clock_mhz=max_clock_mhz,
        **fields,
    )


def zynq7000_board(
    name: str, part: str, luts: int, ffs: int, bram18: int, dsps: int, *, board_part: str = ""
) -> Board:
    """A Zynq-7000 board: PS7, 64-bit HP ports, PL clock 100 MHz by default, 250 at most."""
    return _family_board(
        "zynq7",
        64,
        250.0,
        name=name,
        part=part,
        luts=luts,
        ffs=ffs,
        bram18=bram18,
        dsps=dsps,
        board_part=board_part,
    )


def zynq_us_board(
    name: str,
    part: str,
    luts: int,
    ffs: int,
    bram18: int,
    dsps: int,
    urams: int,
    *,
    board_part: str = "",
) -> Board:
    """A Zynq UltraScale+ board: PS "zynq_us+", 128-bit HP ports, PL clock 100 MHz by default,
    300 at most."""
    return _family_board(
        "zynq_us+",
        128,
        300.0,
        name=name,
        part=part,
        luts=luts,
        ffs=ffs,
        bram18=bram18,
        dsps=dsps,
        urams=urams,
        board_part=board_part,
    )
