"""Stream add parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.errors import LayerError
from flows.layers.base import lane_options


@dataclass(frozen=True)
class AddSpec:
    """out = a + b lane by lane: ``pixels`` pixels of ``channels`` values an image on each
    input, PE lanes a word, the output type holding every sum exactly."""

    name: str
    channels: int
    pixels: int
    pe: int
    adt: DataType
    bdt: DataType
    odt: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    @property
    def words(self) -> int:
        return self.pixels * self.channels // self.pe

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        bits = max(self.adt.bitwidth(), self.bdt.bitwidth(), self.odt.bitwidth())
        return [{"PE": p} for p in lane_options(self.channels, bits, max_bits)]

    def input_burst(self) -> int:
        return 1  # one word of each input a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {"PE": self.pe, "in_dtypes": [self.adt.name, self.bdt.name]}

    def validate(self) -> None:
        where = f"StreamAdd '{self.name}'"
        if self.channels % self.pe:
            raise LayerError(f"{where}: C={self.channels} not divisible by PE={self.pe}")
        if BIPOLAR in (self.adt, self.bdt, self.odt):
            raise LayerError(f"{where}: bipolar streams cannot be added; use integer activations")
        lo = int(self.adt.min()) + int(self.bdt.min())
        hi = int(self.adt.max()) + int(self.bdt.max())
        if not (self.odt.allowed(lo) and self.odt.allowed(hi)):
            raise LayerError(
                f"{where}: {self.odt.name} cannot hold every sum of {self.adt.name} and "
                f"{self.bdt.name} ({lo} .. {hi})"
            )
