"""Avnet Ultra96-V2: Zynq UltraScale+ XCZU3EG-1SBVA484E."""

from boards._zynq import BoardFiles, PynqImages, zynq_us_board

ULTRA96_V2 = zynq_us_board(
    "ultra96-v2",
    part="xczu3eg-sbva484-1-e",
    luts=70560,
    ffs=141120,
    bram18=432,
    dsps=360,
    urams=0,
    board_files=BoardFiles(
        "avnet.com:ultra96v2:part0:1.2",
        source="Avnet's board files (ultra96v2 in https://github.com/Avnet/bdf, also in "
        "Vivado's board store: Tools > Vivado Store > Boards)",
    ),
    pynq=PynqImages(last="3.x", note="Avnet's Ultra96-PYNQ images"),
)
