"""Boards: registry, clock limits, and that every board builds a design without vendor tools."""

from __future__ import annotations

import pytest

from boards.errors import BoardError
from boards.registry import BOARDS, get_board
from flows.build import run_build
from flows.config import BuildConfig


def test_unknown_board_lists_known_ones():
    known = "kv260, pynq-z1, pynq-z2, ultra96-v2, zcu104"
    with pytest.raises(BoardError, match=rf"unknown board 'zcu9'; known boards: {known}"):
        get_board("zcu9")


def test_clock_limit():
    with pytest.raises(BoardError, match=r"clock 300.0 MHz is outside \(0, 250.0\] MHz"):
        get_board("pynq-z2").check_clock(300.0)


@pytest.mark.csim
@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_board_smoke_builds(tmp_path, zoo_onnx, name):
    d = run_build(BuildConfig(model=str(zoo_onnx("tfc-w1a1")), board=name, out=tmp_path / name))
    assert (d / "manifest.json").exists() and (d / "hls" / "top.cpp").exists()
