"""A kind is one package plus one registry row: a test-only kind builds and verifies a net
with no edit anywhere else in the compiler."""

from __future__ import annotations

import json

import pytest
from qonnx.core.modelwrapper import ModelWrapper

from flows.build import run_build
from flows.config import BuildConfig
from flows.layers.registry import register, unregister
from tests.kinds.copy import KIND

pytestmark = pytest.mark.csim


@pytest.fixture
def copy_kind():
    register(KIND)
    yield KIND
    unregister(KIND)


def test_plugin_kind_builds_and_verifies(copy_kind, tmp_path):
    out = run_build(BuildConfig(model="tfc-w1a1", out=tmp_path / "b", verify_n=32))
    df = ModelWrapper(str(out / "dataflow.onnx"))
    copies = [n.name for n in df.graph.node if n.op_type == "StreamCopy"]
    assert len(copies) == 3  # after each of the three hidden MVAUs
    top = (out / "hls" / "top.cpp").read_text()
    assert top.count("test_stream_copy<") == 3
    report = json.loads((out / "report.json").read_text())
    assert {r["name"] for r in report["layers"] if r["kind"] == "StreamCopy"} == set(copies)
    assert set(copies) <= set(json.loads((out / "folding.json").read_text())["layers"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["verification"] == {"n": 32, "status": "pass"}
    assert report["verification"]["csim_vs_dataflow_mismatches"] == 0


def test_registering_a_kind_twice_is_refused(copy_kind):
    from flows.errors import LayerError

    with pytest.raises(LayerError, match="'StreamCopy' is registered twice"):
        register(KIND)
