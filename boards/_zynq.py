"""Board family bases: what every board of a family shares."""

from __future__ import annotations

from dataclasses import dataclass

from boards.errors import BoardError


@dataclass(frozen=True)
class BoardFiles:
    """The Vivado board files a board's block design needs: the PS preset comes from them.

    ``part`` is Vivado's board part, ``vendor:name:component:file_version``; Vivado finds it in
    a ``board.xml`` whose ``<board vendor= name=>`` and ``<file_version>`` match.
    """

    part: str
    source: str  # where to get them, said when Vivado cannot find them
    ships_with_vivado: bool = False

    @property
    def vendor(self) -> str:
        return self.part.split(":")[0]

    @property
    def name(self) -> str:
        return self.part.split(":")[1]

    @property
    def version(self) -> str:
        return self.part.split(":")[3]


@dataclass(frozen=True)
class PynqImages:
    """The PYNQ images a board runs a build's deploy/ folder on.

    The run command (``boards.deploy.run_command``) activates the venv that PYNQ keeps pynq in
    from 2.7 on, so no board supports an image before 2.7.
    """

    first: str = "2.7"
    last: str = ""  # "" = every later release
    note: str = ""

    def __str__(self) -> str:
        span = f"PYNQ {self.first} to {self.last}" if self.last else f"PYNQ {self.first} or later"
        return f"{span} ({self.note})" if self.note else span


@dataclass(frozen=True)
class Shell:
    """What the block design around the accelerator takes: PS glue, the two AXI DMAs, the
    AXI interconnects and resets. The folding step keeps it free; ``source`` says where
    each figure comes from, since nobody here can run Vivado to measure it."""

    luts: int
    bram18: int
    dsps: int
    source: str

    def resources(self) -> dict[str, int]:
        return {"LUT": self.luts, "BRAM18": self.bram18, "DSP": self.dsps}


# LUT: BNN-PYNQ's cnv-w1a1 with its shell takes 26,072 LUT post-implementation; FINN's build of
# the same network without a shell 21,135 LUT post-synthesis (Xilinx/finn PR #209, Pynq-Z1):
# the difference, 4,937, is the shell's. BRAM18: an assumption, not a measurement — each of the
# two single-channel AXI DMAs (simple mode) buffers bursts in at most one BRAM36. No DSPs.
AXI_DMA_SHELL = Shell(
    luts=4937,
    bram18=4,
    dsps=0,
    source="LUT: BNN-PYNQ cnv-w1a1 with shell (26,072) minus FINN's cnv-w1a1 without (21,135); "
    "BRAM18: assumed 1 BRAM36 per AXI DMA",
)


@dataclass(frozen=True)
class Board:
    """A board: FPGA part, processing system, AXI width, PL clock and resource counts, the
    board files its Vivado project needs and the PYNQ images it runs."""

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
    board_files: BoardFiles
    pynq: PynqImages
    urams: int = 0
    shell: Shell = AXI_DMA_SHELL

    def budget(self) -> dict[str, int]:
        return {"LUT": self.luts, "BRAM18": self.bram18, "DSP": self.dsps}

    def check_clock(self, mhz: float) -> None:
        if not (0 < mhz <= self.max_clock_mhz):
            raise BoardError(
                f"board '{self.name}': clock {mhz} MHz is outside (0, {self.max_clock_mhz}] MHz, "
                f"the range its PL supports; the default is {self.default_clock_mhz} MHz"
            )


# The Zynq-7000 device (PYNQ-Z1 and PYNQ-Z2 carry the same part)
XC7Z020 = {"part": "xc7z020clg400-1", "luts": 53200, "ffs": 106400, "bram18": 280, "dsps": 220}

# PYNQ 4.0 removed the Zynq-7000 boards (Pynq-Z1, Pynq-Z2)
ZYNQ7000_PYNQ = PynqImages(last="3.x", note="PYNQ 4.0 dropped the Zynq-7000 boards")


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
    name: str,
    part: str,
    luts: int,
    ffs: int,
    bram18: int,
    dsps: int,
    *,
    board_files: BoardFiles,
    pynq: PynqImages = ZYNQ7000_PYNQ,
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
        board_files=board_files,
        pynq=pynq,
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
    board_files: BoardFiles,
    pynq: PynqImages,
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
        board_files=board_files,
        pynq=pynq,
    )
