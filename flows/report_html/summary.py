"""The summary card: model, board, clock, throughput and latency, whether it fits, and the
verification status, each tile badged estimated or measured."""

from __future__ import annotations

from flows.report_html.blocks import Tile
from flows.report_html.facts import ESTIMATED, MEASURED, RESOURCES, bottleneck, num, pct


def verification_status(v: dict) -> str:
    return "pass" if v.get("status") == "pass" else v.get("status", "unknown")


def tiles(rep: dict) -> list[Tile]:
    t = rep["totals"]
    _, bname, bcyc = bottleneck(rep)
    out = [
        Tile("Model", rep["model"], f"{len(rep['layers'])} dataflow layers"),
        Tile("Board", rep["board"], f"clock {rep['clock_mhz']:g} MHz"),
        Tile(
            "Throughput",
            f"{num(t['estimated_fps'])} FPS",
            f"bottleneck {bname}: {bcyc:,} cycles an image",
            ESTIMATED,
        ),
        Tile(
            "Latency",
            f"≤ {t['estimated_latency_us_upper_bound']:,.2f} µs",
            f"upper bound: {t['latency_cycles_upper_bound']:,} cycles, every layer in turn",
            ESTIMATED,
        ),
    ]
    return out + _measured_speed(rep) + _fit(rep) + _checks(rep)


def _measured_speed(rep: dict) -> list[Tile]:
    """rtlsim's throughput and latency, when it ran to the end."""
    out: list[Tile] = []
    sim = rep.get("rtlsim")
    if sim and sim.get("cycles_per_image"):
        out += [
            Tile(
                "Throughput (rtlsim)",
                f"{num(sim['fps'])} FPS",
                f"{sim['cycles_per_image']:,g} cycles an image over {sim['n']} images",
                MEASURED,
            ),
            Tile(
                "Latency (rtlsim)",
                f"{sim['latency_us']:,.2f} µs",
                f"{sim['latency_cycles']:,} cycles, first input to first output",
                MEASURED,
            ),
        ]
    return out


def _fit(rep: dict) -> list[Tile]:
    """Whether the design fits beside the shell: by the estimate, and by Yosys when run."""
    t = rep["totals"]
    out: list[Tile] = []
    budget = t["board_budget"]
    used = t["resources_with_shell"]
    worst = max(RESOURCES, key=lambda k: used[k] / budget[k] if budget[k] else 0)
    out.append(
        Tile(
            "Fits the board",
            "yes" if t["fits_board"] else "no",
            f"with the shell; fullest: {worst} {used[worst]:,} of {budget[worst]:,} "
            f"({pct(used[worst] / budget[worst])})",
            ESTIMATED,
            "ok" if t["fits_board"] else "bad",
        )
    )
    syn = rep.get("synth") or {}
    if "fits" in syn:
        fits = all(r["fits"] for r in syn["fits"].values())
        k = max(syn["fits"], key=lambda r: syn["fits"][r]["percent"] or 0)
        out.append(
            Tile(
                "Fits (Yosys synthesis)",
                "yes" if fits else "no",
                f"fullest: {k} {syn['fits'][k]['percent']:.1f}% with the shell",
                MEASURED,
                "ok" if fits else "bad",
            )
        )
    return out


def _checks(rep: dict) -> list[Tile]:
    """The bit-exact checks that ran (C-sim, rtlsim), or that none did."""
    sim = rep.get("rtlsim") or {}
    out: list[Tile] = []
    checks = []
    if rep.get("verification"):
        checks.append(("C-sim", rep["verification"]))
    if sim and sim.get("verification"):
        checks.append(("rtlsim", sim["verification"]))
    if sim and sim.get("status") == "deadlock":
        out.append(
            Tile("Verification (rtlsim)", "deadlock", sim.get("deadlock", ""), MEASURED, "bad")
        )
    for name, v in checks:
        status = verification_status(v)
        out.append(
            Tile(
                f"Verification ({name})",
                "bit-exact" if status == "pass" else status,
                f"{v['n']} inputs against the QONNX reference",
                MEASURED,
                "ok" if status == "pass" else "bad",
            )
        )
    if not checks and not (sim and sim.get("status") == "deadlock"):
        out.append(Tile("Verification", "not run", "run: bitfab verify BUILD_DIR"))
    return out
