"""The one registry of boards, by name."""

from __future__ import annotations

from boards._zynq import Board
from boards.errors import BoardError
from boards.kv260 import KV260
from boards.pynq_z1 import PYNQ_Z1
from boards.pynq_z2 import PYNQ_Z2
from boards.ultra96_v2 import ULTRA96_V2
from boards.zcu104 import ZCU104

BOARDS: dict[str, Board] = {b.name: b for b in (PYNQ_Z1, PYNQ_Z2, ZCU104, ULTRA96_V2, KV260)}


def get_board(name: str) -> Board:
    try:
        return BOARDS[name]
    except KeyError:
        raise BoardError(
            f"unknown board '{name}'; known boards: {', '.join(sorted(BOARDS))}"
        ) from None


def list_boards() -> list[Board]:
    return [BOARDS[k] for k in sorted(BOARDS)]
