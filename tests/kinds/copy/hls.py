"""What StreamCopy's HLS template needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.kinds.copy.spec import CopySpec

TEMPLATE = Path(__file__).with_name("stream_copy.h.j2")


@dataclass(frozen=True)
class CopyHls:
    name: str
    width: int
    words: int

    @property
    def widest_word(self) -> int:
        return self.width


def context(s: CopySpec, params: dict[str, np.ndarray]) -> CopyHls:
    return CopyHls(s.name, s.pe * s.dtype.bitwidth(), s.words)
