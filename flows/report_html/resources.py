"""The resources section: the design against the board's budget (stacked by layer kind, the
estimate and Yosys's counts side by side), and each layer's resources."""

from __future__ import annotations

from flows.report_html import charts
from flows.report_html.blocks import Section
from flows.report_html.colours import NEUTRAL
from flows.report_html.facts import ESTIMATED, MEASURED, RESOURCES, colours_of, pct, synth_value

GLUE = "FIFOs, DMA edge, control"
SHELL = "board shell (DMA, interconnect)"
SHELL_COLOUR = "#5A5A5A"


def budget_rows(rep: dict) -> tuple[list[charts.BudgetRow], list[str]]:
    """The budget chart's rows, and the resources left out for being zero everywhere."""
    t = rep["totals"]
    cols = colours_of(rep)
    kinds = sorted({lay["kind"] for lay in rep["layers"]})
    syn = rep.get("synth") or {}
    has_synth = "fits" in syn and "layers" in syn
    rows, empty = [], []
    for res in RESOURCES + (("FF",) if has_synth else ()):
        bars = []
        if res in t["resources"]:
            layer_sum = {k: 0 for k in kinds}
            for lay in rep["layers"]:
                layer_sum[lay["kind"]] += int(lay["resources"].get(res, 0))
            glue = int(t["resources"][res]) - sum(layer_sum.values())
            parts = [(k, float(v), cols[k]) for k, v in layer_sum.items()]
            parts += [(GLUE, float(max(glue, 0)), NEUTRAL)]
            parts += [(SHELL, float(t["shell"].get(res, 0)), SHELL_COLOUR)]
            bars.append(charts.Bar(ESTIMATED, parts))
        if has_synth and res in syn["fits"]:
            layer_sum = {k: 0 for k in kinds}
            for cells in syn["layers"].values():
                kind = cells.get("kind")
                layer_sum[kind] = layer_sum.get(kind, 0) + synth_value(cells, res)
            parts = [(k, float(v), cols.get(k, NEUTRAL)) for k, v in layer_sum.items()]
            parts += [(GLUE, float(synth_value(syn.get("glue", {}), res)), NEUTRAL)]
            parts += [(SHELL, float(syn["fits"][res]["shell"]), SHELL_COLOUR)]
            bars.append(charts.Bar("synthesized (Yosys)", parts, "////"))
        available = t["board_budget"].get(res) or (syn.get("fits", {}).get(res) or {}).get(
            "available"
        )
        if not any(a for b in bars for _, a, _ in b.parts) or not available:
            empty.append(res)
            continue
        rows.append(charts.BudgetRow(res, int(available), bars))
    return rows, empty


def layer_panels(rep: dict) -> tuple[list[str], dict, list[str], list[str]]:
    """Rows (layers, then the glue), per resource per source the values, the rows' colours,
    and the resources left out for being zero in every row."""
    t = rep["totals"]
    cols = colours_of(rep)
    names = [lay["name"] for lay in rep["layers"]] + [GLUE]
    colours = [cols[lay["kind"]] for lay in rep["layers"]] + [NEUTRAL]
    syn = rep.get("synth") or {}
    panels, empty = {}, []
    for res in RESOURCES:
        est = [float(lay["resources"].get(res, 0)) for lay in rep["layers"]]
        est.append(float(max(int(t["resources"].get(res, 0)) - sum(est), 0)))
        by_source = {"estimated": est}
        if "layers" in syn and "glue" in syn:
            vals = [
                float(synth_value(syn["layers"].get(lay["name"], {}), res)) for lay in rep["layers"]
            ]
            vals.append(float(synth_value(syn["glue"], res)))
            by_source["synthesized"] = vals
        if any(v for vals in by_source.values() for v in vals):
            panels[res] = by_source
        else:
            empty.append(res)
    return names, panels, colours, empty


def resources_section(rep: dict) -> Section:
    t = rep["totals"]
    syn = rep.get("synth") or {}
    has_synth = "fits" in syn
    rows, empty_rows = budget_rows(rep)
    names, panels, colours, empty_panels = layer_panels(rep)
    svgs = []
    if rows:
        svgs.append(charts.budget_chart(rows))
    if panels:
        svgs.append(charts.layer_resources_chart(names, panels, colours))
    text = [
        "Top: each resource as a share of the board, stacked by layer kind, with the FIFOs, "
        "DMA edge and control, and the board's shell (the shell counts toward fitting). "
        "Bottom: per layer" + (", estimate and Yosys side by side." if has_synth else ".")
    ]
    if empty_rows:
        text.append(f"Not drawn against the board, zero everywhere: {', '.join(empty_rows)}.")
    if empty_panels:
        text.append(f"Not drawn per layer, zero in every layer: {', '.join(empty_panels)}.")
    text.append(t["resources_note"] + ".")
    by = t.get("resources_by_backend") or {}
    if by:
        fits = t.get("fits_board_by_backend", {})
        text.append(
            "By backend (estimated, without the shell): "
            + "; ".join(
                f"{name.upper()} "
                + ", ".join(f"{k} {int(r[k]):,}" for k in RESOURCES if k in r)
                + ("" if name not in fits else (", fits" if fits[name] else ", does not fit"))
                for name, r in sorted(by.items(), reverse=True)
            )
            + f". {t.get('hls_note', '')}"
        )
    errs = []
    for kind, by_res in sorted((t.get("resources_error") or {}).items()):
        lut = by_res.get("LUT")
        if lut:
            errs.append(f"{kind} {pct(lut['mean'])} (worst {pct(lut['max'])})")
    if errs:
        text.append("Held-back LUT error of the estimate per kind, mean: " + ", ".join(errs) + ".")
    badges = [ESTIMATED]
    if has_synth:
        badges.append(MEASURED)
        err = syn.get("estimate_error") or {}
        off = [f"{k} {v['error']:+.1%}" for k, v in err.items() if v.get("error") is not None]
        text.append(
            f"Measured: {syn['label']} ({syn['family']}); LUT counts logic, distributed RAM and "
            "shift registers, as the board's Slice LUTs do"
            + (f". The estimate is off by {', '.join(off)}." if off else ".")
        )
    else:
        text.append("Run bitfab synth BUILD_DIR to add Yosys's counts beside the estimate.")
    return Section("resources", "Resources", badges, svgs, text)
