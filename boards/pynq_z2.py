"""TUL PYNQ-Z2: Zynq XC7Z020-1CLG400C."""

from boards._zynq import XC7Z020, BoardFiles, zynq7000_board

PYNQ_Z2 = zynq7000_board(
    "pynq-z2",
    **XC7Z020,
    board_files=BoardFiles(
        "tul.com.tw:pynq-z2:part0:1.0",
        source="TUL's PYNQ-Z2 board files: https://www.tul.com.tw/download/pynq-z2.zip",
    ),
)
