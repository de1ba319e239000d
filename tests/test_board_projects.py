"""Every board's Vitis HLS and Vivado scripts run under tclsh with stub vendor commands."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from boards.board_files import missing_message
from boards.registry import BOARDS, get_board
from boards.vivado import render_projects

pytestmark = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")

# The vendor commands the scripts may call; each logs "name<TAB>arg<TAB>arg..." and returns a
# plausible value. Any other unknown command is an error, so a misspelt command fails the test.
VENDOR_COMMANDS = """
open_project set_top add_files open_solution set_part create_clock csim_design csynth_design
cosim_design export_design
create_project set_property get_property current_project current_fileset update_ip_catalog
get_param set_param get_board_parts
get_ipdefs create_bd_design create_bd_cell get_bd_cells get_bd_pins get_bd_intf_pins
connect_bd_intf_net connect_bd_net apply_bd_automation assign_bd_address validate_bd_design
save_bd_design make_wrapper get_files launch_runs wait_on_run get_runs open_run
get_filesets update_compile_order
report_utilization report_timing_summary bitfab_copy
""".split()

# What a run of the real flow leaves where the scripts look: Vitis HLS' log (every loop met its
# II), the bitstream in impl_1's run directory and the hardware handoff where get_files finds it.
CLEAN_HLS_LOG = """\
INFO: [HLS 200-10] -- Scheduling module 'mvau_Pipeline_VITIS_LOOP_359_1'
INFO: [HLS 200-1470] Pipelining result : Target II = 1, Final II = 1, Depth = 4, loop 'L'
"""
BIT = "vivado/project/bitfab.runs/impl_1/bitfab_wrapper.bit"
HWH_GEN = "vivado/project/bitfab.gen/sources_1/bd/bitfab/hw_handoff/bitfab.hwh"

# Return values a test can change: ``stub`` maps "command" or "get_property PROPERTY" to what it
# returns (a Tcl word); the rest return their last argument.
STUB_DEFAULTS = {
    "get_ipdefs": None,  # the pattern with "*" -> "9.9"
    "get_property DIRECTORY": "vivado/project/bitfab.runs/impl_1",
    "get_property PROGRESS": "100%",
    "get_property STATUS": "{write_bitstream Complete!}",
    "get_property STATS.WNS": "0.412",
    "get_param": "{}",
    "current_project": "bitfab",
    "current_fileset": "sources_1",
}

PRELUDE = """
set ::stub_log [open stub.log w]
array set ::stub {%s}
proc stub_call {name args} {
    puts $::stub_log [join [concat [list $name] $args] "\\t"]
    flush $::stub_log
    foreach key [list "$name [lindex $args 0] [lindex $args 1]" "$name [lindex $args 0]" $name] {
        if {[info exists ::stub($key)]} { return $::stub($key) }
    }
    switch -- $name {
        get_ipdefs { return [string map {* 9.9} [lindex $args end]] }
        default { return [lindex $args end] }
    }
}
foreach cmd {%s} { proc $cmd {args} "stub_call $cmd {*}\\$args" }
rename exit real_exit
proc exit {args} { stub_call exit {*}$args }
proc unknown {args} { error "not a vendor command in the stub list: [lindex $args 0]" }
source %s
close $::stub_log
"""


def _stub_array(stub: dict[str, str | None]) -> str:
    return " ".join(f"{{{k}}} {v}" for k, v in stub.items() if v is not None)


def _runner(build_dir: Path, script: str, stub: dict[str, str | None] | None) -> list[str]:
    runner = build_dir / "run_stub.tcl"
    values = _stub_array({**STUB_DEFAULTS, **(stub or {})})
    runner.write_text(PRELUDE % (values, " ".join(VENDOR_COMMANDS), script))
    return ["tclsh", str(runner)]


def _env(build_dir: Path, env: dict[str, str] | None) -> dict[str, str]:
    """The tools' environment: HOME in the build directory, no BITFAB_* but the test's own."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BITFAB_")}
    return {**base, "HOME": str(build_dir / "home"), **(env or {})}


def _run(build_dir: Path, script: str, stub: dict[str, str | None] | None = None, env=None):
    """Run a script under the stub; the log of vendor calls, as lists of words."""
    cmd = _runner(build_dir, script, stub)
    try:
        subprocess.run(
            cmd, check=True, cwd=build_dir, capture_output=True, env=_env(build_dir, env)
        )
    except subprocess.CalledProcessError as e:
        pytest.fail(f"tclsh {script} failed:\n{e.stderr.decode()}")
    lines = (build_dir / "stub.log").read_text().splitlines()
    return [line.split("\t") for line in lines]


