"""Shared fixtures: zoo exports and builds are made once per session (they take seconds)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from flows.build import run_build
from flows.config import BuildConfig


@pytest.fixture(scope="session")
def zoo_onnx(tmp_path_factory):
    """Export a zoo model to QONNX once per session: ``zoo_onnx("tfc-w1a1") -> Path``."""
    from models.export import export_qonnx_model
    from models.zoo import get_model

    cache: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("zoo")

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = export_qonnx_model(get_model(name), root / f"{name}.onnx")
        return cache[name]

    return get


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Build a model once per session: ``built("tfc-w1a1") -> build dir``."""
    cache: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("builds")

    def get(model: str, **kw) -> Path:
        key = model + repr(sorted(kw.items()))
        if key not in cache:
            out = root / f"b{len(cache)}"
            cache[key] = run_build(BuildConfig(model=str(model), out=out, **kw))
        return cache[key]

    return get


@pytest.fixture(scope="session")
def pch(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Precompiled ap_types headers for the kernel testbenches (halves a compile)."""
    from flows.sim.toolchain import cxx, include_flags
    from tests.helpers import TB_CXXFLAGS

    d = tmp_path_factory.mktemp("pch")
    (d / "ap_pch.h").write_text("#include <ap_int.h>\n#include <hls_stream.h>\n")
    cmd = [cxx(), *TB_CXXFLAGS, *include_flags(), "-x", "c++-header", "ap_pch.h"]
    subprocess.run([*cmd, "-o", "ap_pch.h.gch"], check=True, cwd=d)
    return ["-include", str(d / "ap_pch.h")]
