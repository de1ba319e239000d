"""Avnet Ultra96-V2: Zynq UltraScale+ XCZU3EG-1SBVA484E."""

from boards._zynq import zynq_us_board

ULTRA96_V2 = zynq_us_board(
    "ultra96-v2",
    part="xczu3eg-sbva484-1-e",
    luts=70560,
    ffs=141120,
    bram18=432,
    dsps=360,
    urams=0,
    board_part="avnet.com:ultra96v2:part0:1.2",
)