def _fails(
    build_dir: Path, script: str, stub: dict[str, str | None] | None = None, env=None
) -> tuple[str, list[list[str]]]:
    """Run a script that must stop with an error: its message and the vendor calls before it."""
    cmd = _runner(build_dir, script, stub)
    r = subprocess.run(cmd, cwd=build_dir, capture_output=True, text=True, env=_env(build_dir, env))
    assert r.returncode != 0, f"tclsh {script} did not fail"
    lines = (build_dir / "stub.log").read_text().splitlines()
    return r.stderr.split("\n    while executing")[0], [line.split("\t") for line in lines]


def _calls(log: list[list[str]], name: str) -> list[list[str]]:
    return [c[1:] for c in log if c[0] == name]


def _opt(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def _build_dir(tmp_path: Path) -> Path:
    d = tmp_path / "build"
    (d / "hls").mkdir(parents=True)
    (d / "hls" / "top.cpp").write_text("// fake top\n")
    (d / "hls" / "tb.cpp").write_text("// fake testbench\n")
    (d / "hls" / "tb").mkdir()
    for f in ("input.bin", "expected.bin"):
        (d / "hls" / "tb" / f).write_bytes(b"\0")
    (d / "vitis_hls.log").write_text(CLEAN_HLS_LOG)
    for f in (BIT, "bitfab.hwh"):
        (d / f).parent.mkdir(parents=True, exist_ok=True)
        (d / f).write_bytes(b"\0")
    return d


@pytest.mark.parametrize("clock", ["default", 125.0])
@pytest.mark.parametrize("name", sorted(BOARDS))
def test_projects_run_under_stub_tcl(tmp_path, name, clock):
    board = get_board(name)
    mhz = board.default_clock_mhz if clock == "default" else clock
    d = _build_dir(tmp_path)
    paths = render_projects(board, d, mhz)
    assert paths == [d / "hls" / "hls.tcl", d / "vivado" / "build.tcl"]
    for p in paths:
        assert str(tmp_path) not in p.read_text()  # relative paths only

    hls = _run(d, "hls/hls.tcl")
    assert [c[0] for c in hls][-1] == "exit"
    assert _calls(hls, "set_top") == [["bitfab_top"]]
    assert _calls(hls, "set_part") == [[board.part]]
    (clk,) = _calls(hls, "create_clock")
    assert float(_opt(clk, "-period")) == pytest.approx(1000.0 / mhz, rel=1e-5)
    assert _opt(clk, "-name") == "default"
    src, tb = _calls(hls, "add_files")
    assert src[0] == "hls/top.cpp" and (d / src[0]).is_file()
    assert tb[:2] == ["-tb", "hls/tb.cpp"] and (d / tb[1]).is_file()
    for files in (src, tb):
        flags = _opt(files, "-cflags").split()
        assert "-std=c++14" in flags and "-DBITFAB_AP_AXI" in flags
        assert f"-I{d}/hls/include" in flags and f"-I{d}/hls" in flags
    # simulation compiles the synthesizable path; synthesis gets it from __SYNTHESIS__ alone
    assert "-DBITFAB_NO_FAST_CSIM" not in _opt(src, "-cflags").split()
    assert _opt(src, "-csimflags").split() == ["-DBITFAB_NO_FAST_CSIM"]
    assert "-DBITFAB_NO_FAST_CSIM" in _opt(tb, "-cflags").split()
    (csim,) = _calls(hls, "csim_design")
    argv = _opt(csim, "-argv").split()
    assert argv == [f"{d}/hls/tb/input.bin", f"{d}/hls/tb/expected.bin"]
    assert all(Path(a).is_file() for a in argv)
    assert _calls(hls, "csynth_design") == [[]]
    order = [c[0] for c in hls]
    assert order.index("csim_design") < order.index("csynth_design")
    assert _calls(hls, "cosim_design") == []  # only with --cosim
    (exp,) = _calls(hls, "export_design")
    assert _opt(exp, "-format") == "ip_catalog" and _opt(exp, "-ipname") == "bitfab_top"

    viv = _run(d, "vivado/build.tcl")
    assert _calls(viv, "get_board_parts") == [["-quiet", board.board_files.part]]
    assert _calls(viv, "set_param") == []  # no board-file directory of ours exists here
    (proj,) = _calls(viv, "create_project")
    assert proj[:2] == ["bitfab", "vivado/project"] and _opt(proj, "-part") == board.part
    props = _calls(viv, "set_property")
    assert ["board_part", board.board_files.part, "bitfab"] in props
    cells = {c[-1]: c[c.index("-vlnv") + 1] for c in _calls(viv, "create_bd_cell")}
    ps_ip = {"zynq7": "processing_system7", "zynq_us+": "zynq_ultra_ps_e"}[board.ps]
    assert cells == {
        "ps": f"xilinx.com:ip:{ps_ip}:9.9",
        "idma0": "xilinx.com:ip:axi_dma:9.9",
        "odma0": "xilinx.com:ip:axi_dma:9.9",
        "bitfab_top_0": "bitfab:hls:bitfab_top:1.0",
    }
    dicts = {
        p[-1]: dict(zip(p[1].split()[::2], p[1].split()[1::2])) for p in props if p[0] == "-dict"
    }
    hp, width, fclk = {
        "zynq7": (
            "CONFIG.PCW_USE_S_AXI_HP0",
            "CONFIG.PCW_S_AXI_HP0_DATA_WIDTH",
            "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ",
        ),
        "zynq_us+": (
            "CONFIG.PSU__USE__S_AXI_GP2",
            "CONFIG.PSU__SAXIGP2__DATA_WIDTH",
            "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ",
        ),
    }[board.ps]
    assert dicts["ps"][hp] == "1" and int(dicts["ps"][width]) == board.hp_port_bits
    assert float(dicts["ps"][fclk]) == mhz
    for dma in ("idma0", "odma0"):
        assert dicts[dma]["CONFIG.c_include_sg"] == "0"
        assert dicts[dma]["CONFIG.c_sg_length_width"] == "26"
    # the DMAs' streams are as wide as the design's edge (accel.json "beat_bits")
    assert int(dicts["idma0"]["CONFIG.c_m_axis_mm2s_tdata_width"]) == board.hp_port_bits
    assert int(dicts["odma0"]["CONFIG.c_s_axis_s2mm_tdata_width"]) == board.hp_port_bits
    assert _calls(viv, "connect_bd_intf_net") == [
        ["idma0/M_AXIS_MM2S", "bitfab_top_0/s_axis"],
        ["bitfab_top_0/m_axis", "odma0/S_AXIS_S2MM"],
    ]
    autos = _calls(viv, "apply_bd_automation")
    rules = [_opt(a, "-rule") for a in autos]
    assert rules[0] == f"xilinx.com:bd_rule:{ps_ip}"
    # the accelerator's AXI-Lite control (ap_start, n_images) hangs off the PS master
    master = {"zynq7": "M_AXI_GP0", "zynq_us+": "M_AXI_HPM0_FPD"}[board.ps]
    ctl = [a for a in autos if a[-1] == "bitfab_top_0/s_axi_control"]
    assert len(ctl) == 1 and f'Master "/ps/{master}"' in _opt(ctl[0], "-config")
    assert _calls(viv, "launch_runs") == [["impl_1", "-to_step", "write_bitstream", "-jobs", "2"]]
    assert _calls(viv, "report_utilization") == [["-file", "reports/utilization.rpt"]]
    assert _calls(viv, "report_timing_summary") == [["-file", "reports/timing.rpt"]]
    copies = [c[1] for c in _calls(viv, "bitfab_copy")]
    assert copies == ["deploy/bitfab.bit", "deploy/bitfab.hwh"]
    assert _calls(viv, "wait_on_run") == [["synth_1"], ["impl_1"]]
    order = [c[0] for c in viv]
    assert order.index("get_board_parts") < order.index("create_project")
    assert order.index("assign_bd_address") < order.index("validate_bd_design")
    assert order.index("validate_bd_design") < order.index("make_wrapper")
    assert order.index("wait_on_run") < order.index("open_run") < order.index("report_utilization")
    assert [c[1:3] for c in viv if c[0] == "get_property" and c[1] != "DIRECTORY"] == [
        ["PROGRESS", "synth_1"],
        ["STATUS", "synth_1"],
        ["PROGRESS", "impl_1"],
        ["STATUS", "impl_1"],
        ["STATS.WNS", "impl_1"],
    ]


def test_projects_are_byte_reproducible(tmp_path):
    board = get_board("pynq-z2")
    a = render_projects(board, _build_dir(tmp_path / "a"), 100.0)
    b = render_projects(board, _build_dir(tmp_path / "b"), 100.0)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_board_parts():
    assert {n: b.board_files.part for n, b in BOARDS.items()} == {
        "pynq-z1": "www.digilentinc.com:pynq-z1:part0:1.0",
        "pynq-z2": "tul.com.tw:pynq-z2:part0:1.0",
        "zcu104": "xilinx.com:zcu104:part0:1.1",
        "ultra96-v2": "avnet.com:ultra96v2:part0:1.2",
        "kv260": "xilinx.com:kv260_som:part0:1.3",
    }
    assert {b.ps for b in BOARDS.values()} == {"zynq7", "zynq_us+"}
    assert get_board("ultra96-v2").urams == 0 and get_board("zcu104").hp_port_bits == 128


def test_clock_out_of_range_is_refused(tmp_path):
    from boards.errors import BoardError

    with pytest.raises(BoardError, match=r"board 'kv260': clock 350.0 MHz is outside \(0, 300.0\]"):
        render_projects(get_board("kv260"), tmp_path, 350.0)


def _rendered(tmp_path: Path, name: str = "pynq-z2", **kw) -> Path:
    d = _build_dir(tmp_path)
    render_projects(get_board(name), d, 100.0, **kw)
    return d


# --- Vitis HLS: co-simulation and the II check


def test_cosim_is_rendered_for_n_images(tmp_path):
    files = ("hls/tb/cosim_input.bin", "hls/tb/cosim_expected.bin")
    d = _rendered(tmp_path, cosim=(3, *files))
    for f in files:
        (d / f).write_bytes(b"\0")
    hls = _run(d, "hls/hls.tcl")
    (cosim,) = _calls(hls, "cosim_design")
    assert _opt(cosim, "-argv").split() == [f"{d}/{f}" for f in files]
    assert "-enable_dataflow_profiling" in cosim
    order = [c[0] for c in hls]
    assert order.index("csynth_design") < order.index("cosim_design")
    assert order.index("cosim_design") < order.index("export_design")
    assert "co-simulation of the synthesized RTL with the same testbench on 3 image(s)" in (
        (d / "hls" / "hls.tcl").read_text()
    )
    with pytest.raises(ValueError, match="cosim needs at least one image, not 0"):
        render_projects(get_board("pynq-z2"), d, 100.0, cosim=(0, *files))


II_MISSES = """\
INFO: [HLS 200-1470] Pipelining result : Target II = 1, Final II = 1, Depth = 3, loop 'A'
WARNING: [HLS 200-880] The II Violation in module 'sliding_window_Pipeline_L' (loop 'L'): \
Unable to enforce a carried dependence constraint (II = 1, distance = 1, offset = 1)
WARNING: [HLS 200-885] The II Violation in module 'maxpool_Pipeline_P' (loop 'P'): Unable to \
schedule 'load' operation on array 'cols' due to limited memory ports (II = 1).
WARNING: [HLS 200-880] The II Violation in module 'sliding_window_Pipeline_L' (loop 'L'): \
Unable to enforce a carried dependence constraint (II = 1, distance = 1, offset = 1)
INFO: [HLS 200-1470] Pipelining result : Target II = 1, Final II = 2, Depth = 5, loop 'L'
"""


def test_a_loop_that_misses_its_ii_stops_the_hls_script_and_is_named(tmp_path):
    d = _rendered(tmp_path)
    (d / "vitis_hls.log").write_text(II_MISSES)
    msg, hls = _fails(d, "hls/hls.tcl")
    first, *lines = msg.splitlines()
    assert (
        first == "bitfab: 3 kernel loop(s) missed their initiation interval (from vitis_hls.log):"
    )
    # each miss once, in the log's order, naming its module and loop
    assert [line.strip() for line in lines] == [
        "WARNING: [HLS 200-880] The II Violation in module 'sliding_window_Pipeline_L' (loop 'L'): "
        "Unable to enforce a carried dependence constraint (II = 1, distance = 1, offset = 1)",
        "WARNING: [HLS 200-885] The II Violation in module 'maxpool_Pipeline_P' (loop 'P'): "
        "Unable to schedule 'load' operation on array 'cols' due to limited memory ports (II = 1).",
        "INFO: [HLS 200-1470] Pipelining result : Target II = 1, Final II = 2, Depth = 5, loop 'L'",
    ]
    order = [c[0] for c in hls]
    assert "csynth_design" in order and "export_design" not in order


def test_the_ii_check_reads_the_log_bitfab_hls_log_names(tmp_path):
    d = _rendered(tmp_path)
    (d / "elsewhere.log").write_text(II_MISSES)
    msg, _ = _fails(d, "hls/hls.tcl", env={"BITFAB_HLS_LOG": "elsewhere.log"})
    assert msg.startswith("bitfab: 3 kernel loop(s) missed their initiation interval (from ")
    (d / "vitis_hls.log").unlink()
    msg, hls = _fails(d, "hls/hls.tcl")
    assert msg == (
        "bitfab: cannot check the kernel loops' II: no Vitis HLS log at vitis_hls.log "
        "(set BITFAB_HLS_LOG to the log of this run)"
    )
    assert "export_design" not in [c[0] for c in hls]


# --- Vivado: board files, run status, slack, hardware handoff


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_missing_board_files_stop_vivado_at_once_saying_where_to_get_them(tmp_path, name):
    board = get_board(name)
    d = _rendered(tmp_path, name)
    msg, viv = _fails(d, "vivado/build.tcl", stub={"get_board_parts": "{}"})
    assert msg.startswith(f"bitfab: {missing_message(board)} (Vivado searched: ")
    assert board.board_files.source in msg
    assert "~/.bitfab/board_files" in msg and "BITFAB_BOARD_FILES" in msg
    assert "create_project" not in [c[0] for c in viv]


def test_board_file_directories_come_before_vivados_own(tmp_path):
    d = _rendered(tmp_path)
    ours = [tmp_path / "bf1", tmp_path / "absent", tmp_path / "bf2"]
    for p in (ours[0], ours[2], d / "home" / ".bitfab" / "board_files"):
        p.mkdir(parents=True)
    env = {"BITFAB_BOARD_FILES": os.pathsep.join(map(str, ours))}
    viv = _run(d, "vivado/build.tcl", stub={"get_param": "/vivado/boards"}, env=env)
    assert _calls(viv, "get_param")[0] == ["board.repoPaths"]
    (set_param,) = _calls(viv, "set_param")
    assert set_param[0] == "board.repoPaths"
    assert set_param[1].split() == [
        str(ours[0]),
        str(ours[2]),
        str(d / "home" / ".bitfab" / "board_files"),
        "/vivado/boards",
    ]
    order = [c[0] for c in viv]
    assert order.index("set_param") < order.index("get_board_parts")


@pytest.mark.parametrize(
    ("run", "stub", "progress", "status"),
    [
        (
            "synth_1",
            {"get_property STATUS synth_1": "{synth_design ERROR}"},
            "100%",
            "synth_design ERROR",
        ),
        (
            "impl_1",
            {"get_property PROGRESS impl_1": "0%", "get_property STATUS impl_1": "{Not started}"},
            "0%",
            "Not started",
        ),
        (
            "impl_1",
            {"get_property STATUS impl_1": "{route_design ERROR}"},
            "100%",
            "route_design ERROR",
        ),
    ],
)
def test_a_run_that_failed_stops_vivado_naming_the_run(tmp_path, run, stub, progress, status):
    d = _rendered(tmp_path)
    msg, viv = _fails(d, "vivado/build.tcl", stub=stub)
    assert msg == (
        f'bitfab: Vivado run {run} did not finish: progress {progress}, status "{status}"; '
        f"see vivado/project/bitfab.runs/{run}/runme.log"
    )
    order = [c[0] for c in viv]
    assert "open_run" not in order and "bitfab_copy" not in order


def test_negative_slack_stops_vivado_printing_the_slack(tmp_path):
    d = _rendered(tmp_path)
    msg, viv = _fails(d, "vivado/build.tcl", stub={"get_property STATS.WNS": "-0.734"})
    assert msg == (
        "bitfab: timing not met at 100 MHz: WNS -0.734 ns (reports/timing.rpt); "
        "build again with a lower --clock-mhz"
    )
    order = [c[0] for c in viv]
    assert "report_timing_summary" in order and "bitfab_copy" not in order
    msg, _ = _fails(d, "vivado/build.tcl", stub={"get_property STATS.WNS": "{}"})
    assert msg.startswith('bitfab: no worst negative slack (STATS.WNS "") for impl_1')


def test_the_hardware_handoff_falls_back_to_where_vivado_writes_it(tmp_path):
    d = _rendered(tmp_path)
    (d / "bitfab.hwh").unlink()
    msg, _ = _fails(d, "vivado/build.tcl", stub={"get_files -all -quiet": "{}"})
    assert msg == (
        "bitfab: no bitfab.hwh for the bitstream; looked at: "
        f"{HWH_GEN}, {HWH_GEN.replace('bitfab.gen', 'bitfab.srcs')}"
    )
    (d / HWH_GEN).parent.mkdir(parents=True)
    (d / HWH_GEN).write_bytes(b"\0")
    viv = _run(d, "vivado/build.tcl", stub={"get_files -all -quiet": "{}"})
    assert _calls(viv, "bitfab_copy") == [
        [BIT, "deploy/bitfab.bit"],
        [HWH_GEN, "deploy/bitfab.hwh"],
    ]
    (d / BIT).unlink()
    msg, _ = _fails(d, "vivado/build.tcl")
    assert msg == f"bitfab: impl_1 finished but wrote no bitstream at {BIT}"
