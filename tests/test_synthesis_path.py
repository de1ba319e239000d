"""What only Vitis compiles, compiled here: the synthesizable kernel path runs the generated
Vitis testbench, and the ROM initializers of the ``#ifdef __SYNTHESIS__`` branch of every
parameter header equal, word for word, the compiled-in tables g++ loads (Vitis C-simulation)
and the tables our C-sim library loads from the data files (``BITFAB_PARAMS_FROM_FILES``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from flows.sim.toolchain import CXXFLAGS, cxx, include_flags

pytestmark = pytest.mark.csim


def _run_testbench_on_synthesizable_path(build: Path, tmp_path: Path) -> str:
    from flows.bitstream import prepare

    prepare(build)  # writes hls/tb/{input,expected}.bin (8 images) next to tb.cpp
    exe = tmp_path / "tb_hw"
    cmd = [cxx(), *CXXFLAGS, "-DBITFAB_NO_FAST_CSIM", *include_flags(), "-I", str(build / "hls")]
    cmd += [str(build / "hls" / "tb.cpp"), str(build / "hls" / "top.cpp"), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True)
    tb = build / "hls" / "tb"
    r = subprocess.run(
        [str(exe), str(tb / "input.bin"), str(tb / "expected.bin")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_vitis_testbench_passes_on_the_synthesizable_path(built, tmp_path):
    out = _run_testbench_on_synthesizable_path(built("tfc-w1a1"), tmp_path)
    assert "8 images, every output equals the reference" in out


@pytest.mark.slow
def test_cnv_testbench_passes_on_the_synthesizable_path(built, tmp_path):
    out = _run_testbench_on_synthesizable_path(built("cnv-w1a1"), tmp_path)
    assert "8 images, every output equals the reference" in out


def _dumper(params: list[Path]) -> str:
    """A program printing every weight and threshold word of the given parameter headers
    (filled from the data files in argv[1] first when built with BITFAB_PARAMS_FROM_FILES)."""
    lines = [
        "#include <ap_int.h>",
        "#include <hls_stream.h>",
        "#include <cstdio>",
        "#ifdef DUMP_SYNTHESIS_TABLES",
        "#define __SYNTHESIS__  // after the ap_types: only our headers see it",
        "#endif",
        '#include "bitfab/bitfab.hpp"',
        *[f'#include "params/{p.name}"' for p in params],
        "template <class T> void dump(const char* name, const T* first, unsigned long n) {",
        "  for (unsigned long i = 0; i < n; i++)",
        '    std::printf("%s[%lu]=%s\\n", name, i, first[i].to_string(16).c_str());',
        "}",
        "int main(int argc, char** argv) {",
        "#ifdef BITFAB_PARAMS_FROM_FILES",
        "  std::string why = bitfab::load_param_files(argv[1]);",
        '  if (!why.empty()) { std::fprintf(stderr, "%s\\n", why.c_str()); return 1; }',
        "#endif",
    ]
    for p in params:
        text, c = p.read_text(), p.stem
        if f"{c}_weights[" in text:
            lines.append(f'  dump("{c}_weights", &{c}_weights[0][0], sizeof({c}_weights) / ')
            lines.append(f"       sizeof({c}_weights[0][0]));")
        if f"{c}.thresholds.bin" in text:
            t = f"{c}_activation.thresholds"
            lines.append(f'  dump("{t}", &{t}[0][0][0], sizeof({t}) / sizeof({t}[0][0][0]));')
    return "\n".join([*lines, "  return 0;", "}", ""])


DUMP_MODES = {
    "synthesis": ["-DDUMP_SYNTHESIS_TABLES"],  # the ROM initializers Vitis synthesizes
    "compiled-in": [],  # the plain integer tables of Vitis C-simulation
    "data files": ["-DBITFAB_PARAMS_FROM_FILES"],  # our C-sim library's
}


def _tables(build: Path, tmp_path: Path, mode: str) -> list[str]:
    src = tmp_path / "dump.cpp"
    params = sorted((build / "hls" / "params").glob("*.h"))
    src.write_text(_dumper(params))
    exe = tmp_path / f"dump_{mode.replace(' ', '_')}"
    cmd = [cxx(), *CXXFLAGS, "-O0", *DUMP_MODES[mode], *include_flags(), "-I", str(build / "hls")]
    subprocess.run([*cmd, str(src), "-o", str(exe)], check=True, capture_output=True)
    r = subprocess.run([str(exe), str(build / "hls" / "params")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.mark.parametrize("model", ["tfc-w1a1", "tfc-w2a2"])
def test_synthesis_tables_equal_the_csim_tables(built, tmp_path, model):
    build = built(model)
    synth = _tables(build, tmp_path, "synthesis")
    assert synth == _tables(build, tmp_path, "compiled-in")
    assert synth == _tables(build, tmp_path, "data files")
    names = {re.sub(r"\[\d+\]=.*", "", line) for line in synth}
    assert any(n.endswith("_weights") for n in names)
    assert any(n.endswith(".thresholds") for n in names)
    assert len(synth) > 100
