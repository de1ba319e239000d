"""Digilent PYNQ-Z1: Zynq XC7Z020-1CLG400C (the same part as the PYNQ-Z2)."""

from boards._zynq import XC7Z020, BoardFiles, zynq7000_board

PYNQ_Z1 = zynq7000_board(
    "pynq-z1",
    **XC7Z020,
    board_files=BoardFiles(
        "www.digilentinc.com:pynq-z1:part0:1.0",
        source="Digilent's PYNQ-Z1 board files, as FINN fetches them: "
        "https://github.com/cathalmccabe/pynq-z1_board_files/raw/master/pynq-z1.zip",
    ),
)
