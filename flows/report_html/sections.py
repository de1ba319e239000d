"""What each part of report.html says, read from report.json (and the manifest's versions).

A part whose data is absent (no ``synth``, no ``rtlsim``, no verification) is left out,
never drawn empty; a chart panel or bar whose figures are all zero is dropped and the text
says so. Every figure carries a badge: ``estimated`` (cycle and cost models) or
``measured`` (rtlsim, Yosys, the bit-exact checks).
"""

from __future__ import annotations

from importlib import metadata

from markupsafe import Markup

from flows.report_html import charts
from flows.report_html.blocks import Page, Section, Table
from flows.report_html.colours import BOTTLENECK, NEUTRAL
from flows.report_html.dataflow import DMA_IN, DMA_OUT, GraphEdge, GraphNode, draw
from flows.report_html.facts import (
    ESTIMATED,
    MEASURED,
    RESOURCES,
    bottleneck,
    colours_of,
    folding_text,
    num,
    pipeline,
    synth_value,
)
from flows.report_html.resources import resources_section
from flows.report_html.summary import tiles


def cycles_section(rep: dict) -> Section:
    rows = pipeline(rep)
    i, name, cyc = bottleneck(rep)
    sim = rep.get("rtlsim") or {}
    measured = sim.get("cycles_per_image") or None
    svg = charts.cycles_chart(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        colours_of(rep),
        i,
        measured,
    )
    t = rep["totals"]
    text = [
        Markup(
            "The slowest stage is <b>{}</b> at {} cycles an image: at {} MHz the design runs at "
            "most {} images a second (estimated). To go faster, give the bottleneck more "
            "parallelism (PE/SIMD in folding.json); to save resources, lower the parallelism "
            "of the layers far below it."
        ).format(name, f"{cyc:,}", f"{rep['clock_mhz']:g}", num(t["estimated_fps"])),
        t["fps_note"] + ".",
    ]
    badges = [ESTIMATED]
    if measured:
        text.append(
            f"Measured by rtlsim: {measured:,g} cycles an image for the whole design, "
            f"{sim['measured_vs_estimate']:+.1%} against the cycle model of the RTL "
            f"({sim['estimated_cycles_per_image']:,} cycles)."
        )
        badges.append(MEASURED)
    return Section("cycles", "Cycles per layer", badges, [svg], text)


def graph_section(rep: dict) -> Section:
    cols = colours_of(rep)
    _, bname, _ = bottleneck(rep)
    sim = rep.get("rtlsim") or {}
    occupancy = sim.get("fifo_max_occupancy", {})
    edge = {e["side"]: e for e in rep.get("dma_edge", [])}
    nodes = []
    for side, name in (("input", DMA_IN), ("output", DMA_OUT)):
        lines = ["AXI-Stream DMA edge"]
        if side in edge:
            e = edge[side]
            lines.append(f"{e['beat_bits']} b beats · {e['cycles']:,} cyc")
        nodes.append(GraphNode(name, lines, NEUTRAL, name == bname))
    for lay in rep["layers"]:
        fold = folding_text(lay)
        cyc = f"{lay['cycles']:,} cyc"
        nodes.append(
            GraphNode(
                lay["name"],
                [lay["kind"], f"{fold} · {cyc}" if fold else cyc],
                cols[lay["kind"]],
                lay["name"] == bname,
            )
        )
    nodes = [nodes[0], *nodes[2:], nodes[1]]
    edges = []
    for f in rep["fifos"]["edges"]:
        below = f"depth {f['depth']}"
        if f["stream"] in occupancy:
            below += f", max {occupancy[f['stream']]}"
        edges.append(GraphEdge(f["writer"], f["reader"], f"{f['width']} b", below))
    svg = draw(nodes, edges)
    fifos = rep["fifos"]
    text = [
        Markup(
            "Each box is a layer: its name, kind, folding and estimated cycles an image; the "
            '<span style="color:{}">red</span> box is the bottleneck. Each wire is an '
            "AXI-Stream FIFO: the stream width in bits above it, the FIFO depth in words "
            "below{}. FIFO depths from {}; {} bits of FIFO in all."
        ).format(
            BOTTLENECK,
            " and rtlsim's measured peak occupancy" if occupancy else "",
            fifos["depths_from"],
            f"{fifos['bits']:,}",
        ),
    ]
    host = rep.get("host") or {}
    if host.get("head_ops") or host.get("tail_ops"):
        text.append(
            "On the host (numpy, in the driver): before the DMA input "
            f"{', '.join(host.get('head_ops') or ['nothing'])}; after the DMA output "
            f"{', '.join(host.get('tail_ops') or ['nothing'])}."
        )
    badges = [ESTIMATED] + ([MEASURED] if occupancy else [])
    return Section("dataflow", "Dataflow graph", badges, [svg], text)


