"""Where Vivado finds a board's board files, and the same search done without Vivado.

``vivado/build.tcl`` puts the directories named in ``BITFAB_BOARD_FILES`` (separated like
``PATH``) and then ``~/.bitfab/board_files`` before Vivado's own board repositories
(``board.repoPaths``). It then checks ``get_board_parts`` and stops with :func:`missing_message`
when the board part is not there. Vivado searches each directory recursively for ``board.xml``,
so unzipping a vendor's board-file archive into one of them is enough.

:func:`find_board_xml` does the same search in Python, so ``bitfab bitstream`` can refuse before
it starts a vendor tool. It searches those directories, Vivado's ``data/boards`` and the board
store Vivado installs into ``~/.Xilinx``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from boards._zynq import Board, BoardFiles

ENV = "BITFAB_BOARD_FILES"
DEFAULT_DIR = (".bitfab", "board_files")  # under the home directory


def user_dirs(environ: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The directories build.tcl puts first: ``$BITFAB_BOARD_FILES``, then the default one."""
    environ = os.environ if environ is None else environ
    dirs = [Path(d).expanduser() for d in environ.get(ENV, "").split(os.pathsep) if d]
    return [*dirs, (Path.home() if home is None else home).joinpath(*DEFAULT_DIR)]


def vivado_dirs(vivado_root: Path, home: Path | None = None) -> list[Path]:
    """Where a Vivado installed at ``vivado_root`` keeps board files of its own."""
    home = Path.home() if home is None else home
    return [vivado_root / "data" / "boards", vivado_root / "data" / "xhub" / "boards"] + sorted(
        (home / ".Xilinx" / "Vivado").glob("*/xhub/board_store")
    )


_BOARD_TAG = re.compile(r"<board\b([^>]*)>", re.S)
_FILE_VERSION = re.compile(r"<file_version>\s*([^<\s]+)\s*</file_version>")


def _attr(tag: str, name: str) -> str | None:
    m = re.search(rf'\b{name}\s*=\s*"([^"]*)"', tag)
    return m.group(1) if m else None


def defines(board_xml: str, files: BoardFiles) -> bool:
    """Whether the text of a ``board.xml`` defines ``files.part`` (vendor, name, file version)."""
    tag = _BOARD_TAG.search(board_xml)
    version = _FILE_VERSION.search(board_xml)
    return (
        tag is not None
        and version is not None
        and _attr(tag.group(1), "vendor") == files.vendor
        and _attr(tag.group(1), "name") == files.name
        and version.group(1) == files.version
    )


def find_board_xml(files: BoardFiles, dirs: Iterable[Path]) -> Path | None:
    """The first ``board.xml`` under ``dirs`` (searched recursively) that defines the part."""
    for d in dirs:
        if not d.is_dir():
            continue
        for xml in sorted(d.rglob("board.xml")):
            try:
                text = xml.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if f'"{files.name}"' in text and defines(text, files):
                return xml
    return None


def missing_message(board: Board) -> str:
    """What to do when Vivado cannot find the board's board files (the Tcl and Python say it)."""
    f = board.board_files
    where = "usually ship with Vivado" if f.ships_with_vivado else "do not ship with Vivado"
    return (
        f"board '{board.name}' needs the Vivado board files for {f.part}, which {where}; "
        f"get {f.source}. Unzip them into ~/{'/'.join(DEFAULT_DIR)} or into a directory named "
        f"in {ENV} (several separated by '{os.pathsep}'), then run again"
    )
