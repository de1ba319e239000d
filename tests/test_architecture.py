"""The seams issue 10 drew, kept by tests: kind knowledge stays in flows/layers/, and no
function in flows/ grows past 80 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flows.layers.base import memory_cost
from flows.layers.registry import KINDS

FLOWS = Path(__file__).resolve().parents[1] / "flows"
MAX_FUNCTION_LINES = 80


def test_no_kind_name_outside_the_layer_packages():
    names = [k.op_type for k in KINDS]
    pattern = re.compile(r"[\"'](%s)[\"']|\b(%s)\b" % ("|".join(names), "|".join(names)))
    offenders = []
    for path in FLOWS.rglob("*"):
        if path.suffix not in (".py", ".j2") or "layers" in path.relative_to(FLOWS).parts:
            continue
        text = path.read_text()
        # Python: string literals only; templates: any mention
        hits = (
            pattern.findall(text)
            if path.suffix == ".j2"
            else re.findall(r"[\"'](%s)[\"']" % "|".join(names), text)
        )
        if hits:
            offenders.append(f"{path.relative_to(FLOWS)}: {hits}")
    assert offenders == []


def test_no_function_in_flows_is_longer_than_80_lines():
    long = []
    for path in FLOWS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(FLOWS)}:{node.lineno} {node.name} ({n})")
    assert long == []


def test_memory_cost_follows_yosys_memory_mapping():
    # RAMs (Yosys synth_xilinx, bench/calibrate.py): 144 x 64 is 48 RAM64M of 4 LUTs each,
    # 8 x 1024 one RAMB18, 8 x 4096 one RAMB36 (two BRAM18)
    assert memory_cost(144, 64) == (192, 0)
    assert memory_cost(8, 1024) == (0, 1)
    assert memory_cost(8, 4096) == (0, 2)
    assert memory_cost(36, 512) == (0, 1)  # one BRAM18 in its 512 x 36 shape
    # ROMs are logic (one LUT6 per 64 bits) until that costs more than a block RAM
    assert memory_cost(8, 1024, rom=True) == (128, 0)
    assert memory_cost(36, 512, rom=True) == (0, 1)
