"""Boards: registry, clock limits, board files and PYNQ images, the board run command, and that
every board builds a design without vendor tools."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boards._zynq import BoardFiles
from boards.board_files import defines, find_board_xml, missing_message, user_dirs
from boards.deploy import board_run_text, deploy_readme, run_command
from boards.errors import BoardError
from boards.registry import BOARDS, get_board
from flows.build import run_build
from flows.config import BuildConfig

README = Path(__file__).resolve().parents[1] / "README.md"


def test_unknown_board_lists_known_ones():
    known = "kv260, pynq-z1, pynq-z2, ultra96-v2, zcu104"
    with pytest.raises(BoardError, match=rf"unknown board 'zcu9'; known boards: {known}"):
        get_board("zcu9")


def test_clock_limit():
    with pytest.raises(BoardError, match=r"clock 300.0 MHz is outside \(0, 250.0\] MHz"):
        get_board("pynq-z2").check_clock(300.0)


def test_where_each_boards_files_come_from():
    # only zcu104's ship with Vivado; the others name the archive or store to get them from
    assert {n for n, b in BOARDS.items() if b.board_files.ships_with_vivado} == {"zcu104"}
    assert "https://www.tul.com.tw/download/pynq-z2.zip" in get_board("pynq-z2").board_files.source
    assert "pynq-z1.zip" in get_board("pynq-z1").board_files.source
    assert "XilinxBoardStore" in get_board("kv260").board_files.source
    assert "Avnet" in get_board("ultra96-v2").board_files.source
    f = get_board("kv260").board_files
    assert (f.vendor, f.name, f.version) == ("xilinx.com", "kv260_som", "1.3")


def test_the_missing_board_files_message_says_where_to_get_them_and_put_them():
    assert missing_message(get_board("pynq-z2")) == (
        "board 'pynq-z2' needs the Vivado board files for tul.com.tw:pynq-z2:part0:1.0, which do "
        "not ship with Vivado; get TUL's PYNQ-Z2 board files: "
        "https://www.tul.com.tw/download/pynq-z2.zip. Unzip them into ~/.bitfab/board_files or "
        "into a directory named in BITFAB_BOARD_FILES (several separated by ':'), then run again"
    )
    assert "which usually ship with Vivado" in missing_message(get_board("zcu104"))


def _board_xml(vendor: str, name: str, version: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<board schema_version="2.1" vendor="{vendor}" name="{name}" '
        f'display_name="X" preset_file="preset.xml">\n  <file_version>{version}</file_version>\n'
        '  <components><component name="part0" type="fpga"/></components>\n</board>\n'
    )


def test_a_board_xml_defines_a_part_by_vendor_name_and_file_version(tmp_path):
    files = BoardFiles("tul.com.tw:pynq-z2:part0:1.0", source="s")
    assert defines(_board_xml("tul.com.tw", "pynq-z2", "1.0"), files)
    assert not defines(_board_xml("tul.com.tw", "pynq-z2", "1.1"), files)
    assert not defines(_board_xml("www.tul.com.tw", "pynq-z2", "1.0"), files)
    assert not defines(_board_xml("tul.com.tw", "pynq-z1", "1.0"), files)
    assert not defines("<board/>", files)
    # found anywhere below the directories, as Vivado searches board.repoPaths
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "pynq-z2" / "A.0").mkdir(parents=True)
    (a / "pynq-z2" / "A.0" / "board.xml").write_text(_board_xml("tul.com.tw", "pynq-z2", "0.9"))
    assert find_board_xml(files, [tmp_path / "absent", a, b]) is None
    (b / "x" / "pynq-z2" / "A.0").mkdir(parents=True)
    xml = b / "x" / "pynq-z2" / "A.0" / "board.xml"
    xml.write_text(_board_xml("tul.com.tw", "pynq-z2", "1.0"))
    assert find_board_xml(files, [a, b]) == xml


def test_board_file_directories_are_bitfab_board_files_then_the_default(tmp_path):
    env = {"BITFAB_BOARD_FILES": os.pathsep.join(["/x/one", str(tmp_path), ""])}
    assert user_dirs(env, home=tmp_path / "home") == [
        Path("/x/one"),
        tmp_path,
        tmp_path / "home" / ".bitfab" / "board_files",
    ]
    assert user_dirs({}, home=tmp_path) == [tmp_path / ".bitfab" / "board_files"]


def test_pynq_images_per_board():
    assert {n: str(b.pynq) for n, b in BOARDS.items()} == {
        "kv260": "PYNQ 2.7 or later (Kria-PYNQ, installed on the Kria Ubuntu image)",
        "pynq-z1": "PYNQ 2.7 to 3.x (PYNQ 4.0 dropped the Zynq-7000 boards)",
        "pynq-z2": "PYNQ 2.7 to 3.x (PYNQ 4.0 dropped the Zynq-7000 boards)",
        "ultra96-v2": "PYNQ 2.7 to 3.x (Avnet's Ultra96-PYNQ images)",
        "zcu104": "PYNQ 2.7 or later",
    }


def test_the_board_run_command_runs_the_driver_in_pynqs_venv():
    assert run_command() == (
        "sudo -i bash -c \"source /etc/profile.d/pynq_venv.sh && cd '$PWD' && "
        'python3 -m driver --backend pynq --batch 1000"'
    )
    text = deploy_readme(get_board("pynq-z2"))
    assert board_run_text(get_board("pynq-z2"), "this folder") in text
    assert "SD card needs PYNQ 2.7 to 3.x (PYNQ 4.0 dropped the Zynq-7000 boards)," in text
    assert text.endswith(f"\n  {run_command()}\n")


def test_readme_gives_the_board_run_command_and_each_boards_pynq_images():
    text = README.read_text()
    assert run_command() in text
    assert "sudo python3 -m driver" not in text
    for b in BOARDS.values():
        assert f"  - `{b.name}`: {b.pynq}\n" in text


@pytest.mark.csim
@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_board_smoke_builds(tmp_path, zoo_onnx, name):
    d = run_build(BuildConfig(model=str(zoo_onnx("tfc-w1a1")), board=name, out=tmp_path / name))
    assert (d / "manifest.json").exists() and (d / "hls" / "top.cpp").exists()
    assert (d / "deploy" / "README").read_text() == deploy_readme(get_board(name))
