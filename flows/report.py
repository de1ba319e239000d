"""report.json / report.html: per-layer shapes, types, folding, cycles and estimates."""

from __future__ import annotations

import json
import os
from pathlib import Path

from boards.driver.packing import image_bytes
from flows.codegen.design import Design
from flows.estimate import design_resources, hls_factors, hls_resources, resources_error
from flows.layers.fifo_cost import fifo_resources
from flows.layers.registry import hardware_layers, layer_spec
from flows.passes.set_fifo_depths import DEPTH_RULE

ESTIMATE_NOTE = (
    "estimate: each kind's cost formula with coefficients fitted to Yosys synth_xilinx of the "
    "RTL kernels (flows/layers/calibration.json, bench/calibrate.py); its held-back error per "
    "kind is in totals.resources_error; `bitfab synth` measures this design"
)


def layer_rows(df) -> list[dict]:
    """One row per hardware layer: what every kind has, then what its spec reports."""
    rows = []
    for node, kind in hardware_layers(df):
        spec = layer_spec(node)
        row = {
            "name": node.name,
            "kind": node.op_type,
            "in_shape": [int(v) for v in df.get_tensor_shape(node.input[0])],
            "out_shape": [int(v) for v in df.get_tensor_shape(node.output[0])],
            "in_dtype": df.get_tensor_datatype(node.input[0]).name,
            "out_dtype": df.get_tensor_datatype(node.output[0]).name,
            "cycles": int(kind.cost.cycles(spec)),
            "resources": kind.cost.resources(spec),
        }
        row.update(spec.report())
        rows.append(row)
    return rows


def dma_edge(io, beat_bits: int, side: str) -> dict:
    """The design's DMA edge on one side: bytes and beats per image and its cycles.

    Both backends' adapters (hls/include/bitfab/iodma.hpp at II=1, bitfab_axis_in/out.v) can
    move a beat and a word in the same cycle, so an image takes max(beats, words) cycles.
    """
    nbytes = image_bytes(io.words, io.nbytes, beat_bits)
    beats = nbytes * 8 // beat_bits
    return {
        "side": side,
        "beat_bits": beat_bits,
        "bytes_per_image": nbytes,
        "beats_per_image": beats,
        "words_per_image": io.words,
        "cycles": max(beats, io.words),
    }


def fifo_rows(design: Design) -> list[dict]:
    """Every FIFO of the design: its stream, writer, reader, width, depth and memory."""
    readers = {t: layer.name for layer in design.layers for t in layer.inputs}
    rows = []
    for t, s in design.streams.items():
        writer = design.producers.get(t)
        rows.append(
            {
                "stream": t,
                "writer": writer.name if writer else "DMA input",
                "reader": readers.get(t, "DMA output"),
                "width": s.width,
                "depth": s.depth,
                "resources": fifo_resources(s.width, s.depth),
            }
        )
    return rows


def build_report(ctx) -> dict:
    df = ctx.partition.dataflow
    rows = layer_rows(df)
    clk = ctx.cfg.clock_mhz * 1e6
    beat = ctx.board.hp_port_bits
    edge = [dma_edge(ctx.design.input, beat, "input"), dma_edge(ctx.design.output, beat, "output")]
    worst = max(r["cycles"] for r in rows + edge)
    fifos = fifo_rows(ctx.design)
    total = design_resources(ctx.design, beat)
    shell = ctx.board.shell
    with_shell = {k: total[k] + shell.resources()[k] for k in total}
    by_backend = {"rtl": total, "hls": hls_resources(total)}
    # whether each backend's design fits beside the shell: the folding is chosen by the RTL
    # estimate, and the HLS kernels' own memory packing can take more block RAM
    fits_by_backend = {
        name: all(r[k] + shell.resources()[k] <= v for k, v in ctx.board.budget().items())
        for name, r in by_backend.items()
    }
    # Latency of one image through the pipeline: layers overlap, so it is bounded by the
    # sum of each layer's cycles only in the worst case; report both bounds until the FIFO
    # simulation lands.
    return {
        "model": ctx.cfg.model,
        "board": ctx.board.name,
        "clock_mhz": ctx.cfg.clock_mhz,
        "layers": rows,
        "totals": {
            "resources": total,
            "resources_note": ESTIMATE_NOTE,
            "resources_error": resources_error(ctx.design),
            "resources_by_backend": by_backend,
            "fits_board_by_backend": fits_by_backend,
            "hls_note": hls_factors()["source"],
            "shell": {**shell.resources(), "source": shell.source},
            "resources_with_shell": with_shell,
            "board_budget": ctx.board.budget(),
            "fits_board": all(with_shell[k] <= v for k, v in ctx.board.budget().items()),
            "bottleneck_cycles": worst,
            "estimated_fps": clk / worst,
            "latency_cycles_upper_bound": sum(r["cycles"] for r in rows + edge),
            "estimated_latency_us_upper_bound": sum(r["cycles"] for r in rows + edge) / clk * 1e6,
            "fps_note": (
                "estimate from the cycle model at the build clock, DMA edge included, assuming "
                "the FIFO depths in folding.json (the fifos section); shallower FIFOs stall "
                "bursty layers and lower it"
            ),
        },
        "fifos": {
            "edges": fifos,
            "bits": sum(f["width"] * f["depth"] for f in fifos),
            "depth_rule": DEPTH_RULE,
            "depths_from": "folding file, then the rule" if ctx.cfg.folding else "the rule",
            "note": "FIFOs are in the totals (estimated: fifo_cost.fifo_resources, fitted to "
            "Yosys synthesis of bitfab_fifo)",
        },
        "dma_edge": edge,
        "host": {
            "head_ops": [o.op_type for o in ctx.partition.head.ops],
            "tail_ops": [o.op_type for o in ctx.partition.tail.ops],
        },
        "folding": ctx.folding,
        "verification": ctx.verification,
    }


def write_report(ctx, versions: dict) -> None:
    """report.json and report.html of a build; ``versions``: the packages the manifest
    records (the manifest itself is written after this step)."""
    rep = build_report(ctx)
    (ctx.out / "report.json").write_text(json.dumps(rep, indent=2, sort_keys=True) + "\n")
    (ctx.out / "report.html").write_text(_html(rep, versions))


def _html(rep: dict, versions: dict) -> str:
    # imported here: the page's charts need matplotlib, which no other command should load
    from flows.report_html import render_html

    return render_html(rep, versions)


def _manifest_versions(build_dir: Path) -> dict:
    try:
        return json.loads((build_dir / "manifest.json").read_text()).get("versions", {})
    except (OSError, ValueError):
        return {}


def add_section(build_dir: Path, name: str, section: dict) -> None:
    """Add (or replace) one section of a finished build's report.json and re-render the
    HTML; both files are replaced atomically, so an interrupted command leaves them as
    they were."""
    d = Path(build_dir)
    rep = json.loads((d / "report.json").read_text())
    rep[name] = section
    for fname, text in (
        ("report.json", json.dumps(rep, indent=2, sort_keys=True) + "\n"),
        ("report.html", _html(rep, _manifest_versions(d))),
    ):
        tmp = d / (fname + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, d / fname)
