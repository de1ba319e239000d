"""ChainEvaluator: keyword-only, with its batch derived from the quantizer."""

from __future__ import annotations

import numpy as np
import pytest

from flows.quantizers import read_quantizer
from flows.thresholds import ChainEvaluator, compute_thresholds
from tests.passes.util import Net


def _chain():
    n = Net()
    a = n.node("Mul", ["acc", n.const("k", [0.5, -0.25, 1.0])], ["a"])
    n.quant(a, "out", 0.5, 2, True)
    return n.model("acc", [1, 3], "out", [1, 3])


def test_batch_is_the_number_of_thresholds():
    m = _chain()
    mul, quant = m.graph.node
    ev = ChainEvaluator(
        model=m,
        nodes=[mul],
        quantizer_node=quant,
        quant=read_quantizer(m, quant),
        in_tensor="acc",
        channels=3,
        to_float=np.ones(3),
    )
    assert ev.batch == 3  # INT2: 4 levels
    res = compute_thresholds(ev, np.full(3, -8), np.full(3, 8), "test")
    assert res.thresholds.shape == (3, 3)
    assert res.negate.tolist() == [False, True, False]


def test_parameters_are_keyword_only():
    m = _chain()
    with pytest.raises(TypeError):
        ChainEvaluator(m, [], m.graph.node[1], None, "acc", 3, np.ones(3))  # type: ignore[misc]
