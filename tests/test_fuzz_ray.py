"""bench/fuzz.py --ray: the nets as Ray tasks give what the process pool gives, and a shrunk
failure comes back from its worker as data that the driver writes as save_regression did."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import bench.fuzz as fuzz
from tests.fuzz import campaign
from tests.fuzz.builder import build_model
from tests.fuzz.campaign import FuzzOptions, NetResult, run_seed, save_result
from tests.fuzz.runner import Outcome
from tests.fuzz.shrink import shrink, slug
from tests.fuzz.spec import NetSpec, draw_spec

BENCH = Path(fuzz.__file__)
FIRST, N = 40, 3  # small nets (one to four FC layers each): ~3-6 s each to build and verify


def _timeless(results: list[NetResult]) -> list[NetResult]:
    return sorted((replace(r, seconds=0.0) for r in results), key=lambda r: r.seed)


def test_pool_and_ray_give_the_same_results(tmp_path, capsys):
    first, n = FIRST, N
    args = ["--n", str(n), "--seed", str(first), "--inputs", "16", "--jobs", "2", "-q"]
    pool = fuzz.main([*args, "--save", str(tmp_path / "pool")])
    head_pool = capsys.readouterr().out.splitlines()[0]
    ray = fuzz.main([*args, "--save", str(tmp_path / "ray"), "--ray"])
    head_ray = capsys.readouterr().out.splitlines()[0]
    assert head_pool == f"fuzzing {n} nets, seeds {first}..{first + n - 1}, 2 jobs"
    assert head_ray == f"fuzzing {n} nets, seeds {first}..{first + n - 1}, via Ray (2 CPUs, 1 node)"
    assert [r.seed for r in _timeless(pool)] == list(range(first, first + n))
    assert _timeless(ray) == _timeless(pool)


def _fake_run_spec(spec: NetSpec, workdir: Path, n: int, rtlsim: bool) -> Outcome:
    """Fails iff some layer has BatchNorm and 8-bit weights (a stand-in for a compiler bug)."""
    bad = any(lay.bn and lay.wq.bits == 8 for lay in spec.layers)
    return Outcome("mismatch", "mismatch:reference", "1 reference / 0 csim") if bad else PASS


PASS = Outcome("pass", "pass")


def _write_as_before(spec: NetSpec, outcome: Outcome, seed: int, root: Path) -> None:
    """What tests/fuzz/shrink.py: save_regression wrote in the worker before --ray."""
    root.mkdir(parents=True, exist_ok=True)
    stem = f"{seed}-{slug(outcome.signature)}"
    build_model(spec).save(str(root / f"{stem}.onnx"))
    meta = {
        "seed": seed,
        "signature": outcome.signature,
        "detail": outcome.detail[-1500:],
        "spec": spec.to_json(),
    }
    (root / f"{stem}.json").write_text(json.dumps(meta, indent=2) + "\n")


def test_a_shrunk_failure_is_saved_as_save_regression_wrote_it(tmp_path, monkeypatch):
    monkeypatch.setattr(campaign, "run_spec", _fake_run_spec)
    seed = next(s for s in range(500) if _fake_run_spec(draw_spec(s), tmp_path, 0, False).failed)
    opts = FuzzOptions(inputs=4, max_shrink=400)
    result = run_seed(seed, opts)  # the worker's half, in this process
    assert result.status == "mismatch" and result.regression is not None
    assert result.shrink_tries > 0 and result.shrunk != result.desc
    # what travels back from a pool process or a Ray task: a pickle
    back = pickle.loads(pickle.dumps(result))
    saved = save_result(back, tmp_path / "new")
    assert saved == tmp_path / "new" / f"{seed}-mismatch-reference.onnx"

    spec = draw_spec(seed)
    small, out, _ = shrink(
        spec, lambda s: _fake_run_spec(s, tmp_path, 0, False), "mismatch:reference", 400
    )
    _write_as_before(small, out, seed, tmp_path / "old")
    names = sorted(p.name for p in (tmp_path / "old").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "new").iterdir())
    for name in names:
        assert (tmp_path / "new" / name).read_bytes() == (tmp_path / "old" / name).read_bytes()

    # the pool's forked workers see the same fake and send back the same record
    (pooled,) = fuzz.pool_results([seed], opts, 1)
    assert replace(pooled, seconds=0.0) == replace(result, seconds=0.0)


def test_a_passing_net_has_no_regression(tmp_path, monkeypatch):
    monkeypatch.setattr(campaign, "run_spec", lambda *a: PASS)
    r = run_seed(0, FuzzOptions())
    assert r.status == "pass" and r.regression is None
    assert save_result(r, tmp_path / "r") is None and not (tmp_path / "r").exists()


def test_an_unreachable_address_exits_1_within_seconds():
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, str(BENCH), "--ray", "--address", "127.0.0.1:1", "--n", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 1, p.stderr
    assert "error: --address 127.0.0.1:1: cannot reach Ray there" in p.stderr
    assert p.stdout == ""
    assert time.perf_counter() - t0 < 20


def test_address_needs_ray(capsys):
    with pytest.raises(SystemExit) as exc:
        fuzz.main(["--address", "auto", "--n", "1"])
    assert exc.value.code == 2
    assert "--address: only with --ray" in capsys.readouterr().err
