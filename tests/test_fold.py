"""The default folding: the fastest that fits the budget (shell included), and never faster
than the stage it cannot change (the DMA edge)."""

from __future__ import annotations

import pytest
from qonnx.core.modelwrapper import ModelWrapper

from boards.registry import get_board
from flows.build import edge_floor
from flows.estimate import Budget, folded_resources
from flows.fold import fastest_cycles, fold
from flows.layers.base import MAX_STREAM_BITS
from flows.layers.registry import hardware_layers, layer_spec, op_of
from tests.helpers import run_cli

BOARD = get_board("pynq-z2")
ROOMY = Budget({"LUT": 10**9, "BRAM18": 10**9, "DSP": 10**9}, 1.0, {})


@pytest.fixture(scope="module")
def dataflow(built):
    """A fresh copy of a model's unfolded dataflow partition, per call."""

    def get(model: str) -> ModelWrapper:
        d = built(model)  # dataflow.onnx is saved before the fold step changes it
        return ModelWrapper(str(d / "dataflow.onnx"))

    return get


def _cycles(df: ModelWrapper) -> dict[str, int]:
    return {n.name: k.cost.cycles(layer_spec(n)) for n, k in hardware_layers(df)}


def _lanes(df: ModelWrapper) -> int:
    return sum(
        op_of(n).get_nodeattr("PE") * op_of(n).get_nodeattr("SIMD")
        for n, _ in hardware_layers(df)
        if n.op_type == "MVAU"
    )


@pytest.mark.parametrize("model", ["tfc-w1a1", "tfc-w2a2"])
def test_no_layer_is_folded_faster_than_the_dma_edge(dataflow, model):
    df = dataflow(model)
    floor = edge_floor(df, BOARD)
    assert floor > 1  # 784 binary or 2-bit pixels: 98 or 196 bytes, 13 or 25 beats
    fold(df, 100.0, None, ROOMY, floor)
    cycles = _cycles(df)
    assert max(cycles.values()) <= max(floor, fastest_cycles(df))
    # each layer takes the cheapest option that still keeps up with the edge
    scarcity = {k: 1.0 / v for k, v in ROOMY.board.items()}
    for node, kind in hardware_layers(df):
        op = op_of(node)
        chosen = op.folding()

        def cost(node=node, kind=kind) -> float:
            res = kind.cost.resources(layer_spec(node))
            return sum(scarcity[k] * v for k, v in res.items())

        best = cost()
        assert kind.cost.cycles(layer_spec(node)) <= max(floor, fastest_cycles(df)), node.name
        for option in op.spec().fold_options(MAX_STREAM_BITS):
            op.set_folding(option)
            if kind.cost.cycles(layer_spec(node)) <= floor:
                assert cost() >= best, (node.name, option, chosen)
        op.set_folding(chosen)
    unbounded = dataflow(model)
    fold(unbounded, 100.0, None, ROOMY, 1)
    assert _lanes(df) < _lanes(unbounded)


