"""Vendor-tool project scripts for a board: the Vitis HLS and the Vivado build Tcl.

Both scripts are run from the build directory (``vitis_hls -f hls/hls.tcl``, then
``vivado -mode batch -source vivado/build.tcl``) and name every file relative to it, so the same
inputs render byte-identical scripts wherever the build directory lives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from boards._zynq import Board

log = logging.getLogger(__name__)

HLS_PROJECT = "hls/project"  # Vitis HLS project directory, relative to the build directory
HLS_SOLUTION = "solution1"
IP_ZIP = "ip/bitfab_top.zip"  # the packaged IP (export_design -output)


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


def _num(x: float) -> str:
    """A number as Tcl text: 100.0 -> "100", 1000/150 -> "6.66667"."""
    return f"{x:.6g}"


def render_projects(
    board: Board, build_dir: Path, clock_mhz: float, top: str = "bitfab_top"
) -> list[Path]:
    """Write ``hls/hls.tcl`` (Vitis HLS) and ``vivado/build.tcl`` (Vivado) into ``build_dir``.

    The HLS script compiles ``hls/top.cpp`` with ``-I hls/include``: the caller copies the
    bitfab HLS library (``hls/include/bitfab``) there. Returns the paths written.
    """
    board.check_clock(clock_mhz)
    build_dir = Path(build_dir)
    ctx = {
        "board": board,
        "ps": PS_SPECS[board.ps],
        "top": top,
        "clock_mhz": _num(clock_mhz),
        "period_ns": _num(1000.0 / clock_mhz),
        "hls_project": HLS_PROJECT,
        "hls_solution": HLS_SOLUTION,
        "ip_zip": IP_ZIP,
        "dma_in": "idma0",
        "dma_out": "odma0",
    }
    written = []
    for template, rel in (("hls.tcl.j2", "hls/hls.tcl"), ("vivado.tcl.j2", "vivado/build.tcl")):
        path = build_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_ENV.get_template(template).render(**ctx), encoding="utf-8")
        log.info("wrote %s", path)
        written.append(path)
    return written
