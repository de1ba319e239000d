"""The ``synth_xilinx -family`` of a build: from its board's processing system."""

from __future__ import annotations

from boards._zynq import Board
from flows.errors import InputError

# Board.ps -> synth_xilinx family: Zynq-7000 is 7-series fabric, Zynq UltraScale+ is xcup
FAMILIES = {"zynq7": "xc7", "zynq_us+": "xcup"}


def family_of(board: Board) -> str:
    try:
        return FAMILIES[board.ps]
    except KeyError:
        raise InputError(
            f"board '{board.name}': no Yosys family for its PS '{board.ps}'; known: "
            f"{', '.join(f'{k} -> {v}' for k, v in FAMILIES.items())}"
        ) from None