def test_the_fastest_folding_that_fits_and_no_faster_one(dataflow):
    roomy = dataflow("tfc-w1a1")
    fold(roomy, 100.0, None, ROOMY, 1)
    need = folded_resources(roomy, 64)
    tight = Budget({"LUT": need["LUT"] // 3, "BRAM18": 10**6, "DSP": 10**6}, 1.0, {})
    df = dataflow("tfc-w1a1")
    fold(df, 100.0, None, tight, 1)
    assert tight.fits(folded_resources(df, 64))
    assert max(_cycles(df).values()) > max(_cycles(roomy).values())
    # one step faster (the next smaller target) would not fit
    slower = max(_cycles(df).values())
    faster = max(c for c in _all_targets(df) if c < slower)
    from flows.fold import fold_for_cycles

    fold_for_cycles(df, faster)
    assert not tight.fits(folded_resources(df, 64))


def test_a_resource_no_folding_fits_does_not_hold_back_the_others(dataflow):
    """A design over the board in one resource at every folding (mobilenet's weights in
    block RAM on a ZCU104) is folded for the fastest within the others, not the slowest."""
    slowest = dataflow("tfc-w1a1")
    fold(slowest, 100.0, 1.0, ROOMY, 1)  # 1 FPS: every layer at its least parallel option
    least = folded_resources(slowest, 64)
    roomy = dataflow("tfc-w1a1")
    fold(roomy, 100.0, None, ROOMY, 1)
    need = folded_resources(roomy, 64)
    assert need["LUT"] > 2 * least["LUT"]
    lut = (least["LUT"] + need["LUT"]) // 2
    # no DSP at all: every folding is over; the LUT budget still decides the folding
    budget = Budget({"LUT": lut, "BRAM18": 10**6, "DSP": 0}, 1.0, {"DSP": 1})
    df = dataflow("tfc-w1a1")
    fold(df, 100.0, None, budget, 1)
    got = folded_resources(df, 64)
    assert budget.over(got) == ["DSP"]
    assert got["LUT"] <= lut
    assert max(_cycles(df).values()) < max(_cycles(slowest).values())
    assert max(_cycles(df).values()) > max(_cycles(roomy).values())


def _all_targets(df: ModelWrapper) -> set[int]:
    out = set()
    for node, kind in hardware_layers(df):
        op = op_of(node)
        before = op.folding()
        for option in op.spec().fold_options(MAX_STREAM_BITS):
            op.set_folding(option)
            out.add(kind.cost.cycles(layer_spec(node)))
        op.set_folding(before)
    return out


def test_the_shell_is_kept_free():
    design = {"LUT": 900, "BRAM18": 10, "DSP": 0}
    board = {"LUT": 1000, "BRAM18": 100, "DSP": 10}
    assert Budget(board, 1.0, {}).fits(design)
    assert not Budget(board, 1.0, {"LUT": 200}).fits(design)
    assert not Budget(board, 0.85, {}).fits(design)
    assert BOARD.shell.resources()["LUT"] > 0 and "BNN-PYNQ" in BOARD.shell.source


def test_budget_must_be_a_fraction(tmp_path):
    r = run_cli(["build", "tfc-w1a1", "--budget", "1.5", "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "--budget" in r.output


def test_the_estimate_counts_every_part_of_the_top(dataflow):
    """Layers, FIFOs and the edge (control and both stream adapters), as `bitfab synth`
    counts them; a wider beat widens the adapters."""
    from flows.codegen.design import build_design
    from flows.estimate import design_resources
    from flows.layers.dwc.insert import InsertDWC
    from flows.layers.edge_cost import edge_resources
    from flows.layers.fifo_cost import fifo_resources
    from flows.passes.set_fifo_depths import SetFifoDepths

    design = build_design(dataflow("tfc-w1a1").transform(InsertDWC()).transform(SetFifoDepths()))
    layers = sum(x.kind.cost.resources(x.spec)["LUT"] for x in design.layers)
    fifos = sum(fifo_resources(s.width, s.depth)["LUT"] for s in design.streams.values())
    edge = edge_resources(64, design.input, design.output)["LUT"]
    assert edge > 0 and fifos > 0
    assert design_resources(design, 64)["LUT"] == layers + fifos + edge
    assert edge_resources(128, design.input, design.output)["LUT"] > edge


def test_weight_roms_go_where_the_board_has_room(dataflow):
    """ram_style is a folding choice: with block RAM to spare a weight ROM that synthesis
    would build in LUTs goes to block RAM; with LUTs to spare it stays in LUTs. It is
    recorded in folding.json, so a folding file reproduces it."""
    from flows.fold import fold_for_cycles, folding_config

    df = dataflow("tfc-w1a1")
    fold_for_cycles(df, 16, {"LUT": 1.0, "BRAM18": 1e-9})
    styles = {
        n.name: op_of(n).folding()["ram_style"]
        for n, _ in hardware_layers(df)
        if n.op_type == "MVAU"
    }
    assert "block" in styles.values()
    for node, kind in hardware_layers(df):
        if node.op_type == "MVAU" and styles[node.name] == "block":
            assert kind.cost.resources(layer_spec(node))["BRAM18"] > 0
    assert folding_config(df)["layers"]["MatMul_0"]["ram_style"] == styles["MatMul_0"]
    fold_for_cycles(df, 16, {"LUT": 1e-9, "BRAM18": 1.0})
    assert all(
        op_of(n).folding()["ram_style"] == "auto"
        for n, _ in hardware_layers(df)
        if n.op_type == "MVAU"
    )


def test_the_report_says_which_backend_fits(built):
    """Both backends' estimates, and for each whether it fits beside the shell: the RTL one
    is the folding's own test; the HLS one may not hold (its memories pack differently)."""
    import json

    t = json.loads((built("tfc-w1a1") / "report.json").read_text())["totals"]
    fits = t["fits_board_by_backend"]
    assert set(fits) == set(t["resources_by_backend"]) == {"rtl", "hls"}
    assert fits["rtl"] == t["fits_board"]
    hls = t["resources_by_backend"]["hls"]
    shell = t["shell"]
    assert fits["hls"] == all(hls[k] + shell[k] <= v for k, v in t["board_budget"].items())
