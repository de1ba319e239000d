"""`bitfab bitstream` without vendor tools: everything tool-free is produced, exit code 2 and
the command that finishes the job; report parsers work on Vivado-shaped text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from flows.bitstream import parse_timing, parse_utilization
from tests.helpers import run_cli


@pytest.mark.csim
@pytest.mark.skipif(shutil.which("vivado") is not None, reason="vendor tools present")
def test_bitstream_without_tools_exits_2_with_instructions(built):
    d = built("tfc-w1a1")
    r = run_cli(["bitstream", d])
    assert r.exit_code == 2, r.stderr
    assert "vitis_hls and vivado not on PATH" in r.stderr
    assert f"cd {d} && vitis_hls -f hls/hls.tcl && vivado -mode batch -source vivado/build.tcl" in (
        r.stderr
    )
    assert (d / "hls" / "hls.tcl").exists() and (d / "vivado" / "build.tcl").exists()
    assert (d / "hls" / "include" / "bitfab" / "mvau.hpp").exists()


@pytest.mark.csim
def test_vitis_testbench_passes_under_gxx_and_catches_a_wrong_byte(built, tmp_path):
    """The testbench csim_design runs, compiled here with g++: it feeds the design the DMA
    beats of the testbench data and compares bytes and TLAST with the dataflow reference."""
    from flows.bitstream import prepare
    from flows.sim.toolchain import CXXFLAGS, cxx, include_flags

    d = built("tfc-w1a1")
    prepare(d)
    exe = tmp_path / "tb"
    cmd = [cxx(), *CXXFLAGS, *include_flags(), "-I", str(d / "hls")]
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
    assert r.exit_code == 1 and "unknown backend 'vhdl'; backends: hls" in r.stderr
