"""A build's rtl/ as out-of-context synthesis runs: one per layer, plus the stitched top's glue.

This is Vivado's out-of-context flow: each layer is synthesized alone, with its parameters and
memory files (its ports are not pins: no I/O buffers), and the top is synthesized with every
layer module as a black box, so what it counts is its own glue: the FIFO on every edge, the
AXI-Stream edge (bitfab_axis_in/out) and the AXI-Lite control (bitfab_ctrl). The design's
total is glue + the sum of the layers. Optimisation across a layer's boundary (constant
propagation into a neighbour) is lost, as in Vivado's OOC runs; it is small for streaming
layers whose ports are all live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flows.sim.rtlsim import RtlDesign

GLUE = "glue"  # the top's own logic: FIFOs, AXI edge, control
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_MODULE = re.compile(r"^\s*module\s+(\w+)", re.M)


@dataclass(frozen=True)
class Run:
    """One ``synthesize`` call: what to read, what to black-box, the top and its parameters."""

    name: str  # a layer's name, or GLUE
    top: str
    sources: list[Path]
    params: dict[str, int | str] = field(default_factory=dict)
    blackboxes: dict[str, Path] = field(default_factory=dict)  # module -> its file
    kind: str = ""


def module_files(rtl: Path, sources: list[str]) -> dict[str, Path]:
    """``{module name: file}`` over the design's sources (one module a file, by convention;
    a file defining several maps each of them)."""
    found: dict[str, Path] = {}
    for name in sources:
        text = _COMMENT.sub("", (rtl / name).read_text())
        for module in _MODULE.findall(text):
            found[module] = rtl / name
    return found


def _instantiated(path: Path, modules: dict[str, Path]) -> set[str]:
    """The known modules that ``path`` instantiates (by name followed by ``#`` or an
    instance name, comments removed)."""
    text = _COMMENT.sub("", path.read_text())
    own = set(_MODULE.findall(text))
    return {
        m
        for m in modules
        if m not in own and re.search(rf"\b{re.escape(m)}\s*(#|[A-Za-z_]\w*\s*\()", text)
    }


def closure(module: str, modules: dict[str, Path], stop: set[str] = frozenset()) -> list[Path]:
    """The files ``module`` needs: its own and those of every module below it, minus ``stop``."""
    seen, todo, files = {module}, [module], []
    while todo:
        path = modules[todo.pop()]
        if path not in files:
            files.append(path)
        for sub in sorted(_instantiated(path, modules) - seen - set(stop)):
            seen.add(sub)
            todo.append(sub)
    return files


def runs(design: RtlDesign) -> list[Run]:
    """The glue run first (it is quick), then one run per layer in design order."""
    rtl = design.dir
    top = design.info["top"]
    modules = module_files(rtl, design.info["sources"])
    layer_modules = {layer["module"] for layer in design.layers}
    glue = Run(
        GLUE,
        top,
        closure(top, modules, stop=layer_modules),
        blackboxes={m: modules[m] for m in sorted(layer_modules)},
    )
    layers = [
        Run(
            layer["name"],
            layer["module"],
            closure(layer["module"], modules),
            dict(layer["params"]),
            kind=layer["kind"],
        )
        for layer in design.layers
    ]
    return [glue, *layers]
