"""C-simulation of the DMA edge (hls/include/bitfab/iodma.hpp) against the host packing.

Beats are made from random words exactly as the driver lays out a DMA buffer
(boards/driver/packing.py: words of whole bytes, each image padded to whole beats); the
kernel must recover the words, and its output side must rebuild the same beats with TLAST on
the batch's last beat only. A corrupted expected word must fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from boards.driver.packing import pack, to_beats, word_bytes
from tests.hls_tb import Tb, check_tb

pytestmark = pytest.mark.csim


@dataclass(frozen=True)
class IodmaCase:
    dw: int  # beat bits
    iw: int  # word bits
    words: int  # words per image
    images: int

    @property
    def name(self) -> str:
        return f"dw{self.dw}-w{self.iw}x{self.words}-n{self.images}"


CASES = [
    IodmaCase(64, 784, 1, 3),  # a word wider than a beat (tfc's input), padded to 13 beats
    IodmaCase(64, 40, 10, 2),  # 50 bytes: the last beat of an image is partly padding
    IodmaCase(128, 8, 10, 4),  # many words per beat
    IodmaCase(64, 64, 4, 2),  # words exactly one beat
    IodmaCase(128, 12, 7, 3),  # words that are not whole bytes
    IodmaCase(32, 24, 5, 2),
]


def _hex(values) -> list[str]:
    return [f"0x{int(v):x}" for v in values]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_iodma_round_trip(case: IodmaCase, tmp_path: Path, pch: list[str]) -> None:
    rng = np.random.default_rng(case.dw + case.iw)
    nbytes = word_bytes(case.iw, 1)
    fields = rng.integers(0, 2, size=(case.images, case.words, case.iw))
    words = [int("".join(map(str, w[::-1])), 2) for w in fields.reshape(-1, case.iw)]
    # host layout: a word is iw one-bit elements (bit j = element j), then images padded to beats
    packed = pack(fields.reshape(case.images, -1), 1, case.iw)
    buf = to_beats(packed, case.dw)
    beats = buf.reshape(-1, case.dw // 8)
    beat_ints = [int.from_bytes(bytes(b), "little") for b in beats]
    tb = Tb(
        fields={"DW": case.dw, "IW": case.iw, "BYTES": nbytes, "WORDS": case.words},
        reps=case.images,
        in_width=case.dw,
        in_words=_hex(beat_ints),
        out_width=case.iw,
        out_words=_hex(words),
    )
    check_tb(tmp_path, "tb_iodma", tb, "fast", pch)
