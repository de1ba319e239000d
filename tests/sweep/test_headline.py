"""Issue 16's sweep as a user types it (slow: about 7 minutes on 2 cores)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.csim]

ARGS = [
    "sweep", "tfc-w1a1", "--target-fps", "100000,1000000,3000000", "--boards",
    "pynq-z2,zcu104", "--synth", "--rtlsim", "5", "--jobs", "2",
]  # fmt: skip


def test_tfc_on_two_boards_with_rtlsim_and_synth(tmp_path):
    out = tmp_path / "s"
    r = run_cli([*ARGS, "--out", out])
    assert r.exit_code == 0, r.stderr
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["status"] == "done" and len(doc["points"]) == 6
    for p in doc["points"]:
        assert p["status"] == "done", p.get("error")
        assert p["rtlsim"]["status"] == "pass" and p["rtlsim"]["n"] == 5
        assert p["synth"]["resources"]["LUT"] > 0 and p["fits_by"] == "synth"
    by_board = {}
    for p in doc["points"]:
        by_board.setdefault(p["board"], []).append(p)
    for pts in by_board.values():  # faster targets, faster designs (measured), more LUTs
        fps = [p["rtlsim"]["fps"] for p in pts]
        luts = [p["synth"]["resources"]["LUT"] for p in pts]
        assert fps == sorted(fps) and luts == sorted(luts)
    html = (out / "sweep.html").read_text()
    assert "<svg" in html and "pynq-z2" in html and "zcu104" in html
