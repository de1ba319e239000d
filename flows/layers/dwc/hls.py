"""What the HLS template needs for one width converter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.layers.dwc.spec import DwcSpec

TEMPLATE = Path(__file__).with_name("dwc.h.j2")


@dataclass(frozen=True)
class DwcHls:
    name: str
    in_elems: int
    out_elems: int
    bits: int
    total: int
    reps: int
    in_width: int
    out_width: int

    @property
    def widest_word(self) -> int:
        return max(self.in_width, self.out_width)


def context(s: DwcSpec, params: dict[str, np.ndarray]) -> DwcHls:
    b = s.dtype.bitwidth()
    return DwcHls(
        s.name, s.in_elems, s.out_elems, b, s.total, s.reps, s.in_elems * b, s.out_elems * b
    )
