"""The vendor-tool steps: Vitis HLS synthesis and the Vivado block design and bitstream.

Everything that needs no vendor tool runs first and is written into the build directory (the
Tcl projects and a copy of the HLS library), so a machine with the tools needs nothing but
that directory. The RTL backend (``--backend rtl``) has no Vitis HLS step: Vivado reads the
build's Verilog and memory files (``rtl/``) into the same block design. Without the backend's
tools (Vitis HLS, ``vitis_hls`` or its successor ``vitis-run``, and ``vivado``; ``vivado``
alone for RTL) on PATH this stops with exit code 2 and says what is ready and the one command
that finishes the job; so it does when Vivado's installation is visible (``XILINX_VIVADO``)
but the board's board files are not in it, before any tool has run.
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
from boards.deploy import board_run_text
from boards.registry import get_board
from boards.vivado import HLS_LOG, RtlSources, render_projects, render_rtl_project
from flows.build import check_finished
from flows.codegen.backends import BACKENDS
from flows.codegen.rtl import DESIGN_JSON, SOURCES, RtlBackend
from flows.errors import InputError, ToolError, ToolMissingError
from flows.hwlib import HLS_INCLUDE
from flows.layers.registry import KINDS
from flows.testbench import (
    COSIM_EXPECTED,
    COSIM_INPUT,
    TB_EXPECTED,
    TB_INPUT,
    write_testbench_data,
)

log = logging.getLogger(__name__)

HLS_TCL = "hls/hls.tcl"
VIVADO_TCL = "vivado/build.tcl"
# How each Vitis HLS front end runs the HLS script, in order of preference: `vitis_hls -f` is
# deprecated from 2024.2 on in favour of `vitis-run --mode hls --tcl`, which came in 2023.2.
HLS_COMMANDS = {
    "vitis_hls": ["vitis_hls", "-f", HLS_TCL],
    "vitis-run": ["vitis-run", "--mode", "hls", "--tcl", HLS_TCL],
}
VIVADO_COMMAND = ["vivado", "-mode", "batch", "-source", VIVADO_TCL]
# A backend's required tool that another tool can stand in for
TOOL_ALTERNATIVES = {"vitis_hls": tuple(HLS_COMMANDS)}


def finish_command(build_dir: Path, backend: str = "hls") -> str:
    """The one command that makes the bitstream on a machine with the backend's tools."""
    if backend == RtlBackend.name:
        return f"cd {build_dir} && {' '.join(VIVADO_COMMAND)}"
    return (
        f"cd {build_dir} && {' '.join(HLS_COMMANDS['vitis_hls'])} && {' '.join(VIVADO_COMMAND)}"
        f" (from Vitis 2024.2 on: {' '.join(HLS_COMMANDS['vitis-run'])} instead of vitis_hls)"
    )


def _kinds_lacking_rtl(build_dir: Path) -> list[str]:
    """The build's layer kinds (from report.json) that have no RTL kernel."""
    try:
        kinds = {
            row["kind"] for row in json.loads((build_dir / "report.json").read_text())["layers"]
        }
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return sorted(kinds - {k.op_type for k in KINDS if RtlBackend.name in k.backends})


def rtl_sources(build_dir: Path) -> RtlSources:
    """The RTL design's files as Vivado reads them (relative to the build directory): the
    Verilog of ``rtl/sources.f`` in its order and the memory files of ``rtl/design.json``.
    Exit 1 saying what to do when the build has no RTL design or lacks one of its files."""
    rtl = Path(build_dir) / "rtl"
    listing, info_path = rtl / SOURCES, rtl / DESIGN_JSON
    if not (listing.is_file() and info_path.is_file()):
        lacking = _kinds_lacking_rtl(Path(build_dir))
        hls = f"bitfab bitstream {build_dir} --backend hls"
        if lacking:
            raise InputError(
                f"{build_dir}: no RTL design (rtl/): there is no RTL kernel for "
                f"{', '.join(lacking)}, so the build has the HLS C++ only; make the bitstream "
                f"from that: {hls}"
            )
        raise InputError(
            f"{build_dir}: no RTL design (rtl/{SOURCES} and rtl/{DESIGN_JSON}): the build "
            "predates the RTL backend; render it with `bitfab build` (or `--from-step "
            f"codegen`), or make the bitstream from the HLS C++: {hls}"
        )
    try:
        verilog = listing.read_text().split()
        memories = json.loads(info_path.read_text())["memories"]
        if not verilog or not all(isinstance(m, str) for m in memories):
            raise TypeError
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise InputError(
            f"{rtl}: {SOURCES} or {DESIGN_JSON} is empty, unreadable or not bitfab's; render "
            "the design again with `bitfab build` (or `--from-step codegen`)"
        ) from None
    missing = [f for f in verilog + memories if not (rtl / f).is_file()]
    if missing:
        raise InputError(
            f"{rtl}: missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}; "
            "render the design again with `bitfab build` (or `--from-step codegen`)"
        )
    return RtlSources(tuple(f"rtl/{f}" for f in verilog), tuple(f"rtl/{m}" for m in memories))


