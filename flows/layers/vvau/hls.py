"""What the codegen template needs for one VVAU: the MVAU's config values and packed memories
(the same weight words, thresholds, shift offsets and widths), with the VVAU's input word."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from flows.layers.mvau import hls as mvau_hls
from flows.layers.mvau.hls import MvauHls
from flows.layers.vvau.spec import VvauSpec

TEMPLATE = Path(__file__).with_name("vvau.h.j2")


def context(s: VvauSpec, params: dict[str, np.ndarray]) -> MvauHls:
    """The MVAU's context of a VVAU (MW = K_H*K_W, MH = channels; weights [K, C] are an MVAU
    weight matrix column by column): ``weights[p][nf*SF + sf]`` field s is
    W[sf*SIMD + s][nf*PE + p]; an input word holds SIMD*PE fields."""
    h = mvau_hls.context(s, params)
    return dataclasses.replace(h, in_width=s.simd * s.pe * s.idt.bitwidth())
