"""Our InferShapes (weights left out of the inference) gives what qonnx's gives."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes as QonnxInferShapes

from flows.passes.infer_shapes import LARGE, STANDARD_DOMAINS, InferShapes, _without_weights


def _shapes(model: ModelWrapper) -> dict[str, tuple]:
    """Every tensor's shape as qonnx reads it, and its value_info's element type: for every
    tensor but the initializers that only custom ops read (those need none)."""
    g = model.graph
    names = {t for n in g.node for t in (*n.input, *n.output) if t} | {o.name for o in g.output}
    vis = {vi.name: vi.type.tensor_type.elem_type for vi in [*g.value_info, *g.output]}
    standard = {t for n in g.node if n.domain in STANDARD_DOMAINS for t in n.input}
    custom_only = {i.name for i in g.initializer} - standard
    return {
        t: (None if t in custom_only else vis.get(t), _maybe_tuple(model.get_tensor_shape(t)))
        for t in sorted(names)
    }


def _maybe_tuple(shape: list[int] | None) -> tuple[int, ...] | None:
    return None if shape is None else tuple(shape)


def _cleared(model: ModelWrapper) -> ModelWrapper:
    """A copy without the inferred shapes both inferences can find again: all but the inputs
    of custom ops, whose shape-compatible stand-ins (qonnx's MaxPoolNHWC) read them before
    the inference runs."""
    m = ModelWrapper(model.model.__deepcopy__())
    keep = {t for n in m.graph.node if n.domain not in ("", "ai.onnx") for t in n.input}
    kept = [vi for vi in m.graph.value_info if vi.name in keep]
    del m.graph.value_info[:]
    m.graph.value_info.extend(kept)
    return m


# cnv-w1a1 (conv, max-pool, MultiThreshold graphs) is opt-in: its build costs CI ~25 s
@pytest.mark.parametrize("model", ["tfc-w1a1", pytest.param("cnv-w1a1", marks=pytest.mark.slow)])
@pytest.mark.parametrize("step", ["01_import", "02_integerize", "03_dataflow", "05_fold"])
def test_same_shapes_as_qonnx_on_every_build_step(built, model, step):
    path = built(model) / "steps" / f"{step}.onnx"
    if not path.exists():
        pytest.skip(f"{model} saves no {step}")
    base = ModelWrapper(str(path))
    assert len(_without_weights(base.model).graph.initializer) < len(base.graph.initializer)
    cleared = _cleared(base)
    if step in ("01_import", "02_integerize"):  # later graphs are custom ops end to end
        assert len(cleared.graph.value_info) < len(base.graph.value_info)
    ours = cleared.transform(InferShapes())
    theirs = cleared.transform(QonnxInferShapes())
    assert _shapes(ours) == _shapes(theirs)
    assert all(shape is not None for _, shape in _shapes(ours).values())
    # the weights themselves are untouched
    assert [i.name for i in ours.graph.initializer] == [i.name for i in base.graph.initializer]


def _reshape_graph(declare_weight: bool) -> ModelWrapper:
    """x[1,600] @ W[600,600] -> Reshape(shape=[1,20,30]): the Reshape's output shape comes from
    a small initializer's values, the MatMul's from the large one's shape."""
    w = np.ones((600, 600), np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"]),
        helper.make_node("Reshape", ["h", "shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 600])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[
            helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.ravel()),
            helper.make_tensor("shape", TensorProto.INT64, [3], [1, 20, 30]),
        ],
    )
    if declare_weight:  # as some exports do: an initializer also in value_info
        graph.value_info.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [600, 600]))
    return ModelWrapper(helper.make_model(graph))


@pytest.mark.parametrize("declare_weight", [False, True])
def test_shape_from_a_small_constant_and_a_declared_weight(declare_weight):
    m = _reshape_graph(declare_weight)
    assert 600 * 600 > LARGE
    out = m.transform(InferShapes())
    assert out.get_tensor_shape("h") == [1, 600]
    assert out.get_tensor_shape("y") == [1, 20, 30]
    assert _shapes(out) == _shapes(_reshape_graph(declare_weight).transform(QonnxInferShapes()))
    assert [i.name for i in out.graph.initializer] == ["W", "shape"]
    assert [i.name for i in out.graph.input] == ["x"]


def test_a_wide_batch_norm_still_runs_in_the_reference_executor():
    """qonnx's execute_onnx declares a standard node's inputs from value_info: a 512-channel
    BatchNormalization's parameters (large, so inferred as graph inputs) must get theirs."""
    from qonnx.core.onnx_exec import execute_onnx

    c = 512
    rng = np.random.default_rng(0)
    params = [rng.random(c).astype(np.float32) + 0.5 for _ in range(4)]
    graph = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
        "bn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[
            helper.make_tensor(n, TensorProto.FLOAT, [c], p)
            for n, p in zip("sbmv", params, strict=True)
        ],
    )
    m = ModelWrapper(helper.make_model(graph)).transform(InferShapes())
    x = rng.random((1, c, 2, 2)).astype(np.float32)
    y = execute_onnx(m, {"x": x})["y"]
    s, b, mean, var = (p.reshape(1, c, 1, 1) for p in params)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5) * s + b, rtol=1e-5, atol=1e-6)
