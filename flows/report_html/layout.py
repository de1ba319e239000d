"""Where the boxes and wires of the dataflow drawing go: a layered left-to-right layout
that wraps into rows like text.

Layers are ranked by their longest path from the input (Sugiyama's first step), so the
two paths of a residual block run side by side between their fork and their join. An edge
that skips ranks (a skip connection) gets a lane of its own in every rank it passes, and
the lanes of a rank are ordered by where their wires come from, so wires do not cross in a
fork/join net. Rows end preferably between two ranks that exactly one wire crosses (a
residual block stays in one row); a block longer than a row is split, and then each of its
wires runs back along its own track of the gutter, the top lane's outermost, so the wrapping
wires do not cross either. A 40-layer chain becomes ten rows of four.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

NODE_W = 196
NODE_H = 56
GAP = 112  # between ranks, where the wires and their labels go
LANE_H = 94  # from one lane's top to the next
ROW_GAP = 46  # between rows: the gutter a wrapping wire runs along
TRACK = 30  # between the gutter tracks of wires wrapping together
JOG = 12  # between the vertical runs of wires wrapping together
MARGIN = 24
RANKS_PER_ROW = 4

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    x: float
    y: float


@dataclass
class Route:
    """A wire as an orthogonal polyline, and the longest horizontal run (for its label)."""

    points: list[Point]
    label_at: Point = (0.0, 0.0)
    label_width: float = 0.0


@dataclass
class Layout:
    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float
    rows: list[list[int]] = field(default_factory=list)  # the ranks in each row


def ranks(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path rank from the sources; raises ValueError on a cycle (a dataflow graph
    has none) or an edge naming an unknown node."""
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for s, d in edges:
        if s not in nodes or d not in nodes:
            raise ValueError(f"edge {s} -> {d} names a node that is not in the graph")
        preds[d].append(s)
        succs[s].append(d)
    indeg = {n: len(preds[n]) for n in nodes}
    rank = {n: 0 for n in nodes}
    ready = [n for n in nodes if indeg[n] == 0]
    seen = 0
    while ready:
        n = ready.pop(0)
        seen += 1
        for d in succs[n]:
            rank[d] = max(rank[d], rank[n] + 1)
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    if seen != len(nodes):
        raise ValueError("the dataflow graph has a cycle")
    return rank


def _lanes(
    nodes: list[str], edges: list[tuple[str, str]], rank: dict[str, int]
) -> dict[tuple, int]:
    """The lane of every item in its rank; items are nodes (``("n", name)``) and the points
    where an edge passes a rank it skips (``("e", index, rank)``). A rank's items are sorted
    by the lane of what feeds them and the wire's output slot at its source."""
    slot = {}
    outs: dict[str, int] = defaultdict(int)
    for i, (s, _) in enumerate(edges):
        slot[i] = outs[s]
        outs[s] += 1
    by_rank: dict[int, list[tuple]] = defaultdict(list)
    for n in nodes:
        by_rank[rank[n]].append(("n", n))
    for i, (s, d) in enumerate(edges):
        for r in range(rank[s] + 1, rank[d]):
            by_rank[r].append(("e", i, r))
    order = {n: k for k, n in enumerate(nodes)}
    lane: dict[tuple, int] = {}

    def feeder(i: int, r: int) -> tuple:
        """What edge ``i`` comes from at rank ``r - 1``."""
        s = edges[i][0]
        return ("n", s) if rank[s] == r - 1 else ("e", i, r - 1)

    for r in sorted(by_rank):

        def key(item: tuple, r: int = r) -> tuple:
            if r == 0:
                return (0, 0, order[item[1]])
            if item[0] == "e":
                return (lane[feeder(item[1], r)], slot[item[1]], -1)
            ins = [i for i, (_, d) in enumerate(edges) if d == item[1]]
            return min((lane[feeder(i, r)], slot[i], order[item[1]]) for i in ins)

        for k, item in enumerate(sorted(by_rank[r], key=key)):
            lane[item] = k
    return lane


def _crossing(n_ranks: int, edges: list[tuple[str, str]], rank: dict[str, int]) -> list[int]:
    """How many wires pass between rank k and k + 1, for every k."""
    crossing = [0] * max(n_ranks - 1, 0)
    for s, d in edges:
        for k in range(rank[s], rank[d]):
            crossing[k] += 1
    return crossing


def _rows(crossing: list[int]) -> list[list[int]]:
    """Ranks grouped into rows of about RANKS_PER_ROW, broken where one wire crosses; a run
    of ranks with no such break longer than a row is cut into rows of RANKS_PER_ROW."""
    segments, cur = [], [0]
    for k in range(1, len(crossing) + 1):
        if crossing[k - 1] == 1:
            segments.append(cur)
            cur = []
        cur.append(k)
    segments.append(cur)
    pieces = []
    for seg in segments:
        pieces += [seg[i : i + RANKS_PER_ROW] for i in range(0, len(seg), RANKS_PER_ROW)]
    rows: list[list[int]] = [[]]
    for piece in pieces:
        if rows[-1] and len(rows[-1]) + len(piece) > RANKS_PER_ROW:
            rows.append([])
        rows[-1].extend(piece)
    return rows


