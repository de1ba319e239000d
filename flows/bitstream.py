"""The vendor-tool steps: Vitis HLS synthesis and the Vivado block design and bitstream.

Everything that needs no vendor tool runs first and is written into the build directory (the
Tcl projects and a copy of the HLS library), so a machine with the tools needs nothing but
that directory. Without ``vitis_hls``/``vivado`` on PATH this stops with exit code 2 and says
what is ready and the one command that finishes the job; so it does when Vivado's installation
is visible (``XILINX_VIVADO``) but the board's board files are not in it, before any tool has
run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from boards import board_files
from boards._zynq import Board
from boards.registry import get_board
from boards.vivado import render_projects
from flows.build import check_finished
from flows.codegen.backends import BACKENDS
from flows.errors import InputError, ToolError, ToolMissingError
from flows.sim.toolchain import HLS_LIBRARY_INCLUDE
from flows.testbench import TB_EXPECTED, TB_INPUT, write_testbench_data

log = logging.getLogger(__name__)

VIVADO_TCL = "vivado/build.tcl"


def finish_command(build_dir: Path) -> str:
    return (
        f"cd {build_dir} && vitis_hls -f hls/hls.tcl && vivado -mode batch -source vivado/build.tcl"
    )


def prepare(build_dir: Path) -> list[Path]:
    """Tool-free part: the HLS library copy, testbench data and the Vitis HLS / Vivado Tcl."""
    manifest = check_finished(build_dir)
    cfg = manifest["config"]
    board = get_board(cfg["board"])
    lib = build_dir / "hls" / "include" / "bitfab"
    if lib.exists():
        shutil.rmtree(lib)
    shutil.copytree(HLS_LIBRARY_INCLUDE / "bitfab", lib)
    data = write_testbench_data(build_dir)
    return (
        render_projects(
            board, build_dir, float(cfg["clock_mhz"]), tb_input=TB_INPUT, tb_expected=TB_EXPECTED
        )
        + data
    )


def vivado_install(environ: Mapping[str, str] | None = None) -> Path | None:
    """The Vivado installation whose board files `bitfab bitstream` can look at:
    ``$XILINX_VIVADO`` (set by Vivado's settings64.sh), else the directory above the ``bin/``
    that holds ``vivado`` when it has Vivado's ``data/``; None when neither is there."""
    environ = os.environ if environ is None else environ
    if environ.get("XILINX_VIVADO"):
        return Path(environ["XILINX_VIVADO"])
    exe = shutil.which("vivado", path=environ.get("PATH"))
    if exe is not None:
        root = Path(exe).resolve().parent.parent
        if (root / "data").is_dir():
            return root
    return None


def check_board_files(board: Board, environ: Mapping[str, str] | None = None) -> Path | None:
    """Refuse (exit 2) before any tool runs when Vivado would not find the board's board files.

    Looks where build.tcl points Vivado (``$BITFAB_BOARD_FILES``, ``~/.bitfab/board_files``) and
    where Vivado keeps its own. Without a visible Vivado installation, or for board files that
    ship with Vivado, it cannot know and leaves the check to build.tcl. Returns the board.xml.
    """
    files = board.board_files
    root = vivado_install(environ)
    if files.ships_with_vivado or root is None:
        return None
    dirs = board_files.user_dirs(environ) + board_files.vivado_dirs(root)
    found = board_files.find_board_xml(files, dirs)
    if found is None:
        searched = (
            ", ".join(str(d) for d in dirs if d.is_dir()) or "none of those directories exists"
        )
        raise ToolMissingError(
            f"{board_files.missing_message(board)}. Searched: {searched}; also checked by "
            f"{VIVADO_TCL} with Vivado's own get_board_parts"
        )
    log.info("board files for %s: %s", files.part, found)
    return found


def parse_utilization(text: str) -> dict[str, float]:
    """LUT/FF/BRAM/DSP 'Used' figures from a Vivado utilization report."""
    keys = {
        "Slice LUTs": "LUT",
        "CLB LUTs": "LUT",
        "Slice Registers": "FF",
        "CLB Registers": "FF",
        "Block RAM Tile": "BRAM36",
        "DSPs": "DSP",
    }
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] in keys and keys[cells[0]] not in out:
            try:
                out[keys[cells[0]]] = float(cells[1])
            except ValueError:
                continue
    return out


def parse_timing(text: str) -> dict[str, float]:
    m = re.search(r"WNS\(ns\).*?\n[\s-]*\n\s*(-?\d+\.\d+)", text)
    return {"wns_ns": float(m.group(1))} if m else {}


def run_bitstream(build_dir: str | Path, backend: str = "hls") -> Path:
    d = Path(build_dir)
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; backends: {', '.join(sorted(BACKENDS))}")
    written = prepare(d)
    missing = [t for t in BACKENDS[backend].REQUIRED_TOOLS if shutil.which(t) is None]
    if missing:
        ready = ", ".join(str(p.relative_to(d)) for p in written)
        raise ToolMissingError(
            f"{' and '.join(missing)} not on PATH, so no bitstream was made. Ready in {d}: "
            f"{ready}, hls/top.cpp, hls/params/, hls/include/ (the kernel library) and deploy/ "
            f"(driver + accel.json). On a machine with Vitis HLS and Vivado run:\n  "
            f"{finish_command(d)}\nthen copy {d}/deploy to the board and run "
            "`sudo python3 -m driver --backend pynq --batch 1000` inside it"
        )
    check_board_files(get_board(check_finished(d)["config"]["board"]))
    for cmd in (
        ["vitis_hls", "-f", "hls/hls.tcl"],
        ["vivado", "-mode", "batch", "-source", VIVADO_TCL],
    ):
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolError(f"{d}: `{' '.join(cmd)}` failed:\n{proc.stdout[-3000:]}")
    rep_path = d / "report.json"
    rep = json.loads(rep_path.read_text())
    util = d / "reports" / "utilization.rpt"
    timing = d / "reports" / "timing.rpt"
    rep["synthesis"] = {
        "utilization": parse_utilization(util.read_text()) if util.exists() else {},
        "timing": parse_timing(timing.read_text()) if timing.exists() else {},
        "note": "measured by Vivado (post-implementation)",
    }
    rep_path.write_text(json.dumps(rep, indent=2, sort_keys=True) + "\n")
    return d / "deploy" / "bitfab.bit"
