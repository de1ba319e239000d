"""Progress on stderr (flows/progress.py) and the summary commands' --quiet and --json.

Captured output: click's runner gives a stderr that is not a terminal, so plain lines; a
pseudo-terminal (the pty module) gives rich's bars."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import shutil
import subprocess
import threading

import onnx
import pytest
from onnx import numpy_helper
from rich.console import Console

from flows.progress import SILENT, BarProgress, LineProgress, Progress, for_stream
from tests.helpers import BITFAB, REPO_ROOT, run_cli

TIME = r"\d\d:\d\d:\d\d "


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _lines(stream: io.StringIO) -> list[str]:
    """The lines without their timestamps (checked to be there)."""
    out = []
    for line in stream.getvalue().splitlines():
        assert re.match(TIME, line), line
        out.append(line[len("00:00:00 ") :])
    return out


def test_plain_lines_start_advance_every_interval_and_end():
    s, clock = io.StringIO(), Clock()
    p = LineProgress(s, interval=2.0, clock=clock)
    with p.task("verify reference", 500, "images") as t:
        t.advance(100)  # within the interval: not shown
        clock.t = 2.5
        t.advance(100)
        clock.t = 3.0
        t.advance(100)
        clock.t = 5.0
        t.advance(200)  # all done: the closing line says so
    assert _lines(s) == [
        "verify reference: 0/500 images",
        "verify reference: 200/500 images",
        "verify reference: done, 500/500 images in 5.0 s",
    ]


def test_plain_lines_of_every_update_and_items():
    s = io.StringIO()
    p = LineProgress(s, clock=Clock())
    with p.task("build", 3, "steps", every=True, what="running import") as t:
        t.update(0, what="running import")  # the same line again: not repeated
        t.update(1, what="running fold")
        t.update(2, what="running csim")
        t.update(3, what="")
    p.note("rtlsim", "compiling")
    with p.task("rtlsim", unit="beats out") as t:
        t.update(7, total=20, what="cycle 1,048,576")
    assert _lines(s) == [
        "build: 0/3 steps, running import",
        "build: 1/3 steps, running fold",
        "build: 2/3 steps, running csim",
        "build: done, 3/3 steps in 0.0 s",
        "rtlsim: compiling",
        "rtlsim: started",
        "rtlsim: done, 7/20 beats out in 0.0 s",
    ]


def test_the_last_update_of_every_update_shows_its_item():
    s = io.StringIO()
    p = LineProgress(s, clock=Clock())
    with p.task("synth", 2, "runs", every=True) as t:
        t.update(1, what="glue done (cached)")
        t.update(2, what="MatMul_0 done (3.0 s)")
    assert _lines(s) == [
        "synth: 0/2 runs",
        "synth: 1/2 runs, glue done (cached)",
        "synth: 2/2 runs, MatMul_0 done (3.0 s)",
        "synth: done, 2/2 runs in 0.0 s",
    ]


def test_a_failed_task_says_nothing_more():
    s = io.StringIO()
    p = LineProgress(s, clock=Clock())
    with pytest.raises(RuntimeError), p.task("synth", 2, "runs") as t:
        t.advance()
        raise RuntimeError
    assert _lines(s) == ["synth: 0/2 runs"]


def test_plain_lines_from_threads_stay_whole():
    s = io.StringIO()
    p = LineProgress(s)
    with p.task("synth", 400, "runs", every=True) as t:
        threads = [
            threading.Thread(target=lambda: [t.advance() for _ in range(100)]) for _ in range(4)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    lines = _lines(s)
    assert lines[-1].startswith("synth: done, 400/400 runs in ")
    assert all(re.fullmatch(r"synth: \d+/400 runs", ln) for ln in lines[:-1])


def test_silent_is_the_library_default_and_quiet():
    assert for_stream(io.StringIO(), quiet=True) is SILENT
    with SILENT, SILENT.task("x", 3, "images") as t:  # counts, shows nothing
        t.advance(2)
        SILENT.note("x", "nothing")
    assert t.count() == "2/3 images"
    assert isinstance(for_stream(io.StringIO()), LineProgress)


def test_bars_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(for_stream(Tty()), BarProgress)
    out = io.StringIO()
    p: Progress = BarProgress(Console(file=out, force_terminal=True, width=100))
    with p, p.task("verify reference", 4, "images") as t:
        t.advance(2)
        p.note("rtlsim", "compiling")
        p.bars.refresh()
    text = out.getvalue()
    assert "verify reference" in text and "2/4 images" in text and " 50%" in text
    assert "━" in text and "rtlsim: compiling" in text


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def tfc_copy(built, tmp_path):
    """A finished tfc-w1a1 build of this test's own (commands below write into it)."""
    return shutil.copytree(built("tfc-w1a1"), tmp_path / "b")


