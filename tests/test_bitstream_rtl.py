"""`bitfab bitstream DIR --backend rtl`: the Vivado project of the RTL backend. Its Tcl reads
every Verilog and memory file of rtl/, makes the Verilog top a module reference in the HLS
flow's block design (same cell, same connections and checks) and runs under the tclsh
stand-ins of Vivado's commands to the end; no Vitis HLS step anywhere. Without vivado: exit 2
and the one command; without an RTL design: exit 1 and what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from boards.deploy import board_run_text
from boards.registry import get_board
from boards.vivado import RtlSources, render_projects, render_rtl_project
from tests.helpers import run_cli
from tests.test_bitstream import _stand_ins
from tests.test_board_projects import BIT, _build_dir, _calls, _fails, _opt, _run

needs_tclsh = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")

VERILOG = ("bitfab_fifo.v", "bitfab_ctrl.v", "bitfab_top.v")
MEMORIES = ("mvau_0_thresholds.mem", "mvau_0_weights.mem")


def _fake_rtl(d: Path) -> RtlSources:
    """An rtl/ as the RTL backend writes it, with dummy contents: the Tcl needs only the lists
    (rtl/sources.f in compile order, design.json's memories) and the files being there."""
    rtl = d / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    for f in VERILOG:
        (rtl / f).write_text(f"module {f[:-2]}; endmodule\n")
    for m in MEMORIES:
        (rtl / m).write_text("00\n01\n")
    (rtl / "sources.f").write_text("".join(f + "\n" for f in VERILOG))
    info = {"top": "bitfab_top", "sources": list(VERILOG), "memories": list(MEMORIES)}
    (rtl / "design.json").write_text(json.dumps(info, indent=2) + "\n")
    return RtlSources(tuple(f"rtl/{f}" for f in VERILOG), tuple(f"rtl/{m}" for m in MEMORIES))


def _rtl_files(d: Path) -> tuple[list[str], list[str]]:
    """The build's Verilog (rtl/sources.f) and memory files (design.json), build-relative."""
    rtl = d / "rtl"
    memories = json.loads((rtl / "design.json").read_text())["memories"]
    return (
        [f"rtl/{f}" for f in (rtl / "sources.f").read_text().split()],
        [f"rtl/{m}" for m in memories],
    )


def _with_rtl(build: Path, tmp_path: Path) -> Path:
    """A copy of a finished build with an rtl/: its own where the build rendered one, else a
    fake (the RTL kernels of every layer kind are not in yet)."""
    d = Path(shutil.copytree(build, tmp_path / "b"))
    if not (d / "rtl" / "design.json").exists():
        _fake_rtl(d)
    return d


def _check_walk(d: Path, viv: list[list[str]], board_name: str, verilog, memories) -> None:
    """What the RTL project does under the stand-ins, from board files to bitstream."""
    board = get_board(board_name)
    order = [c[0] for c in viv]
    # no HLS IP: no IP repository, no catalog update, no HLS cell
    assert "update_ip_catalog" not in order
    assert not [p for p in _calls(viv, "set_property") if p[0] == "ip_repo_paths"]
    (proj,) = _calls(viv, "create_project")
    assert _opt(proj, "-part") == board.part
    # every Verilog file in compile order, then every memory file, as project sources
    src, *mem = _calls(viv, "add_files")
    assert src[:3] == ["-norecurse", "-fileset", "sources_1"]
    assert src[3].split() == [str(d / f) for f in verilog]
    if memories:
        (mem,) = mem
        assert mem[:3] == ["-norecurse", "-fileset", "sources_1"]
        assert mem[3].split() == [str(d / m) for m in memories]
        (ftype,) = [p for p in _calls(viv, "set_property") if p[0] == "file_type"]
        assert ftype[1] == "Memory File" and ftype[2].split() == [str(d / m) for m in memories]
    else:
        assert mem == []
    assert _calls(viv, "update_compile_order") == [["-fileset", "sources_1"]]
    assert order.index("create_project") < order.index("add_files")
    assert order.index("update_compile_order") < order.index("create_bd_design")
    # the accelerator is the Verilog top by module reference, in the cell the driver knows
    cells = _calls(viv, "create_bd_cell")
    assert ["-type", "module", "-reference", "bitfab_top", "bitfab_top_0"] in cells
    assert sorted(c[-1] for c in cells) == ["bitfab_top_0", "idma0", "odma0", "ps"]
    # connected as the HLS IP is: streams to the DMAs, control on the PS master
    assert _calls(viv, "connect_bd_intf_net") == [
        ["idma0/M_AXIS_MM2S", "bitfab_top_0/s_axis"],
        ["bitfab_top_0/m_axis", "odma0/S_AXIS_S2MM"],
    ]
    master = {"zynq7": "M_AXI_GP0", "zynq_us+": "M_AXI_HPM0_FPD"}[board.ps]
    ctl = [a for a in _calls(viv, "apply_bd_automation") if a[-1] == "bitfab_top_0/s_axi_control"]
    assert len(ctl) == 1 and f'Master "/ps/{master}"' in _opt(ctl[0], "-config")
    # and to the end: runs checked, slack checked, bitstream and handoff into deploy/
    assert _calls(viv, "wait_on_run") == [["synth_1"], ["impl_1"]]
    assert [c[1] for c in _calls(viv, "bitfab_copy")] == ["deploy/bitfab.bit", "deploy/bitfab.hwh"]
    assert order[-1] == "bitfab_copy"


# --- the Tcl


@needs_tclsh
@pytest.mark.parametrize("name", ["pynq-z2", "zcu104", "kv260"])
def test_rtl_project_runs_under_stub_tcl_to_the_bitstream(tmp_path, name):
    d = _build_dir(tmp_path)
    rtl = _fake_rtl(d)
    paths = render_rtl_project(get_board(name), d, 100.0, rtl)
    assert paths == [d / "vivado" / "build.tcl"]
    assert not (d / "hls" / "hls.tcl").exists()  # no Vitis HLS step
    viv = _run(d, "vivado/build.tcl")
    _check_walk(d, viv, name, rtl.verilog, rtl.memories)


@needs_tclsh
def test_rtl_project_without_memory_files(tmp_path):
    d = _build_dir(tmp_path)
    rtl = _fake_rtl(d)
    rtl = RtlSources(rtl.verilog, ())
    render_rtl_project(get_board("pynq-z2"), d, 100.0, rtl)
    _check_walk(d, _run(d, "vivado/build.tcl"), "pynq-z2", rtl.verilog, ())


def test_rtl_project_renders_deterministically_naming_every_file_and_no_hls(tmp_path):
    board = get_board("pynq-z2")
    texts = []
    for sub in ("a", "b"):
        d = _build_dir(tmp_path / sub)
        (path,) = render_rtl_project(board, d, 100.0, _fake_rtl(d))
        texts.append(path.read_bytes())
    assert texts[0] == texts[1]
    text = texts[0].decode()
    assert str(tmp_path) not in text  # build-relative paths only
    for f in (*VERILOG, *MEMORIES):
        assert f'"rtl/{f}"' in text
    assert "hls" not in text.lower() and "vitis" not in text.lower()
    assert "create_bd_cell -type module -reference bitfab_top bitfab_top_0\n" in text
    # one template: past the accelerator cell, the RTL and HLS scripts are the same text
    hls = render_projects(board, _build_dir(tmp_path / "h"), 100.0)[1].read_text()
    tail = "\n# Streams: "
    assert text[text.index(tail) :] == hls[hls.index(tail) :]
    with pytest.raises(ValueError, match="at least one Verilog file"):
        render_rtl_project(board, d, 100.0, RtlSources((), ()))


@needs_tclsh
def test_a_missing_rtl_file_stops_vivado_before_the_project(tmp_path):
    d = _build_dir(tmp_path)
    render_rtl_project(get_board("pynq-z2"), d, 100.0, _fake_rtl(d))
    (d / "rtl" / MEMORIES[1]).unlink()
    msg, viv = _fails(d, "vivado/build.tcl")
    assert msg == (
        f"bitfab: rtl/{MEMORIES[1]} is missing; render the design again with `bitfab build` "
        "(--from-step codegen)"
    )
    assert "create_project" not in [c[0] for c in viv]


# --- `bitfab bitstream --backend rtl`


@pytest.mark.csim
def test_bitstream_rtl_without_vivado_exits_2_with_the_one_command(built, tmp_path, monkeypatch):
    d = _with_rtl(built("tfc-w1a1"), tmp_path)
    (d / "hls" / "hls.tcl").unlink(missing_ok=True)  # from an HLS `bitfab bitstream` on it
    _stand_ins(monkeypatch, tmp_path, "vitis_hls")  # Vitis HLS does not make up for Vivado
    r = run_cli(["bitstream", d, "--backend", "rtl"])
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith(
        f"error: vivado not on PATH, so no bitstream was made. Ready in {d}: vivado/build.tcl, "
        "rtl/ (the Verilog top, its kernels and memory files) and deploy/ (driver + "
        "accel.json). On a machine with Vivado run:\n"
        f"  cd {d} && vivado -mode batch -source vivado/build.tcl\n"
        f"then {board_run_text(get_board('pynq-z2'), f'{d}/deploy')}"
    ), r.stderr
    assert "vitis" not in r.stderr.lower()
    assert not (d / "hls" / "hls.tcl").exists() and not (d / "calls.log").exists()
    # the rendered project names the build's own files, and runs to the bitstream
    text = (d / "vivado" / "build.tcl").read_text()
    verilog, memories = _rtl_files(d)
    for f in verilog + memories:
        assert f'"{f}"' in text
    if shutil.which("tclsh"):
        for f in (BIT, "bitfab.hwh"):
            (d / f).parent.mkdir(parents=True, exist_ok=True)
            (d / f).write_bytes(b"\0")
        _check_walk(d, _run(d, "vivado/build.tcl"), "pynq-z2", verilog, memories)


@pytest.mark.csim
def test_bitstream_rtl_runs_vivado_alone(built, tmp_path, monkeypatch):
    d = _with_rtl(built("tfc-w1a1"), tmp_path)
    _stand_ins(monkeypatch, tmp_path, "vitis_hls", "vivado")
    r = run_cli(["bitstream", d, "--backend", "rtl"])
    assert r.exit_code == 0, r.stderr
    assert (d / "calls.log").read_text().splitlines() == [
        "vivado -mode batch -source vivado/build.tcl"
    ]
    assert r.stdout == (
        f"bitstream {d}/deploy/bitfab.bit and {d}/deploy/bitfab.hwh ready; "
        f"{board_run_text(get_board('pynq-z2'), f'{d}/deploy')}\n"
    )


@pytest.mark.csim
def test_bitstream_rtl_refuses_a_build_without_an_rtl_design(built, tmp_path, monkeypatch):
    d = Path(shutil.copytree(built("tfc-w1a1"), tmp_path / "b"))
    shutil.rmtree(d / "rtl", ignore_errors=True)
    _stand_ins(monkeypatch, tmp_path, "vivado")
    report = json.loads((d / "report.json").read_text())
    # a layer kind without an RTL kernel (a plug-in's, say): the build has no rtl/
    layers = report["layers"]
    report["layers"] = [{**layers[0], "kind": "NoRtlKernel"}, *layers[1:]]
    (d / "report.json").write_text(json.dumps(report))
    r = run_cli(["bitstream", d, "--backend", "rtl"])
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith(f"error: {d}: no RTL design (rtl/): there is no RTL kernel for ")
    listed = r.stderr.split("RTL kernel for ")[1].split(", so the build")[0].split(", ")
    assert "NoRtlKernel" in listed
    assert r.stderr.endswith(
        f", so the build has the HLS C++ only; make the bitstream from that: "
        f"bitfab bitstream {d} --backend hls\n"
    )
    # every kind has its RTL kernel: a build from before the RTL backend
    report["layers"] = []
    (d / "report.json").write_text(json.dumps(report))
    r = run_cli(["bitstream", d, "--backend", "rtl"])
    assert r.exit_code == 1, r.stderr
    assert r.stderr == (
        f"error: {d}: no RTL design (rtl/sources.f and rtl/design.json): the build predates the "
        "RTL backend; render it with `bitfab build` (or `--from-step codegen`), or make the "
        f"bitstream from the HLS C++: bitfab bitstream {d} --backend hls\n"
    )
    # an rtl/ that lacks one of its files
    _fake_rtl(d)
    (d / "rtl" / MEMORIES[0]).unlink()
    r = run_cli(["bitstream", d, "--backend", "rtl"])
    assert r.exit_code == 1, r.stderr
    assert f"{d / 'rtl'}: missing {MEMORIES[0]}; render the design again" in r.stderr
    # co-simulation is a Vitis HLS step
    _fake_rtl(d)
    r = run_cli(["bitstream", d, "--backend", "rtl", "--cosim", "2"])
    assert r.exit_code == 1 and f"simulate the RTL with `bitfab rtlsim {d}`" in r.stderr
    assert not (d / "calls.log").exists()
