"""bitfab_fifo: order, full throughput, both implementations, gaps and back-pressure."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import in_ci
from tests.rtl_tb import run_kernel


@pytest.mark.parametrize("depth", [2, 7, 200])
@pytest.mark.parametrize("gaps", in_ci([(100, 100), (40, 100), (100, 35), (70, 60)], 2))
def test_fifo_passes_every_word_in_order(depth, gaps):
    rng = np.random.default_rng(depth)
    words = [int(w) for w in rng.integers(0, 2**62, 300)] + [2**69 + 5]
    run = run_kernel(
        "bitfab_fifo",
        {"WIDTH": 70, "DEPTH": depth},
        words,
        len(words),
        seed=depth,
        valid_pct=gaps[0],
        ready_pct=gaps[1],
    )
    assert run.returncode == 0, run.stderr
    assert run.words == words
    if gaps == (100, 100):
        assert run.steady_cycles == len(words) - 1  # one word a cycle


def test_fifo_with_no_reader_reports_deadlock():
    run = run_kernel(
        "bitfab_fifo", {"WIDTH": 8, "DEPTH": 4}, list(range(10)), 10, ready_pct=0, max_idle=200
    )
    assert run.returncode == 3 and "DEADLOCK" in run.stderr
