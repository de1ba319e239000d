"""Width converter parameters."""

from __future__ import annotations

from dataclasses import dataclass

from qonnx.core.datatype import DataType

from flows.errors import LayerError


@dataclass(frozen=True)
class DwcSpec:
    name: str
    in_elems: int
    out_elems: int
    dtype: DataType
    total: int  # elements per repetition
    reps: int = 1

    def validate(self) -> None:
        if self.total % self.in_elems or self.total % self.out_elems:
            raise LayerError(
                f"DWC '{self.name}': {self.total} elements are not a multiple of both "
                f"{self.in_elems} and {self.out_elems}"
            )
