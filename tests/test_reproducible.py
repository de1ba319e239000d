"""The same inputs give byte-identical builds: hls/, vivado/, deploy/, report.json and .html.

The two builds run as separate processes with different PYTHONHASHSEEDs, so anything that
depends on set or dict-of-set order, on qonnx's random tensor names or on time shows up.
Only manifest.json may differ, and only in its creation time and host name.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BITFAB, in_ci

pytestmark = pytest.mark.csim

COMPARED = [
    "hls",
    "vivado",
    "deploy",
    "report.json",
    "report.html",
    "dataflow.onnx",
    "reference.onnx",
]


def _files(root: Path) -> dict[str, bytes]:
    out = {}
    for name in COMPARED:
        p = root / name
        paths = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
        for q in paths:
            out[str(q.relative_to(root))] = q.read_bytes()
    return out


def _build(src: str, out: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    for cmd in ([*BITFAB, "build", src, "--out", str(out)], [*BITFAB, "bitstream", str(out)]):
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        assert r.returncode in (0, 2), r.stderr  # 2: no vendor tools, projects rendered


@pytest.mark.parametrize("model", in_ci(["small_cnn", "tfc-w1a1"]))
def test_two_builds_are_byte_identical(tmp_path, zoo_onnx, model):
    if model == "small_cnn":
        from tests.conv_factory import small_cnn

        src = tmp_path / "small_cnn.onnx"
        small_cnn(0).save(str(src))
    else:
        src = zoo_onnx(model)
    a, b = tmp_path / "a", tmp_path / "b"
    _build(str(src), a, "1")
    _build(str(src), b, "2")
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    assert any(k.startswith("vivado/") for k in fa) and any(k.startswith("hls/tb/") for k in fa)
    assert [k for k in fa if fa[k] != fb[k]] == []
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    for m in (ma, mb):
        m.pop("created"), m.pop("host")
    ma["config"].pop("out"), mb["config"].pop("out")
    assert ma == mb
