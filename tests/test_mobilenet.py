"""MobileNet-v1 as brevitas_examples defines it (its own class, toy size): depthwise-separable
blocks whose pointwise activations have per-channel scales, a truncating average pool and an
Int32-bias classifier, verified bit-exact in C-sim and in rtlsim."""

from __future__ import annotations

import json

import pytest

from flows.verify import verify_build
from tests import brevitas_factory
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


@pytest.fixture(scope="module")
def mobilenet(tmp_path_factory):
    return brevitas_factory.mini_mobilenet(tmp_path_factory.mktemp("mn") / "mn.onnx")


def test_mini_mobilenet_builds_and_verifies(mobilenet, built):
    d = built(str(mobilenet))
    kinds = [lay["kind"] for lay in json.loads((d / "report.json").read_text())["layers"]]
    assert kinds.count("VVAU") == 2 and kinds.count("StreamingAvgPool") == 1
    v = verify_build(d, 30)
    assert v["status"] == "pass" and v["reference_mismatches"] == 0, v


@pytest.mark.slow
def test_mini_mobilenet_rtlsim(mobilenet, built):
    r = run_cli(["rtlsim", built(str(mobilenet)), "--n", "3"])
    assert r.exit_code == 0, r.stderr
