"""The HLS backend: the design as Vitis HLS C++ (top.cpp, params/*.h, the C-sim harness and the
Vitis testbench). Each kind's template (``<kind>/<kind>.h.j2``) defines two macros: ``params``
(its parameter header) and ``call`` (its line in the top), so the top names no kind.

A kind with parameter tables also defines ``tables_header`` (``params/tables/<layer>.h``, the
tables compiled in for Vitis HLS) and its context ``param_tables()`` (the same tables as data
files ``params/<layer>.<table>.bin``, which the C-sim library loads: flows/codegen/param_files.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import jinja2

from boards.vivado import TOP
from flows.codegen.design import Design
from flows.codegen.param_files import write_tables

TEMPLATES = Path(__file__).parent / "templates"

# Images per start of the design in C-simulation (memory between layers grows with it).
CSIM_CHUNK = 8
# Names of the design's edge streams in the top (the DMA adapters read and write them)
IN_STREAM, OUT_STREAM = "in0", "out0"
# The compiled-in tables, the only weight-dependent C++: the C-sim library, which loads the
# data files instead, neither reads them nor keys its cache on them (flows/sim/csim.py)
TABLES_DIR = Path("params") / "tables"


def limbs(hex_word: str, width: int) -> str:
    """A word as comma-separated 64-bit limbs, least significant first."""
    v = int(hex_word, 16)
    n = (width + 63) // 64
    return ",".join(f"0x{(v >> (64 * i)) & (2**64 - 1):x}ULL" for i in range(n))


def c_name(name: str) -> str:
    """A C identifier for a node name."""
    s = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return s if not s[0].isdigit() else "L" + s


def _env(kind_dirs: list[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(TEMPLATES), *map(str, kind_dirs)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["limbs"] = limbs
    return env


@dataclass(frozen=True)
class HlsStream:
    """A stream as the top declares it."""

    name: str
    width: int
    depth: int


@dataclass(frozen=True)
class HlsLayer:
    """One layer as the top sees it: its C name, its header and its rendered call."""

    cname: str
    header: str
    call: str


class HlsBackend:
    """Vitis HLS C++ with a DMA edge of ``dma_bits``-bit AXI-Stream beats."""

    name: ClassVar[str] = "hls"
    REQUIRED_TOOLS: ClassVar[tuple[str, ...]] = ("vitis_hls", "vivado")

    def render(self, design: Design, out_dir: Path, model_name: str, dma_bits: int) -> None:
        """Write ``top.cpp``, ``params/<layer>.h``, the Vitis testbench ``tb.cpp`` and the
        C-sim harness. ``dma_bits`` is the AXI-stream width of the DMAs at the design's edge
        (the board's HP port width, so the DMA needs no width converter of its own)."""
        roles = [layer.kind.backends[self.name] for layer in design.layers]
        env = _env(sorted({role.TEMPLATE.parent for role in roles}))
        (out_dir / "params").mkdir(parents=True, exist_ok=True)
        names = _stream_names(design)
        layers, widths = [], [design.input.nbytes * 8 + dma_bits]
        widths.append(design.output.nbytes * 8 + dma_bits)
        for layer, role in zip(design.layers, roles):
            ctx = role.context(layer.spec, layer.params)
            kind = env.get_template(role.TEMPLATE.name).module
            cname = c_name(layer.name)
            (out_dir / "params" / f"{cname}.h").write_text(kind.params(ctx, cname))
            if hasattr(kind, "tables_header"):
                (out_dir / TABLES_DIR).mkdir(exist_ok=True)
                (out_dir / TABLES_DIR / f"{cname}.h").write_text(kind.tables_header(ctx, cname))
                write_tables(out_dir / "params", cname, ctx.param_tables())
            ins = [names[t] for t in layer.inputs]
            outs = [names[t] for t in layer.outputs]
            layers.append(
                HlsLayer(cname, f"params/{cname}.h", str(kind.call(ctx, cname, ins, outs)))
            )
            widths.append(ctx.widest_word)
        streams = [HlsStream(names[s.tensor], s.width, s.depth) for s in design.internal_streams()]
        # headroom above the widest word: kernels form intermediates a few bits wider
        ap_max = max(1024, 2 << (max(widths) - 1).bit_length())
        common = dict(
            top=TOP,
            dma_bits=dma_bits,
            in_width=design.input.bits * design.input.elems,
            out_width=design.output.bits * design.output.elems,
            in_words=design.input.words,
            in_bytes=design.input.nbytes,
            out_words=design.output.words,
            out_bytes=design.output.nbytes,
        )
        (out_dir / "top.cpp").write_text(
            env.get_template("top.cpp.j2").render(
                layers=layers,
                streams=streams,
                edge_depths={
                    IN_STREAM: design.streams[design.input_tensor].depth,
                    OUT_STREAM: design.streams[design.output_tensor].depth,
                },
                model_name=model_name,
                ap_int_max_w=ap_max,
                **common,
            )
        )
        (out_dir / "tb.cpp").write_text(
            env.get_template("testbench.cpp.j2").render(ap_int_max_w=ap_max, **common)
        )
        (out_dir / "csim_harness.cpp").write_text(
            env.get_template("csim_harness.cpp.j2").render(chunk=CSIM_CHUNK, **common)
        )


def _stream_names(design: Design) -> dict[str, str]:
    """C identifiers of the streams: the edges are in0/out0, the others are named after the
    layer that writes them (its position and C name; a second output gets a suffix)."""
    names = {design.input_tensor: IN_STREAM, design.output_tensor: OUT_STREAM}
    for i, layer in enumerate(design.layers):
        for j, t in enumerate(layer.outputs):
            if t not in names:
                names[t] = f"s{i}_{c_name(layer.name)}" + (f"_{j}" if j else "")
    return names
