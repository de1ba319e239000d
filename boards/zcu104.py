"""AMD/Xilinx ZCU104: Zynq UltraScale+ XCZU7EV-2FFVC1156E."""

from boards._zynq import BoardFiles, PynqImages, zynq_us_board

ZCU104 = zynq_us_board(
    "zcu104",
    part="xczu7ev-ffvc1156-2-e",
    luts=230400,
    ffs=460800,
    bram18=624,
    dsps=1728,
    urams=96,
    board_files=BoardFiles(
        "xilinx.com:zcu104:part0:1.1",
        source="Vivado's own data/boards/board_files (installed with Zynq UltraScale+ device "
        "support)",
        ships_with_vivado=True,
    ),
    pynq=PynqImages(),
)
