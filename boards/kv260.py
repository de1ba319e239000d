"""AMD Kria KV260 Vision AI Starter Kit: K26 SOM (Zynq UltraScale+ XCK26-SFVC784-2LV-C)."""

from boards._zynq import BoardFiles, PynqImages, zynq_us_board

KV260 = zynq_us_board(
    "kv260",
    part="xck26-sfvc784-2LV-c",
    luts=117120,
    ffs=234240,
    bram18=288,
    dsps=1248,
    urams=64,
    board_files=BoardFiles(
        "xilinx.com:kv260_som:part0:1.3",
        source="the Xilinx board store (in Vivado: Tools > Vivado Store > Boards > "
        "Kria KV260; or boards/Xilinx/kv260_som of https://github.com/Xilinx/XilinxBoardStore)",
    ),
    pynq=PynqImages(note="Kria-PYNQ, installed on the Kria Ubuntu image"),
)
