"""The wheel is the whole tool: it carries the hardware library and every data file.

The fast tests build a wheel from a copy of the working tree (the copy keeps setuptools'
``build/`` out of the checkout) and compare its file list with the source tree: every file of
the Python packages, and hls/include and hls/rtl as ``bitfab_hls``. The slow test installs that
wheel into a fresh venv outside the repository and builds, verifies and rtl-simulates
tfc-w1a1 there, with no PYTHONPATH, so nothing can be found through the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flows.errors import ToolMissingError
from flows.hwlib import INSTALLED_NAME, LIBRARY, find_library
from tests.helpers import REPO_ROOT

PACKAGES = ("flows", "models", "boards")
HLS_TREES = ("include", "rtl")  # what the wheel carries of hls/ (setup.py)
NOT_SOURCES = ("__pycache__", "*.pyc", "*.so", "*.o")  # build leftovers, as in .gitignore
TORCH = "torch==2.13.0"  # installed first, as `make install` does, so no CUDA build is pulled


def _source_files(root: Path) -> list[Path]:
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and not any(p.match(pat) for pat in NOT_SOURCES[1:])
    )


def _expected_in_wheel() -> set[str]:
    """Every source file of our packages, and hls/include, hls/rtl under bitfab_hls."""
    want = {f"{pkg}/{f.as_posix()}" for pkg in PACKAGES for f in _source_files(REPO_ROOT / pkg)}
    for tree in HLS_TREES:
        files = _source_files(REPO_ROOT / "hls" / tree)
        want |= {f"{INSTALLED_NAME}/{tree}/{f.as_posix()}" for f in files}
    return want


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of the working tree, built as ``pip wheel .`` builds it (the venv's setuptools,
    which brevitas and torch require, so no index is needed)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for p in REPO_ROOT.iterdir():
        if p.is_file():
            shutil.copy2(p, src / p.name)
    for d in (*PACKAGES, "hls"):
        shutil.copytree(REPO_ROOT / d, src / d, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    out = base / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation"]
    subprocess.run([*cmd, "-q", "-w", str(out)], check=True, cwd=base)
    (whl,) = out.glob("bitfab-*.whl")
    return whl


def test_wheel_carries_every_source_file_and_the_hardware_library(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_expected_in_wheel() - names)
    assert not missing, f"{wheel.name} lacks {missing}: add their pattern to package-data"
    for must in (
        f"{INSTALLED_NAME}/include/bitfab/mvau.hpp",
        f"{INSTALLED_NAME}/rtl/bitfab_mvau.v",
        f"{INSTALLED_NAME}/rtl/tb/top_tb.cpp",
        "flows/codegen/templates/top.cpp.j2",
        "flows/layers/calibration.json",
        "boards/templates/vivado.tcl.j2",
    ):
        assert must in names
    templates = [f for f in names if f.endswith(".j2")]
    sources = [f for f in _expected_in_wheel() if f.endswith(".j2")]
    assert len(templates) == len(sources) >= 10


def test_wheel_holds_nothing_but_our_packages(wheel: Path) -> None:
    tops = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    (meta,) = tops - {*PACKAGES, INSTALLED_NAME}
    assert meta.startswith("bitfab-") and meta.endswith(".dist-info")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith(f"{INSTALLED_NAME}/tests/")]  # kernels' own tests


def test_library_is_the_first_candidate_holding_it_and_its_absence_is_named(
    tmp_path: Path,
) -> None:
    repo, installed = tmp_path / "hls", tmp_path / INSTALLED_NAME
    for root in (repo, installed):
        (root / "include" / "bitfab").mkdir(parents=True)
        (root / "include" / "bitfab" / "bitfab.hpp").write_text("#pragma once\n")
    assert find_library((repo, installed)) == repo
    assert find_library((tmp_path / "none", installed)) == installed
    assert LIBRARY == REPO_ROOT / "hls"  # the tests run in the checkout
    with pytest.raises(
        ToolMissingError,
        match=r"bitfab's hardware library is missing: neither .*/none nor .*/gone holds "
        r"include/bitfab/bitfab.hpp; reinstall bitfab",
    ):
        find_library((tmp_path / "none", tmp_path / "gone"))


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.slow
def test_installed_wheel_builds_verifies_and_simulates_tfc_outside_the_repo(
    wheel: Path, tmp_path: Path
) -> None:
    python = shutil.which("python3.11")
    if python is None:
        pytest.skip("python3.11 is not on PATH: the fresh venv needs it")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, cwd=tmp_path, env=env)
    bindir = venv / "bin"
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    pip = [str(bindir / "python"), "-m", "pip", "install", "-q"]
    _run([*pip, TORCH], tmp_path, env)
    _run([*pip, str(wheel)], tmp_path, env)

    where = "import flows, flows.hwlib as h; print(flows.__file__); print(h.LIBRARY)"
    found = _run([str(bindir / "python"), "-c", where], tmp_path, env).stdout.split()
    site = venv.resolve()
    assert all(Path(p).resolve().is_relative_to(site) for p in found), found
    assert Path(found[1]).name == INSTALLED_NAME

    out = tmp_path / "tfc"
    bitfab = str(bindir / "bitfab")
    build = [bitfab, "build", "tfc-w1a1", "--board", "pynq-z2", "--out", str(out), "--verify", "5"]
    _run(build, tmp_path, env)
    _run([bitfab, "rtlsim", str(out), "--n", "2"], tmp_path, env)
    report = json.loads((out / "report.json").read_text())
    assert report["verification"]["status"] == "pass" and report["verification"]["n"] == 5
    assert report["verification"]["reference_mismatches"] == 0
    assert report["rtlsim"]["verification"]["status"] == "pass"
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"
    assert (out / "rtl" / "bitfab_mvau.v").is_file()
    assert (out / "deploy" / "driver" / "accelerator.py").is_file()
    shutil.rmtree(venv)  # 1.7 GB; a failing run keeps it to look into
