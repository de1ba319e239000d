"""The RTL edge (bitfab_ctrl, bitfab_axis_in, bitfab_axis_out) and the whole-design harness
hls/rtl/tb/top_tb.cpp, on a hand-written bitfab_top (tests/rtl/edge_top.v) whose layer adds 1
to each word. Beats go in and come out exactly as boards/driver/packing.py lays out the DMA
buffers."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from boards.driver import packing
from flows.sim.verilator import ModelSpec, compile_model
from tests.rtl_tb import CACHE, OPT, RTL_DIR, kernel_sources

TOP_TB = RTL_DIR / "tb" / "top_tb.cpp"
EDGE_TOP = Path(__file__).with_name("edge_top.v")


@dataclass(frozen=True)
class Edge:
    """One top: DW-bit beats, input words of ibits*ielems bits, output of obits*oelems bits."""

    dw: int
    ibits: int
    ielems: int
    obits: int
    oelems: int
    words: int
    depth0: int = 4
    depth1: int = 100
    stall: int = 0

    @property
    def iw(self) -> int:
        return self.ibits * self.ielems

    @property
    def ow(self) -> int:
        return self.obits * self.oelems

    @property
    def in_bytes(self) -> int:
        return packing.word_bytes(self.ibits, self.ielems)

    @property
    def out_bytes(self) -> int:
        return packing.word_bytes(self.obits, self.oelems)

    def beats(self, nbytes: int) -> int:
        return packing.image_bytes(self.words, nbytes, self.dw) // (self.dw // 8)

    def params(self) -> dict[str, int]:
        return {
            "DW": self.dw,
            "IW": self.iw,
            "OW": self.ow,
            "IN_BYTES": self.in_bytes,
            "OUT_BYTES": self.out_bytes,
            "WORDS": self.words,
            "DEPTH0": self.depth0,
            "DEPTH1": self.depth1,
            "STALL": self.stall,
        }


@dataclass
class TopRun:
    returncode: int
    stderr: str
    beats: list[int]
    cycles: list[int]
    tlast: list[int]
    stats: list[list[str]]

    def stat(self, kind: str, i: int | None = None) -> dict[str, int]:
        for row in self.stats:
            if row[0] == kind and (i is None or int(row[1]) == i):
                rest = row if i is None else row[2:]
                return {rest[k]: int(rest[k + 1]) for k in range(0, len(rest), 2)}
        raise KeyError((kind, i))


def run_top(
    edge: Edge,
    beats: list[int],
    n_images: int,
    tmp: Path,
    *,
    max_idle: int = 5000,
    runs: int = 1,
    probes: int | None = None,
) -> TopRun:
    spec = ModelSpec(
        (*kernel_sources(), EDGE_TOP),
        "bitfab_top",
        TOP_TB,
        edge.params(),
        defines=("BITFAB_PROBES",),
        opt=OPT,
    )
    binary = compile_model(spec, CACHE)
    (tmp / "in.hex").write_text("".join(f"{b:x}\n" for b in beats))
    args = [tmp / "in.hex", tmp / "out.txt", n_images, edge.beats(edge.out_bytes), max_idle]
    args += [tmp / "stats.txt"]
    if probes is not None or runs != 1:
        args += [2 if probes is None else probes, runs]
    proc = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True)
    beats_out, cycles, tlast = [], [], []
    if (tmp / "out.txt").exists():
        for line in (tmp / "out.txt").read_text().splitlines():
            h, c, t = line.split()
            beats_out.append(int(h, 16))
            cycles.append(int(c))
            tlast.append(int(t))
    stats = [ln.split() for ln in (tmp / "stats.txt").read_text().splitlines()]
    return TopRun(proc.returncode, proc.stderr, beats_out, cycles, tlast, stats)


def beats_of(buf: np.ndarray, dw: int) -> list[int]:
    """A DMA buffer [N, image_bytes] -> its DW-bit beats (little-endian), in order."""
    flat = buf.reshape(-1, dw // 8)
    return [int.from_bytes(row.tobytes(), "little") for row in flat]


def buffer_of(beats: list[int], dw: int, n: int) -> np.ndarray:
    raw = b"".join(b.to_bytes(dw // 8, "little") for b in beats)
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, -1)


def case(edge: Edge, n: int, seed: int = 0):
    """Input DMA buffer beats and the expected output buffer, by packing.py."""
    rng = np.random.default_rng(seed)
    fields = rng.integers(0, 1 << edge.ibits, (n, edge.words * edge.ielems))
    ibuf = packing.to_beats(packing.pack(fields, edge.ibits, edge.ielems), edge.dw)
    # the layer: each word as an integer, plus 1 modulo 2**OW
    words = [
        [
            sum(int(f) << (j * edge.ibits) for j, f in enumerate(w))
            for w in img.reshape(edge.words, edge.ielems)
        ]
        for img in fields
    ]
    mask = (1 << edge.ow) - 1
    out_fields = np.array(
        [
            [
                ((((w & mask) + 1) & mask) >> (j * edge.obits)) & ((1 << edge.obits) - 1)
                for w in img
                for j in range(edge.oelems)
            ]
            for img in words
        ],
        dtype=np.int64,
    )
    obuf = packing.to_beats(packing.pack(out_fields, edge.obits, edge.oelems), edge.dw)
    return beats_of(ibuf, edge.dw), obuf, out_fields


# Each top is one Verilator compile (the slow part of these tests): three cover DW 32, 64 and
# 128, words wider than a beat on either side, partial last beats, 12-bit words, stored bits
# above the word's width, and both fifo implementations.
EDGES = {
    # 12-bit words in 2 bytes (a partial last beat); 35-bit words in 5 bytes out, wider than a
    # beat; a deep (block RAM) fifo 1
    "dw32-12bit": Edge(32, 12, 1, 5, 7, words=7, depth1=70),
    # 160-bit words, wider than a beat, a partial last beat; 40-bit words out, half a beat
    "dw128-wide": Edge(128, 8, 20, 4, 10, words=3),
    # 100-bit words in 13 bytes (the bits above the word are dropped), 48-bit words out
    "dw64-bipolar": Edge(64, 1, 100, 16, 3, words=5),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_matches_the_driver_packing(name, tmp_path):
    edge = EDGES[name]
    in_beats, out_beats = edge.beats(edge.in_bytes), edge.beats(edge.out_bytes)
    for n in (1, 5):
        beats, obuf, out_fields = case(edge, n, seed=n)
        d = tmp_path / f"n{n}"
        d.mkdir()
        run = run_top(edge, beats, n, d)
        assert run.returncode == 0, run.stderr
        assert len(run.beats) == n * out_beats
        got = buffer_of(run.beats, edge.dw, n)
        np.testing.assert_array_equal(got, obuf)
        words = packing.from_beats(got, edge.words, edge.out_bytes)
        np.testing.assert_array_equal(
            packing.unpack(words, edge.obits, edge.oelems, False), out_fields
        )
        assert run.tlast == [0] * (n * out_beats - 1) + [1]  # TLAST only on the batch's end
        # full rate: one beat and one word per cycle, so the batch takes about
        # n * max(beats in, words, beats out) cycles after the first beat goes in
        first = run.stat("cycles")["first_in"]
        taking = run.stat("cycles")["last_in"] - first + 1  # cycles the input beats took
        assert n * in_beats <= taking <= n * max(in_beats, edge.words)
        bound = n * max(in_beats, edge.words, out_beats)
        assert run.cycles[-1] - first <= bound + 12, (run.cycles[-1] - first, bound)
        # the probes: fifo 0 carries the input words, fifo 1 the output words
        for i, depth in enumerate((edge.depth0, edge.depth1)):
            s = run.stat("fifo", i)
            assert s["in_fire"] == s["out_fire"] == n * edge.words
            assert 1 <= s["max"] <= depth
            assert s["full_now"] == 0


def test_second_start_after_the_first_finished(tmp_path):
    edge = EDGES["dw32-12bit"]
    n = 3
    beats, obuf, _ = case(edge, n, seed=7)
    run = run_top(edge, beats, n, tmp_path, runs=2)
    assert run.returncode == 0, run.stderr
    per_run = n * edge.beats(edge.out_bytes)
    assert len(run.beats) == 2 * per_run
    for r in range(2):
        part = run.beats[r * per_run : (r + 1) * per_run]
        np.testing.assert_array_equal(buffer_of(part, edge.dw, n), obuf)
        assert run.tlast[r * per_run : (r + 1) * per_run] == [0] * (per_run - 1) + [1]
    assert run.stat("fifo", 0)["in_fire"] == 2 * n * edge.words


def test_a_layer_that_never_outputs_is_a_deadlock_with_stats(tmp_path):
    edge = Edge(32, 12, 1, 5, 7, words=7, depth0=4, depth1=70, stall=1)
    beats, _, _ = case(edge, 2)
    run = run_top(edge, beats, 2, tmp_path, max_idle=300)
    assert run.returncode == 3, run.stderr
    assert "deadlock: no output beat for 300 cycles" in run.stderr
    assert run.beats == []
    assert run.stat("cycles")["cycles"] >= 300
    f0, f1 = run.stat("fifo", 0), run.stat("fifo", 1)
    assert f0["max"] == f0["full_now"] == 4  # fifo 0 filled up and stays full
    assert f0["in_stall"] > 0 and f0["out_block"] > 0 and f0["out_fire"] == 0
    assert f1["max"] == 0 and f1["in_fire"] == 0
    assert run.stat("now", 0) == {"in_tvalid": 1, "in_tready": 0, "out_tvalid": 1, "out_tready": 0}


def test_max_idle_shorter_than_the_latency_is_a_deadlock(tmp_path):
    edge = EDGES["dw64-bipolar"]
    beats, _, _ = case(edge, 1)
    run = run_top(edge, beats, 1, tmp_path, max_idle=2)
    assert run.returncode == 3
    assert "deadlock: no output beat for 2 cycles" in run.stderr
    assert [r[0] for r in run.stats] == ["cycles", "fifo", "fifo", "now", "now"]


def test_zero_images_finish_at_once(tmp_path):
    edge = EDGES["dw64-bipolar"]
    run = run_top(edge, [], 0, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.beats == []


def test_fewer_input_beats_than_the_batch_needs_is_a_deadlock(tmp_path):
    edge = EDGES["dw64-bipolar"]
    beats, _, _ = case(edge, 2)
    run = run_top(edge, beats[:-1], 2, tmp_path, max_idle=200)
    assert run.returncode == 3
    assert run.stat("cycles")["last_in"] >= 0


# bitfab_ctrl on its own: the register map beyond what the driver uses (ap_ready, interrupts,
# auto_restart, byte strobes). A small harness of its own, kept here with the test.
CTRL_TB = r"""
#include <cstdio>
#include <memory>
#include "Vdut.h"
#include "verilated.h"
static std::unique_ptr<Vdut> d;
static int starts = 0;
static void tick() {
  d->clk = 0; d->eval();
  starts += d->start;
  d->clk = 1; d->eval();
}
static unsigned rd(unsigned a) {
  d->ARADDR = a; d->ARVALID = 1; d->RREADY = 1;
  for (int i = 0; i < 20; i++) {
    d->clk = 0; d->eval();
    bool arf = d->ARVALID && d->ARREADY, rf = d->RVALID;
    unsigned v = d->RDATA;
    starts += d->start;
    d->clk = 1; d->eval();
    if (arf) d->ARVALID = 0;
    if (rf) { d->RREADY = 0; return v; }
  }
  std::printf("read timeout\n"); std::exit(9);
}
static void wr(unsigned a, unsigned v, unsigned strb = 0xF) {
  d->AWADDR = a; d->AWVALID = 1; d->WDATA = v; d->WSTRB = strb; d->WVALID = 1; d->BREADY = 1;
  for (int i = 0; i < 20; i++) {
    d->clk = 0; d->eval();
    bool awf = d->AWVALID && d->AWREADY, wf = d->WVALID && d->WREADY, bf = d->BVALID;
    starts += d->start;
    d->clk = 1; d->eval();
    if (awf) d->AWVALID = 0;
    if (wf) d->WVALID = 0;
    if (bf) { d->BREADY = 0; return; }
  }
  std::printf("write timeout\n"); std::exit(9);
}
static void done() { d->done = 1; tick(); d->done = 0; tick(); }
int main() {
  auto ctx = std::make_unique<VerilatedContext>();
  d = std::make_unique<Vdut>(ctx.get());
  d->rst_n = 0; for (int i = 0; i < 4; i++) tick(); d->rst_n = 1; tick();
  std::printf("ctrl0 %x\n", rd(0x00));
  wr(0x10, 0x12345678, 0x5);
  std::printf("n %x\n", rd(0x10));
  wr(0x10, 7);
  wr(0x04, 1); wr(0x08, 3);
  std::printf("int0 %d\n", d->__SYM__interrupt);
  wr(0x00, 1); tick(); tick();
  std::printf("starts %d n_images %u\n", starts, d->n_images);
  unsigned a = rd(0x00), b = rd(0x00), c;  // (each read in order: the first clears bits)
  std::printf("ctrl1 %x ctrl2 %x\n", a, b);
  std::printf("isr %x int %d\n", rd(0x0C), d->__SYM__interrupt);
  wr(0x0C, 2);
  std::printf("isr %x int %d\n", rd(0x0C), d->__SYM__interrupt);
  for (int i = 0; i < 10; i++) tick();
  std::printf("starts %d ctrl3 %x\n", starts, rd(0x00));
  done();
  c = rd(0x0C);
  a = rd(0x00);
  b = rd(0x00);
  std::printf("isr %x int %d ctrl4 %x ctrl5 %x\n", c, d->__SYM__interrupt, a, b);
  wr(0x0C, 3);
  wr(0x00, 0x81); tick(); tick();
  std::printf("starts %d ctrl6 %x\n", starts, rd(0x00));
  done(); tick();
  std::printf("starts %d ctrl7 %x\n", starts, rd(0x00));
  wr(0x00, 0x00);
  done(); tick();
  std::printf("starts %d ctrl8 %x\n", starts, rd(0x00));
  done(); tick(); tick();
  a = rd(0x00);
  b = rd(0x00);
  std::printf("starts %d ctrl9 %x ctrl10 %x\n", starts, a, b);
  d->final();
  d.reset();  // before its context
  return 0;
}
"""


def test_ctrl_register_map(tmp_path):
    tb = tmp_path / "ctrl_tb.cpp"
    tb.write_text(CTRL_TB)
    binary = compile_model(
        ModelSpec((RTL_DIR / "bitfab_ctrl.v",), "bitfab_ctrl", tb, opt=OPT), CACHE
    )
    out = subprocess.run(
        [str(binary)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.splitlines() == [
        "ctrl0 4",  # idle after reset
        "n 340078",  # byte strobes 0 and 2
        "int0 0",
        "starts 1 n_images 7",  # one start pulse, n_images stable
        "ctrl1 8 ctrl2 0",  # running: ap_start taken, ap_ready (clear on read), not idle
        "isr 2 int 1",  # ap_ready interrupt
        "isr 0 int 0",  # a write of 1 toggles ISR
        "starts 1 ctrl3 0",
        "isr 1 int 1 ctrl4 6 ctrl5 4",  # done: ap_done (clear on read) and idle
        "starts 2 ctrl6 89",  # auto_restart keeps ap_start
        "starts 3 ctrl7 8b",  # done (kept until read): started again at once
        # auto_restart cleared, ap_start still set: done restarts once more, clearing ap_start
        "starts 4 ctrl8 a",
        "starts 4 ctrl9 6 ctrl10 4",  # the last done: idle, no further start
    ]
