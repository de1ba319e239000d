"""FIFO sizing by RTL simulation on a design where depth matters: a fork whose one branch
gathers 16 words into one (a width converter) before anything reaches the join, while the
other branch passes each word on at once. With every FIFO at the minimum depth the join
waits for the slow branch, the quick branch fills, the fork stops, and nothing moves: a
deadlock, which rtlsim must report (exit-3 error naming the stuck layers), not hang on.
Sized by simulation, the same design runs with no deadlock and at most 2 % throughput lost."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from qonnx.core.onnx_exec import execute_onnx

from boards.driver.packing import from_beats, image_bytes, pack, to_beats, unpack
from boards.driver.rtlsim import RtlsimBackend, SimDeadlock
from flows.codegen.design import build_design
from flows.codegen.rtl import RtlBackend
from flows.layers.base import MIN_FIFO_DEPTH
from flows.layers.dwc.insert import InsertDWC
from flows.sim.fifo_sizing import MAX_LOSS, folding_with_depths, size_fifos
from flows.sim.rtlsim import compile_top, load_rtl, record_model, stuck_layers
from tests.fork_join import fork_join_model

pytestmark = pytest.mark.csim
BEAT, C, PIXELS, N = 64, 64, 8, 6


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    """The fork/join design (branch A 64 lanes wide, branch B 4), every FIFO minimal."""
    m = fork_join_model(pe_a=64, pe_b=4, c=C, pixels=PIXELS).transform(InsertDWC())
    design = build_design(m)
    streams = {t: dataclasses.replace(s, depth=MIN_FIFO_DEPTH) for t, s in design.streams.items()}
    design = dataclasses.replace(design, streams=streams)
    d = tmp_path_factory.mktemp("skew") / "rtl"
    d.mkdir()
    RtlBackend().render(design, d, "skewed", BEAT)
    return m, design, load_rtl(d.parent)


class _Design:
    """What size_fifos drives: the RTL model through the same packing as the driver."""

    def __init__(self, design, rtl):
        ein, eout = design.input, design.output
        self.ein, self.eout = ein, eout
        in_b = image_bytes(ein.words, ein.nbytes, BEAT)
        out_b = image_bytes(eout.words, eout.nbytes, BEAT)
        record_model(rtl, compile_top(rtl))
        self.backend = RtlsimBackend(rtl.dir, in_b, out_b, BEAT)

    def run_design(self, x: np.ndarray) -> np.ndarray:
        ibuf = to_beats(pack(x.reshape(len(x), -1), self.ein.bits, self.ein.elems), BEAT)
        obuf, _ = self.backend.transfer(ibuf)
        words = from_beats(obuf, self.eout.words, self.eout.nbytes)
        return unpack(words, self.eout.bits, self.eout.elems, self.eout.signed)


def _inputs() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 16, (N, PIXELS, C))


def test_an_undersized_fifo_is_reported_as_a_deadlock(skewed):
    _, design, rtl = skewed
    acc = _Design(design, rtl)
    with pytest.raises(SimDeadlock, match="deadlock: no output beat for") as exc:
        acc.run_design(_inputs())
    stuck = stuck_layers(rtl, exc.value.run)
    assert stuck, "a deadlock names the layers with a full input and an empty output"


def test_sized_fifos_run_without_deadlock_and_lose_at_most_2_percent(skewed):
    m, design, rtl = skewed
    acc = _Design(design, rtl)
    x = _inputs()
    sizing = size_fifos(acc, rtl, x)
    assert sizing.loss <= MAX_LOSS
    by_tensor = {row["tensor"]: row for row in sizing.rows}
    # the quick branch holds what it makes while the slow one gathers a 64-lane word
    assert by_tensor["yb"]["sized_depth"] >= C // 4
    assert "rule too small" in by_tensor["yb"]["verdict"]
    # the sized model computes the right thing
    acc.backend.binary = compile_top(rtl, sizing.depths)
    got = acc.run_design(x)
    want = np.stack([execute_onnx(m, {"x": xi[None].astype(np.float32)})["y"][0] for xi in x])
    np.testing.assert_array_equal(got.reshape(want.shape), want.astype(np.int64))
    # the depths land on each edge's reader in folding.json (the writer for the output)
    folding = folding_with_depths({"layers": {}}, rtl, sizing.depths)
    add = folding["layers"]["Add_0"]
    assert len(add["inFIFODepths"]) == 2 and add["outFIFODepths"][0] >= MIN_FIFO_DEPTH


def test_an_edge_that_fills_even_the_deepest_run_is_reported(skewed, monkeypatch):
    """With no deepening allowed and a reference depth the quick branch fills, sizing says
    which edge its reference run held back instead of passing it off as sized."""
    import flows.sim.fifo_sizing as fs

    _, design, rtl = skewed
    monkeypatch.setattr(fs, "DEEP", C // 8)
    monkeypatch.setattr(fs, "RETRIES", 1)
    notes: list[str] = []
    sizing = size_fifos(_Design(design, rtl), rtl, _inputs(), notes.append)
    yb = next(f["index"] for f in rtl.fifos if f["tensor"] == "yb")
    assert sizing.still_full.get(yb) == C // 8
    assert sizing.to_json()["still_full"][str(yb)] == C // 8
    assert any("still filled" in n for n in notes)
