"""Sampling a program over a range of one input: a driver over the evaluator.

The graph is parsed once; each point costs one forward and one reverse pass.
The second derivative, when asked for, is the symbolic pass's graph
(`diff.differentiate(graph, [x], 2)`) evaluated by the same forward pass.
Kinks (abs, relu, max, min, sign, step) are found where a kink node's local
partials change between two samples, then located by bisection; the op
table says which nodes have kinks and what their partials are.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import AdiffError
from .evaluator import backward, bind, forward
from .graph import Graph
from .ops import OPS

DEFAULT_POINTS = 400
MAX_POINTS = 1_000_000

_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# START:STOP, or START..STOP as some languages write a range
_RANGE = re.compile(rf"\s*({_NUMBER})\s*(?::|\.\.)\s*({_NUMBER})\s*\Z")


def _is_range(value: str) -> bool:
    return ":" in value or ".." in value


@dataclass(frozen=True)
class Kink:
    x: float
    where: str        # the node, for messages: `abs(x)`, `relu(#3)`


@dataclass(frozen=True)
class Samples:
    input: str
    xs: list[float]
    values: list[float]
    gradients: list[float]
    order2: Optional[list[float]]
    kinks: list[Kink]
    name: str               # how to call the program's value in a legend: its label, or f
    wrt: str = ""           # the input the derivatives are taken with respect to ("" : input)
    # a program of several outputs: each output's name -> (values, derivatives)
    outputs: Optional[dict] = None

    @property
    def by(self) -> str:
        return self.wrt or self.input

    def non_finite(self, series: list[float]) -> int:
        return sum(1 for v in series if not math.isfinite(v))


def parse_range(name: str, text: str) -> tuple[float, float]:
    """`--x -3:3` (or `-3..3`): START:STOP, two decimal numbers, START below STOP."""
    found = _RANGE.match(text)
    if not found:
        raise AdiffError("binding", f"--{name} {text}: a range is START:STOP (or START..STOP), two numbers",
                         hint=f"for example --{name} -3:3")
    start, stop = float(found.group(1)), float(found.group(2))
    if not (math.isfinite(start) and math.isfinite(stop) and math.isfinite(stop - start)):
        raise AdiffError("binding", f"--{name} {text}: the range must be finite")
    if not start < stop:
        raise AdiffError("binding", f"--{name} {text}: START must be below STOP",
                         hint=f"--{name} {found.group(2)}:{found.group(1)}" if start > stop else None)
    return start, stop


def split_range(bindings: list, assignments: list[str]) -> tuple[Optional[str], str, list, list[str]]:
    """Take the one binding whose value is a range (`--x -3:3`, `--var x=-3:3`)
    out of the bindings (name and text, as the command line read them) and
    the --var assignments.  Returns its name, its text, and the rest."""
    found: list[tuple[str, str]] = []
    rest = []
    for binding in bindings:
        if binding.value is not None and _is_range(binding.value):
            found.append((binding.name, binding.value))
        else:
            rest.append(binding)
    kept = []
    for assignment in assignments:
        name, eq, value = assignment.partition("=")
        if eq and _is_range(value):
            found.append((name.strip(), value))
        else:
            kept.append(assignment)
    if len(found) > 1:
        raise AdiffError("usage", "plot takes one range, and got "
                         + ", ".join(f"--{n} {v}" for n, v in found[:5]),
                         hint="give one input a range START:STOP and the others single values")
    if not found:
        return None, "", rest, kept
    return found[0][0], found[0][1], rest, kept


def sample(graph: Graph, bindings: Mapping[str, float], name: str, start: float, stop: float,
           points: int = DEFAULT_POINTS, order: int = 1, wrt: Optional[str] = None) -> Samples:
    """The value, d/dwrt (and with order 2 the second derivative) at
    `points` evenly spaced values of `name` from start to stop; `wrt` is
    `name` unless given."""
    wrt = name if wrt is None else wrt
    for which in (name, wrt):
        if which not in graph.inputs:
            raise AdiffError("usage", f"--{which}: the program has no input {which}",
                             hint="its inputs: " + (", ".join(graph.inputs) or "none"))
    if not 2 <= points <= MAX_POINTS:
        raise AdiffError("usage", f"--points {points}: give between 2 and {MAX_POINTS:,}")
    fixed = dict(bindings)
    fixed[name] = start
    inputs, _ = bind(graph, fixed)
    second = None
    if order >= 2:
        from .diff import differentiate
        derived = differentiate(graph, [wrt], order)
        second = (derived, derived.outputs[(wrt,) * order])
    kinked = _kink_nodes(graph)
    index = graph.inputs[wrt]
    xs = [start + (stop - start) * k / (points - 1) for k in range(points)]
    xs[-1] = stop
    values, gradients, order2, signatures = [], [], [] if second else None, []
    several = {out: ([], []) for out in graph.results} if graph.results else None
    if several and order >= 2:
        raise AdiffError("usage", f"the program has {len(several)} outputs: --order 2 takes one",
                         hint=f"choose it with --of NAME, for example --of {next(iter(several))}")
    if several and len(several) > MAX_OUTPUTS:
        raise AdiffError("usage", f"plot draws at most {MAX_OUTPUTS} outputs; the program has {len(several)}",
                         hint="choose one with --of NAME")
    scratch: list = []
    for x in xs:
        inputs[name] = x
        node_values, needs_grad = forward(graph, inputs, scratch)
        for out, node in (graph.results or {None: graph.output}).items():
            grads = backward(graph, node_values, needs_grad, scratch, node)
            g = 0.0 if grads[index] is None else grads[index]
            if out is not None:
                several[out][0].append(node_values[node])
                several[out][1].append(g)
        scratch.clear()
        values.append(node_values[graph.output])
        gradients.append(g if several is None else several[next(iter(several))][1][-1])
        if second is not None:
            derived, out = second
            order2.append(forward(derived, inputs, scratch)[0][out])
            scratch.clear()
        signatures.append([_signature(graph, i, node_values) for i in kinked])
    kinks = _locate_kinks(graph, inputs, name, xs, kinked, signatures)
    return Samples(name, xs, values, gradients, order2, kinks, legend_name(graph), wrt, several)


MAX_OUTPUTS = 6   # curves the terminal plot tells apart by colour and mark


def legend_name(graph: Graph) -> str:
    """The program's value in a legend: its name (L), else the program's
    text when it is one short line (tanh(x)), else f."""
    node = graph.nodes[graph.output]
    if node.label is not None and node.op not in ("var", "const"):
        return node.label
    text = graph.source or ""
    one_line = " ".join(text.split())
    return one_line if one_line and "\n" not in text.strip() and len(one_line) <= 30 else "f"


def _kink_nodes(graph: Graph) -> list[int]:
    """Nodes the output depends on whose op has a kink."""
    from .walk import reverse
    found = []
    for i, _ in reverse(graph, [True] * len(graph.nodes)):   # the reverse walk, every edge
        op = OPS.get(graph.nodes[i].op)
        if op is not None and op.kink is not None:
            found.append(i)
    found.reverse()
    return found


_GAP = ("non-finite",)


def _signature(graph: Graph, i: int, values: list[float]) -> tuple:
    """Which piece of a piecewise op a point is on: its local partials, and
    its value where every partial is 0 (sign, step)."""
    node = graph.nodes[i]
    op = OPS[node.op]
    args = [values[j] for j in node.inputs]
    out = values[i]
    if not all(math.isfinite(a) for a in args):
        return _GAP
    partials = tuple(p(*args, out) for p in op.partials)
    if all(p == 0 for p in partials):
        return partials + (out,)
    return partials


def _on_kink(graph: Graph, inputs: dict, name: str, x: float, i: int) -> bool:
    """Whether the op's own kink test holds at x (abs at exactly 0, ...)."""
    inputs[name] = x
    values, _ = forward(graph, inputs, [])
    node = graph.nodes[i]
    return bool(OPS[node.op].kink(*[values[j] for j in node.inputs]))


