"""Exit codes DESIGN.md promises beyond bad input: 2 when a tool is present but fails (g++,
vitis_hls, vivado), as when it is missing; and a bug is never turned into a message."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from flows.errors import ToolError, ToolMissingError
from flows.sim.csim import compile_csim
from tests.helpers import run_cli


def _tools_on_path(monkeypatch, tmp_path, **scripts: str) -> None:
    """Put shell-script stand-ins for the named tools first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_missing_tool_is_a_tool_error():
    assert issubclass(ToolMissingError, ToolError)
    assert ToolMissingError.exit_code == ToolError.exit_code == 2


@pytest.mark.csim
def test_a_generated_source_that_does_not_compile_is_a_tool_error(tmp_path):
    hls = tmp_path / "hls"
    hls.mkdir()
    (hls / "csim_harness.cpp").write_text("this is not C++\n")
    with pytest.raises(ToolError, match=r"hls: g\+\+ failed to compile the generated design:\n"):
        compile_csim(hls, tmp_path / "sim")
    assert list((tmp_path / "sim").iterdir()) == []  # neither a library nor its temporary file


def test_a_failing_compiler_exits_2_and_the_build_is_marked_failed(tmp_path, zoo_onnx, monkeypatch):
    _tools_on_path(
        monkeypatch, tmp_path, **{"g++": 'echo "g++ stand-in: out of memory" >&2; exit 1'}
    )
    out = tmp_path / "o"
    r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--out", out])
    assert r.exit_code == 2, r.stderr
    assert f"error: {out / 'hls'}: g++ failed to compile the generated design:\n" in r.stderr
    assert "g++ stand-in: out of memory" in r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["steps"]["csim"] == "failed"


@pytest.mark.csim  # the build it starts from compiles the C-simulation
@pytest.mark.parametrize(
    ("failing", "command"),
    [
        ("vitis_hls", "vitis_hls -f hls/hls.tcl"),
        ("vivado", "vivado -mode batch -source vivado/build.tcl"),
    ],
)
def test_a_failing_vendor_tool_exits_2(tmp_path, built, monkeypatch, failing, command):
    d = shutil.copytree(built("tfc-w1a1"), tmp_path / "b")
    _tools_on_path(
        monkeypatch,
        tmp_path,
        **{
            tool: f'echo "{tool} stand-in: ERROR: licence expired"; exit {int(tool == failing)}'
            for tool in ("vitis_hls", "vivado")
        },
    )
    r = run_cli(["bitstream", d])
    assert r.exit_code == 2, r.stderr
    assert f"error: {d}: `{command}` failed:\n{failing} stand-in: ERROR: licence expired" in (
        r.stderr
    )
    assert not (d / "deploy" / "bitfab.bit").exists()


def test_a_bug_is_not_turned_into_a_message(tmp_path, monkeypatch):
    """An exception without an exit code is a bug: the CLI lets it through (as a traceback)."""

    def broken(cfg, progress=None):
        raise KeyError("a bug")

    monkeypatch.setattr("flows.build.run_build", broken)
    with pytest.raises(KeyError, match="a bug"):
        run_cli(["build", "tfc-w1a1", "--out", tmp_path / "o"])