def test_build_prints_plain_step_and_loop_lines_when_stderr_is_not_a_terminal(tfc_copy):
    r = run_cli(["build", "tfc-w1a1", "--out", tfc_copy, "--from-step", "deploy", "--verify", 5])
    assert r.exit_code == 0, r.stderr
    lines = [ln[len("00:00:00 ") :] for ln in r.stderr.splitlines()]
    assert all(re.match(TIME, ln) for ln in r.stderr.splitlines()), r.stderr
    # from the deploy step: the saved dataflow model is reused, the partition step on run
    steps = ["partition", "fold", "codegen", "csim", "deploy", "verify", "report"]
    # the zoo model's export in the build dir is what the reused steps were made from
    assert not any("exporting" in ln for ln in lines)
    assert [ln for ln in lines if ln.startswith("build: ")] == [
        *(f"build: {i}/7 steps, running {s}" for i, s in enumerate(steps)),
        lines[-1],
    ]
    assert lines[-1].startswith("build: done, 7/7 steps in ")
    i = lines.index("build: 5/7 steps, running verify")
    assert lines[i + 1] == "verify reference: 0/5 images"
    assert lines[i + 2].startswith("verify reference: done, 5/5 images in ")
    assert lines[i + 3 : i + 5] == ["verify dataflow: 0/5 images", lines[i + 4]]
    assert lines[i + 5] == "verify csim: 0/5 images"
    assert r.stdout.startswith(f"built {tfc_copy}: 6 layers")  # results stay on stdout


def test_quiet_json_build_prints_one_object_and_nothing_on_stderr(tfc_copy):
    r = run_cli(
        ["build", "tfc-w1a1", "--out", tfc_copy, "--from-step", "deploy", "--verify", 5]
        + ["--quiet", "--json"]
    )
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""
    summary = json.loads(r.stdout)  # one object and nothing else
    assert r.stdout.count("\n") == 1
    assert set(summary) == {
        "build_dir",
        "status",
        "board",
        "layers",
        "clock_mhz",
        "estimated_fps",
        "resources",
        "fits_board",
        "verification",
    }
    assert summary["build_dir"] == str(tfc_copy) and summary["status"] == "done"
    assert summary["layers"] == 6 and summary["board"] == "pynq-z2"
    assert set(summary["resources"]) == {"LUT", "BRAM18", "DSP"}
    assert summary["verification"]["n"] == 5 and summary["verification"]["status"] == "pass"
    report = json.loads((tfc_copy / "report.json").read_text())
    assert summary["estimated_fps"] == report["totals"]["estimated_fps"]


def test_json_of_a_build_stopped_early(tfc_copy):
    """Not the finished build's report.json that the directory still holds."""
    r = run_cli(["build", "tfc-w1a1", "--out", tfc_copy, "--to-step", "fold", "-q", "--json"])
    assert r.exit_code == 0 and r.stderr == ""
    assert json.loads(r.stdout) == {"build_dir": str(tfc_copy), "status": "stopped after fold"}


