"""The page: the sections rendered through one Jinja2 template with the style sheet inlined.

StrictUndefined makes a section that lacks a field fail the render instead of printing an
empty cell; autoescaping makes layer and model names from an ONNX file safe to print. The
figures and the few paragraphs with markup arrive as ``Markup`` (their own text escaped).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from flows.report_html.sections import page

TEMPLATES = Path(__file__).parent / "templates"


@cache
def env() -> jinja2.Environment:
    """The templates of report.html and sweep.html, which share the style sheet."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(rep: dict, versions: dict) -> str:
    """report.html for report.json's ``rep``; ``versions``: the manifest's package versions."""
    return env().get_template("report.html.j2").render(page=page(rep, versions))
