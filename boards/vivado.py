"""Vendor-tool project scripts for a board: the Vitis HLS and the Vivado build Tcl.

Both scripts are run from the build directory (``vitis_hls -f hls/hls.tcl`` or
``vitis-run --mode hls --tcl hls/hls.tcl``, then ``vivado -mode batch -source vivado/build.tcl``)
and name every file relative to it, so the same inputs render byte-identical scripts wherever
the build directory lives. Each script stops with an error (and the tool with a non-zero exit
status) at the first check that fails: C-simulation, a kernel loop that misses its II, the
co-simulation, missing board files, a Vivado run that did not finish, negative slack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from boards import board_files
from boards._zynq import Board

log = logging.getLogger(__name__)

TOP = "bitfab_top"  # the HLS top function, its IP name, and (with "_0") its block-design cell
DMA_IN = "idma0"  # MM2S DMA cell: host buffer -> design
DMA_OUT = "odma0"  # S2MM DMA cell: design -> host buffer
DMA_LENGTH_BITS = 26  # the DMAs' buffer length register width: at most 2**26 - 1 bytes a transfer
# UG1399 control register map: 0x00 control (ap_start), 0x04-0x0C interrupts, then the
# s_axilite arguments in order; n_images is the only one.
N_IMAGES_OFFSET = 0x10
HLS_PROJECT = "hls/project"  # Vitis HLS project directory, relative to the build directory
HLS_SOLUTION = "solution1"
IP_ZIP = "ip/bitfab_top.zip"  # the packaged IP (export_design -output)
VIVADO_SCRIPT = "vivado/build.tcl"
# The Vitis HLS log the II check reads: $BITFAB_HLS_LOG, else the tool's default, vitis_hls.log
# in the directory it was started in (the build directory)
HLS_LOG_ENV = "BITFAB_HLS_LOG"
HLS_LOG = "vitis_hls.log"
# Vitis HLS messages of a pipelined loop that missed its target II
II_VIOLATION_IDS = ("HLS 200-880", "HLS 200-885")
II_RESULT_ID = "HLS 200-1470"  # "Pipelining result : Target II = 1, Final II = 2, ..."


@dataclass(frozen=True)
class PsSpec:
    """What the block design needs to know about one kind of processing system."""

    ip: str  # IP name (VLNV name element)
    rule: str  # apply_bd_automation rule that applies the board preset
    rule_config: str  # its -config
    master: str  # general-purpose master that drives the AXI-Lite control ports
    slave: str  # high-performance slave port the DMAs write/read DDR through
    use_slave: str  # CONFIG property that enables `slave`
    slave_width: str  # CONFIG property of its data width
    pl_clock_mhz: str  # CONFIG property of PL clock 0
    pl_clock: str  # the PL clock 0 pin


PS_SPECS = {
    "zynq7": PsSpec(
        ip="processing_system7",
        rule="xilinx.com:bd_rule:processing_system7",
        rule_config='make_external "FIXED_IO, DDR" apply_board_preset "1"',
        master="M_AXI_GP0",
        slave="S_AXI_HP0",
        use_slave="CONFIG.PCW_USE_S_AXI_HP0",
        slave_width="CONFIG.PCW_S_AXI_HP0_DATA_WIDTH",
        pl_clock_mhz="CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ",
        pl_clock="FCLK_CLK0",
    ),
    "zynq_us+": PsSpec(
        ip="zynq_ultra_ps_e",
        rule="xilinx.com:bd_rule:zynq_ultra_ps_e",
        rule_config='apply_board_preset "1"',
        master="M_AXI_HPM0_FPD",
        slave="S_AXI_HP0_FPD",
        use_slave="CONFIG.PSU__USE__S_AXI_GP2",
        slave_width="CONFIG.PSU__SAXIGP2__DATA_WIDTH",
        pl_clock_mhz="CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ",
        pl_clock="pl_clk0",
    ),
}

_ENV = Environment(
    loader=PackageLoader("boards", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def tcl_str(s: str) -> str:
    """``s`` as a double-quoted Tcl word that Tcl reads back unchanged (no substitution)."""
    for c in '\\"$[]':
        s = s.replace(c, "\\" + c)
    return '"' + s.replace("\n", "\\n") + '"'


_ENV.filters["tcl_str"] = tcl_str


def _num(x: float) -> str:
    """A number as Tcl text: 100.0 -> "100", 1000/150 -> "6.66667"."""
    return f"{x:.6g}"


def ip_cell(top: str = TOP) -> str:
    """Block-design cell name of the accelerator (PYNQ exposes it as ``overlay.<cell>``)."""
    return f"{top}_0"


@dataclass(frozen=True)
class RtlSources:
    """The RTL backend's files as Vivado reads them, relative to the build directory: the
    Verilog in compile order (``rtl/sources.f``) and the memory files its ``$readmemh`` calls
    name without a directory."""

    verilog: tuple[str, ...]
    memories: tuple[str, ...]


def _context(board: Board, clock_mhz: float, top: str) -> dict:
    """What every script of the board needs: the board, its PS, the clock and the cells."""
    board.check_clock(clock_mhz)
    return {
        "board": board,
        "ps": PS_SPECS[board.ps],
        "top": top,
        "ip_cell": ip_cell(top),
        "clock_mhz": _num(clock_mhz),
        "period_ns": _num(1000.0 / clock_mhz),
        "hls_project": HLS_PROJECT,
        "hls_solution": HLS_SOLUTION,
        "dma_in": DMA_IN,
        "dma_out": DMA_OUT,
        "dma_length_bits": DMA_LENGTH_BITS,
        "board_files_env": board_files.ENV,
        "board_files_default": board_files.DEFAULT_DIR,
        "board_files_missing": board_files.missing_message(board),
        "rtl": None,
    }


def _write(build_dir: Path, scripts: list[tuple[str, str]], ctx: dict) -> list[Path]:
    written = []
    for template, rel in scripts:
        path = Path(build_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_ENV.get_template(template).render(**ctx), encoding="utf-8")
        log.info("wrote %s", path)
        written.append(path)
    return written


def render_projects(
    board: Board,
    build_dir: Path,
    clock_mhz: float,
    top: str = TOP,
    tb_input: str = "hls/tb/input.bin",
    tb_expected: str = "hls/tb/expected.bin",
    cosim: tuple[int, str, str] | None = None,
) -> list[Path]:
    """Write ``hls/hls.tcl`` (Vitis HLS) and ``vivado/build.tcl`` (Vivado) into ``build_dir``.

    The HLS script compiles ``hls/top.cpp`` with ``-I hls/include``: the caller copies the
    bitfab HLS library (``hls/include/bitfab``) there. Its C-simulation runs ``hls/tb.cpp`` on
    ``tb_input``/``tb_expected`` (build-relative). ``cosim = (n, input, expected)`` adds a C/RTL
    co-simulation of the same testbench on those files of ``n`` images. Returns the paths
    written.
    """
    ctx = _context(board, clock_mhz, top)
    if cosim is not None and cosim[0] < 1:
        raise ValueError(f"cosim needs at least one image, not {cosim[0]}")
    ctx.update(
        ip_zip=IP_ZIP,
        tb_input=tb_input,
        tb_expected=tb_expected,
        cosim=cosim,
        hls_log_env=HLS_LOG_ENV,
        hls_log=HLS_LOG,
        ii_violation_ids=II_VIOLATION_IDS,
        ii_result_id=II_RESULT_ID,
    )
    return _write(build_dir, [("hls.tcl.j2", "hls/hls.tcl"), ("vivado.tcl.j2", VIVADO_SCRIPT)], ctx)


def render_rtl_project(
    board: Board, build_dir: Path, clock_mhz: float, rtl: RtlSources, top: str = TOP
) -> list[Path]:
    """Write ``vivado/build.tcl`` for the RTL backend into ``build_dir``: the same block design
    and checks as the HLS flow's, with the Verilog top ``top`` (from ``rtl.verilog``, reading
    ``rtl.memories``) as a module reference in place of the HLS IP. No Vitis HLS script."""
    if not rtl.verilog:
        raise ValueError("the RTL backend's Vivado project needs at least one Verilog file")
    ctx = _context(board, clock_mhz, top)
    ctx["rtl"] = rtl
    return _write(build_dir, [("vivado.tcl.j2", VIVADO_SCRIPT)], ctx)
