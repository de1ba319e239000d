"""verify draws its inputs from the range the model file declares, wherever it declares it."""

from __future__ import annotations

from flows.verify import input_range
from tests.qonnx_factory import bipolar_mlp


def test_the_model_level_range_an_export_writes_is_read():
    m = bipolar_mlp(0)
    m.model.metadata_props.add(key="bitfab.input_range", value="5,6")
    assert input_range(m) == (5.0, 6.0)


def test_the_graph_level_range_qonnx_writes_is_read():
    m = bipolar_mlp(0)
    m.set_metadata_prop("bitfab.input_range", "-2,3")
    assert input_range(m) == (-2.0, 3.0)
