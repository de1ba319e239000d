"""Fit the layer cost models to Yosys synthesis of the RTL kernels they describe.

For each kind a grid of real specs (foldings, bit widths, MAC kinds, memory depths, FIFO
depths, width-converter ratios) is turned into the exact kernel instance the RTL backend
instantiates (the kind's ``rtl`` role: module, parameters, memory files), synthesized with
``flows.synth.module.synthesize`` (``synth_xilinx``, cached by content), and the
coefficients of the kind's LUT/FF formula (``flows/layers/<kind>/cost.py`` ``lut_features``)
are fitted by non-negative least squares on ~75% of the points (features named ``ff_*``
count registers and enter the FF fit only). The rest (a deterministic
hash of the point's label) are held back: their error is what the data file and the report
state. BRAM18 and DSP are not fitted: they come from the memory-mapping rule
(``flows.layers.base.memory_map``) and the MAC kind, and are checked on every point.

Error = |estimate - synthesized| / max(synthesized, floor), floor = 50 LUTs (25 FFs, 1
BRAM18): a relative error on a handful of LUTs says nothing.

    PYTHONPATH=. python bench/calibrate.py [--kinds mvau,fifo] [--jobs 2] [--family xc7] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import random
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from qonnx.core.datatype import DataType
from scipy.optimize import nnls

from flows.codegen.rtl_types import RtlInstance
from flows.datatypes import (
    BIPOLAR,
    accumulator_bounds,
    integer_type_holding,
    signed_type_holding,
)
from flows.errors import SynthError
from flows.layers import calibration
from flows.layers.add import cost as add_cost
from flows.layers.add import rtl as add_rtl
from flows.layers.add.spec import AddSpec, sum_bounds
from flows.layers.avgpool import cost as avgpool_cost
from flows.layers.avgpool import rtl as avgpool_rtl
from flows.layers.avgpool.spec import AvgPoolSpec, sum_dtype
from flows.layers.base import memory_map
from flows.layers.dwc import cost as dwc_cost
from flows.layers.dwc import rtl as dwc_rtl
from flows.layers.dwc.spec import DwcSpec
from flows.layers.edge_cost import edge_features
from flows.layers.fifo_cost import fifo_features
from flows.layers.fork import cost as fork_cost
from flows.layers.fork import rtl as fork_rtl
from flows.layers.fork.spec import ForkSpec
from flows.layers.label_select import cost as label_select_cost
from flows.layers.label_select import rtl as label_select_rtl
from flows.layers.label_select.spec import LabelSelectSpec, index_dtype
from flows.layers.maxpool import cost as maxpool_cost
from flows.layers.maxpool import rtl as maxpool_rtl
from flows.layers.maxpool.spec import MaxPoolSpec
from flows.layers.mvau import cost as mvau_cost
from flows.layers.mvau import rtl as mvau_rtl
from flows.layers.mvau.spec import MvauSpec
from flows.layers.sliding_window import cost as swg_cost
from flows.layers.sliding_window import rtl as swg_rtl
from flows.layers.sliding_window.spec import SlidingWindowSpec
from flows.layers.thresholding import cost as thr_cost
from flows.layers.thresholding import rtl as thr_rtl
from flows.layers.thresholding.spec import ThresholdingSpec
from flows.layers.vvau import cost as vvau_cost
from flows.layers.vvau import rtl as vvau_rtl
from flows.layers.vvau.spec import VvauSpec
from flows.synth import module as synth
from flows.synth.yosys import yosys_version

ROOT = Path(__file__).resolve().parents[1]
RTL = ROOT / "hls" / "rtl"
MEMTEST = Path(__file__).with_name("rtl") / "mem.v"
EDGETEST = Path(__file__).with_name("rtl") / "edge.v"
EDGE_SOURCES = [EDGETEST] + [RTL / f"bitfab_{m}.v" for m in ("ctrl", "axis_in", "axis_out")]
WORK = Path("/tmp/bitfab-calibrate")
FLOORS = {"LUT": 50, "FF": 25, "BRAM18": 1}
log = logging.getLogger("calibrate")
T = DataType.__getitem__


@dataclass
class Point:
    """One synthesized kernel: what it is, its features, and what Yosys made of it."""

    kind: str
    label: str
    inst: RtlInstance
    features: dict[str, float]
    estimate_bram18: int
    estimate_dsp: int = 0
    extra: dict = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)  # default: the kernel's own file
    cells: dict[str, int] = field(default_factory=dict)
    held_back: bool = False


def hold_back(pts: list[Point]) -> None:
    """Mark about a quarter of a kind's points: those whose label hashes to 1 mod 4. Each
    point's own hash decides, so adding a point to the grid never moves another between the
    fitted and the held-back sets."""
    for p in pts:
        p.held_back = int(hashlib.sha256(p.label.encode()).hexdigest(), 16) % 4 == 1


# ---- grids: real specs, real parameters ---------------------------------------------------


def _rng(label: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(label.encode()).digest()[:4]))


def _weights(rng, dt: DataType, mw: int, mh: int) -> np.ndarray:
    if dt == BIPOLAR:
        return rng.choice([-1, 1], size=(mw, mh))
    return rng.integers(int(dt.min()), int(dt.max()) + 1, size=(mw, mh))


def _sorted_thresholds(rng, lo: int, hi: int, rows: int, n: int) -> np.ndarray:
    return np.sort(rng.integers(lo, hi + 1, size=(rows, n)), axis=1)


def mvau_point(mw, mh, simd, pe, idt, wdt, n_thres, ram_style="auto") -> Point:
    idt, wdt = T(idt), T(wdt)
    label = f"mvau_{mw}x{mh}_s{simd}_p{pe}_{idt.name}_{wdt.name}_t{n_thres}"
    label += "_block" if ram_style == "block" else ""
    rng = _rng(label)
    w = _weights(rng, wdt, mw, mh)
    lo, hi = accumulator_bounds(w, int(idt.min()), int(idt.max()))
    acc = signed_type_holding(int(lo.min()), int(hi.max()))
    odt = BIPOLAR if (idt == BIPOLAR and n_thres == 1) else T(f"UINT{max(1, n_thres).bit_length()}")
    params = {"weights": w}
    if n_thres:
        params["thresholds"] = _sorted_thresholds(rng, int(lo.min()), int(hi.max()), mh, n_thres)
    else:
        odt = acc
    s = MvauSpec(label, mw, mh, simd, pe, idt, wdt, odt, acc, n_thres, 0, 1, ram_style=ram_style)
    s.validate()
    inst = mvau_rtl.context(s, params)
    return Point(
        "mvau",
        label,
        inst,
        mvau_cost.lut_features(s),
        mvau_cost.resources(s)["BRAM18"],
        mvau_cost.resources(s)["DSP"],
        {"mac": s.mac},
    )


def mvau_grid() -> list[Point]:
    g = []
    for mw, mh, simd, pe in [
        (32, 32, 4, 2),
        (64, 64, 8, 4),
        (256, 128, 32, 16),
        (576, 64, 32, 16),
        (512, 256, 16, 8),
        (256, 64, 16, 4),
        (128, 128, 64, 2),
        (288, 64, 8, 8),
    ]:
        g.append(mvau_point(mw, mh, simd, pe, "BIPOLAR", "BIPOLAR", 1))
    for mw, mh, simd, pe in [
        (32, 32, 4, 2),
        (64, 64, 8, 4),
        (128, 64, 16, 8),
        (144, 32, 8, 4),
    ]:
        g.append(mvau_point(mw, mh, simd, pe, "UINT2", "INT2", 3))
    g.append(mvau_point(64, 32, 8, 4, "UINT2", "INT4", 3))
    g.append(mvau_point(128, 64, 16, 4, "BIPOLAR", "INT2", 15))
    for mw, mh, simd, pe in [(32, 32, 2, 2), (64, 32, 4, 4), (64, 64, 8, 8)]:
        g.append(mvau_point(mw, mh, simd, pe, "UINT4", "INT4", 15))
    for mw, mh, simd, pe in [(32, 16, 2, 2), (128, 32, 8, 4)]:
        g.append(mvau_point(mw, mh, simd, pe, "INT8", "INT8", 0))
    # weight ROMs that synthesis would build in LUTs, put in block RAM (ram_style "block")
    for args in [
        (576, 64, 32, 16, "BIPOLAR", "BIPOLAR", 1),
        (1152, 128, 72, 16, "BIPOLAR", "BIPOLAR", 1),
        (27, 64, 9, 16, "UINT8", "BIPOLAR", 1),
    ]:
        g.append(mvau_point(*args, ram_style="block"))
    # small MAC kernels, where control and counters weigh most
    for args in [
        (16, 16, 2, 2, "UINT2", "INT2", 3),
        (32, 16, 4, 2, "INT8", "INT8", 0),
        (16, 16, 1, 1, "INT8", "INT8", 0),
        (64, 16, 4, 2, "UINT4", "INT4", 15),
    ]:
        g.append(mvau_point(*args))
    # a first layer: 8-bit pixels x binary weights (cnv-w1a1's 3x3x3 conv at several foldings)
    for mw, mh, simd, pe in [(27, 64, 27, 8), (27, 64, 3, 16), (27, 64, 9, 4), (75, 32, 25, 4)]:
        g.append(mvau_point(mw, mh, simd, pe, "UINT8", "BIPOLAR", 1))
    # wide XNOR layers (cnv's second and fourth at fast foldings)
    # ... and a shallow weight ROM in logic, as in tfc's first layer at 8 cycles (8 words)
    for mw, mh, simd, pe in [
        (576, 64, 96, 32),
        (1152, 128, 64, 32),
        (196, 64, 49, 32),
        (576, 64, 96, 16),
        (288, 32, 96, 32),
        (576, 64, 64, 32),
    ]:
        g.append(mvau_point(mw, mh, simd, pe, "BIPOLAR", "BIPOLAR", 1))
    return g


def vvau_point(ch, k, simd, pe, idt, wdt, n_thres) -> Point:
    """A depthwise layer (bitfab_vvau): ``ch`` channels, a k x k kernel."""
    idt, wdt = T(idt), T(wdt)
    label = f"vvau_c{ch}_k{k}_s{simd}_p{pe}_{idt.name}_{wdt.name}_t{n_thres}"
    rng = _rng(label)
    w = _weights(rng, wdt, k * k, ch)
    lo, hi = accumulator_bounds(w, int(idt.min()), int(idt.max()))
    acc = signed_type_holding(int(lo.min()), int(hi.max()))
    odt = BIPOLAR if (idt == BIPOLAR and n_thres == 1) else T(f"UINT{max(1, n_thres).bit_length()}")
    params = {"weights": w}
    if n_thres:
        params["thresholds"] = _sorted_thresholds(rng, int(lo.min()), int(hi.max()), ch, n_thres)
    else:
        odt = acc
    s = VvauSpec(label, ch, k, k, simd, pe, idt, wdt, odt, acc, n_thres, 0, 1)
    s.validate()
    res = vvau_cost.resources(s)
    return Point(
        "vvau",
        label,
        vvau_rtl.context(s, params),
        vvau_cost.lut_features(s),
        res["BRAM18"],
        res["DSP"],
        {"mac": s.mac},
    )


def vvau_grid() -> list[Point]:
    """Depthwise layers of MobileNet-like sizes: PE over channels (SIMD 1), and whole kernel
    positions (PE = C, SIMD | K*K); DSP, LUT, sign-mux and XNOR lanes; 3x3 and 5x5 kernels."""
    g = []
    for ch, k, simd, pe in [
        (16, 3, 1, 1),
        (16, 3, 1, 4),
        (32, 3, 1, 8),
        (32, 3, 1, 16),
        (8, 3, 9, 8),
        (64, 3, 1, 8),
        (16, 5, 1, 4),
        (16, 3, 3, 16),
        (128, 3, 1, 16),
    ]:
        g.append(vvau_point(ch, k, simd, pe, "UINT4", "INT4", 15))
    for ch, k, simd, pe in [
        (16, 3, 1, 2),
        (32, 3, 1, 8),
        (16, 3, 9, 16),
        (64, 3, 1, 16),
        (32, 5, 1, 4),
        (8, 3, 3, 8),
    ]:
        g.append(vvau_point(ch, k, simd, pe, "UINT2", "INT2", 3))
    for ch, k, simd, pe in [(32, 3, 1, 4), (16, 3, 1, 16)]:
        g.append(vvau_point(ch, k, simd, pe, "UINT4", "INT2", 15))
    for ch, k, simd, pe in [(16, 3, 1, 4), (8, 3, 9, 8), (32, 3, 1, 2)]:
        g.append(vvau_point(ch, k, simd, pe, "INT8", "INT8", 0))
    for ch, k, simd, pe in [(32, 3, 1, 8), (64, 3, 1, 16), (16, 3, 9, 16), (128, 3, 1, 32)]:
        g.append(vvau_point(ch, k, simd, pe, "BIPOLAR", "BIPOLAR", 1))
    for ch, k, simd, pe, n in [(16, 3, 1, 4, 1), (8, 3, 9, 8, 7), (32, 3, 1, 8, 3)]:
        g.append(vvau_point(ch, k, simd, pe, "UINT8", "BIPOLAR", n))
    # several kernel positions a clock, more than one weight word (PE = C, SIMD < K*K)
    for args in [
        (8, 3, 3, 8, "UINT4", "INT4", 15),
        (32, 3, 3, 32, "UINT4", "INT4", 15),
        (16, 3, 3, 16, "UINT2", "INT2", 3),
        (16, 5, 5, 16, "UINT2", "INT2", 3),
        (32, 3, 3, 32, "BIPOLAR", "BIPOLAR", 1),
        (8, 3, 3, 8, "UINT8", "BIPOLAR", 7),
        (16, 3, 3, 16, "INT8", "INT8", 0),
        (8, 5, 5, 8, "UINT4", "INT2", 15),
    ]:
        g.append(vvau_point(*args))
    # more single-word kernels (constant weights) and PE < C points
    for args in [
        (16, 3, 9, 16, "UINT4", "INT4", 15),
        (8, 3, 9, 8, "UINT2", "INT2", 3),
        (32, 3, 9, 32, "BIPOLAR", "BIPOLAR", 1),
        (48, 3, 1, 12, "UINT4", "INT4", 7),
        (24, 3, 1, 6, "UINT2", "INT2", 3),
        (64, 3, 1, 4, "INT8", "INT8", 0),
    ]:
        g.append(vvau_point(*args))
    return g


def thr_point(c, pe, idt, n) -> Point:
    idt = T(idt)
    label = f"thresholding_c{c}_p{pe}_{idt.name}_n{n}"
    odt = BIPOLAR if n == 1 else T(f"UINT{n.bit_length()}")
    s = ThresholdingSpec(label, c, pe, idt, odt, n, 0, 1, False)
    s.validate()
    t = _sorted_thresholds(_rng(label), int(idt.min()), int(idt.max()), c, n)
    inst = thr_rtl.context(s, {"thresholds": t})
    return Point(
        "thresholding", label, inst, thr_cost.lut_features(s), thr_cost.resources(s)["BRAM18"]
    )


def thr_grid() -> list[Point]:
    return [
        thr_point(*a)
        for a in [
            (64, 1, "INT8", 1),
            (64, 4, "INT8", 3),
            (128, 8, "INT16", 3),
            (64, 16, "INT8", 15),
            (256, 32, "INT12", 3),
            (32, 32, "INT8", 1),
            (512, 4, "INT8", 15),
            (128, 2, "UINT8", 3),
            (256, 16, "INT16", 15),
            (64, 8, "INT4", 3),
            (1024, 2, "INT10", 7),
            (128, 1, "INT8", 1),
            (32, 2, "UINT4", 3),
            (256, 4, "INT4", 7),
        ]
    ]


def swg_point(ch, hw, k, stride, pad, simd, dt) -> Point:
    dt = T(dt)
    label = f"sliding_window_c{ch}_{hw}_k{k}_s{stride}_p{pad}_simd{simd}_{dt.name}"
    s = SlidingWindowSpec(label, ch, hw, hw, k, k, stride, stride, (pad,) * 4, simd, dt)
    s.validate()
    return Point(
        "sliding_window",
        label,
        swg_rtl.context(s, {}),
        swg_cost.lut_features(s),
        swg_cost.resources(s)["BRAM18"],
    )


def swg_grid() -> list[Point]:
    return [
        swg_point(*a)
        for a in [
            (3, 32, 3, 1, 0, 3, "UINT8"),
            (64, 30, 3, 1, 0, 32, "BIPOLAR"),
            (64, 14, 3, 1, 0, 64, "BIPOLAR"),
            (128, 12, 3, 1, 0, 32, "BIPOLAR"),
            (128, 5, 3, 1, 0, 16, "BIPOLAR"),
            (32, 16, 3, 1, 1, 8, "UINT2"),
            (64, 8, 3, 2, 1, 16, "UINT4"),
            (16, 28, 5, 1, 2, 4, "UINT8"),
            (32, 32, 3, 1, 1, 32, "UINT4"),
            (256, 4, 3, 1, 0, 64, "UINT2"),
        ]
    ]


def maxpool_point(ch, hw, k, stride, pe, dt) -> Point:
    dt = T(dt)
    label = f"maxpool_c{ch}_{hw}_k{k}_s{stride}_p{pe}_{dt.name}"
    s = MaxPoolSpec(label, ch, hw, hw, k, k, stride, stride, pe, dt)
    s.validate()
    return Point(
        "maxpool",
        label,
        maxpool_rtl.context(s, {}),
        maxpool_cost.lut_features(s),
        maxpool_cost.resources(s)["BRAM18"],
    )


def maxpool_grid() -> list[Point]:
    return [
        maxpool_point(*a)
        for a in [
            (64, 28, 2, 2, 4, "UINT2"),
            (128, 10, 2, 2, 8, "UINT2"),
            (32, 16, 3, 2, 4, "INT8"),
            (16, 32, 2, 2, 16, "UINT4"),
            (256, 8, 2, 2, 32, "UINT1"),
            (64, 12, 3, 3, 8, "UINT2"),
            (8, 64, 2, 2, 1, "INT8"),
            (64, 30, 2, 2, 64, "UINT1"),
            (128, 14, 2, 2, 2, "UINT4"),
        ]
    ]


def avgpool_point(ch, hw, k, stride, pe, dt) -> Point:
    dt = T(dt)
    label = f"avgpool_c{ch}_{hw}_k{k}_s{stride}_p{pe}_{dt.name}"
    s = AvgPoolSpec(label, ch, hw, hw, k, k, stride, stride, pe, dt, sum_dtype(dt, k * k))
    s.validate()
    return Point(
        "avgpool",
        label,
        avgpool_rtl.context(s, {}),
        avgpool_cost.lut_features(s),
        avgpool_cost.resources(s)["BRAM18"],
    )


def avgpool_grid() -> list[Point]:
    return [
        avgpool_point(*a)
        for a in [
            (64, 8, 2, 2, 4, "UINT4"),
            (128, 8, 8, 8, 8, "UINT4"),  # global
            (32, 16, 3, 2, 4, "INT8"),
            (16, 32, 2, 2, 16, "UINT2"),
            (256, 4, 4, 4, 32, "UINT2"),  # global
            (64, 12, 3, 3, 8, "INT4"),
            (8, 32, 2, 2, 1, "UINT8"),
            (64, 7, 7, 7, 64, "UINT1"),  # global
            (128, 14, 2, 2, 2, "UINT4"),
            (16, 10, 3, 1, 4, "INT3"),
            (32, 6, 6, 6, 16, "INT4"),  # global
        ]
    ]


def dwc_point(i, o, dt) -> Point:
    dt = T(dt)
    label = f"dwc_{i}to{o}_{dt.name}"
    total = i * o
    s = DwcSpec(label, i, o, dt, total)
    s.validate()
    return Point("dwc", label, dwc_rtl.context(s, {}), dwc_cost.lut_features(s), 0)


def dwc_grid() -> list[Point]:
    return [
        dwc_point(*a)
        for a in [
            (32, 16, "BIPOLAR"),
            (16, 32, "BIPOLAR"),
            (64, 4, "UINT2"),
            (4, 64, "UINT2"),
            (6, 4, "UINT4"),
            (3, 32, "UINT8"),
            (32, 8, "INT8"),
            (8, 3, "INT8"),
            (128, 64, "BIPOLAR"),
            (1, 32, "UINT4"),
            (2, 1, "INT8"),
            # upsizers from one or two elements (a layer with PE 1 feeding a wide SIMD)
            (1, 16, "UINT4"),
            (2, 32, "UINT2"),
            (1, 64, "BIPOLAR"),
            (4, 36, "BIPOLAR"),
            (3, 24, "UINT8"),
            (3, 48, "UINT4"),
            # downsizers, and sizes that divide neither way (placement shifter)
            (16, 2, "UINT4"),
            (8, 1, "INT8"),
            (27, 3, "UINT8"),
            (64, 16, "BIPOLAR"),
            (5, 3, "UINT4"),
            (4, 6, "BIPOLAR"),
            (12, 8, "UINT2"),
            (9, 6, "UINT4"),
            (3, 8, "UINT8"),
            (10, 4, "INT4"),
            (2, 3, "INT8"),
            (16, 24, "UINT2"),
            (8, 64, "BIPOLAR"),
        ]
    ]


def fifo_point(width, depth) -> Point:
    label = f"fifo_w{width}_d{depth}"
    inst = RtlInstance("bitfab_fifo", {"WIDTH": width, "DEPTH": depth})
    from flows.layers.fifo_cost import fifo_resources

    return Point(
        "fifo", label, inst, fifo_features(width, depth), fifo_resources(width, depth)["BRAM18"]
    )


def fifo_grid() -> list[Point]:
    return [
        fifo_point(*a)
        for a in [
            (8, 2),
            (32, 2),
            (64, 8),
            (256, 16),
            (16, 32),
            (128, 64),
            (32, 128),
            (8, 256),
            (64, 512),
            (32, 1024),
            (16, 4096),
            (512, 32),
            (64, 2048),
            (128, 256),
            (4, 4096),
        ]
    ]


def edge_point(dw, iw, ibytes, iwords, ow, obytes, owords) -> Point:
    """The control and both stream adapters of one design's edge (bench/rtl/edge.v)."""
    label = f"edge_dw{dw}_in{iw}b{ibytes}x{iwords}_out{ow}b{obytes}x{owords}"
    params = dict(DW=dw, IW=iw, IBYTES=ibytes, IWORDS=iwords, OW=ow, OBYTES=obytes, OWORDS=owords)
    feats = edge_features(dw, iw, ibytes, iwords, ow, obytes)
    return Point("edge", label, RtlInstance("edgetest", params), feats, 0, sources=EDGE_SOURCES)


