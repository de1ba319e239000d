"""Thresholding parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.base import lane_options


@dataclass(frozen=True)
class ThresholdingSpec:
    """``out = out_bias + out_step * count(x >= T[c])`` over C channels (T shared if one row)."""

    name: str
    channels: int
    pe: int
    idt: DataType
    odt: DataType
    n_thres: int
    out_bias: int
    out_step: int
    shared: bool  # one threshold row for every channel
    pixels: int = 1

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        bits = max(self.odt.bitwidth(), self.idt.bitwidth())
        return [{"PE": pe} for pe in lane_options(self.channels, bits, max_bits)]

    def input_burst(self) -> int:
        return 1  # reads one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {
            "C": self.channels,
            "PE": self.pe,
            "thresholds_per_channel": self.n_thres,
            "shared_thresholds": self.shared,
        }

    def validate(self) -> None:
        if self.channels % self.pe:
            raise LayerError(
                f"Thresholding '{self.name}': C={self.channels} not divisible by PE={self.pe}"
            )
        if not self.idt.is_integer():
            raise LayerError(
                f"Thresholding '{self.name}': input datatype {self.idt.name} is not an integer "
                "type; annotate the graph input with its integer datatype"
            )
