"""Stream reshape parameters: the shape after the flatten (batch excluded)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType


@dataclass(frozen=True)
class ReshapeSpec:
    """Streams carry elements in row-major order, so a reshape moves no data: the stream
    passes through with the words its producer sends."""

    name: str
    out_shape: tuple[int, ...]
    dtype: DataType

    FOLD: ClassVar[tuple[str, ...]] = ()

    def stream_elems(self) -> tuple[int, int]:
        raise NotImplementedError("a stream reshape passes its producer's words through")

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return []

    def input_burst(self) -> int:
        return 1  # reads one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {"out_shape": list(self.out_shape)}

    def validate(self) -> None:
        return None
