"""One point outside Ray (the task's function called here), and the packing of a build
directory through the object store."""

from __future__ import annotations

import pytest

from flows import api
from flows.sweep.grid import Point
from flows.sweep.pack import pack, unpack
from flows.sweep.point import PointJob, run_point

JOB = PointJob(Point("pynq-z2", 100.0, 1e5), "mlp.onnx", {})


def test_a_model_that_cannot_be_read_is_a_failed_point_not_an_exception():
    out = run_point(JOB, b"not an onnx file")
    s = out.summary
    assert s["status"] == "failed" and s["id"] == "pynq-z2-100mhz-fps100000"
    assert s["error"]["phase"] == "build" and s["error"]["exit_code"] == 1
    assert "source.onnx" in s["error"]["message"] and "traceback" not in s["error"]


def test_a_toolchain_bug_is_recorded_with_its_traceback_and_the_sweep_goes_on(
    monkeypatch, small_model
):
    def broken(*_a, **_k):
        raise RuntimeError("a bug in a pass")

    monkeypatch.setattr(api, "build", broken)
    s = run_point(JOB, small_model.read_bytes()).summary
    assert s["status"] == "failed" and s["error"]["type"] == "RuntimeError"
    assert s["error"]["message"] == "a bug in a pass" and "broken" in s["error"]["traceback"]


@pytest.mark.csim
def test_a_toolchain_bug_after_the_build_names_the_command_it_came_from(monkeypatch, small_model):
    def broken(*_a, **_k):
        raise RuntimeError("a bug in the simulator's harness")

    monkeypatch.setattr(api.Build, "rtlsim", broken)
    job = PointJob(JOB.point, JOB.model, {}, rtlsim=1)
    s = run_point(job, small_model.read_bytes()).summary
    assert s["status"] == "failed" and s["error"]["type"] == "RuntimeError"
    assert s["error"]["phase"] == "rtlsim"


@pytest.mark.csim
def test_a_point_packs_its_finished_build(tmp_path, small_model):
    out = run_point(JOB, small_model.read_bytes())
    assert out.summary["status"] == "done" and out.summary["error"] is None
    unpack(out.packed, tmp_path / "p")
    b = api.open_build(tmp_path / "p")
    assert b.report.totals.estimated_fps == out.summary["estimated"]["fps"]


def test_packing_is_deterministic_and_leaves_compiled_models_out(tmp_path):
    d = tmp_path / "d"
    (d / "rtl" / "obj_dir").mkdir(parents=True)
    (d / "rtl" / "top.v").write_text("module top; endmodule\n")
    (d / "rtl" / "obj_dir" / "Vtop").write_bytes(b"\x7fELF")
    (d / "report.json").write_text("{}\n")
    data = pack(d)
    (d / "report.json").touch()  # a newer time changes nothing
    assert pack(d) == data
    unpack(data, tmp_path / "e")
    got = sorted(str(p.relative_to(tmp_path / "e")) for p in (tmp_path / "e").rglob("*"))
    assert got == ["report.json", "rtl", "rtl/top.v"]


def test_unpacking_over_a_build_keeps_its_compiled_model_and_leaves_no_debris(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "rtl").mkdir(parents=True)
    (src / "rtl" / "top.v").write_text("new\n")
    (dest / "rtl" / "obj_dir").mkdir(parents=True)
    (dest / "rtl" / "top.v").write_text("old\n")
    (dest / "rtl" / "obj_dir" / "Vtop").write_text("compiled")
    (dest / "stale.txt").write_text("from before")
    unpack(pack(src), dest)
    assert (dest / "rtl" / "top.v").read_text() == "new\n"
    assert (dest / "rtl" / "obj_dir" / "Vtop").read_text() == "compiled"
    assert not (dest / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "src"]  # no .part, no .old
