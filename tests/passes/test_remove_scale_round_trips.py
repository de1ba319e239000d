"""RemoveScaleRoundTrips on tiny graphs."""

from __future__ import annotations

import numpy as np

from flows.passes.remove_scale_round_trips import RemoveScaleRoundTrips
from tests.passes.util import Net, assert_same_outputs, op_types, snapshot


def _round_trip(last: bool):
    n = Net()
    r = n.node("Relu", ["x"], ["r"])
    m = n.node("Mul", [r, n.const("s", 0.25)], ["m"])
    d = n.node("Div", [m, n.const("s2", 0.25)], ["out" if last else "d"])
    if not last:
        n.node("Relu", [d], ["out"])
    return n.model("x", [1, 4], "out", [1, 4])


def test_removes_the_pair_between_layers():
    before = _round_trip(last=False)
    after = before.transform(RemoveScaleRoundTrips())
    assert op_types(after) == ["Relu", "Relu"]
    xs = np.random.default_rng(0).integers(-8, 8, size=(4, 4)).astype(np.float32)
    assert_same_outputs(before, after, xs)


def test_keeps_a_pair_that_writes_the_graph_output():
    m = _round_trip(last=True)
    before = snapshot(m)
    model, changed = RemoveScaleRoundTrips().apply(m)
    assert not changed and snapshot(model) == before
