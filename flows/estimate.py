"""The resource estimate of a whole design: its layers, its FIFOs and the board's shell.

One function serves the report and the folding step, so the folding that was chosen to fit
is the folding the report says fits. Every figure is the calibrated cost model's estimate
(each kind's ``cost.resources``), not a synthesis result; ``bitfab synth`` measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from qonnx.core.modelwrapper import ModelWrapper

from flows.codegen.design import Design, build_design
from flows.layers.dwc.insert import InsertDWC
from flows.passes.set_fifo_depths import SetFifoDepths
from flows.report import fifo_rows

RESOURCES = ("LUT", "BRAM18", "DSP")


def design_resources(design: Design) -> dict[str, int]:
    """LUT/BRAM18/DSP of every layer and every FIFO of ``design`` (shell not included)."""
    tot = dict.fromkeys(RESOURCES, 0)
    for layer in design.layers:
        for k, v in layer.kind.cost.resources(layer.spec).items():
            if k in tot:
                tot[k] += int(v)
    for row in fifo_rows(design):
        for k in RESOURCES:
            tot[k] += int(row["resources"][k])
    return tot


def folded_resources(model: ModelWrapper) -> dict[str, int]:
    """The estimate of a model folded but not yet given width converters and FIFO depths:
    they are added on a copy, exactly as the build's fold step adds them."""
    df = model.transform(InsertDWC()).transform(SetFifoDepths())
    return design_resources(build_design(df))


@dataclass(frozen=True)
class Budget:
    """What a default folding may take: ``fraction`` of the board, after the shell.

    The shell (PS glue, DMAs, interconnect) is outside the dataflow design but on the same
    chip, so it is subtracted before the design's estimate is compared.
    """

    board: dict[str, int]
    fraction: float
    shell: dict[str, int]

    def limit(self, key: str) -> float:
        return self.fraction * self.board.get(key, float("inf"))

    def with_shell(self, design: dict[str, int]) -> dict[str, int]:
        return {k: int(design.get(k, 0)) + int(self.shell.get(k, 0)) for k in RESOURCES}

    def fits(self, design: dict[str, int]) -> bool:
        total = self.with_shell(design)
        return all(total[k] <= self.limit(k) for k in RESOURCES)
