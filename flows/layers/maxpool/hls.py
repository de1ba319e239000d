"""What the HLS template needs for one max pool."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.layers.maxpool.spec import MaxPoolSpec

TEMPLATE = Path(__file__).with_name("maxpool.h.j2")


@dataclass(frozen=True)
class MaxPoolHls:
    name: str
    spec: MaxPoolSpec
    bits: int
    kind: str
    reps: int
    in_width: int
    out_width: int
    in_bits: int
    out_bits: int

    @property
    def widest_word(self) -> int:
        return max(self.in_width, self.out_width)


def context(s: MaxPoolSpec, params: dict[str, np.ndarray]) -> MaxPoolHls:
    b = s.dtype.bitwidth()
    kind = FieldKind.from_dtype(s.dtype).cxx
    return MaxPoolHls(s.name, s, b, kind, 1, s.pe * b, s.pe * b, b, b)