def edge_grid() -> list[Point]:
    """Beat widths of the boards' HP ports; the zoo's edges (cnv: 3 x 8-bit pixels in, 10
    11-bit scores out; tfc: 784 1-bit pixels, 10 labels) and wider words."""
    ins = [(24, 3, 1024), (8, 1, 784), (2, 1, 64), (32, 4, 100), (64, 8, 16), (96, 12, 64)]
    outs = [(11, 2, 10), (4, 1, 1), (32, 4, 1), (40, 5, 1), (16, 2, 10), (8, 1, 64)]
    pts = []
    for dw in (32, 64, 128):
        for i, (iw, ib, iwords) in enumerate(ins):
            for j, (ow, ob, owords) in enumerate(outs):
                if (i + j + dw // 32) % 3 == 0:
                    pts.append(edge_point(dw, iw, ib, iwords, ow, ob, owords))
    return pts


def mem_point(mode: int, w: int, d: int) -> Point:
    """A bare memory (bench/rtl/mem.v): MODE 0 a ROM with a registered read, 1 a RAM."""
    label = f"memory_{'rom' if mode == 0 else 'ram'}_{w}x{d}"
    params: dict[str, int | str] = {"W": w, "D": d, "MODE": mode}
    memories = {}
    if mode == 0:
        rng = random.Random(w * 100003 + d)
        memories["FILE"] = [f"{rng.getrandbits(w):0{(w + 3) // 4}x}" for _ in range(d)]
    m = memory_map(w, d, rom=mode == 0)
    inst = RtlInstance("memtest", params, memories)
    return Point(
        "memory",
        label,
        inst,
        {},
        m.bram18,
        extra={"width": w, "depth": d, "rom": mode == 0, "kind": m.kind},
    )


def mem_grid() -> list[Point]:
    pts = []
    for mode in (0, 1):
        for w, ds in (
            (8, (256, 1024, 4096)),
            (36, (128, 512, 1024, 2048)),
            (144, (64, 256, 512, 1024)),
        ):
            pts.extend(mem_point(mode, w, d) for d in ds)
    return pts


def fork_point(c, pe, dt) -> Point:
    dt = T(dt)
    label = f"fork_c{c}_p{pe}_{dt.name}"
    s = ForkSpec(label, c, 4, pe, dt)
    s.validate()
    return Point("fork", label, fork_rtl.context(s, {}), fork_cost.lut_features(s), 0)


def fork_grid() -> list[Point]:
    return [
        fork_point(*a)
        for a in [
            (64, 1, "UINT4"),
            (64, 16, "UINT4"),
            (128, 32, "UINT8"),
            (256, 64, "BIPOLAR"),
            (32, 8, "INT2"),
            (16, 16, "INT8"),
            (8, 8, "UINT1"),
            (512, 64, "UINT8"),
            (48, 12, "UINT3"),
            (96, 3, "INT4"),
        ]
    ]


def add_point(c, pe, a, b, a_mul: int = 1, b_mul: int = 1) -> Point:
    a, b = T(a), T(b)
    label = f"add_c{c}_p{pe}_{a.name}_{b.name}"
    label += f"_x{a_mul}_{b_mul}" if (a_mul, b_mul) != (1, 1) else ""
    odt = integer_type_holding(*sum_bounds(a, b, a_mul, b_mul))
    s = AddSpec(label, c, 4, pe, a, b, odt, a_mul, b_mul)
    s.validate()
    return Point(
        "add",
        label,
        add_rtl.context(s, {}),
        add_cost.lut_features(s),
        0,
        add_cost.resources(s)["DSP"],
    )


def add_grid() -> list[Point]:
    return [
        add_point(*a)
        for a in [
            (64, 1, "UINT4", "UINT4"),
            (64, 8, "UINT4", "UINT4"),
            (64, 16, "UINT2", "UINT2"),
            (128, 32, "UINT4", "UINT4"),
            (32, 4, "INT8", "INT8"),
            (32, 8, "INT4", "UINT4"),
            (16, 16, "UINT8", "UINT8"),
            (256, 64, "UINT2", "UINT2"),
            (64, 2, "INT8", "UINT2"),
            (128, 8, "UINT3", "UINT3"),
            # constant multipliers (paths of different scales): shifts, LUT multipliers
            # (products below 9 bits), DSP48s (wider products)
            (64, 8, "UINT4", "UINT4", 1, 4),
            (64, 16, "UINT2", "UINT2", 2, 1),
            (64, 8, "UINT4", "UINT4", 12, 5),
            (32, 4, "UINT3", "UINT2", 3, 5),
            (128, 16, "UINT2", "UINT2", 3, 7),
            (64, 4, "UINT2", "UINT3", 5, 3),
            (64, 2, "INT4", "UINT4", -3, 1),
            (32, 4, "INT8", "INT8", 3, 7),
            (64, 8, "UINT4", "UINT4", 255, 1),
            (64, 8, "UINT4", "UINT4", 1666444, 1514949),
        ]
    ]


def label_select_point(n, pe, dt) -> Point:
    dt = T(dt)
    label = f"label_select_n{n}_p{pe}_{dt.name}"
    s = LabelSelectSpec(label, n, pe, dt, index_dtype(n))
    s.validate()
    return Point(
        "label_select", label, label_select_rtl.context(s, {}), label_select_cost.lut_features(s), 0
    )


def label_select_grid() -> list[Point]:
    """Classifier heads: 10 to 1000 labels, accumulator-wide and thresholded inputs, PE from
    one value a word to a whole image a word."""
    return [
        label_select_point(*a)
        for a in [
            (10, 1, "INT8"),
            (10, 2, "INT8"),
            (10, 5, "INT16"),
            (10, 10, "INT8"),
            (10, 10, "UINT4"),
            (100, 1, "INT16"),
            (100, 4, "INT12"),
            (100, 20, "UINT8"),
            (64, 64, "INT6"),
            (1000, 8, "INT20"),
            (1000, 1, "INT24"),
            (16, 16, "UINT2"),
            (32, 4, "BIPOLAR"),
            (256, 32, "INT10"),
            (10, 1, "UINT4"),
            (10, 5, "INT8"),
            (10, 2, "UINT8"),
            (20, 4, "INT8"),
            (40, 8, "INT8"),
            (100, 10, "INT16"),
            (100, 2, "INT8"),
            (1000, 40, "INT8"),
            (1000, 4, "INT16"),
            (12, 3, "INT4"),
            (24, 6, "UINT6"),
            (48, 12, "INT5"),
            (128, 16, "INT8"),
            (10, 10, "INT16"),
            (200, 50, "UINT3"),
            (64, 2, "INT32"),
            (8, 8, "BIPOLAR"),
        ]
    ]


GRIDS: dict[str, Callable[[], list[Point]]] = {
    "mvau": mvau_grid,
    "thresholding": thr_grid,
    "vvau": vvau_grid,
    "sliding_window": swg_grid,
    "maxpool": maxpool_grid,
    "avgpool": avgpool_grid,
    "dwc": dwc_grid,
    "fifo": fifo_grid,
    "edge": edge_grid,
    "memory": mem_grid,
    "fork": fork_grid,
    "add": add_grid,
    "label_select": label_select_grid,
}


# ---- synthesis --------------------------------------------------------------------------


def synthesize(p: Point, family: str, cache: Path | None = None) -> Point:
    """Write the point's memory files as the RTL backend names them and synthesize it
    (``cache``: the synthesis cache, default flows.synth.module.cache_dir())."""
    work = WORK / p.label
    work.mkdir(parents=True, exist_ok=True)
    params: dict[str, int | str] = dict(p.inst.params)
    for param, lines in p.inst.memories.items():
        if p.kind == "memory":
            name = f"rom_{p.extra['width']}_{p.extra['depth']}.mem"
        else:
            name = f"{p.label}_{param.lower()}.mem"
        (work / name).write_text("".join(line + "\n" for line in lines))
        params[param] = name
    if p.sources:
        srcs = p.sources
    else:
        srcs = [MEMTEST if p.kind == "memory" else RTL / f"{p.inst.module}.v"]
    try:
        res = synth.synthesize(srcs, p.inst.module, params, family, work, cache=cache)
    except SynthError as e:  # a Yosys crash on one point: the fit goes on without it
        log.warning("%-60s skipped: %s", p.label, e.first_error)
        return p
    p.cells = {**res.cells.to_json(), "slice_luts": res.cells.slice_luts}
    log.info("%-60s %5.1fs%s %s", p.label, res.seconds, " (cached)" if res.cached else "", p.cells)
    return p


# ---- fitting ----------------------------------------------------------------------------


def rel_err(est: float, syn: float, floor: float) -> float:
    return abs(est - syn) / max(syn, floor)


def fit_kind(kind: str, pts: list[Point]) -> dict:
    """NNLS fit of LUT and FF coefficients on the training points; errors on the held-back."""
    train = [p for p in pts if not p.held_back] or pts
    test = [p for p in pts if p.held_back] or pts
    names = sorted({k for p in pts for k in p.features})
    out: dict = {"points": len(pts), "fitted_on": len(train), "held_back": len(test)}
    coeffs: dict[str, dict[str, float]] = {}
    for res, target in (("LUT", "slice_luts"), ("FF", "FF")):
        # features named ff_* describe registers only: they take no part in the LUT fit
        used = [n for n in names if res == "FF" or not n.startswith("ff_")]
        a = np.array([[p.features.get(n, 0.0) for n in used] for p in train], float)
        y = np.array([p.cells[target] for p in train], float)
        # weight by 1/max(y, floor): minimise the relative error the target is stated in
        wts = 1.0 / np.maximum(y, FLOORS[res])
        x, _ = nnls(a * wts[:, None], y * wts)
        coeffs[res] = {n: round(float(v), 5) for n, v in zip(used, x) if v > 0}
    out["coefficients"] = coeffs
    errs: dict[str, dict] = {}
    for res, target in (("LUT", "slice_luts"), ("FF", "FF"), ("BRAM18", "BRAM18"), ("DSP", "DSP")):
        e = []
        for p in test:
            if res in ("LUT", "FF"):
                est = sum(coeffs[res].get(n, 0.0) * v for n, v in p.features.items())
            else:
                est = p.estimate_bram18 if res == "BRAM18" else p.estimate_dsp
            e.append(
                (rel_err(est, p.cells[target], FLOORS.get(res, 1)), p.label, est, p.cells[target])
            )
        if res in ("BRAM18", "DSP") and not any(x[3] or x[2] for x in e):
            continue
        worst = max(e)
        errs[res] = {
            "mean": round(float(np.mean([x[0] for x in e])), 4),
            "max": round(worst[0], 4),
            "worst_point": worst[1],
            "worst_estimate": round(worst[2], 1),
            "worst_synth": worst[3],
        }
    out["held_back_error"] = errs
    return out


def memory_section(pts: list[Point]) -> list[dict]:
    """Each synthesized bare memory: what Yosys did and what memory_map predicts."""
    rows = []
    for p in pts:
        rows.append(
            {
                **{k: p.extra[k] for k in ("width", "depth", "rom")},
                "synth": {k: p.cells[k] for k in ("LUT", "LUTRAM", "FF", "BRAM18")},
                "predicted_kind": p.extra["kind"],
                "predicted_bram18": p.estimate_bram18,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default=",".join(GRIDS), help="comma-separated: " + ",".join(GRIDS))
    ap.add_argument("--jobs", type=int, default=1, help="parallel Yosys runs")
    ap.add_argument("--family", default="xc7", choices=("xc7", "xcup"))
    ap.add_argument("--write", action="store_true", help=f"update {calibration.DATA_FILE}")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(GRIDS))
    if unknown:
        ap.error(f"unknown kinds {unknown}; known: {', '.join(GRIDS)}")
    pts = []
    for k in kinds:
        grid = GRIDS[k]()
        hold_back(grid)
        pts += grid
    with ThreadPoolExecutor(max(1, args.jobs)) as ex:
        pts = list(ex.map(lambda p: synthesize(p, args.family), pts))
    failed = [p.label for p in pts if not p.cells]
    if failed:
        print(f"Yosys crashed on {len(failed)} point(s), left out of the fit: {', '.join(failed)}")
    pts = [p for p in pts if p.cells]
    result = {}
    print(f"held-back error = |est - synth| / max(synth, floor), floors {FLOORS}")
    print(f"{'kind':16s} {'res':6s} {'n fit/held':>10s} {'mean':>7s} {'worst':>7s}  worst point")
    for k in kinds:
        kp = [p for p in pts if p.kind == k]
        if k == "memory":
            result[k] = memory_section(kp)
            bad = [r for r in result[k] if r["synth"]["BRAM18"] != r["predicted_bram18"]]
            print(f"{'memory':16s} BRAM18 {len(kp):>10d} mapping rule mismatches: {len(bad)}")
            continue
        r = fit_kind(k, kp)
        result[k] = r
        for res, e in r["held_back_error"].items():
            n = f"{r['fitted_on']}/{r['held_back']}"
            print(
                f"{k:16s} {res:6s} {n:>10s} {e['mean']:7.1%} {e['max']:7.1%}  "
                f"{e['worst_point']} (est {e['worst_estimate']}, synth {e['worst_synth']})"
            )
    if args.write:
        data = calibration.load_raw() if calibration.DATA_FILE.exists() else {"kinds": {}}
        data.update(
            {
                "yosys": yosys_version(),
                "family": args.family,
                "date": datetime.date.today().isoformat(),
                "error": "|est - synth| / max(synth, floor) on held-back points",
                "floors": FLOORS,
            }
        )
        for k in kinds:
            if k == "memory":
                data["memory_points"] = result[k]
            else:
                data["kinds"][k] = result[k]
        calibration.DATA_FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {calibration.DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
