"""What the HLS template needs for one stream fork."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.layers.fork.spec import ForkSpec

TEMPLATE = Path(__file__).with_name("fork.h.j2")


@dataclass(frozen=True)
class ForkHls:
    name: str
    words: int
    width: int

    @property
    def widest_word(self) -> int:
        return self.width


def context(s: ForkSpec, params: dict[str, np.ndarray]) -> ForkHls:
    return ForkHls(s.name, s.words, s.width)
