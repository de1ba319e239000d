"""A Ray cluster of two nodes on this machine (a head and a worker process): a sweep runs
through ``--address``, and the bitstream tasks land on the node that declares ``vivado``."""

from __future__ import annotations

import json

import pytest

from flows import api
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


def test_a_sweep_runs_on_both_nodes_and_its_bitstreams_on_the_vivado_node(
    tmp_path, small_model, two_node_cluster
):
    out = tmp_path / "s"
    r = run_cli(
        [
            "sweep", small_model, "--target-fps", "20000,2000000", "--verify", "3",
            "--bitstream", "--address", two_node_cluster.address, "--out", out,
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["ray"]["nodes"] == 2 and doc["ray"]["cpus"] == 2
    assert doc["ray"]["resources"]["vivado"] == 1.0
    assert [p["status"] for p in doc["points"]] == ["done", "done"]
    # one CPU a node and both points submitted at once: one point on each node
    assert len({p["ray_node"] for p in doc["points"]}) == 2
    vivado_nodes = {p["bitstream"]["ray_node"] for p in doc["points"]}
    assert len(vivado_nodes) == 1  # the worker, the only node with the tools
    for p in doc["points"]:
        d = out / p["build_dir"]
        assert p["bitstream"]["status"] == "done" and p["bitstream"]["bitfile"] == (
            "deploy/bitfab.bit"
        )
        assert (d / "deploy" / "bitfab.bit").read_text() == "a bitfile\n"
        assert (d / "calls.log").read_text().splitlines() == [
            "vitis_hls -f hls/hls.tcl",
            "vivado -mode batch -source vivado/build.tcl",
        ]
        api.open_build(d)


def test_bitfab_bitstream_runs_as_a_task_on_the_vivado_node(
    tmp_path, small_model, two_node_cluster
):
    b = api.build(str(small_model), out=tmp_path / "b")
    (b.dir / "rtl" / "obj_dir").mkdir()
    (b.dir / "rtl" / "obj_dir" / "model.bin").write_text("a compiled model, kept")
    r = run_cli(["bitstream", b.dir, "--address", two_node_cluster.address])
    assert r.exit_code == 0, r.stderr
    assert "ran on Ray node" in r.stderr
    assert (b.dir / "deploy" / "bitfab.bit").read_text() == "a bitfile\n"
    assert "deploy/bitfab.bit and" in r.stdout
    # what the transfer leaves out (the local simulation model) is still here
    assert (b.dir / "rtl" / "obj_dir" / "model.bin").read_text() == "a compiled model, kept"
    api.open_build(b.dir)


def test_a_sweep_through_ray_client(tmp_path, small_model, two_node_cluster):
    out = tmp_path / "s"
    r = run_cli(["sweep", small_model, "--address", two_node_cluster.client, "--out", out])
    assert r.exit_code == 0, r.stderr
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["ray"]["nodes"] == 2 and doc["address"] == two_node_cluster.client
    assert doc["points"][0]["status"] == "done"
    api.open_build(out / doc["points"][0]["build_dir"])
