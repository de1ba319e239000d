"""A build killed midway (SIGTERM or SIGKILL) leaves nothing that looks finished, and the next
build of the same target succeeds."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from flows.build import check_finished
from flows.errors import InputError
from tests.helpers import BITFAB, run_cli

pytestmark = pytest.mark.csim


def _wait_for(path, proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"build ended before {path.name} appeared: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} did not appear in {timeout} s")
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("sig", "when"),
    [
        (signal.SIGTERM, "hls/top.cpp"),  # during C-sim compilation
        (signal.SIGKILL, "hls/top.cpp"),
        (signal.SIGTERM, "steps"),  # during the compiler passes
        (signal.SIGKILL, "steps"),
    ],
    ids=["term-csim", "kill-csim", "term-passes", "kill-passes"],
)
def test_killed_build_is_unfinished_then_rebuilds(tmp_path, zoo_onnx, sig, when):
    src = str(zoo_onnx("tfc-w1a1"))
    out = tmp_path / "o"
    cmd = [*BITFAB, "build", src, "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(out / when, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    manifest = out / "manifest.json"
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM, err
        assert "interrupted by signal 15" in err and "Traceback" not in err
        assert json.loads(manifest.read_text())["status"] == "interrupted"
    else:
        assert proc.returncode == -signal.SIGKILL
        assert not manifest.exists()  # removed when the build started, never rewritten
    with pytest.raises(InputError, match="unfinished|did not finish"):
        check_finished(out)
    assert run_cli(["verify", out]).exit_code == 1

    r = run_cli(["build", src, "--out", out, "--verify", "50"])  # no signal needed: in-process
    assert r.exit_code == 0, r.stderr
    assert check_finished(out)["status"] == "done"
