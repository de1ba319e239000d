"""The backends a build renders, by name (each writes ``<build>/<name>/``)."""

from __future__ import annotations

from flows.codegen.backend import Backend
from flows.codegen.hls import HlsBackend
from flows.codegen.rtl import RtlBackend

BACKENDS: dict[str, Backend] = {b.name: b for b in (HlsBackend(), RtlBackend())}
