"""`bitfab sweep` on a private local Ray: points, sweep.json, repeatability, failures and
interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from flows import api
from flows.progress import SILENT
from flows.sweep.cluster import connect
from flows.sweep.grid import Point
from flows.sweep.point import PointJob
from flows.sweep.run import SWEEP_JSON, _schedule, ray_put, repeatable_part
from tests.helpers import BITFAB, run_cli

pytestmark = pytest.mark.csim

GRID = ["--boards", "pynq-z2", "--target-fps", "20000,2000000", "--verify", "3"]


def _doc(d: Path) -> dict:
    return json.loads((d / SWEEP_JSON).read_text())


def _files(d: Path) -> dict[str, bytes]:
    keep = ("hls", "deploy", "report.json", "dataflow.onnx", "reference.onnx", "folding.json")
    return {
        str(p.relative_to(d)): p.read_bytes()
        for p in sorted(d.rglob("*"))
        if p.is_file() and p.relative_to(d).parts[0] in keep
    }


def test_a_local_sweep_builds_every_point_and_repeats_itself(tmp_path, small_model):
    a, b = tmp_path / "a", tmp_path / "b"
    r = run_cli(["sweep", small_model, *GRID, "--jobs", "2", "--out", a])
    assert r.exit_code == 0, r.stderr
    doc = _doc(a)
    assert doc["status"] == "done" and doc["ray"]["cpus"] == 2 and doc["ray"]["nodes"] == 1
    ids = [p["id"] for p in doc["points"]]
    assert ids == ["pynq-z2-100mhz-fps20000", "pynq-z2-100mhz-fps2000000"]
    for p in doc["points"]:
        assert p["status"] == "done" and p["error"] is None
        assert p["verification"] == {"n": 3, "status": "pass"}
        b_ = api.open_build(a / p["build_dir"])  # a finished build directory, moved here
        assert b_.report.model == str(small_model)  # named as given, not the worker's copy
        assert b_.manifest["config"]["out"] == str(a / p["build_dir"])
        assert p["estimated"]["fps"] == b_.report.totals.estimated_fps
        assert p["fits"] is True and p["fits_by"] == "estimate"
    slow, fast = doc["points"]
    assert fast["estimated"]["fps"] > slow["estimated"]["fps"]
    assert fast["folding"]["lanes"] > slow["folding"]["lanes"]
    assert (a / "sweep.html").is_file()
    assert "pynq-z2-100mhz-fps2000000  done" in r.stdout
    assert "sweep done: 2/2 points done" in r.stdout

    r = run_cli(["sweep", small_model, *GRID, "--jobs", "1", "--out", b])
    assert r.exit_code == 0, r.stderr
    assert repeatable_part(_doc(b)) == repeatable_part(doc)
    for p in doc["points"]:
        fa, fb = _files(a / p["build_dir"]), _files(b / p["build_dir"])
        assert fa and [k for k in fa if fa[k] != fb.get(k)] == []


def test_a_failed_point_is_recorded_and_the_others_go_on(tmp_path, small_model):
    good = PointJob(Point("pynq-z2", 100.0, 1e5), "mlp.onnx", {})
    missing = tmp_path / "no-such-folding.json"
    bad = PointJob(Point("pynq-z2", 100.0, 1e6), "mlp.onnx", {"folding": missing})
    doc = {"points": [good.point.to_json(), bad.point.to_json()]}
    from flows.sweep.grid import SweepSpec

    spec = SweepSpec("mlp.onnx", ("pynq-z2",), (100.0,))
    with connect("local", jobs=2):
        model = ray_put(small_model.read_bytes())
        _schedule([good, bad], model, spec, tmp_path, doc, progress=SILENT)
    ok, failed = doc["points"]
    assert ok["status"] == "done" and (tmp_path / "points" / ok["id"] / "manifest.json").exists()
    assert failed["status"] == "failed"
    assert failed["error"]["phase"] == "build" and failed["error"]["exit_code"] == 1
    assert failed["error"]["message"] == f"{missing}: folding file not found"
    assert json.loads((tmp_path / SWEEP_JSON).read_text())["points"][1]["status"] == "failed"


def test_bitstream_points_need_a_node_with_vivado(tmp_path, small_model):
    r = run_cli(["sweep", small_model, "--jobs", "1", "--bitstream", "--out", tmp_path / "s"])
    assert r.exit_code == 2, r.stderr
    assert "no node of the Ray cluster (local) declares the 'vivado' resource" in r.stderr
    assert "--resources '{\"vivado\": 1}'" in r.stderr
    assert _doc(tmp_path / "s")["points"][0]["status"] == "not run"


@pytest.mark.parametrize(
    "how", ["SIGTERM to the command", "Ctrl-C on a terminal (SIGINT to the process group)"]
)
def test_a_signal_stops_the_workers_and_keeps_every_finished_point(tmp_path, small_model, how):
    signum = signal.SIGTERM if how.startswith("SIGTERM") else signal.SIGINT
    out = tmp_path / "s"
    targets = "1000,10000,100000,1000000,2000000"
    cmd = [*BITFAB, "sweep", str(small_model), "--target-fps", targets, "--verify", "3"]
    proc = subprocess.Popen(
        [*cmd, "--jobs", "1", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(p["status"] == "done" for p in _doc(out)["points"]):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    if signum == signal.SIGTERM:
        proc.send_signal(signum)
    else:  # the workers Ray started get it too: their points are "not run", not failed
        os.killpg(proc.pid, signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert f"interrupted by signal {int(signum)}" in err
    doc = _doc(out)
    assert doc["status"] == "interrupted"
    status = [p["status"] for p in doc["points"]]
    assert "done" in status and "not run" in status and set(status) == {"done", "not run"}
    on_disk = sorted(os.listdir(out / "points"))
    assert on_disk == sorted(p["id"] for p in doc["points"] if p["status"] == "done")
    for name in on_disk:
        api.open_build(out / "points" / name)  # finished, as its task left it
    assert (out / "sweep.html").is_file()
