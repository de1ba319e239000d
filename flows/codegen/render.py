"""Render the dataflow model into HLS C++: top.cpp, params/*.h and the C-sim harness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.packing import word_bytes
from boards.vivado import TOP
from flows.layers.registry import KINDS, layer_spec

TEMPLATES = Path(__file__).parent / "templates"


# Images per start of the design in C-simulation (memory between layers grows with it).
CSIM_CHUNK = 8


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["limbs"] = _limbs
    return env


def _limbs(hex_word: str, width: int) -> str:
    """A word as comma-separated 64-bit limbs, least significant first."""
    v = int(hex_word, 16)
    n = (width + 63) // 64
    return ",".join(f"0x{(v >> (64 * i)) & (2**64 - 1):x}ULL" for i in range(n))


def c_name(name: str) -> str:
    """A C identifier for a node name."""
    s = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return s if not s[0].isdigit() else "L" + s


@dataclass(frozen=True)
class StreamIO:
    """One end of the design: ``words`` words per image of ``elems`` fields of ``bits``."""

    bits: int
    elems: int
    words: int
    signed: bool
    bipolar: bool

    @property
    def width(self) -> int:
        return self.bits * self.elems

    @property
    def nbytes(self) -> int:
        return word_bytes(self.bits, self.elems)


@dataclass(frozen=True)
class Design:
    layers: list  # (node, hls context)
    input: StreamIO
    output: StreamIO


def build_design(df: ModelWrapper) -> Design:
    layers = []
    for node in df.graph.node:
        if node.op_type not in KINDS:  # StreamReshape: the stream passes through
            continue
        kind = KINDS[node.op_type]
        spec = layer_spec(node)
        if node.op_type in ("StreamingDWC", "SlidingWindow", "StreamingMaxPool"):
            h = kind.hls.build(spec)
        else:
            w = df.get_initializer(node.input[1])
            t = df.get_initializer(node.input[2]) if len(node.input) > 2 else None
            h = kind.hls.build(spec, w, t) if node.op_type == "MVAU" else kind.hls.build(spec, w)
        layers.append((node, h))
    first, last = layers[0][1], layers[-1][1]
    in_dt = df.get_tensor_datatype(df.graph.input[0].name)
    out_dt = df.get_tensor_datatype(df.graph.output[0].name)
    n_in = _numel(df.get_tensor_shape(df.graph.input[0].name))
    n_out = _numel(df.get_tensor_shape(df.graph.output[0].name))
    in_elems = first.in_width // _bits(first, "in")
    out_bits = _bits(last, "out")
    out_elems = last.out_width // out_bits
    io_in = StreamIO(
        _bits(first, "in"),
        in_elems,
        n_in // in_elems,
        in_dt.signed() and in_dt.name != "BIPOLAR",
        in_dt.name == "BIPOLAR",
    )
    out_signed = last.out_kind.endswith("Signed") if hasattr(last, "out_kind") else out_dt.signed()
    io_out = StreamIO(out_bits, out_elems, n_out // out_elems, out_signed, out_dt.name == "BIPOLAR")
    return Design(layers, io_in, io_out)


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _bits(h, side: str) -> int:
    if hasattr(h, "in_bits"):
        return h.in_bits if side == "in" else h.out_bits
    return h.bits


def render(df: ModelWrapper, out_dir: Path, model_name: str, dma_bits: int) -> Design:
    """Write ``top.cpp``, ``params/<layer>.h``, the Vitis testbench ``tb.cpp`` and the harness.

    ``dma_bits`` is the AXI-stream width of the DMAs at the design's edge (the board's HP port
    width, so the DMA needs no width converter of its own).
    """
    env = _env()
    design = build_design(df)
    (out_dir / "params").mkdir(parents=True, exist_ok=True)
    ctx_layers, streams = [], []
    src = "in0"
    for i, (node, h) in enumerate(design.layers):
        c = c_name(node.name)
        tmpl = env.get_template(KINDS[node.op_type].template)
        (out_dir / "params" / f"{c}.h").write_text(tmpl.render(layer=h, cname=c))
        last = i == len(design.layers) - 1
        dst = "out0" if last else f"s{i}_{c}"
        if not last:
            streams.append({"name": dst, "width": h.out_width})
        ctx_layers.append({"kind": node.op_type, "c": c, "h": h, "src": src, "dst": dst})
        src = dst
    widths = [design.input.nbytes * 8 + dma_bits, design.output.nbytes * 8 + dma_bits]
    widths += [s["width"] for s in streams]
    for _, h in design.layers:
        if hasattr(h, "w_bits"):
            widths.append(h.simd * h.w_bits)
    # headroom above the widest word: kernels form intermediates a few bits wider
    ap_max = max(1024, 2 << (max(widths) - 1).bit_length())
    common = dict(
        top=TOP,
        dma_bits=dma_bits,
        in_width=design.input.width,
        out_width=design.output.width,
        in_words=design.input.words,
        in_bytes=design.input.nbytes,
        out_words=design.output.words,
        out_bytes=design.output.nbytes,
    )
    (out_dir / "top.cpp").write_text(
        env.get_template("top.cpp.j2").render(
            layers=ctx_layers, streams=streams, model_name=model_name, ap_int_max_w=ap_max, **common
        )
    )
    (out_dir / "tb.cpp").write_text(
        env.get_template("testbench.cpp.j2").render(ap_int_max_w=ap_max, **common)
    )
    (out_dir / "csim_harness.cpp").write_text(
        env.get_template("csim_harness.cpp.j2").render(chunk=CSIM_CHUNK, **common)
    )
    return design
