"""The dataflow graph as an SVG drawing: a box per layer (name, kind, folding, cycles) and a
wire per FIFO (stream width, depth, and rtlsim's peak occupancy once measured).

Drawn by hand rather than with Graphviz so the report needs no binary and its bytes depend
only on report.json; ``layout`` places the boxes. ``sections`` reads the nodes and wires from
report.json (``fifos.edges``: every stream with its writer and reader, the DMA on the two
ends), so a fork feeds two wires and a join is fed by two.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from flows.report_html.colours import BOTTLENECK
from flows.report_html.layout import NODE_H, NODE_W, layout

DMA_IN = "DMA input"
DMA_OUT = "DMA output"
MAX_CHARS = 26  # of a name in a box; the full name is the box's tooltip


@dataclass(frozen=True)
class GraphNode:
    name: str
    lines: list[str]  # under the name: kind, folding, cycles
    colour: str
    bottleneck: bool = False


@dataclass(frozen=True)
class GraphEdge:
    src: str
    dst: str
    above: str  # stream width
    below: str  # FIFO depth (and measured peak occupancy)


def _clip(text: str, n: int = MAX_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _box(node: GraphNode, x: float, y: float) -> str:
    stroke = BOTTLENECK if node.bottleneck else "#555555"
    width = 2.6 if node.bottleneck else 1.0
    lines = [f'<text x="{x + 12:g}" y="{y + 17:g}" class="n">{escape(_clip(node.name))}</text>']
    for k, line in enumerate(node.lines):
        lines.append(
            f'<text x="{x + 12:g}" y="{y + 32 + 13 * k:g}" class="d">'
            f"{escape(_clip(line, MAX_CHARS + 4))}</text>"
        )
    return (
        f"<g><title>{escape(node.name)}</title>"
        f'<rect x="{x:g}" y="{y:g}" width="{NODE_W}" height="{NODE_H}" rx="5" fill="#ffffff" '
        f'stroke="{stroke}" stroke-width="{width}"/>'
        f'<rect x="{x:g}" y="{y:g}" width="6" height="{NODE_H}" rx="2" fill="{node.colour}"/>'
        + "".join(lines)
        + "</g>"
    )


def draw(nodes: list[GraphNode], edges: list[GraphEdge]) -> Markup:
    """The drawing as an inline ``<svg>`` that scales to its container's width."""
    lay = layout([n.name for n in nodes], [(e.src, e.dst) for e in edges])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" '
        f'viewBox="0 0 {lay.width:g} {lay.height:g}" role="img" '
        f'aria-label="dataflow graph">'
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#444444"/></marker></defs>'
        "<style>.n{font:bold 12px sans-serif}.d{font:11px sans-serif;fill:#333}"
        ".w{font:10.5px sans-serif;fill:#1a1a1a;paint-order:stroke;stroke:#fff;"
        "stroke-width:3px;stroke-linejoin:round}</style>"
    ]
    for edge, route in zip(edges, lay.routes, strict=True):
        d = " ".join(f"{x:g},{y:g}" for x, y in route.points)
        parts.append(
            f'<polyline points="{d}" fill="none" stroke="#444444" stroke-width="1.2" '
            'marker-end="url(#arrow)"/>'
        )
        lx, ly = route.label_at
        parts.append(
            f'<text x="{lx:g}" y="{ly - 4:g}" text-anchor="middle" class="w">'
            f"{escape(edge.above)}</text>"
            f'<text x="{lx:g}" y="{ly + 12:g}" text-anchor="middle" class="w">'
            f"{escape(edge.below)}</text>"
        )
    for node in nodes:
        b = lay.boxes[node.name]
        parts.append(_box(node, b.x, b.y))
    parts.append("</svg>")
    return Markup("".join(parts))
