"""Choose per VVAU how its thresholds are built: the MVAU's rule (comparators or a shift)."""

from __future__ import annotations

from flows.layers.mvau.choose_requant import ChooseRequantization
from flows.layers.vvau.node import VVAU


class ChooseVvauRequantization(ChooseRequantization):
    """ChooseRequantization for VVAU layers: their [K, C] weights are an MVAU weight matrix
    column by column, so the accumulator bounds and the shift encoding are the same.

    Requires: InferVVAU applied.
    Ensures: as ChooseRequantization, for every VVAU.
    """

    OP_TYPE = VVAU.__name__
