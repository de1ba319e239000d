"""The RTL backend: the design as plain Verilog-2005 (``rtl/``), for Verilator and Vivado.

The same graph, folding and stream words as the HLS backend. Each kind's ``rtl`` role gives a
kernel instance of hls/rtl (``RtlInstance``); this module names the streams, puts a
``bitfab_fifo`` on every edge (its depth a top-level parameter, so rtlsim can resize FIFOs
without rendering again), writes each memory to ``<layer>_<param>.mem`` beside the Verilog,
copies the kernel library so the directory is self-contained, and describes the result in
``design.json`` for rtlsim and the vendor flow. The top keeps the HLS top's ports, registers
and beat layout, so one block design and one driver serve both backends.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import jinja2

from boards.driver.packing import image_bytes
from boards.vivado import TOP
from flows.codegen.design import Design
from flows.codegen.hls import c_name
from flows.codegen.rtl_types import RtlInstance
from flows.hwlib import RTL_KERNELS

TEMPLATES = Path(__file__).parent / "templates"
DESIGN_JSON = "design.json"
SOURCES = "sources.f"  # the Verilog files in compile order, one per line
# per FIFO under BITFAB_PROBES: {count[31:0], out_ready, out_valid, in_ready, in_valid}
PROBE_BITS = 36


@dataclass(frozen=True)
class RtlFifo:
    """One edge: the FIFO between a writer and a reader (the DMA edge at either end)."""

    index: int
    tensor: str
    width: int
    depth: int
    producer: str  # layer name, or "dma_in"
    consumer: str  # layer name, or "dma_out"


@dataclass(frozen=True)
class RtlLayer:
    """One kernel instance in the top: its module, parameters and the FIFOs it reads/writes."""

    name: str
    cname: str
    kind: str
    module: str
    params: dict[str, int | str]
    inputs: list[int]
    outputs: list[int]
    cycles: int  # the cost model's cycles per image, compared with rtlsim's measurement


def _vparam(value: int | str) -> str:
    return f'"{value}"' if isinstance(value, str) else str(int(value))


def _port_prefixes(n: int, side: str) -> list[str]:
    """``in``/``out`` for one stream, ``in0``, ``in1``... for several."""
    return [side] if n == 1 else [f"{side}{k}" for k in range(n)]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["vparam"] = _vparam
    env.globals["port_prefixes"] = _port_prefixes
    env.globals["zip"] = zip
    return env


def _fifos(design: Design) -> list[RtlFifo]:
    """Every stream once: the design's input first, then in writer order, the output last."""
    readers = {t: layer.name for layer in design.layers for t in layer.inputs}
    order = [design.input_tensor]
    order += [t for layer in design.layers for t in layer.outputs if t not in order]
    order.remove(design.output_tensor)
    order.append(design.output_tensor)
    fifos = []
    for i, t in enumerate(order):
        s = design.streams[t]
        writer = design.producers[t].name if t in design.producers else "dma_in"
        fifos.append(RtlFifo(i, t, s.width, s.depth, writer, readers.get(t, "dma_out")))
    return fifos


def _layers(
    design: Design, fifo_of: dict[str, int], out_dir: Path, extra: dict[str, Path]
) -> list[RtlLayer]:
    """Each layer's instance; writes its memory files and collects its own sources."""
    layers = []
    for layer in design.layers:
        inst: RtlInstance = layer.kind.backends["rtl"].context(layer.spec, layer.params)
        extra.update({src.name: src for src in inst.sources})
        cname = c_name(layer.name)
        params: dict[str, int | str] = dict(inst.params)
        for param, lines in inst.memories.items():
            fname = f"{cname}_{param.lower()}.mem"
            (out_dir / fname).write_text("".join(line + "\n" for line in lines))
            params[param] = fname
        layers.append(
            RtlLayer(
                layer.name,
                cname,
                layer.kind.op_type,
                inst.module,
                params,
                [fifo_of[t] for t in layer.inputs],
                [fifo_of[t] for t in layer.outputs],
                int(layer.kind.cost.cycles(layer.spec)),
            )
        )
    return layers


class RtlBackend:
    """Verilog-2005 with the same DMA edge as the HLS top (``dma_bits``-bit beats, TLAST)."""

    name: ClassVar[str] = "rtl"
    REQUIRED_TOOLS: ClassVar[tuple[str, ...]] = ("vivado",)

    def render(self, design: Design, out_dir: Path, model_name: str, dma_bits: int) -> None:
        fifos = _fifos(design)
        fifo_of = {f.tensor: f.index for f in fifos}
        extra: dict[str, Path] = {}
        layers = _layers(design, fifo_of, out_dir, extra)
        kernels = sorted(RTL_KERNELS.glob("*.v")) + [extra[k] for k in sorted(extra)]
        for src in kernels:
            shutil.copyfile(src, out_dir / src.name)
        edge = dict(
            dma_bits=dma_bits,
            in_width=design.input.bits * design.input.elems,
            in_word_bits=design.input.nbytes * 8,
            in_words=design.input.words,
            out_width=design.output.bits * design.output.elems,
            out_word_bits=design.output.nbytes * 8,
            out_words=design.output.words,
        )
        top = (
            _env()
            .get_template("rtl_top.v.j2")
            .render(
                top=TOP,
                model_name=model_name,
                fifos=fifos,
                layers=layers,
                probe_bits=PROBE_BITS,
                **edge,
            )
        )
        (out_dir / f"{TOP}.v").write_text(top)
        sources = [k.name for k in kernels] + [f"{TOP}.v"]
        (out_dir / SOURCES).write_text("".join(s + "\n" for s in sources))
        info = {
            "top": TOP,
            "model": model_name,
            "sources": sources,
            "memories": sorted(p.name for p in out_dir.glob("*.mem")),
            "dma_bits": dma_bits,
            "in_beats_per_image": image_bytes(design.input.words, design.input.nbytes, dma_bits)
            * 8
            // dma_bits,
            "out_beats_per_image": image_bytes(design.output.words, design.output.nbytes, dma_bits)
            * 8
            // dma_bits,
            # the edge adapters move a beat and a word in the same cycle (as the HLS ones do),
            # so each side takes max(beats, words) cycles an image
            "edge_cycles": {
                side: max(image_bytes(io.words, io.nbytes, dma_bits) * 8 // dma_bits, io.words)
                for side, io in (("input", design.input), ("output", design.output))
            },
            "probe_bits": PROBE_BITS,
            "fifos": [asdict(f) for f in fifos],
            "layers": [asdict(layer) for layer in layers],
        }
        (out_dir / DESIGN_JSON).write_text(json.dumps(info, indent=2) + "\n")
