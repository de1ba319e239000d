"""Label select parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.datatypes import integer_type_holding
from flows.errors import LayerError
from flows.layers.base import lane_options


def index_dtype(labels: int) -> DataType:
    """The narrowest unsigned type holding every index 0 .. labels-1 (at least one bit)."""
    return integer_type_holding(0, labels - 1)


@dataclass(frozen=True)
class LabelSelectSpec:
    """``labels`` values an image, PE a word, in; the index of the first largest out (one
    word of one field an image)."""

    name: str
    labels: int
    pe: int
    idt: DataType
    odt: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    @property
    def words(self) -> int:
        """Input words an image."""
        return self.labels // self.pe

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, 1

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return [{"PE": p} for p in lane_options(self.labels, self.idt.bitwidth(), max_bits)]

    def input_burst(self) -> int:
        return 1  # one input word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {"PE": self.pe, "labels": self.labels}

    def validate(self) -> None:
        where = f"LabelSelect '{self.name}'"
        if self.labels < 1:
            raise LayerError(f"{where}: needs at least one label, got {self.labels}")
        if self.labels % self.pe:
            raise LayerError(f"{where}: labels={self.labels} not divisible by PE={self.pe}")
        if not self.idt.is_integer() or self.idt.bitwidth() > 32:
            raise LayerError(f"{where}: input {self.idt.name} is not an integer of 1 to 32 bits")
        if self.odt.signed() or not self.odt.allowed(self.labels - 1):
            raise LayerError(
                f"{where}: output {self.odt.name} cannot hold index {self.labels - 1}; use "
                f"{index_dtype(self.labels).name}"
            )
