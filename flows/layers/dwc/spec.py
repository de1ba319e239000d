"""Width converter parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.errors import LayerError


@dataclass(frozen=True)
class DwcSpec:
    """Regroups a stream of ``in_elems``-element words into ``out_elems``-element words."""

    name: str
    in_elems: int
    out_elems: int
    dtype: DataType
    total: int  # elements per repetition
    reps: int = 1

    FOLD: ClassVar[tuple[str, ...]] = ()  # its words are set by its neighbours

    def stream_elems(self) -> tuple[int, int]:
        return self.in_elems, self.out_elems

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return []

    def input_burst(self) -> int:
        return 1  # reads one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {"in_elems": self.in_elems, "out_elems": self.out_elems}

    def validate(self) -> None:
        if self.total % self.in_elems or self.total % self.out_elems:
            raise LayerError(
                f"DWC '{self.name}': {self.total} elements are not a multiple of both "
                f"{self.in_elems} and {self.out_elems}"
            )
