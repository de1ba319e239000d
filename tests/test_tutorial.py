"""README's "Your own Brevitas model, end to end" cannot drift: its marked blocks are run.

A block is marked by the HTML comment ``<!-- tutorial: KIND -->`` on the line before it: a file
name (``my_model.py``, ``api.py``) writes the block to that file, ``run`` is shell run as it
is, ``vendor`` is the vendor-tool step (exit 2 and its message where the tools are absent),
``board`` is what runs on the board (not run here; its command must be the driver's). The fast
test checks the blocks parse (Python compiles, every ``bitfab`` line is a valid command line);
the slow one runs them in a temporary directory up to the vendor-tool step, as a user would,
with ``bitfab`` and ``python`` from this environment.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boards.deploy import run_command
from flows.cli import main
from tests.helpers import REPO_ROOT

MARK = re.compile(r"<!-- tutorial: (\S+) -->\n```(\w+)\n(.*?)^```", re.S | re.M)
ORDER = ["my_model.py", "run", "vendor", "board", "api.py"]


def blocks() -> list[tuple[str, str, str]]:
    """(kind, language, text) of every marked block of README.md, in order."""
    return MARK.findall((REPO_ROOT / "README.md").read_text())


def _commands(text: str) -> list[list[str]]:
    """The ``bitfab`` command lines of a shell block, as argument lists."""
    lines = [shlex.split(line, comments=True) for line in text.splitlines()]
    return [args for args in lines if args[:1] == ["bitfab"]]


def test_the_tutorial_blocks_are_there_and_parse():
    found = blocks()
    assert [k for k, _, _ in found] == ORDER
    for kind, lang, text in found:
        if lang == "python":
            compile(text, kind, "exec")
        else:
            assert lang == "sh", kind
            for args in _commands(text):
                cmd = main.get_command(None, args[1])
                assert cmd is not None, args
                cmd.make_context(args[1], args[2:])  # raises on an unknown option or value
    text = dict((k, t) for k, _, t in found)
    assert [a[1] for a in _commands(text["run"])] == ["build", "eval", "rtlsim", "synth"]
    assert [a[1] for a in _commands(text["vendor"])] == ["bitstream"]
    assert run_command() in text["board"]  # the board command is the one the driver prints
    assert "python -m driver --backend csim" in text["run"]  # the host rehearsal of it


def _env(tmp_path: Path) -> dict[str, str]:
    """This environment's ``bitfab`` and ``python`` first on PATH, the checkout importable."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["HOME"] = os.environ.get("HOME", str(tmp_path))
    return env


def _sh(text: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-c", text], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_the_tutorial_runs_up_to_the_vendor_tools(tmp_path):
    env = _env(tmp_path)
    found = {kind: text for kind, _, text in blocks()}
    (tmp_path / "my_model.py").write_text(found["my_model.py"])

    r = _sh(found["run"], tmp_path, env)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "float accuracy on the digits test split" in out
    assert "verify: 20 inputs, pass" in out and "reference rounding 0" in out
    assert re.search(r"outputs bit-identical on (\d+)/\1 images", out), out
    assert "rtlsim: 20 images, pass" in out and "synth (xc7" in out
    assert "throughput (csim backend, wall time, batch 100" in out
    d = tmp_path / "build" / "my_model-pynq-z2"
    assert (d / "report.html").exists() and (d / "manifest.json").exists()

    if shutil.which("vivado", path=env["PATH"]) is None:
        r = _sh(found["vendor"], tmp_path, env)
        assert r.returncode == 2, r.stderr
        assert "not on PATH, so no bitstream was made" in r.stderr
        assert "vivado -mode batch -source vivado/build.tcl" in r.stderr
        assert run_command() in r.stderr  # and then the board step, as the README says
        assert (d / "vivado" / "build.tcl").exists() and (d / "hls" / "hls.tcl").exists()

    (tmp_path / "api.py").write_text(found["api.py"])
    r = subprocess.run(
        [sys.executable, "api.py"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[1].startswith("True ") and "FPS (estimate)" in lines[1]
    assert lines[2].startswith("C-sim accuracy 0.")
    assert lines[3].startswith("rtlsim ") and lines[4].startswith("Yosys Cells(")
    if shutil.which("vivado", path=env["PATH"]) is None:
        assert lines[5].startswith("2 vitis_hls (or vitis-run) and vivado not on PATH")
    hw, torch_ = lines[6].split("] [")
    assert hw + "]" == "[" + torch_  # the accelerator's classes are the torch module's


# --- the troubleshooting table quotes the messages the code prints ----------------------------

PLACEHOLDER = re.compile(r"\.\.\.|\b(?:N|K|X|Y|LAYER|DIR)\b|\b\d+\b")


def _message_sources() -> str:
    """Every string the code can print, adjacent literals joined (``"a " "b"`` -> ``a b``)."""
    files = [p for d in ("flows", "models", "boards") for p in (REPO_ROOT / d).rglob("*.py")]
    files += sorted((REPO_ROOT / "hls" / "rtl" / "tb").glob("*.cpp"))  # the rtlsim harness
    text = "".join(p.read_text() for p in files)
    return re.sub(r"\"\s*\n\s*(?:f|rf|r)?\"", "", text)


def test_the_troubleshooting_table_quotes_real_messages():
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme[readme.index("## Troubleshooting") :].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 15
    src = _message_sources()
    missing = []
    for row in rows[1:]:  # the header first
        for quoted in re.findall(r"`([^`]+)`", row.split(" | ")[0]):
            # the literal pieces between placeholders (names, counts, "...") long enough to
            # say something
            for piece in PLACEHOLDER.split(quoted):
                piece = piece.strip(" ;:/")
                if len(piece) >= 12 and piece not in src:
                    missing.append(piece)
    assert missing == []
