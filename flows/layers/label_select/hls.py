"""What the HLS template needs for one label select."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.layers.label_select.spec import LabelSelectSpec

TEMPLATE = Path(__file__).with_name("label_select.h.j2")


@dataclass(frozen=True)
class LabelSelectHls:
    name: str
    labels: int
    pe: int
    in_bits: int
    in_kind: str
    out_bits: int

    @property
    def widest_word(self) -> int:
        return max(self.pe * self.in_bits, self.out_bits)


def context(s: LabelSelectSpec, params: dict[str, np.ndarray]) -> LabelSelectHls:
    return LabelSelectHls(
        s.name,
        s.labels,
        s.pe,
        s.idt.bitwidth(),
        FieldKind.from_dtype(s.idt).cxx,
        s.odt.bitwidth(),
    )
