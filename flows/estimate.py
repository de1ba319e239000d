"""The resource estimate of a whole design: its layers, its FIFOs and the board's shell.

One function serves the report and the folding step, so the folding that was chosen to fit
is the folding the report says fits. Every figure is the calibrated cost model's estimate
(each kind's ``cost.resources``), not a synthesis result; ``bitfab synth`` measures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from flows.codegen.design import Design, build_design
from flows.layers.dwc.insert import InsertDWC
from flows.layers.edge_cost import edge_resources
from flows.layers.fifo_cost import fifo_resources
from flows.passes.set_fifo_depths import SetFifoDepths

RESOURCES = ("LUT", "BRAM18", "DSP")
# The HLS backend's factors over the calibrated RTL estimate (bench/calibrate_hls.py)
HLS_FACTORS = Path(__file__).with_name("hls_factors.json")


def design_resources(design: Design, dma_bits: int) -> dict[str, int]:
    """LUT/BRAM18/DSP of every layer, every FIFO and the edge (AXI-Lite control and the two
    stream adapters for ``dma_bits``-bit beats) of ``design``: all of bitfab_top, which is
    what ``bitfab synth`` counts (shell not included)."""
    tot = edge_resources(dma_bits, design.input, design.output)
    for layer in design.layers:
        for k, v in layer.kind.cost.resources(layer.spec).items():
            if k in tot:
                tot[k] += int(v)
    for stream in design.streams.values():
        for k, v in fifo_resources(stream.width, stream.depth).items():
            if k in tot:
                tot[k] += int(v)
    return tot


def folded_resources(model: ModelWrapper, dma_bits: int) -> dict[str, int]:
    """The estimate of a model folded but not yet given width converters and FIFO depths:
    they are added on a copy, exactly as the build's fold step adds them."""
    df = model.transform(InsertDWC()).transform(SetFifoDepths())
    return design_resources(build_design(df), dma_bits)


@dataclass(frozen=True)
class Budget:
    """What a default folding may take: ``fraction`` of the board, after the shell.

    The shell (PS glue, DMAs, interconnect) is outside the dataflow design but on the same
    chip, so it is subtracted before the design's estimate is compared. ``waived`` names the
    resources ``fits`` does not check: those no folding brings within the board.
    """

    board: dict[str, int]
    fraction: float
    shell: dict[str, int]
    waived: frozenset[str] = frozenset()

    def limit(self, key: str) -> float:
        return self.fraction * self.board.get(key, float("inf"))

    def with_shell(self, design: dict[str, int]) -> dict[str, int]:
        return {k: int(design.get(k, 0)) + int(self.shell.get(k, 0)) for k in RESOURCES}

    def fits(self, design: dict[str, int]) -> bool:
        total = self.with_shell(design)
        return all(total[k] <= self.limit(k) for k in RESOURCES if k not in self.waived)

    def over(self, design: dict[str, int]) -> list[str]:
        """The resources ``design`` (shell added) takes more of than the budget allows."""
        total = self.with_shell(design)
        return [k for k in RESOURCES if total[k] > self.limit(k)]


@lru_cache(maxsize=1)
def hls_factors() -> dict:
    """The fitted HLS-over-RTL factors per resource, with where they were fitted."""
    return json.loads(HLS_FACTORS.read_text())


def hls_resources(rtl: dict[str, int]) -> dict[str, int]:
    """The HLS backend's estimate of a design whose RTL estimate is ``rtl``.

    Vitis HLS adds control, stream adapters and its own memory packing around the same
    datapaths; no HLS synthesis runs here, so the factor is fitted to the one published
    Vivado figure for a folding we can reproduce (FINN's cnv-w1a1, see hls_factors.json).
    """
    f = hls_factors()["factors"]
    return {k: round(rtl[k] * f.get(k, 1.0)) for k in RESOURCES}


def resources_error(design: Design) -> dict[str, dict[str, dict[str, float]]]:
    """The measured error that labels the estimate: for each kind in ``design`` (and its
    FIFOs), the calibration's mean and worst error on points its fit did not see."""
    from flows.layers import calibration

    names = {layer.kind.cost.__name__.split(".")[-2] for layer in design.layers} | {"fifo", "edge"}
    out = {}
    for name in sorted(names):
        err = calibration.held_back_error(name)
        rows = {r: {"mean": e["mean"], "max": e["max"]} for r, e in err.items() if r in RESOURCES}
        if rows:
            out[name] = rows
    return out