def layout(nodes: list[str], edges: list[tuple[str, str]]) -> Layout:
    """Boxes for ``nodes`` and routes for ``edges`` (in their order), in SVG units."""
    rank = ranks(nodes, edges)
    lane = _lanes(nodes, edges, rank)
    n_ranks = max(rank.values()) + 1
    crossing = _crossing(n_ranks, edges, rank)
    rows = _rows(crossing)
    row_of = {k: i for i, row in enumerate(rows) for k in row}
    lanes_in_row = [
        1 + max(v for item, v in lane.items() if row_of[_rank_of(item, rank)] == i)
        for i in range(len(rows))
    ]
    gutter = [
        ROW_GAP + (crossing[row[-1]] - 1) * TRACK if row[-1] < n_ranks - 1 else ROW_GAP
        for row in rows
    ]
    tops, y = [], MARGIN
    for i, n_lanes in enumerate(lanes_in_row):
        tops.append(y)
        y += (n_lanes - 1) * LANE_H + NODE_H + gutter[i]
    height = y - gutter[-1] + MARGIN
    wrap_in = MARGIN + GAP / 4  # where the wrapping wires come back down, outermost

    def left(k: int) -> float:
        return MARGIN + GAP / 2 + (k - rows[row_of[k]][0]) * (NODE_W + GAP)

    def centre_y(item: tuple) -> float:
        return tops[row_of[_rank_of(item, rank)]] + lane[item] * LANE_H + NODE_H / 2

    boxes = {n: Box(left(rank[n]), centre_y(("n", n)) - NODE_H / 2) for n in nodes}
    n_out: dict[str, int] = defaultdict(int)
    n_in: dict[str, int] = defaultdict(int)
    for s, d in edges:
        n_out[s] += 1
        n_in[d] += 1
    seen_out: dict[str, int] = defaultdict(int)
    seen_in: dict[str, int] = defaultdict(int)
    stops_of = []
    for i, (s, d) in enumerate(edges):
        sy = boxes[s].y + NODE_H * (seen_out[s] + 1) / (n_out[s] + 1)
        ty = boxes[d].y + NODE_H * (seen_in[d] + 1) / (n_in[d] + 1)
        seen_out[s] += 1
        seen_in[d] += 1
        mid = [(r, centre_y(("e", i, r))) for r in range(rank[s] + 1, rank[d])]
        stops_of.append([(rank[s], sy), *mid, (rank[d], ty)])
    # the wires wrapping at each row break, top lane first: it takes the outermost track
    wrapping: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for i, stops in enumerate(stops_of):
        for (k, y0), (k2, _) in zip(stops, stops[1:], strict=False):
            if row_of[k] != row_of[k2]:
                wrapping[k].append((y0, i))
    track = {(k, i): p for k, ws in wrapping.items() for p, (_, i) in enumerate(sorted(ws))}

    routes = []
    for i, stops in enumerate(stops_of):
        pts: list[Point] = [(boxes[edges[i][0]].x + NODE_W, stops[0][1])]
        gutters: list[float] = []
        hint: Point | None = None
        for (k, y0), (k2, y1) in zip(stops, stops[1:], strict=False):
            xr = left(k) + NODE_W
            pts.append((xr, y0))
            if row_of[k] == row_of[k2]:
                pts += [(xr + GAP / 2, y0), (xr + GAP / 2, y1)]
                continue
            n, p = len(wrapping[k]), track[(k, i)]
            r = row_of[k]
            down = xr + GAP / 2 + (n - 1 - p) * JOG
            gy = tops[r] + (lanes_in_row[r] - 1) * LANE_H + NODE_H + ROW_GAP / 2
            gy += (n - 1 - p) * TRACK
            back = wrap_in - p * JOG
            pts += [(down, y0), (down, gy), (back, gy), (back, y1)]
            if n > 1:  # shared gutter: the wires' labels spread along it
                gutters.append(gy)
                hint = (back + (down - back) * (p + 1) / (n + 1), gy)
        pts.append((boxes[edges[i][1]].x, stops[-1][1]))
        routes.append(_labelled(_simplify(pts), gutters, hint))
    width = max(left(row[-1]) + NODE_W + GAP / 2 + JOG * max(crossing + [1]) for row in rows)
    return Layout(boxes, routes, width + MARGIN, height, rows)


def _rank_of(item: tuple, rank: dict[str, int]) -> int:
    return rank[item[1]] if item[0] == "n" else item[2]


def _simplify(pts: list[Point]) -> list[Point]:
    """Drop repeated points and the middle of three collinear ones."""
    out: list[Point] = []
    for p in pts:
        if out and p == out[-1]:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == p[0]) or (ay == by == p[1]):
                out[-1] = p
                continue
        out.append(p)
    return out


def _labelled(pts: list[Point], avoid: list[float], hint: Point | None = None) -> Route:
    """The route with its label over the middle of its longest horizontal run, not on a
    gutter track it shares with other wrapping wires (``avoid``) when it has another; a
    route with no run long enough for a label takes ``hint`` (its place on a shared gutter)
    or else the middle of its first jog between lanes."""
    runs = [
        (abs(bx - ax), ((ax + bx) / 2, ay), ay in avoid)
        for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False)
        if ay == by and bx != ax
    ]
    if not runs:
        return Route(pts, pts[0], 0.0)
    own = [r for r in runs if not r[2]] or runs
    length, at, _ = max(own, key=lambda r: r[0])
    if length < GAP * 0.8 and hint is not None:
        return Route(pts, hint, length)
    if length < GAP * 0.8:  # a jog between lanes: centre the label on the jog instead
        jogs = [(ax, by) for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False) if ax == bx]
        if jogs:
            at = jogs[0]
    return Route(pts, at, length)
