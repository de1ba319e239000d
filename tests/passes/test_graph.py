"""flows.graph: attributes, permutations, replacing nodes, and rewiring that checks first."""

from __future__ import annotations

import pytest
from onnx import helper

from flows.errors import UnsupportedError
from flows.graph import TO_NCHW, TO_NHWC, attr, is_transpose, perm, replace_nodes, rewire
from tests.passes.util import Net, op_types, snapshot


def _chain():
    n = Net()
    a = n.node("Transpose", ["x"], ["a"], perm=list(TO_NCHW))
    b = n.node("Relu", [a], ["b"])
    n.node("Flatten", [b], ["out"], axis=1)
    return n.model("x", [1, 2, 2, 3], "out", [1, 12])


def test_attr_reads_values_and_defaults():
    t, _, f = _chain().graph.node
    assert attr(f, "axis") == 1
    assert attr(f, "missing", "dflt") == "dflt"
    assert perm(t) == TO_NCHW and perm(f) == ()
    assert is_transpose(t, TO_NCHW) and not is_transpose(t, TO_NHWC)
    assert not is_transpose(None, TO_NCHW)


def test_attr_decodes_strings():
    n = Net()
    n.node("Conv", ["x", n.const("w", [[[[1.0]]]])], ["out"], auto_pad="SAME_UPPER")
    conv = n.model("x", [1, 1, 2, 2], "out", [1, 1, 2, 2]).graph.node[0]
    assert attr(conv, "auto_pad") == "SAME_UPPER"


def test_replace_nodes_inserts_where_the_first_old_node_was():
    m = _chain()
    relu = m.graph.node[1]
    replace_nodes(m, [relu], [helper.make_node("Identity", ["a"], ["b"], name="id")])
    assert op_types(m) == ["Transpose", "Identity", "Flatten"]


def test_rewire_moves_every_reader():
    m = _chain()
    rewire(m, "a", "x")
    assert m.graph.node[1].input[0] == "x"


def test_rewire_of_a_graph_output_raises_before_changing_anything():
    m = _chain()
    before = snapshot(m)
    with pytest.raises(UnsupportedError, match="node 'Flatten_0': its output 'out' is a graph out"):
        rewire(m, "out", "b")
    assert snapshot(m) == before
