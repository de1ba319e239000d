"""`bitfab bitstream` without vendor tools: everything tool-free is produced, exit code 2 and
the command that finishes the job; report parsers work on Vivado-shaped text."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from flows.bitstream import parse_timing, parse_utilization

BITFAB = [sys.executable, "-m", "flows.cli"]


@pytest.mark.csim
@pytest.mark.skipif(shutil.which("vivado") is not None, reason="vendor tools present")
def test_bitstream_without_tools_exits_2_with_instructions(built):
    d = built("tfc-w1a1")
    r = subprocess.run([*BITFAB, "bitstream", str(d)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "vitis_hls and vivado not on PATH" in r.stderr and "Traceback" not in r.stderr
    assert f"cd {d} && vitis_hls -f hls/hls.tcl && vivado -mode batch -source vivado/build.tcl" in (
        r.stderr
    )
    assert (d / "hls" / "hls.tcl").exists() and (d / "vivado" / "build.tcl").exists()
    assert (d / "hls" / "include" / "bitfab" / "mvau.hpp").exists()


def test_bitstream_refuses_an_unfinished_build(tmp_path):
    r = subprocess.run([*BITFAB, "bitstream", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "unfinished" in r.stderr


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
