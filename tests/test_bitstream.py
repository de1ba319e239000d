"""`bitfab bitstream` without vendor tools: everything tool-free is produced, exit code 2 and
the command that finishes the job; the board-files check before any tool runs; `vitis-run` in
place of `vitis_hls`; the testbench on the synthesizable code path; report parsers work on
Vivado-shaped text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from boards.board_files import missing_message
from boards.deploy import board_run_text, run_command
from boards.registry import get_board
from flows.bitstream import check_board_files, parse_timing, parse_utilization, vivado_install
from flows.errors import ToolMissingError
from tests.helpers import run_cli


def _stand_ins(monkeypatch, tmp_path: Path, *tools: str) -> Path:
    """Shell stand-ins for vendor tools, alone on PATH with the shell's own: each appends its
    name and arguments to calls.log in the directory it runs in and exits 0."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> calls.log\n')
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.path.dirname(shutil.which('sh'))}")
    monkeypatch.delenv("XILINX_VIVADO", raising=False)
    return bin_dir


@pytest.mark.csim
@pytest.mark.skipif(shutil.which("vivado") is not None, reason="vendor tools present")
def test_bitstream_without_tools_exits_2_with_instructions(built):
    d = built("tfc-w1a1")
    r = run_cli(["bitstream", d])
    assert r.exit_code == 2, r.stderr
    assert "vitis_hls (or vitis-run) and vivado not on PATH" in r.stderr
    assert (
        f"cd {d} && vitis_hls -f hls/hls.tcl && vivado -mode batch -source vivado/build.tcl "
        "(from Vitis 2024.2 on: vitis-run --mode hls --tcl hls/hls.tcl instead of vitis_hls)"
    ) in r.stderr
    # the board run command, and the PYNQ images the board needs, from the board
    assert board_run_text(get_board("pynq-z2"), f"{d}/deploy") in r.stderr
    assert run_command() in r.stderr and "PYNQ 2.7 to 3.x" in r.stderr
    assert (d / "hls" / "hls.tcl").exists() and (d / "vivado" / "build.tcl").exists()
    assert (d / "hls" / "include" / "bitfab" / "mvau.hpp").exists()
    assert "\ncosim_design " not in (d / "hls" / "hls.tcl").read_text()


@pytest.mark.csim
@pytest.mark.skipif(shutil.which("vivado") is not None, reason="vendor tools present")
def test_cosim_renders_cosim_design_on_n_images_with_their_testbench_data(built, tmp_path):
    d = Path(shutil.copytree(built("tfc-w1a1"), tmp_path / "b"))
    r = run_cli(["bitstream", d, "--cosim", "3"])
    assert r.exit_code == 2, r.stderr  # no vendor tools here: rendered, not run
    assert (
        'cosim_design -argv "$build_dir/hls/tb/cosim_input.bin '
        '$build_dir/hls/tb/cosim_expected.bin" -enable_dataflow_profiling'
    ) in (d / "hls" / "hls.tcl").read_text()
    tb = d / "hls" / "tb"
    for name in ("input", "expected"):  # 3 images against C-simulation's 8
        assert (tb / f"cosim_{name}.bin").stat().st_size * 8 == (
            (tb / f"{name}.bin").stat().st_size * 3
        )
    r = run_cli(["bitstream", d, "--cosim", "-1"])
    assert r.exit_code == 2 and "-1 is not in the range x>=0" in r.stderr


