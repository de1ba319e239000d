"""One colour per layer kind, the same in every figure of the page.

Kinds get colours in sorted-name order from a palette for categorical data that stays
distinguishable in greyscale print (Okabe-Ito, then Tol's muted), so a report's colours do
not depend on the order its layers happen to come in. The bottleneck and the board budget
have their own colours, never a kind's.
"""

from __future__ import annotations

PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#882255",
    "#AA4499",
]
BOTTLENECK = "#C00000"
BUDGET = "#222222"
NEUTRAL = "#9E9E9E"  # what no layer kind owns: FIFOs, the DMA edge and control, the shell
LIGHT = "#DDDDDD"


def kind_colours(kinds: list[str]) -> dict[str, str]:
    """A colour for each distinct kind, by sorted name; the palette repeats past its end."""
    names = sorted(set(kinds))
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(names)}
