"""The sweep's grid, its validation and ``--auto``'s targets: no Ray needed."""

from __future__ import annotations

import time

import pytest

from boards.errors import BoardError
from flows.errors import InputError
from flows.sweep.auto import spread
from flows.sweep.grid import Point, SweepSpec, expand
from tests.helpers import run_cli


def _spec(**kw) -> SweepSpec:
    return SweepSpec(**({"model": "tfc-w1a1", "boards": ("pynq-z2",), "clocks_mhz": (100.0,)} | kw))


def test_points_come_in_a_fixed_order_named_for_what_they_build():
    spec = _spec(boards=("pynq-z2", "zcu104"), clocks_mhz=(100.0, 150.0), targets=(1e5, 3e6))
    pts = expand(spec)
    assert [p.id for p in pts] == [
        "pynq-z2-100mhz-fps100000",
        "pynq-z2-100mhz-fps3000000",
        "pynq-z2-150mhz-fps100000",
        "pynq-z2-150mhz-fps3000000",
        "zcu104-100mhz-fps100000",
        "zcu104-100mhz-fps3000000",
        "zcu104-150mhz-fps100000",
        "zcu104-150mhz-fps3000000",
    ]
    assert expand(_spec()) == [Point("pynq-z2", 100.0, None)]  # no target: fastest that fits
    assert expand(_spec())[0].id == "pynq-z2-100mhz-fit"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"boards": ()}, "--boards: no board given"),
        ({"clocks_mhz": ()}, "--clock-mhz: no clock given"),
        ({"targets": (1e5,), "auto": 4}, "--target-fps and --auto both choose"),
        ({"boards": ("zcu104", "zcu104")}, "--boards: zcu104 given more than once"),
        ({"targets": (1e5, 1e5)}, "--target-fps: 100000 given twice"),
        ({"targets": (-5.0,)}, "--target-fps: -5 is not a positive frame rate"),
        ({"size_fifos": True}, "--size-fifos sizes the FIFOs by rtlsim: give --rtlsim N"),
    ],
)
def test_an_empty_or_contradictory_grid_is_refused(kw, message):
    with pytest.raises(InputError, match=message):
        _spec(**kw).validate()


def test_a_board_or_clock_it_cannot_build_is_refused_before_any_work():
    with pytest.raises(BoardError, match="unknown board 'pynq-z9'"):
        _spec(boards=("pynq-z9",)).validate()
    with pytest.raises(BoardError, match="clock 900.0 MHz is outside"):
        _spec(clocks_mhz=(900.0,)).validate()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--boards", ","], "--boards: no board given"),
        (["--target-fps", "1e5", "--auto"], "--target-fps and --auto both choose"),
        (["--boards", "pynq-z2,pynq-z2"], "pynq-z2 given more than once"),
    ],
)
def test_the_command_exits_1_on_a_bad_grid_before_exporting(tmp_path, args, message):
    r = run_cli(["sweep", "tfc-w1a1", "--out", tmp_path / "s", *args])
    assert r.exit_code == 1, r.stderr
    assert message in r.stderr
    assert not (tmp_path / "s").exists()  # nothing made


def test_an_unreachable_address_exits_1_within_seconds_naming_it(tmp_path):
    t0 = time.monotonic()
    r = run_cli(["sweep", "tfc-w1a1", "--out", tmp_path / "s", "--address", "127.0.0.1:1"])
    assert r.exit_code == 1, r.stderr
    assert time.monotonic() - t0 < 10
    assert "--address 127.0.0.1:1: cannot reach Ray there (Connection refused" in r.stderr
    assert "ray start --head" in r.stderr
    assert not (tmp_path / "s").exists()


def test_a_malformed_address_says_what_an_address_looks_like(tmp_path):
    r = run_cli(["sweep", "tfc-w1a1", "--out", tmp_path / "s", "--address", "headnode"])
    assert r.exit_code == 1
    assert "expected local, auto, HOST:PORT" in r.stderr


def test_auto_targets_spread_evenly_in_log_fps_and_repeat():
    t = spread(1000.0, 1e6, 4)
    assert t == (1000.0, 10000.0, 100000.0, 1e6)
    assert spread(1234.5, 1240.0, 5) == (1230.0, 1240.0)  # a narrow range: fewer, no repeats
    assert spread(5e5, 5e5, 6) == (5e5,)
    assert spread(1000.0, 1e6, 4) == t
    # rounded down: the slowest end still asks for no more than the slowest folding gives
    assert spread(97656.25, 1e8, 4) == (97600.0, 984000.0, 9920000.0, 1e8)


def test_auto_targets_span_the_slowest_to_the_fastest_folding(tmp_path, small_model):
    from flows.sweep.auto import auto_targets, fps_range

    lo, hi = fps_range(small_model, "pynq-z2", 100.0, tmp_path / "r")
    assert 0 < lo < hi
    targets = auto_targets(small_model, ("pynq-z2",), (100.0, 200.0), 3, tmp_path / "a")
    t100, t200 = targets[("pynq-z2", 100.0)], targets[("pynq-z2", 200.0)]
    assert len(t100) == 3 and list(t100) == sorted(t100)
    assert lo * 0.99 <= t100[0] <= lo and t100[-1] <= hi and t100[-1] >= hi * 0.99
    assert t200[-1] >= 2 * hi * 0.99  # the same foldings, twice the clock


def test_a_sweep_never_writes_into_a_directory_it_did_not_make(tmp_path):
    (tmp_path / "mine.txt").write_text("a user's file")
    r = run_cli(["sweep", "tfc-w1a1", "--out", tmp_path])
    assert r.exit_code == 1
    assert "is not a bitfab sweep directory (no .bitfab-sweep)" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
