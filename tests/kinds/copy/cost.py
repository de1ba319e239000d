"""StreamCopy estimates: one word a cycle, a register per lane."""

from tests.kinds.copy.spec import CopySpec


def cycles(s: CopySpec) -> int:
    return s.words


def resources(s: CopySpec) -> dict[str, int]:
    return {"LUT": 10, "BRAM18": 0, "DSP": 0}