def rtlsim_section(rep: dict) -> Section | None:
    sim = rep.get("rtlsim")
    if not sim:
        return None
    layers = sim.get("layers") or []
    svgs = []
    if layers:
        svgs.append(
            charts.activity_chart(
                [lay["name"] for lay in layers],
                [lay["busy"] for lay in layers],
                [lay["starved"] for lay in layers],
                [lay["back_pressured"] for lay in layers],
            )
        )
    text = [
        Markup("Measured by {} ({}) on {} images: <b>{}</b>; ").format(
            sim["simulator"], sim["measured"], sim["n"], sim["status"]
        )
        + f"{sim['cycles_per_image']:,g} cycles an image "
        f"= {num(sim['fps'])} FPS at {sim['clock_mhz']:g} MHz, "
        f"{sim['measured_vs_estimate']:+.1%} against the cycle model; latency "
        f"{sim['latency_cycles']:,} cycles ({sim['latency_us']:,.2f} µs)."
    ]
    if sim.get("deadlock"):
        text.append(Markup("<b>Deadlock</b>: {}").format(sim["deadlock"]))
    if layers:
        text.append(
            "Per layer, the share of the run it was busy, starved (its input FIFO empty while "
            "it wanted a word) and back-pressured (its output FIFO full while it offered one). "
            "A layer whose input and output sides run independently can be both in one cycle, "
            "so the bars are not stacked. A layer mostly back-pressured waits on a slower one "
            "downstream; the bottleneck is the layer busy most of the time."
        )
    sizing = sim.get("fifo_sizing")
    if sizing:
        text.append(
            f"FIFO depths sized by simulation: {sizing['method']}; throughput loss "
            f"{sizing['throughput_loss']:.2%}."
        )
    return Section("rtlsim", "RTL simulation", [MEASURED], svgs, text)


def verification_words(v: dict, design: str) -> Markup:
    """One check in words: what ran on how many inputs, what agreed, what did not."""
    n = v["n"]
    mism = next((val for k, val in v.items() if k.endswith("_vs_dataflow_mismatches")), 0)
    compared = "outputs" if v["compared"] == "outputs" else v["compared"]
    if v.get("status") == "pass":
        text = Markup("<b>Bit-exact</b>") + (
            f" on {n} inputs: the {design}'s output integers equal the dataflow "
            f"model's (each layer's numpy reference), and its {compared} after the host tail "
            "equal the QONNX reference's (qonnx execute_onnx on reference.onnx) exactly, "
            "no tolerance."
        )
    else:
        text = Markup("<b>Failed</b>") + (
            f" on {n} inputs: {v['reference_mismatches']} differ from the QONNX "
            f"reference and {mism} of the {design}'s outputs differ from the dataflow model."
        )
        bad = v.get("first_mismatch")
        if bad:
            first = Markup(" First mismatch: input {}, first layer that differs: <b>{}</b>.")
            text += first.format(bad["sample"], bad["layer"])
    if v.get("reference_rounding"):
        text += (
            f" {v['reference_rounding']} of the inputs differed from the float32 reference only "
            "by its rounding: re-checked with exact integer accumulation, the hardware agrees "
            "(counted, not a mismatch)."
        )
    return text


def verification_section(rep: dict) -> Section | None:
    text = []
    if rep.get("verification"):
        text.append(
            Markup("C-simulation (HLS C++ via g++): ")
            + verification_words(rep["verification"], "C-simulation")
        )
    sim = rep.get("rtlsim") or {}
    if sim.get("verification"):
        text.append(
            Markup("RTL simulation (Verilator): ")
            + verification_words(sim["verification"], "RTL simulation")
        )
    elif sim.get("status") == "deadlock":
        text.append(
            Markup("RTL simulation: <b>deadlock</b>, no outputs to compare. {}").format(
                sim["deadlock"]
            )
        )
    if not text:
        return None
    return Section("verification", "Verification", [MEASURED], [], text)


def layers_table(rep: dict) -> Section:
    syn = (rep.get("synth") or {}).get("layers") or {}
    head = ["layer", "kind", "shape in → out", "datatype in → out", "folding", "cycles"]
    head += [f"{r} est." for r in RESOURCES]
    if syn:
        head += [f"{r} synth" for r in RESOURCES]
    rows = []
    for lay in rep["layers"]:
        row = [
            lay["name"],
            lay["kind"],
            f"{'×'.join(map(str, lay['in_shape']))} → {'×'.join(map(str, lay['out_shape']))}",
            f"{lay['in_dtype']} → {lay['out_dtype']}",
            folding_text(lay),
            f"{lay['cycles']:,}",
        ]
        row += [f"{int(lay['resources'].get(r, 0)):,}" for r in RESOURCES]
        if syn:
            cells = syn.get(lay["name"], {})
            row += [f"{synth_value(cells, r):,}" if cells else "" for r in RESOURCES]
        rows.append(row)
    numeric = list(range(5, len(head)))
    text = [
        "cycles and est. columns: estimated (cycle and cost models)"
        + ("; synth columns: measured (Yosys)." if syn else ".")
    ]
    badges = [ESTIMATED] + ([MEASURED] if syn else [])
    return Section("layers", "Layers", badges, [], text, Table(head, rows, numeric))


def versions_section(rep: dict, versions: dict) -> Section:
    rows = [[k, str(v)] for k, v in sorted(versions.items()) if v]
    sim = rep.get("rtlsim") or {}
    if sim.get("simulator"):
        rows.append(["rtlsim simulator", sim["simulator"]])
    tool = (rep.get("synth") or {}).get("tool") or {}
    if tool:
        rows.append([tool["name"], tool["version"].split(" (git")[0]])
        rows.append(["synthesis command", tool.get("command", "")])
    rows.append(["matplotlib (this page's charts)", metadata.version("matplotlib")])
    return Section("versions", "Tool versions", [], [], [], Table(["tool", "version"], rows))


def page(rep: dict, versions: dict) -> Page:
    sections = [cycles_section(rep), graph_section(rep), resources_section(rep)]
    sections += [s for s in (rtlsim_section(rep), verification_section(rep)) if s]
    sections += [layers_table(rep), versions_section(rep, versions)]
    return Page(f"{rep['model']} on {rep['board']}", tiles(rep), sections)
