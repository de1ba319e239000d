"""Stream fork parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.base import lane_options


@dataclass(frozen=True)
class ForkSpec:
    """``pixels`` pixels of ``channels`` values an image, PE values a word, copied to two
    outputs."""

    name: str
    channels: int
    pixels: int
    pe: int
    dtype: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)
    OUTPUTS: ClassVar[int] = 2

    @property
    def words(self) -> int:
        return self.pixels * self.channels // self.pe

    @property
    def width(self) -> int:
        return self.pe * self.dtype.bitwidth()

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return [{"PE": p} for p in lane_options(self.channels, self.dtype.bitwidth(), max_bits)]

    def input_burst(self) -> int:
        return 1  # one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {"PE": self.pe}

    def validate(self) -> None:
        if self.channels % self.pe:
            raise LayerError(
                f"StreamFork '{self.name}': C={self.channels} not divisible by PE={self.pe}"
            )
