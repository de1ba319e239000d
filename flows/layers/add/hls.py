"""What the HLS template needs for one stream add."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.layers.add.spec import AddSpec

TEMPLATE = Path(__file__).with_name("add.h.j2")


@dataclass(frozen=True)
class AddHls:
    name: str
    words: int
    pe: int
    a_bits: int
    a_kind: str
    b_bits: int
    b_kind: str
    out_bits: int
    out_kind: str
    a_mul: int = 1
    b_mul: int = 1

    @property
    def widest_word(self) -> int:
        return self.pe * max(self.a_bits, self.b_bits, self.out_bits)


def context(s: AddSpec, params: dict[str, np.ndarray]) -> AddHls:
    def kind(dt) -> str:
        return FieldKind.from_dtype(dt).cxx

    return AddHls(
        s.name,
        s.words,
        s.pe,
        s.adt.bitwidth(),
        kind(s.adt),
        s.bdt.bitwidth(),
        kind(s.bdt),
        s.odt.bitwidth(),
        kind(s.odt),
        s.a_mul,
        s.b_mul,
    )
