"""What report.json says that several parts of the page need, read one way: the pipeline's
rows and its bottleneck, a layer's folding, Yosys's counts as the estimate counts them,
colours, number formats, and the two provenance badges."""

from __future__ import annotations

from flows.report_html.colours import NEUTRAL, kind_colours
from flows.report_html.dataflow import DMA_IN, DMA_OUT

RESOURCES = ("LUT", "BRAM18", "DSP")
ESTIMATED = "estimated"
MEASURED = "measured"


def folding_text(layer: dict) -> str:
    """The layer's parallelism as its kind reports it: PE and SIMD where it has them, the
    elements per word in and out for a width converter."""
    parts = [f"{k} {layer[k]}" for k in ("PE", "SIMD") if k in layer]
    if "in_elems" in layer and "out_elems" in layer:
        parts.append(f"{layer['in_elems']}→{layer['out_elems']} elems/word")
    return " · ".join(parts)


def num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def pipeline(rep: dict) -> list[tuple[str, str, int]]:
    """(name, kind, estimated cycles) of the DMA input edge, every layer, the DMA output
    edge: the rows whose slowest sets the estimated FPS."""
    edge = {e["side"]: e for e in rep.get("dma_edge", [])}
    rows = []
    if "input" in edge:
        rows.append((DMA_IN, "DMA edge", edge["input"]["cycles"]))
    rows += [(lay["name"], lay["kind"], lay["cycles"]) for lay in rep["layers"]]
    if "output" in edge:
        rows.append((DMA_OUT, "DMA edge", edge["output"]["cycles"]))
    return rows


def bottleneck(rep: dict) -> tuple[int, str, int]:
    """Index in ``pipeline``, name and cycles of the first slowest row."""
    rows = pipeline(rep)
    i = max(range(len(rows)), key=lambda k: (rows[k][2], -k))
    return i, rows[i][0], rows[i][2]


def colours_of(rep: dict) -> dict[str, str]:
    cols = kind_colours([lay["kind"] for lay in rep["layers"]])
    cols["DMA edge"] = NEUTRAL
    return cols


def _synth_slice_luts(cells: dict) -> int:
    """Yosys's LUTs as the board counts Slice LUTs (logic, distributed RAM, shift
    registers): what the estimate's LUT stands for."""
    return int(cells.get("LUT", 0)) + int(cells.get("LUTRAM", 0)) + int(cells.get("SRL", 0))


def synth_value(cells: dict, res: str) -> int:
    return _synth_slice_luts(cells) if res == "LUT" else int(cells.get(res, 0))
