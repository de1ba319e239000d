"""Deterministic inline SVG out of matplotlib figures.

DESIGN.md: the same inputs give byte-identical outputs, and report.html is rewritten by every
command that adds a section. matplotlib's SVG otherwise carries a creation date and random
element ids; here the ids come from a fixed salt and the date is left out. Text stays text
(``svg.fonttype: none``): smaller, selectable, and crisp when printed. Figures are made with
``matplotlib.figure.Figure`` (no pyplot, no GUI backend, no global figure registry).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure

STYLE = {
    "svg.hashsalt": "bitfab-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}


@contextmanager
def style() -> Iterator[None]:
    """The report's matplotlib settings, for the figures made inside the block only."""
    with matplotlib.rc_context(STYLE):
        yield


def to_svg(fig: Figure) -> Markup:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prolog, no DOCTYPE,
    no metadata block), scaling to its container's width."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # the RDF block names the generator, nothing a reader needs
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    # fixed width/height in pt would overflow a narrow page; the viewBox keeps the aspect
    text = re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        r'<svg\1 class="chart" preserveAspectRatio="xMinYMin meet"',
        text,
        count=1,
    )
    return Markup(text)
