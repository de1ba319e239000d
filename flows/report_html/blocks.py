"""The page's building blocks, which the template renders: summary tiles, and sections
holding figures (inline SVG), paragraphs and a table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tile:
    """One entry of the summary card."""

    label: str
    value: str
    note: str = ""
    badge: str = ""
    state: str = ""  # "ok", "bad" or "" (neither)


@dataclass(frozen=True)
class Table:
    head: list[str]
    rows: list[list[str]]
    numeric: list[int] = field(default_factory=list)  # right-aligned columns


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    badges: list[str]
    svgs: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True)
class Page:
    title: str
    tiles: list[Tile]
    sections: list[Section]
