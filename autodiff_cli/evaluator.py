"""The forward pass and reverse accumulation over the graph's node list.

The chain rule is written once, here: walking the list backwards from the
output, each edge adds (upstream gradient × local partial) into its input's
gradient, so gradients sum at forks.  Both passes are loops, never recursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from .errors import AdiffError, shorten
from .graph import CONST, VAR, Graph
from .ops import OPS
from .walk import forward as forward_walk, masked, reverse

MODES = ("reverse", "forward", "auto")


@dataclass(frozen=True)
class EvalWarning:
    """Something worth saying about a run that is not an error."""
    kind: str          # "non-finite", "gradient", "kink", "binding"
    message: str
    node: Optional[int] = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "node": self.node, "message": self.message}


@dataclass
class Trace:
    """Every node's value and gradient, d output / d node.

    A gradient is None for a node that depends on no input (a constant or
    an expression of constants): like PyTorch, adiff does not differentiate
    with respect to constants.  Nodes the output does not depend on get 0.
    """
    graph: Graph
    inputs: dict[str, float]
    values: list[float]
    grads: list[Optional[float]]
    warnings: list[EvalWarning] = field(default_factory=list)
    # with several outputs, or another mode than reverse: the Jacobian and the passes made
    jacobian: Optional["Jacobian"] = None

    @property
    def value(self) -> float:
        return self.values[self.graph.output]

    def gradient(self, wrt: Optional[Iterable[str]] = None) -> dict[str, float]:
        names = self.graph.inputs if wrt is None else wrt
        return {name: self.grads[self.graph.inputs[name]] for name in names}


def _fmt(x: float) -> str:
    """A number for a message: short, with NaN and ±inf spelled as in JSON output."""
    if x != x:
        return "NaN"
    return f"{x:.6g}"


_LISTED = 5  # names listed in one message


def describe(graph: Graph, node: int) -> str:
    """`node 4 (x * w)`, or `node 0 (x)` for a named one: for messages."""
    label = graph.nodes[node].label
    return f"node {node} ({shorten(label if label is not None else graph.expression(node), 40)})"


def bind(graph: Graph, bindings: Mapping[str, float]) -> tuple[dict[str, float], list[EvalWarning]]:
    """Each input's value, from the bindings or the program's defaults."""
    warnings = []
    for name in bindings:
        if name not in graph.inputs:
            import difflib
            close = difflib.get_close_matches(name, list(graph.inputs), n=1)
            guess = f"; did you mean {shorten(close[0])}?" if close else ""
            name = shorten(name)
            warnings.append(EvalWarning("binding", f"--{name} is bound but the program has no input {name}{guess}"))
    missing = [name for name in graph.inputs if name not in bindings and name not in graph.defaults]
    if missing:
        line, column = graph.first_use.get(missing[0], (None, None))
        plural = "s" if len(missing) > 1 else ""
        # all at once, but within a screen: 10,000 unbound names or a
        # 100,000-character one must not flood the terminal
        shown = [shorten(name) for name in missing[:_LISTED]]
        more = f" and {len(missing) - _LISTED} more" if len(missing) > _LISTED else ""
        error = AdiffError("unbound", f"no value for input{plural} {', '.join(shown)}{more}",
                           line=line, column=column, source=graph.source,
                           hint="bind with " + " ".join(f"--{name} 1" for name in shown) + more)
        error.missing, error.more = shown, more   # for the command line's hint
        raise error
    values = {name: float(bindings[name]) if name in bindings else graph.defaults[name]
              for name in graph.inputs}
    for name, value in values.items():
        if not math.isfinite(value):
            warnings.append(EvalWarning("binding", f"input {shorten(name)} is {_fmt(value)}", graph.inputs[name]))
    return values, warnings


@dataclass
class Jacobian:
    """Every output's derivatives with respect to the `wrt` inputs, and the
    per-node columns the passes gave: in reverse mode one backward pass per
    output ({output: each node's d output / d node}), in forward mode one
    tangent pass per input ({input: each node's d node / d input})."""
    mode: str                                       # the mode run: "reverse" or "forward"
    outputs: dict[str, int]                         # name -> node
    wrt: list[str]
    rows: dict[str, dict[str, Optional[float]]]     # output -> input -> derivative
    columns: dict[str, list[Optional[float]]]       # a pass's value at every node


def choose_mode(mode: str, outputs: int, inputs: int) -> str:
    """auto: the fewer passes, one per output (reverse) or one per input (forward); reverse on a tie."""
    if mode == "auto":
        return "forward" if inputs < outputs else "reverse"
    return mode


def evaluate(graph: Graph, bindings: Mapping[str, float] = {}, mode: str = "reverse",
             wrt: Optional[Iterable[str]] = None) -> Trace:
    """Bind the inputs, then run the forward pass and reverse accumulation
    (or, with several outputs or in forward mode, the Jacobian's passes)."""
    inputs, warnings = bind(graph, bindings)
    values, needs_grad = forward(graph, inputs, warnings)
    if mode == "reverse" and not graph.results:
        grads = backward(graph, values, needs_grad, warnings)
        return Trace(graph, inputs, values, grads, warnings)
    names = list(graph.inputs if wrt is None else wrt)
    outputs = graph.output_names()
    mode = choose_mode(mode, len(outputs), len(names))
    rows: dict[str, dict[str, Optional[float]]] = {name: {} for name in outputs}
    columns: dict[str, list[Optional[float]]] = {}
    if mode == "reverse":
        for name, node in outputs.items():
            column = columns[name] = backward(graph, values, needs_grad, warnings, node)
            rows[name] = {x: column[graph.inputs[x]] for x in names}
    else:
        for x in names:
            column = columns[x] = tangents(graph, values, needs_grad, {x: 1.0}, warnings)
            for name, node in outputs.items():
                rows[name][x] = 0.0 if column[node] is None else column[node]
    first = next(iter(outputs))
    if mode == "reverse":
        grads = columns[first]
    else:   # the first output's gradient, as the single-output fields show it
        grads = [None] * len(needs_grad)
        for x in names:
            grads[graph.inputs[x]] = rows[first][x]
    trace = Trace(graph, inputs, values, grads, _unique(warnings))
    trace.jacobian = Jacobian(mode, outputs, names, rows, columns)
    return trace


def depends(graph: Graph) -> list[bool]:
    """Whether each node depends on an input (takes a gradient)."""
    result = [False] * len(graph.nodes)
    for node in graph.nodes:
        result[node.id] = node.op == VAR or any(result[j] for j in node.inputs)
    return result


def _unique(warnings: list[EvalWarning]) -> list[EvalWarning]:
    """Each warning once: several passes over one node say the same thing."""
    seen = set()
    kept = []
    for w in warnings:
        if (w.kind, w.message) not in seen:
            seen.add((w.kind, w.message))
            kept.append(w)
    return kept


def tangents(graph: Graph, values: list[float], needs_grad: list[bool],
             seeds: Mapping[str, float], warnings: list[EvalWarning]) -> list[Optional[float]]:
    """Forward mode: every node's tangent, d node / d (the seeded direction),
    accumulated in list order with the op table's own partials:
    tangent(node) = Σ partial × tangent(input) over the inputs that move.

    The mirror of `backward`: None for a node that depends on no input, 0 for
    one that depends on no seeded input; masked edges carry nothing."""
    isfinite = math.isfinite
    tangent: list[Optional[float]] = [0.0 if need else None for need in needs_grad]
    moving = bytearray(len(graph.nodes))
    for name, seed in seeds.items():
        i = graph.inputs[name]
        tangent[i] = seed
        moving[i] = 1
    nodes, ops = graph.nodes, OPS
    for i, flowing in forward_walk(graph, moving):
        node = nodes[i]
        op = ops[node.op]
        args = [values[j] for j in node.inputs]
        out = values[i]
        partials, mask = op.partials, op.mask
        if op.kink is not None:
            _kink(graph, i, op, args, out, warnings)
        total = 0.0
        for k, j in flowing:
            if mask is not None and masked(op, k, args):
                continue
            contribution = partials[k](*args, out) * tangent[j]
            total += contribution
            if not isfinite(contribution) and isfinite(tangent[j]):
                warnings.append(EvalWarning(
                    "gradient", f"{describe(graph, i)}: the tangent flowing from "
                    f"{describe(graph, j)} is {_fmt(contribution)}", i))
        tangent[i] = total
    return tangent


def jvp(trace: Trace, seeds: Mapping[str, float]) -> dict[str, Optional[float]]:
    """The Jacobian-vector product: each output's directional derivative
    along `seeds` (one tangent pass)."""
    graph = trace.graph
    needs_grad = depends(graph)
    column = tangents(graph, trace.values, needs_grad, seeds, trace.warnings)
    return {name: 0.0 if column[node] is None else column[node]
            for name, node in graph.output_names().items()}


def vjp(trace: Trace, seeds: Mapping[str, float], wrt: Iterable[str]) -> dict[str, Optional[float]]:
    """The vector-Jacobian product: Σ seed × d output / d input for each input
    (one backward pass, from every seeded output at once)."""
    graph = trace.graph
    needs_grad = depends(graph)
    outputs = graph.output_names()
    column = backward(graph, trace.values, needs_grad, trace.warnings,
                      {outputs[name]: seed for name, seed in seeds.items()})
    return {x: column[graph.inputs[x]] for x in wrt}


def forward(graph: Graph, inputs: Mapping[str, float],
            warnings: list[EvalWarning]) -> tuple[list[float], list[bool]]:
    """Every node's value, in list order; and whether it depends on an input."""
    nodes = graph.nodes
    isfinite = math.isfinite
    values = [0.0] * len(nodes)
    needs_grad = [False] * len(nodes)
    for node in nodes:
        i = node.id
        if node.op == VAR:
            values[i] = inputs[node.label]
            needs_grad[i] = True
        elif node.op == CONST:
            values[i] = node.constant
        else:
            op = OPS[node.op]
            args = [values[j] for j in node.inputs]
            out = values[i] = op.forward(*args)
            needs_grad[i] = any(needs_grad[j] for j in node.inputs)
            if not isfinite(out) and all(isfinite(a) for a in args):
                reason = op.domain(*args) if op.domain else None
                reason = reason or ("overflow" if out == out else "not a real number")
                warnings.append(EvalWarning("non-finite", f"{describe(graph, i)} is {_fmt(out)}: {reason}", i))
    return values, needs_grad


def backward(graph: Graph, values: list[float], needs_grad: list[bool],
             warnings: list[EvalWarning], output=None) -> list[Optional[float]]:
    """Reverse accumulation: d output / d node for every node (`output`: a
    node, by default the program's value, or {node: seed} for several at once).

    Only nodes that the output depends on pass gradients on, so a dead
    branch's infinite partial cannot leak into an input it shares.
    """
    isfinite = math.isfinite
    grads: list[Optional[float]] = [0.0 if need else None for need in needs_grad]
    # d output / d output is 1, unless the output is a constant (or made of
    # constants only): like every constant it takes no gradient (null)
    seeds = {graph.output if output is None else output: 1.0} if not isinstance(output, dict) else output
    for node, seed in seeds.items():
        if needs_grad[node]:
            grads[node] += seed
        else:
            grads[node] = None
    for i, flowing in reverse(graph, needs_grad, list(seeds)):
        node = graph.nodes[i]
        op = OPS[node.op]
        args = [values[j] for j in node.inputs]
        upstream, out = grads[i], values[i]
        _kink(graph, i, op, args, out, warnings)
        for k, j in flowing:
            if masked(op, k, args):
                continue  # a structural zero: nothing flows, whatever comes down
            contribution = upstream * op.partials[k](*args, out)
            grads[j] += contribution
            if not isfinite(contribution) and isfinite(upstream):
                warnings.append(EvalWarning(
                    "gradient", f"{describe(graph, i)}: the gradient flowing to "
                    f"{describe(graph, j)} is {_fmt(contribution)}", j))
    return grads


def _kink(graph: Graph, i: int, op, args: list, out: float, warnings: list[EvalWarning]) -> None:
    """Warn where the node is not differentiable (abs(0), relu(0), max at a tie)."""
    if op.kink is not None and op.kink(*args):
        used = ", ".join(_fmt(partial(*args, out)) for partial in op.partials)
        warnings.append(EvalWarning(
            "kink", f"{describe(graph, i)}: {graph.nodes[i].op} is not differentiable at "
            f"{', '.join(_fmt(a) for a in args)}; adiff takes its local derivative "
            f"there as {used}, as PyTorch does", i))


@dataclass(frozen=True)
class Edge:
    """One edge of the graph, input → operation, with its share of the gradient."""
    source: int           # the input node
    target: int           # the operation node
    position: int         # which of the target's inputs (it matters for x·x)
    partial: Optional[float]        # ∂ target / ∂ source; None where no gradient flows
    contribution: Optional[float]   # target's gradient × partial: what this edge adds to the source's


def edges(trace: Trace) -> list[Edge]:
    """Every edge with its local partial, for nodes that take a gradient."""
    result = []
    values, grads = trace.values, trace.grads
    for node in trace.graph.nodes:
        if not node.inputs:
            continue
        op = OPS[node.op]
        args = [values[j] for j in node.inputs]
        for k, j in enumerate(node.inputs):
            partial = contribution = None
            if grads[j] is not None:
                partial = op.partials[k](*args, values[node.id])
                contribution = 0.0 if masked(op, k, args) else grads[node.id] * partial
            result.append(Edge(j, node.id, k, partial, contribution))
    return result
