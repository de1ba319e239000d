"""FIFO depths are data: folding.json holds one per stream, the HLS top declares exactly those,
the report counts them, and an edited depth is honoured."""

from __future__ import annotations

import json
import re

import pytest

from flows.layers.base import fifo_depth_for
from tests.helpers import run_cli

pytestmark = pytest.mark.csim

CALL = re.compile(r"^  bitfab::\w+<(\w+)_cfg>\((\w+), (\w+)", re.M)
PRAGMA = re.compile(r"#pragma HLS STREAM variable = (\w+) depth = (\d+)")
DECL = re.compile(r"hls::stream<ap_uint<\d+>> (\w+)\(")


def _top_depths(build) -> tuple[dict[str, int], dict[str, str], list[str]]:
    top = (build / "hls" / "top.cpp").read_text()
    depths = {name: int(d) for name, d in PRAGMA.findall(top)}
    reader = {src: layer for layer, src, _ in CALL.findall(top)}
    return depths, reader, DECL.findall(top)


def test_every_stream_has_the_depth_folding_json_gives(built):
    d = built("tfc-w1a1")
    folding = json.loads((d / "folding.json").read_text())["layers"]
    depths, reader, declared = _top_depths(d)
    assert sorted(declared) == sorted(depths)  # a pragma for every stream, none for others
    for stream, layer in reader.items():
        assert depths[stream] == folding[layer]["inFIFODepths"][0], stream
    last = [name for name, entry in folding.items() if "outFIFODepths" in entry]
    assert len(last) == 1 and depths["out0"] == folding[last[0]]["outFIFODepths"][0]
    report = json.loads((d / "report.json").read_text())
    assert sorted(f["depth"] for f in report["fifos"]["edges"]) == sorted(depths.values())
    assert report["fifos"]["bits"] == sum(f["width"] * f["depth"] for f in report["fifos"]["edges"])


def test_depths_follow_each_kernels_burst(built):
    d = built("tfc-w1a1")
    report = json.loads((d / "report.json").read_text())
    folding = json.loads((d / "folding.json").read_text())["layers"]
    for row in report["layers"]:
        if row["kind"] == "MVAU":
            sf, nf = row["MW"] // row["SIMD"], row["MH"] // row["PE"]
            want = fifo_depth_for(sf if nf > 1 else 1)
            assert folding[row["name"]]["inFIFODepths"] == [want], row["name"]


def test_an_edited_depth_is_honoured_and_a_bad_one_refused(built, tmp_path):
    d = built("tfc-w1a1")
    folding = json.loads((d / "folding.json").read_text())
    layer = next(name for name in folding["layers"] if name.startswith("MatMul"))
    folding["layers"][layer]["inFIFODepths"] = [300]
    f = tmp_path / "fold.json"
    f.write_text(json.dumps(folding))
    d2 = built("tfc-w1a1", folding=f)
    depths, reader, _ = _top_depths(d2)
    stream = next(s for s, name in reader.items() if name == layer)
    assert depths[stream] == 300
    assert json.loads((d2 / "folding.json").read_text())["layers"][layer]["inFIFODepths"] == [300]
    report = json.loads((d2 / "report.json").read_text())
    assert report["fifos"]["depths_from"] == "folding file, then the rule"
    assert 300 in [e["depth"] for e in report["fifos"]["edges"]]
    for bad, needle in (
        ([1], "inFIFODepths must be a list of integers >= 2"),
        ([8, 8], f"layer '{layer}': inFIFODepths needs 1 depth(s), got [8, 8]"),
    ):
        folding["layers"][layer]["inFIFODepths"] = bad
        f.write_text(json.dumps(folding))
        r = run_cli(["build", "tfc-w1a1", "--folding", f, "--out", tmp_path / "bad"])
        assert r.exit_code == 1 and needle in r.stderr, r.stderr
    folding["layers"][layer]["inFIFODepths"] = [8]
    folding["layers"]["DWC_Gone"] = {"inFIFODepths": [4]}
    f.write_text(json.dumps(folding))
    r = run_cli(["build", "tfc-w1a1", "--folding", f, "--out", tmp_path / "gone"])
    assert r.exit_code == 1 and "no layer named 'DWC_Gone' in the folded design" in r.stderr
