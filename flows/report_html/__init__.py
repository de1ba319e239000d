"""report.html: the build's report.json (and the manifest's versions) drawn for people.

One self-contained page, no network: matplotlib charts and the dataflow drawing are inline
SVG, the style sheet is inlined. Rendering only reads the report, so ``verify``, ``rtlsim``
and ``synth`` re-render it whenever they add their section. Modules: ``sections`` (what each
part of the page says, from report.json), ``charts`` (matplotlib figures), ``layout`` and
``dataflow`` (the graph drawing), ``svg`` (deterministic SVG out of matplotlib), ``colours``
(one colour per layer kind across every figure), ``page`` (the Jinja2 template).
"""

from flows.report_html.page import render_html

__all__ = ["render_html"]
