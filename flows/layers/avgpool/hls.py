"""What the HLS template needs for one accumulating pool."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.layers.avgpool.spec import AvgPoolSpec

TEMPLATE = Path(__file__).with_name("avgpool.h.j2")


@dataclass(frozen=True)
class AvgPoolHls:
    name: str
    spec: AvgPoolSpec
    kind: str
    reps: int
    in_width: int
    out_width: int
    in_bits: int
    out_bits: int

    @property
    def widest_word(self) -> int:
        return max(self.in_width, self.out_width)


def context(s: AvgPoolSpec, params: dict[str, np.ndarray]) -> AvgPoolHls:
    b, ob = s.idt.bitwidth(), s.odt.bitwidth()
    kind = FieldKind.from_dtype(s.idt).cxx
    return AvgPoolHls(s.name, s, kind, 1, s.pe * b, s.pe * ob, b, ob)