def test_json_of_verify_and_run(tfc_copy):
    r = run_cli(["verify", tfc_copy, "--n", 7, "--json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {
        "build_dir": str(tfc_copy),
        "verification": json.loads((tfc_copy / "report.json").read_text())["verification"],
    }
    assert "verify reference: 0/7 images" in r.stderr  # progress still on stderr

    r = run_cli(["run", tfc_copy, "--batch", 8, "--json", "--quiet"])
    assert r.exit_code == 0 and r.stderr == ""
    s = json.loads(r.stdout)
    assert s["backend"] == "csim" and s["images"] == 8 and s["bit_identical"] == 8
    assert s["throughput"]["backend"] == "csim" and s["throughput"]["fps"] > 0


def test_json_of_an_error_holds_message_and_exit_code(tfc_copy, tmp_path):
    r = run_cli(["verify", tmp_path / "nothing", "--json"])
    assert r.exit_code == 1
    msg = f"{tmp_path / 'nothing'}: no such build directory; run `bitfab build` first"
    assert json.loads(r.stdout) == {"error": msg, "exit_code": 1}
    assert r.stderr == f"error: {msg}\n"

    # a mismatch (exit 3): the summary so far, with the error merged in
    ref = onnx.load(str(tfc_copy / "reference.onnx"))
    (last,) = [t for t in ref.graph.initializer if list(t.dims) == [64, 10]]
    last.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(last), last.name))
    onnx.save(ref, str(tfc_copy / "reference.onnx"))
    r = run_cli(["verify", tfc_copy, "--n", 4, "--json", "--quiet"])
    assert r.exit_code == 3
    s = json.loads(r.stdout)
    assert s["exit_code"] == 3 and s["error"].startswith(f"{tfc_copy}: mismatch at sample 0")
    assert s["verification"]["status"] == "mismatch"
    assert r.stderr == f"error: {s['error']}\n"  # --quiet: the message alone


def _run_in_pty(cmd: list[str], timeout: float) -> tuple[int, str, str]:
    """Run ``cmd`` with stderr on a pseudo-terminal (stdout a pipe): exit code, stdout, and
    what the terminal received."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120")
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=env, cwd=REPO_ROOT
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    proc.wait(timeout=timeout)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


@pytest.mark.slow  # a fresh interpreter and the last steps: ~25 s
def test_build_on_a_terminal_shows_bars(tfc_copy):
    code, out, term = _run_in_pty(
        [*BITFAB, "build", "tfc-w1a1", "--out", str(tfc_copy), "--from-step", "deploy"]
        + ["--verify", "300"],
        timeout=300,
    )
    assert code == 0, term
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term)  # without colours and cursor moves
    assert "━" in plain  # rich's bar
    assert re.search(r"build\s.*\s\d+%\s+\d+/7 steps running \w+", plain), plain
    assert re.search(r"verify reference\s.*\s\d+%\s+\d+/300 images", plain), plain
    assert "exporting" not in plain  # the resumed build reuses its export (no note either)
    assert not re.search(r"\d\d:\d\d:\d\d build:", plain)  # bars, not plain lines
    assert out.startswith(f"built {tfc_copy}: 6 layers")  # stdout (a pipe) has no bars
    assert "\x1b" not in out


def test_a_resumed_zoo_build_reuses_its_export(tfc_copy, monkeypatch):
    import models.export

    def no_export(*_a, **_k):
        raise AssertionError("a build resumed after import must not export the model again")

    monkeypatch.setattr(models.export, "export_qonnx_model", no_export)
    before = json.loads((tfc_copy / "manifest.json").read_text())["inputs"]
    r = run_cli(["build", "tfc-w1a1", "--out", tfc_copy, "--from-step", "fold", "--quiet"])
    assert r.exit_code == 0, r.stderr
    assert json.loads((tfc_copy / "manifest.json").read_text())["inputs"] == before
