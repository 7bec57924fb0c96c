"""Where each shape of a figure goes: Graphviz's dot, or a layered layout of adiff's own.

Both return the same Placement (centres, sizes, edge paths in SVG user
units, y downwards), so the page draws one way whichever laid it out.
Graphviz is used when its `dot` program is installed: its network-simplex
ranking and spline routing are the best there is.  Without it, `layered`
is a small Sugiyama layout (ranks by longest path, sources pulled next to
their first use, dummy points on long edges, barycentre ordering, then
positions relaxed towards neighbours): readable for the few hundred shapes
a page can hold, in pure Python, with no dependency.  Every step is a loop.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass(frozen=True)
class Shape:
    id: str            # "v4", "op4"
    width: float
    height: float
    ellipse: bool


@dataclass
class Placement:
    width: float
    height: float
    centres: dict[str, Point] = field(default_factory=dict)
    # per edge, in the order given: a cubic Bézier chain p0 c1 c2 p1 c1 c2 p2 ...
    paths: list[list[Point]] = field(default_factory=list)
    engine: str = ""
    note: str = ""


MARGIN = 12.0
RANK_GAP = 56.0     # between columns
NODE_GAP = 18.0     # between shapes in a column


DOT_CROSSED_RANKS = 1000   # beyond this dot's ranking takes seconds, then minutes
DOT_TIMEOUT = 20.0


def layout(shapes: list[Shape], edges: list[tuple[str, str]], engine: str = "auto") -> Placement:
    """engine: "auto" (dot if installed and quick for this graph, else
    layered), "dot" or "layered".  Placement.note says why auto did not use dot."""
    if engine == "layered":
        return layered(shapes, edges)
    program = shutil.which("dot")
    if program is None:
        if engine == "dot":
            raise FileNotFoundError("Graphviz's dot is not installed")
        return layered(shapes, edges)
    if engine == "auto" and crossed_ranks(shapes, edges) > DOT_CROSSED_RANKS:
        placement = layered(shapes, edges)
        placement.note = ("many long edges: laid out by adiff's own layout, as Graphviz "
                          "would take minutes on this graph")
        return placement
    try:
        return graphviz(program, shapes, edges)
    except (OSError, ValueError, KeyError, IndexError, subprocess.SubprocessError) as error:
        if engine == "dot":
            raise
        placement = layered(shapes, edges)
        reason = "took too long" if isinstance(error, subprocess.TimeoutExpired) else "failed"
        placement.note = f"Graphviz's dot {reason}; laid out by adiff's own layout instead"
        return placement


# ---- Graphviz ---------------------------------------------------------------------

def _dot_source(shapes: list[Shape], edges: list[tuple[str, str]]) -> str:
    lines = ["digraph adiff {", "  rankdir=LR; nodesep=0.25; ranksep=0.45;",
             '  node [label="", fixedsize=true];']
    for s in shapes:
        lines.append(f'  {s.id} [shape={"ellipse" if s.ellipse else "box"}, '
                     f"width={s.width / 72:.4f}, height={s.height / 72:.4f}];")
    for source, target in edges:
        lines.append(f"  {source} -> {target};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _point(text: str) -> Point:
    x, y = text.split(",")[:2]
    return float(x), float(y)


def graphviz(program: str, shapes: list[Shape], edges: list[tuple[str, str]]) -> Placement:
    """dot's ranks, order and splines (`dot -Tjson`); the drawing is the page's own."""
    result = subprocess.run([program, "-Tjson"], input=_dot_source(shapes, edges),
                            capture_output=True, text=True, timeout=DOT_TIMEOUT, check=True)
    doc = json.loads(result.stdout)
    _, _, width, height = (float(v) for v in doc["bb"].split(","))
    flip = lambda p: (p[0] + MARGIN, height - p[1] + MARGIN)  # noqa: E731  (dot's y is upwards)
    placement = Placement(width + 2 * MARGIN, height + 2 * MARGIN, engine="graphviz")
    names = {}
    for obj in doc.get("objects", []):
        names[obj["_gvid"]] = obj["name"]
        placement.centres[obj["name"]] = flip(_point(obj["pos"]))
    # dot keeps parallel edges in input order; match each to its place in `edges`
    routed: dict[tuple[str, str], list[list[Point]]] = {}
    for e in doc.get("edges", []):
        points, tip = [], None
        for part in e["pos"].split():
            if part.startswith("e,"):
                tip = flip(_point(part[2:]))
            elif part.startswith("s,"):
                continue
            else:
                points.append(flip(_point(part)))
        if tip is not None:   # end the spline at the arrow's tip, as a straight last piece
            last = points[-1]
            points += [last, tip, tip]
        routed.setdefault((names[e["tail"]], names[e["head"]]), []).append(points)
    for key in edges:
        placement.paths.append(routed[key].pop(0))
    return placement


# ---- adiff's own layered layout -------------------------------------------------------

def _ranks(shapes: list[Shape], edges: list[tuple[str, str]]):
    """Each shape's rank (longest path, sources moved next to their first use), a
    topological order, and the adjacency by index."""
    index = {s.id: k for k, s in enumerate(shapes)}
    n = len(shapes)
    successors: list[list[int]] = [[] for _ in range(n)]
    predecessors: list[list[int]] = [[] for _ in range(n)]
    for source, target in edges:
        a, b = index[source], index[target]
        successors[a].append(b)
        predecessors[b].append(a)
    rank = [0] * n
    waiting = [len(p) for p in predecessors]
    order = [k for k in range(n) if waiting[k] == 0]
    for k in order:                     # the list grows as it is walked (Kahn)
        for b in successors[k]:
            rank[b] = max(rank[b], rank[k] + 1)
            waiting[b] -= 1
            if waiting[b] == 0:
                order.append(b)
    for k in range(n):
        if not predecessors[k] and successors[k]:
            rank[k] = min(rank[b] for b in successors[k]) - 1
    return index, rank, order


def crossed_ranks(shapes: list[Shape], edges: list[tuple[str, str]]) -> int:
    """How many ranks the edges pass through without stopping: the dummy
    nodes a layered layout must place.  dot's network simplex slows down
    sharply as this grows (x*x*...*x, 100 factors: minutes)."""
    index, rank, _ = _ranks(shapes, edges)
    return sum(max(0, rank[index[b]] - rank[index[a]] - 1) for a, b in edges)


def layered(shapes: list[Shape], edges: list[tuple[str, str]]) -> Placement:
    index, rank, order = _ranks(shapes, edges)
    n = len(shapes)

    # layers, with a dummy point wherever an edge crosses a rank
    layers: list[list[int]] = [[] for _ in range(max(rank, default=0) + 1)]
    for k in order:
        layers[rank[k]].append(k)
    height = [s.height for s in shapes]
    width = [s.width for s in shapes]
    down: list[list[int]] = [[] for _ in range(n)]
    chains: list[list[int]] = []
    total = n
    for source, target in edges:
        a, b = index[source], index[target]
        chain = [a]
        previous = a
        for r in range(rank[a] + 1, rank[b]):
            dummy = total
            total += 1
            rank.append(r)
            height.append(0.0)
            width.append(0.0)
            down.append([])
            layers[r].append(dummy)
            down[previous].append(dummy)
            chain.append(dummy)
            previous = dummy
        down[previous].append(b)
        chain.append(b)
        chains.append(chain)
    # each edge is now a chain between adjacent ranks; parallel edges keep their own
    up: list[list[int]] = [[] for _ in range(total)]
    for a in range(total):
        for b in down[a]:
            up[b].append(a)

    # order within layers: barycentre sweeps, keeping the order with fewest crossings
    position = [0.0] * total
    for layer in layers:
        for k, v in enumerate(layer):
            position[v] = k

    def crossings() -> int:
        count = 0
        for r in range(len(layers) - 1):
            pairs = sorted((position[a], position[b]) for a in layers[r] for b in down[a])
            for i in range(len(pairs)):
                for j in range(i + 1, len(pairs)):
                    if pairs[j][0] > pairs[i][0] and pairs[j][1] < pairs[i][1]:
                        count += 1
        return count

    best = [list(layer) for layer in layers]
    best_count = crossings()
    for sweep in range(8):
        ranks = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        for r in ranks:
            layer = layers[r]
            neighbours = up if sweep % 2 == 0 else down

            def barycentre(v: int) -> float:
                near = neighbours[v]
                return sum(position[u] for u in near) / len(near) if near else position[v]
            layer.sort(key=barycentre)
            for k, v in enumerate(layer):
                position[v] = k
        count = crossings()
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
        if best_count == 0:
            break
    layers = best
    for layer in layers:
        for k, v in enumerate(layer):
            position[v] = k

    # x: one column per rank, as wide as its widest shape
    columns = [max((width[v] for v in layer), default=0.0) for layer in layers]
    x = [0.0] * total
    left = MARGIN
    for r, layer in enumerate(layers):
        for v in layer:
            x[v] = left + columns[r] / 2
        left += columns[r] + RANK_GAP

    # y: stacked, then relaxed towards the mean of the neighbours, keeping order and gaps
    y = [0.0] * total
    for layer in layers:
        top = 0.0
        for v in layer:
            y[v] = top + height[v] / 2
            top += height[v] + (NODE_GAP if height[v] else NODE_GAP / 2)

    def settle(layer: list[int], wanted: list[float]) -> None:
        """Closest positions to `wanted` in this order without overlaps (pool adjacent violators)."""
        gaps = [0.0]
        for a, b in zip(layer, layer[1:]):
            gap = (height[a] + height[b]) / 2 + (NODE_GAP if height[a] and height[b] else NODE_GAP / 2)
            gaps.append(gaps[-1] + gap)
        blocks: list[list[float]] = []     # [sum of (wanted - offset), count, first index]
        for k in range(len(layer)):
            blocks.append([wanted[k] - gaps[k], 1, k])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
                s, c, _ = blocks.pop()
                blocks[-1][0] += s
                blocks[-1][1] += c
        for s, c, first in blocks:
            base = s / c
            for k in range(first, first + c):
                y[layer[k]] = base + gaps[k]

    for sweep in range(12):
        ranks = range(len(layers)) if sweep % 2 == 0 else range(len(layers) - 1, -1, -1)
        for r in ranks:
            layer = layers[r]
            wanted = []
            for v in layer:
                near = up[v] + down[v]
                wanted.append(sum(y[u] for u in near) / len(near) if near else y[v])
            settle(layer, wanted)

    top = min((y[v] - height[v] / 2 for v in range(total)), default=0.0)
    bottom = max((y[v] + height[v] / 2 for v in range(total)), default=0.0)
    for v in range(total):
        y[v] += MARGIN - top
    placement = Placement(left - RANK_GAP + MARGIN, bottom - top + 2 * MARGIN, engine="layered")
    for s in shapes:
        k = index[s.id]
        placement.centres[s.id] = (x[k], y[k])
    for chain in chains:
        points = [(x[v], y[v]) for v in chain]
        # a run of dummy points at one height is one straight piece: keep its ends only
        points = [p for k, p in enumerate(points)
                  if k in (0, len(points) - 1) or not (abs(points[k - 1][1] - p[1]) < 0.5
                                                       and abs(points[k + 1][1] - p[1]) < 0.5)]
        start, end = shapes[chain[0]], shapes[chain[-1]]
        points[0] = _boundary(points[0], points[1], start)
        points[-1] = _boundary(points[-1], points[-2], end)
        placement.paths.append(_smooth(points))
    return placement


def _boundary(centre: Point, toward: Point, shape: Shape) -> Point:
    """Where the line from the centre toward a point leaves the shape."""
    dx, dy = toward[0] - centre[0], toward[1] - centre[1]
    a, b = shape.width / 2, shape.height / 2
    if dx == 0 and dy == 0:
        return centre
    if shape.ellipse:
        t = 1 / math.sqrt((dx / a) ** 2 + (dy / b) ** 2)
    else:
        t = min(a / abs(dx) if dx else math.inf, b / abs(dy) if dy else math.inf)
    return centre[0] + dx * t, centre[1] + dy * t


def _smooth(points: list[Point]) -> list[Point]:
    """A polyline as a Bézier chain with horizontal tangents at the dummy points."""
    result = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        middle = (x1 - x0) / 2
        if len(points) == 2:
            result += [(x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3),
                       (x0 + 2 * (x1 - x0) / 3, y0 + 2 * (y1 - y0) / 3), (x1, y1)]
        else:
            result += [(x0 + middle, y0), (x1 - middle, y1), (x1, y1)]
    return result