@pytest.mark.csim
@pytest.mark.parametrize("path", ["fast", "synthesizable"])
def test_vitis_testbench_passes_under_gxx_and_catches_a_wrong_byte(built, tmp_path, path):
    """The testbench csim_design runs, compiled here with g++: it feeds the design the DMA
    beats of the testbench data and compares bytes and TLAST with the dataflow reference.
    csim_design compiles the synthesizable path (-DBITFAB_NO_FAST_CSIM), as here."""
    from flows.bitstream import prepare
    from flows.sim.toolchain import CXXFLAGS, cxx, include_flags

    d = built("tfc-w1a1")
    prepare(d)
    exe = tmp_path / "tb"
    cmd = [cxx(), *CXXFLAGS, *include_flags(), "-I", str(d / "hls")]
    cmd += ["-DBITFAB_NO_FAST_CSIM"] if path == "synthesizable" else []
    cmd += [str(d / "hls" / "tb.cpp"), str(d / "hls" / "top.cpp"), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True)
    inp, exp = d / "hls" / "tb" / "input.bin", d / "hls" / "tb" / "expected.bin"
    r = subprocess.run([str(exe), str(inp), str(exp)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "8 images, every output equals the reference" in r.stdout
    wrong = tmp_path / "wrong.bin"
    data = bytearray(exp.read_bytes())
    data[len(data) // 2] ^= 1
    wrong.write_bytes(bytes(data))
    r = subprocess.run([str(exe), str(inp), str(wrong)], capture_output=True, text=True)
    assert r.returncode == 1 and "FAIL: image" in r.stderr


def test_bitstream_refuses_an_unfinished_build(tmp_path):
    r = run_cli(["bitstream", tmp_path])
    assert r.exit_code == 1 and "unfinished" in r.stderr


def test_parse_utilization_and_timing():
    util = """
+-------------------------+------+-------+-----------+-------+
|        Site Type        | Used | Fixed | Available | Util% |
+-------------------------+------+-------+-----------+-------+
| Slice LUTs              | 12345 |     0 |     53200 | 23.20 |
| Slice Registers         | 20000 |     0 |    106400 | 18.80 |
| Block RAM Tile          |   12.5 |     0 |       140 |  8.93 |
| DSPs                    |    4 |     0 |       220 |  1.82 |
"""
    assert parse_utilization(util) == {"LUT": 12345.0, "FF": 20000.0, "BRAM36": 12.5, "DSP": 4.0}
    timing = """
    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints
    -------      -------  ---------------------  -------------------
      1.234        0.000                      0                 1234
"""
    assert parse_timing(timing) == {"wns_ns": 1.234}


def test_bitstream_names_the_backends_it_knows(tmp_path):
    r = run_cli(["bitstream", tmp_path, "--backend", "vhdl"])
    assert r.exit_code == 1 and "unknown backend 'vhdl'; backends: hls, rtl" in r.stderr


# --- the board-files check before any tool runs


def _vivado_root(tmp_path: Path) -> Path:
    root = tmp_path / "Vivado" / "2024.1"
    (root / "data" / "boards" / "board_files").mkdir(parents=True)
    (root / "bin").mkdir()
    return root


def _board_xml(d: Path, vendor: str, name: str, version: str) -> Path:
    d.mkdir(parents=True)
    (d / "board.xml").write_text(
        f'<board schema_version="2.1" vendor="{vendor}" name="{name}" display_name="X">\n'
        f"<file_version>{version}</file_version>\n</board>\n"
    )
    return d / "board.xml"


def test_the_pre_launch_check_refuses_without_the_board_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = _vivado_root(tmp_path)
    board = get_board("pynq-z2")
    env = {"XILINX_VIVADO": str(root)}
    with pytest.raises(ToolMissingError) as e:
        check_board_files(board, env)
    assert str(e.value) == (
        f"{missing_message(board)}. Searched: {root / 'data' / 'boards'}; also checked by "
        "vivado/build.tcl with Vivado's own get_board_parts"
    )
    assert ToolMissingError.exit_code == 2
    # in Vivado's own board files, in $BITFAB_BOARD_FILES, in ~/.bitfab/board_files, in the store
    for where in (
        root / "data" / "boards" / "board_files" / "pynq-z2" / "A.0",
        tmp_path / "mine" / "pynq-z2" / "A.0",
        tmp_path / "home" / ".bitfab" / "board_files" / "pynq-z2" / "A.0",
        tmp_path / "home" / ".Xilinx" / "Vivado" / "2024.1" / "xhub" / "board_store" / "z2",
    ):
        xml = _board_xml(where, "tul.com.tw", "pynq-z2", "1.0")
        assert check_board_files(board, {**env, "BITFAB_BOARD_FILES": str(tmp_path / "mine")}) == (
            xml
        )
        shutil.rmtree(where)
    # another version of the files is not the board part build.tcl sets
    _board_xml(tmp_path / "mine" / "pynq-z2" / "B.0", "tul.com.tw", "pynq-z2", "1.1")
    with pytest.raises(ToolMissingError, match="tul.com.tw:pynq-z2:part0:1.0"):
        check_board_files(board, {**env, "BITFAB_BOARD_FILES": str(tmp_path / "mine")})


def test_the_pre_launch_check_leaves_what_it_cannot_see_to_vivado(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = _vivado_root(tmp_path)
    # zcu104's files ship with Vivado: wherever this Vivado keeps them, build.tcl checks
    assert check_board_files(get_board("zcu104"), {"XILINX_VIVADO": str(root)}) is None
    # no Vivado installation in sight (a vivado on PATH without data/ next to its bin/)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "vivado").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "vivado").chmod(0o755)
    env = {"PATH": str(tmp_path / "bin")}
    assert vivado_install(env) is None
    assert check_board_files(get_board("pynq-z2"), env) is None
    # the installation found from the vivado on PATH
    (root / "bin" / "vivado").write_text("#!/bin/sh\n")
    (root / "bin" / "vivado").chmod(0o755)
    assert vivado_install({"PATH": str(root / "bin")}) == root.resolve()


@pytest.mark.csim
def test_bitstream_refuses_before_any_tool_runs_without_board_files(built, tmp_path, monkeypatch):
    d = Path(shutil.copytree(built("tfc-w1a1"), tmp_path / "b"))
    _stand_ins(monkeypatch, tmp_path, "vitis_hls", "vivado")
    monkeypatch.setenv("XILINX_VIVADO", str(_vivado_root(tmp_path)))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    r = run_cli(["bitstream", d])
    assert r.exit_code == 2, r.stderr
    assert f"error: {missing_message(get_board('pynq-z2'))}. Searched: " in r.stderr
    assert not (d / "calls.log").exists()


@pytest.mark.csim
def test_vitis_run_stands_in_for_vitis_hls(built, tmp_path, monkeypatch):
    d = Path(shutil.copytree(built("tfc-w1a1"), tmp_path / "b"))
    _stand_ins(monkeypatch, tmp_path, "vitis-run", "vivado")
    (d / "vitis_hls.log").write_text("an earlier run's log\n")
    r = run_cli(["bitstream", d])
    assert r.exit_code == 0, r.stderr
    assert (d / "calls.log").read_text().splitlines() == [
        "vitis-run --mode hls --tcl hls/hls.tcl",
        "vivado -mode batch -source vivado/build.tcl",
    ]
    assert not (d / "vitis_hls.log").exists()  # the II check reads this run's log only
    # the finishing message gives the board run command and the PYNQ images
    assert r.stdout == (
        f"bitstream {d}/deploy/bitfab.bit and {d}/deploy/bitfab.hwh ready; "
        f"{board_run_text(get_board('pynq-z2'), f'{d}/deploy')}\n"
    )