# node evaluations spent locating kinks by bisection (about 60 forward
# passes a kink); kinks past the budget are placed mid-way between their
# two samples, within half a sample's spacing
BISECTION_BUDGET = 300_000


def _locate_kinks(graph: Graph, inputs: dict, name: str, xs: list[float], kinked: list[int],
                  signatures: list[list[tuple]]) -> list[Kink]:
    found: list[Kink] = []
    n = len(xs)
    spacing = (xs[-1] - xs[0]) / (n - 1)
    budget = max(200, BISECTION_BUDGET // max(1, len(graph.nodes)))   # in forward passes
    for k, i in enumerate(kinked):
        # where the op's argument leaves the finite numbers is a gap's edge, not a kink
        changes = [s for s in range(n - 1) if signatures[s][k] != signatures[s + 1][k]
                   and _GAP not in (signatures[s][k], signatures[s + 1][k])]
        # a piecewise op changes piece a few times; one whose partials vary
        # smoothly (atan2 away from the origin) changes at every sample
        if not changes or len(changes) > max(8, n // 10):
            continue
        node = graph.nodes[i]
        where = f"{node.op}({', '.join(graph.ref(j) for j in node.inputs)})"
        for s in changes:
            if budget > 0:
                x, used = _bisect(graph, inputs, name, i, xs[s], xs[s + 1], signatures[s][k])
                budget -= used
            else:
                x = (xs[s] + xs[s + 1]) / 2
            if not any(abs(x - other.x) <= spacing / 2 for other in found):
                found.append(Kink(x, where))
    found.sort(key=lambda kink: kink.x)
    return found


def _bisect(graph: Graph, inputs: dict, name: str, i: int, low: float, high: float,
            left: tuple) -> tuple[float, int]:
    """Where node i changes piece between low and high, and the forward
    passes it took: to adjacent doubles, or to where the op's own kink test
    holds (abs at exactly 0)."""
    scratch: list = []
    used = 0
    while True:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        inputs[name] = middle
        values, _ = forward(graph, inputs, scratch)
        scratch.clear()
        used += 1
        if _signature(graph, i, values) == left:
            low = middle
        else:
            high = middle
    for x in (low, high):
        used += 1
        if _on_kink(graph, inputs, name, x, i):
            return x, used
    return (low + high) / 2, used