def prepare(build_dir: Path, cosim: int = 0, backend: str = "hls") -> list[Path]:
    """Tool-free part: the HLS library copy, testbench data and the Vitis HLS / Vivado Tcl;
    ``cosim`` > 0 adds a C/RTL co-simulation on that many images to the HLS script. For the
    RTL backend only the Vivado Tcl, which reads the build's ``rtl/``."""
    if cosim < 0:
        raise InputError(f"--cosim takes a number of images (0 for none), not {cosim}")
    manifest = check_finished(build_dir)
    cfg = manifest["config"]
    board = get_board(cfg["board"])
    if backend == RtlBackend.name:
        if cosim:
            raise InputError(
                "--cosim co-simulates the HLS C++ in Vitis HLS, which --backend rtl does not "
                f"run; simulate the RTL with `bitfab rtlsim {build_dir}`"
            )
        return render_rtl_project(board, build_dir, float(cfg["clock_mhz"]), rtl_sources(build_dir))
    lib = build_dir / "hls" / "include" / "bitfab"
    if lib.exists():
        shutil.rmtree(lib)
    shutil.copytree(HLS_INCLUDE / "bitfab", lib)
    data = write_testbench_data(build_dir)
    if cosim:
        files = (COSIM_INPUT, COSIM_EXPECTED)
        data += write_testbench_data(build_dir, n=cosim, files=files)
    scripts = render_projects(
        board,
        build_dir,
        float(cfg["clock_mhz"]),
        tb_input=TB_INPUT,
        tb_expected=TB_EXPECTED,
        cosim=(cosim, COSIM_INPUT, COSIM_EXPECTED) if cosim else None,
    )
    return scripts + data


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


def _present(tool: str) -> str | None:
    """The tool on PATH that does ``tool``'s job (itself or an alternative), if any."""
    return next((t for t in TOOL_ALTERNATIVES.get(tool, (tool,)) if shutil.which(t)), None)


def _tool_name(tool: str) -> str:
    """``tool`` as a missing-tool message names it: "vitis_hls (or vitis-run)"."""
    first, *others = TOOL_ALTERNATIVES.get(tool, (tool,))
    return f"{first} (or {', '.join(others)})" if others else first


def done_message(build_dir: Path) -> str:
    """What `bitfab bitstream` says when the bitstream is made: where it is and the board run."""
    d = Path(build_dir)
    board = get_board(check_finished(d)["config"]["board"])
    bit = d / "deploy" / "bitfab.bit"
    return (
        f"bitstream {bit} and {bit.with_suffix('.hwh')} ready; "
        f"{board_run_text(board, f'{d}/deploy')}"
    )


def _ready_text(d: Path, backend: str, written: list[Path]) -> str:
    """What a run without the tools leaves ready in the build directory, and for which tools."""
    ready = ", ".join(str(p.relative_to(d)) for p in written)
    if backend == RtlBackend.name:
        return (
            f"{ready}, rtl/ (the Verilog top, its kernels and memory files) and deploy/ "
            "(driver + accel.json). On a machine with Vivado run"
        )
    return (
        f"{ready}, hls/top.cpp, hls/params/, hls/include/ (the kernel library) and deploy/ "
        "(driver + accel.json). On a machine with Vitis HLS and Vivado run"
    )


def run_bitstream(build_dir: str | Path, backend: str = "hls", cosim: int = 0) -> Path:
    d = Path(build_dir)
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; backends: {', '.join(sorted(BACKENDS))}")
    written = prepare(d, cosim=cosim, backend=backend)
    board = get_board(check_finished(d)["config"]["board"])
    required = BACKENDS[backend].REQUIRED_TOOLS
    missing = [_tool_name(t) for t in required if _present(t) is None]
    if missing:
        raise ToolMissingError(
            f"{' and '.join(missing)} not on PATH, so no bitstream was made. Ready in {d}: "
            f"{_ready_text(d, backend, written)}:\n  {finish_command(d, backend)}\n"
            f"then {board_run_text(board, f'{d}/deploy')}"
        )
    check_board_files(board)
    commands = [VIVADO_COMMAND]
    if "vitis_hls" in required:
        (d / HLS_LOG).unlink(missing_ok=True)  # the II check must not read an earlier run's log
        commands.insert(0, HLS_COMMANDS[_present("vitis_hls")])
    for cmd in commands:
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, cwd=d, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            out = proc.stdout + proc.stderr
            raise ToolError(f"{d}: `{' '.join(cmd)}` failed:\n{out[-3000:]}")
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
