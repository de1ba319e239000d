"""A hand-made fork -> two branches -> add design on the real StreamFork and StreamAdd kinds:
the smallest design that is a graph, where FIFO depths decide between running and deadlock."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import qonnx_make_model

from flows.datatypes import integer_type_holding
from flows.layers.add.spec import sum_bounds
from flows.layers.common import DOMAIN

PIXELS, C = 4, 16


def _thresholding(name, src, dst, t_name, pe, c, pixels, idt, odt, n):
    return helper.make_node(
        "Thresholding",
        [src, t_name],
        [dst],
        domain=DOMAIN,
        name=name,
        C=c,
        PE=pe,
        idt=idt,
        odt=odt,
        n_thres=n,
        pixels=pixels,
        out_bias=int(DataType[odt].min()),
    )


def fork_join_model(
    pe_a: int = 4,
    pe_b: int = 8,
    c: int = C,
    pixels: int = PIXELS,
    idt: str = "UINT4",
    odt_a: str = "UINT2",
    odt_b: str = "UINT2",
    pe: int = 4,
    a_mul: int = 1,
    b_mul: int = 1,
) -> ModelWrapper:
    """x (idt) -> StreamFork -> Thresholding A (PE pe_a, to odt_a) / Thresholding B (PE pe_b,
    to odt_b) -> StreamAdd (``a_mul*a + b_mul*b``); the fork and the add move ``pe`` lanes a
    word, so a branch of another PE gets width converters. A signed branch type (or a negative
    multiplier) gives a signed sum."""
    rng = np.random.default_rng(0)
    a_dt, b_dt = DataType[odt_a], DataType[odt_b]
    sum_dt = integer_type_holding(*sum_bounds(a_dt, b_dt, a_mul, b_mul))
    muls = {"a_mul": a_mul, "b_mul": b_mul} if (a_mul, b_mul) != (1, 1) else {}
    lanes = dict(domain=DOMAIN, C=c, pixels=pixels, PE=pe)
    levels = {t: 2 ** DataType[t].bitwidth() - 1 for t in (odt_a, odt_b)}
    nodes = [
        helper.make_node("StreamFork", ["x"], ["xa", "xb"], name="Fork_0", dtype=idt, **lanes),
        _thresholding("Thr_a", "xa", "ya", "Ta", pe_a, c, pixels, idt, odt_a, levels[odt_a]),
        _thresholding("Thr_b", "xb", "yb", "Tb", pe_b, c, pixels, idt, odt_b, levels[odt_b]),
        helper.make_node(
            "StreamAdd",
            ["ya", "yb"],
            ["y"],
            name="Add_0",
            adt=odt_a,
            bdt=odt_b,
            odt=sum_dt.name,
            **lanes,
            **muls,
        ),
    ]
    shape = [1, pixels, c]
    vi = [
        helper.make_tensor_value_info(t, TensorProto.FLOAT, shape) for t in ("xa", "xb", "ya", "yb")
    ]
    g = helper.make_graph(
        nodes,
        "fork_join",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        value_info=vi,
    )
    m = ModelWrapper(qonnx_make_model(g))
    in_dt = DataType[idt]
    for name, odt in (("Ta", odt_a), ("Tb", odt_b)):
        t = rng.integers(int(in_dt.min()), int(in_dt.max()) + 1, (c, levels[odt]))
        m.set_initializer(name, np.sort(t, axis=1).astype(np.int64))
    for t, dt in (
        ("x", idt),
        ("xa", idt),
        ("xb", idt),
        ("ya", odt_a),
        ("yb", odt_b),
        ("y", sum_dt.name),
    ):
        m.set_tensor_datatype(t, DataType[dt])
    return m
