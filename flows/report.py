"""report.json / report.html: per-layer shapes, types, folding, cycles and estimates."""

from __future__ import annotations

import html
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

    The adapter (hls/include/bitfab/iodma.hpp) runs one loop at II=1 that either moves a beat
    or a word per iteration, so it takes beats + words cycles an image.
    """
    nbytes = image_bytes(io.words, io.nbytes, beat_bits)
    beats = nbytes * 8 // beat_bits
    return {
        "side": side,
        "beat_bits": beat_bits,
        "bytes_per_image": nbytes,
        "beats_per_image": beats,
        "words_per_image": io.words,
        "cycles": beats + io.words,
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


def write_report(ctx) -> None:
    rep = build_report(ctx)
    (ctx.out / "report.json").write_text(json.dumps(rep, indent=2, sort_keys=True) + "\n")
    (ctx.out / "report.html").write_text(to_html(rep))


def to_html(rep: dict) -> str:
    cols = [
        "name",
        "kind",
        "in_shape",
        "out_shape",
        "in_dtype",
        "out_dtype",
        "SIMD",
        "PE",
        "mac",
        "ram_style",
        "cycles",
    ]
    head = "".join(f"<th>{c}</th>" for c in cols + ["LUT*", "BRAM18*", "DSP*"])
    body = []
    worst = rep["totals"]["bottleneck_cycles"]
    for r in rep["layers"]:
        cells = "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols)
        res = "".join(f"<td>{r['resources'][k]}</td>" for k in ("LUT", "BRAM18", "DSP"))
        bar = int(200 * r["cycles"] / worst)
        body.append(
            f"<tr>{cells}{res}<td><div style='background:#48c;height:10px;"
            f"width:{bar}px'></div></td></tr>"
        )
    t = rep["totals"]
    v = rep.get("verification") or {}
    return (
        "<!doctype html><meta charset='utf-8'><title>bitfab report</title>"
        f"<h1>{html.escape(rep['model'])} on {html.escape(rep['board'])}</h1>"
        f"<p>Clock {rep['clock_mhz']} MHz; estimated {t['estimated_fps']:.0f} FPS "
        f"(bottleneck {worst} cycles). Resources* {t['resources']} of {t['board_budget']}.</p>"
        f"<p>Verification: {html.escape(json.dumps(v))}</p>"
        f"{_rtlsim_html(rep.get('rtlsim'))}"
        f"{_synth_html(rep.get('synth'))}"
        f"{_backends_html(t)}"
        f"<table border=1 cellspacing=0><tr>{head}<th>cycles</th></tr>{''.join(body)}</table>"
        f"<p>* {ESTIMATE_NOTE}</p>"
    )


def _rtlsim_html(r: dict | None) -> str:
    """The measured figures of ``bitfab rtlsim``, labelled as such."""
    if not r:
        return ""
    text = (
        f"RTL simulation (measured, {r['simulator']}, {r['n']} images): {r['status']}; "
        f"{r['cycles_per_image']:.0f} cycles an image = {r['fps']:.0f} FPS at "
        f"{r['clock_mhz']:g} MHz; latency {r['latency_cycles']} cycles "
        f"({r['latency_us']:.1f} us)"
    )
    if "deadlock" in r:
        text += f"; {r['deadlock']}"
    return f"<p>{html.escape(text)}</p>"


def _synth_html(s: dict | None) -> str:
    """The totals of ``bitfab synth`` against the board, labelled as Yosys's counts, and the
    estimate's error against them."""
    if not s or "fits" not in s:
        return ""
    used = ", ".join(f"{k} {v['used']}/{v['available']}" for k, v in s["fits"].items())
    text = f"{s['label']}, {s['family']}: {used} on {s['board']}"
    err = s.get("estimate_error")
    if err:
        text += "; estimate error " + ", ".join(
            f"{k} {v['error']:+.1%}" for k, v in err.items() if v["error"] is not None
        )
    return f"<p>{html.escape(text)}</p>"


def _yes_no(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def _backends_html(t: dict) -> str:
    """Both backends' estimates side by side, with the shell the board adds."""
    by = t.get("resources_by_backend")
    if not by:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{r[k]}</td>" for k in ("LUT", "BRAM18", "DSP"))
        + f"<td>{_yes_no(t.get('fits_board_by_backend', {}).get(name))}</td></tr>"
        for name, r in by.items()
    )
    return (
        "<table border=1 cellspacing=0><tr><th>backend (estimate)</th><th>LUT</th>"
        f"<th>BRAM18</th><th>DSP</th><th>fits with shell</th></tr>{rows}</table>"
        f"<p>HLS: {html.escape(t.get('hls_note', ''))}. Shell (not in these figures): "
        f"{html.escape(json.dumps(t.get('shell', {})))}</p>"
    )


def add_section(build_dir: Path, name: str, section: dict) -> None:
    """Add (or replace) one section of a finished build's report.json and re-render the
    HTML; both files are replaced atomically, so an interrupted command leaves them as
    they were."""
    d = Path(build_dir)
    rep = json.loads((d / "report.json").read_text())
    rep[name] = section
    for fname, text in (
        ("report.json", json.dumps(rep, indent=2, sort_keys=True) + "\n"),
        ("report.html", to_html(rep)),
    ):
        tmp = d / (fname + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, d / fname)
