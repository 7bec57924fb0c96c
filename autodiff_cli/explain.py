"""The forward and backward passes as steps a person can follow.

`explain(trace)` turns an evaluated trace into the article's trace: one
step per operation forward, then from the output back, one step per edge
(upstream gradient times local derivative, the derivative a formula from
the op table), and a sum wherever gradients from several paths meet.  It
computes nothing new: values and gradients are the evaluator's; the steps
only show how they arise.  Renderers (render/explain.py) turn the steps
into text, Markdown, LaTeX or JSON.

Everything is a loop over the node list; a long program is cut to
`max_steps` per section with an `Omitted` marker, and the steps left out
are counted without being built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from .evaluator import Trace
from .formula import Term, name, num, operation, partial
from .graph import CONST, VAR, Graph
from .ops import CONSTANTS, OPS
from .walk import reverse

DEFAULT_MAX_STEPS = 100

# the article's letters: p = x·w (product), a = p + b (addition), d = a − y (difference)
_LETTERS = {"add": "a", "sub": "d", "mul": "p", "div": "q", "neg": "n", "pow": "r"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
OUTPUT_NAME = "L"


@dataclass(frozen=True)
class Forward:
    """`name = expression = values = value`; expression is None for an input."""
    node: int
    name: str
    expression: Optional[Term]
    substituted: Optional[Term]
    value: float


@dataclass(frozen=True)
class Seed:
    """∂L/∂L = 1."""
    node: int


@dataclass(frozen=True)
class At:
    """The operation node whose edges follow."""
    node: int
    expression: Term


@dataclass(frozen=True)
class Edge:
    """One input's share at one node: ∂L/∂u (+)= ∂L/∂z · ∂z/∂u."""
    node: int                # z, the operation
    input: int               # u
    position: int            # which of z's inputs u is (it matters for x·x)
    upstream: float          # ∂L/∂z
    formula: Term            # ∂z/∂u over names
    substituted: Term        # the same formula with the names' values in their place
    local: float             # ∂z/∂u, the op table's number
    contribution: float      # upstream · local
    fork: bool               # u gets gradient along more than one edge: this is one part
    kink: bool               # z is not differentiable here; `local` is a convention


@dataclass(frozen=True)
class Part:
    """One path's contribution to a sum at a fork."""
    via: int                 # the operation the contribution came through
    position: int
    duplicate: bool          # u is more than one of via's inputs (x·x): say which
    contribution: float


@dataclass(frozen=True)
class Sum:
    """Gradients meeting at a fork: ∂L/∂u = part + part + ... = total."""
    node: int
    parts: tuple[Part, ...]
    total: float


@dataclass(frozen=True)
class Omitted:
    """Steps left out of a long explanation."""
    count: int
    what: str                # "operations", "steps", "inputs"


Step = Union[Forward, Seed, At, Edge, Sum, Omitted]


@dataclass
class Explanation:
    """The steps of both passes, and the names they use."""
    trace: Trace
    names: list[Optional[str]]     # per node; None for constants, shown by value
    generated: list[bool]
    forward: list[Union[Forward, Omitted]] = field(default_factory=list)
    backward: list[Step] = field(default_factory=list)
    gradient: list[Union[tuple[str, float, bool], Omitted]] = field(default_factory=list)
    max_steps: int = DEFAULT_MAX_STEPS
    digits: int = 6                # significant digits of the numbers shown

    @property
    def graph(self) -> Graph:
        return self.trace.graph

    @property
    def output(self) -> str:
        return self.names[self.graph.output]

    def term(self, node: int) -> Term:
        """How a node appears inside another's formula: its name, or a constant as written."""
        n = self.graph.nodes[node]
        if self.names[node] is None:
            return num(n.constant, n.label)
        return name(self.names[node])

    def expression(self, node: int) -> Term:
        n = self.graph.nodes[node]
        return operation(n.op, *(self.term(i) for i in n.inputs))

    def substituted(self, node: int) -> Term:
        values = self.trace.values
        return operation(self.graph.nodes[node].op, *(num(values[i]) for i in self.graph.nodes[node].inputs))

    @property
    def omitted(self) -> dict[str, int]:
        def count(steps) -> int:
            return sum(s.count for s in steps if isinstance(s, Omitted))
        return {"forward": count(self.forward), "backward": count(self.backward),
                "gradient": count(self.gradient)}


def names(graph: Graph) -> tuple[list[Optional[str]], list[bool]]:
    """A short unique name for every node a line must refer to.

    The user's names where the program gives them (an ambiguous reused
    name gets subscripts: a₁, a₂); the output, unnamed, is L; other unnamed
    operations get a letter for their op (p for a product, a for a sum, d
    for a difference, as in the article), subscripted when there are several.
    Constants get none: a line shows them as written.
    """
    nodes = graph.nodes
    taken = {n.label for n in nodes if n.label is not None and n.op != CONST} | set(CONSTANTS)
    label_count: dict[str, int] = {}
    for n in nodes:
        if n.op != CONST and n.label is not None:
            label_count[n.label] = label_count.get(n.label, 0) + 1

    result: list[Optional[str]] = [None] * len(nodes)
    generated = [False] * len(nodes)
    output = graph.output
    letters: dict[int, str] = {}
    for n in nodes:
        if n.op == CONST and n.id != output:
            continue
        if n.label is not None and n.op != CONST:
            continue
        if n.id == output and OUTPUT_NAME not in taken:
            result[n.id], generated[n.id] = OUTPUT_NAME, True
            continue
        letter = _LETTERS.get(n.op) or n.op[0]
        letters[n.id] = letter if letter not in CONSTANTS and letter.isalpha() else "u"
    letter_count: dict[str, int] = {}
    for letter in letters.values():
        letter_count[letter] = letter_count.get(letter, 0) + 1

    seen: dict[str, int] = {}

    def numbered(base: str) -> str:
        while True:
            seen[base] = seen.get(base, 0) + 1
            candidate = base + str(seen[base]).translate(_SUBSCRIPTS)
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    for n in nodes:
        i = n.id
        if n.op != CONST and n.label is not None:
            result[i] = n.label if label_count[n.label] == 1 else numbered(n.label)
        elif i in letters:
            letter = letters[i]
            generated[i] = True
            if letter_count[letter] == 1 and letter not in taken:
                taken.add(letter)
                result[i] = letter
            else:
                result[i] = numbered(letter)
    return result, generated


@dataclass(frozen=True)
class Tangent:
    """Forward mode at one node: ż = Σ u̇ · ∂z/∂u = Σ tangent · local = tangent."""
    node: int
    terms: tuple[tuple[int, Term, float, float], ...]   # (input u, ∂z/∂u over names, its value, u̇)
    tangent: float


def tangent_pass(explanation: Explanation, seed: str) -> tuple[list[Union[Tangent, Forward, Omitted]], float]:
    """One forward-mode pass, seeded with ẋ = 1 for x = `seed`: every node
    that depends on an input, in list order (the evaluator's tangents; the
    steps only show how they arise).  Inputs are Forward steps carrying their
    tangent as the value.  Also the output's tangent, d output / d seed."""
    from .evaluator import depends, tangents
    trace = explanation.trace
    graph = trace.graph
    moving = depends(graph)
    column = tangents(graph, trace.values, moving, {seed: 1.0}, [])
    values = trace.values
    steps: list = []
    for node in graph.nodes:
        i = node.id
        if not moving[i]:
            continue
        if node.op == VAR:
            steps.append(Forward(i, explanation.names[i], None, None, column[i]))
            continue
        op = OPS[node.op]
        args = [values[j] for j in node.inputs]
        terms = tuple((j, partial(node.op, k, tuple(explanation.term(a) for a in node.inputs),
                                  explanation.term(i)), op.partials[k](*args, values[i]), column[j])
                      for k, j in enumerate(node.inputs) if moving[j])
        steps.append(Tangent(i, terms, column[i]))
    at_output = column[graph.output]
    return _window(steps, explanation.max_steps, "nodes"), 0.0 if at_output is None else at_output


def _window(items: list, limit: int, what: str) -> list:
    """The first and last of a long list with the middle counted, or all of it."""
    if not limit or len(items) <= limit:
        return items
    head = limit - limit // 2
    tail = limit // 2
    return items[:head] + [Omitted(len(items) - limit, what)] + (items[-tail:] if tail else [])


def explain(trace: Trace, max_steps: Optional[int] = DEFAULT_MAX_STEPS, digits: int = 6,
            wrt: Optional[list[str]] = None) -> Explanation:
    """The steps of the forward and backward passes.  max_steps (0 or None:
    no limit) bounds each section: forward, backward and the gradient list;
    `wrt` limits the gradient list to these inputs."""
    graph = trace.graph
    limit = max_steps or 0
    node_names, generated = names(graph)
    result = Explanation(trace, node_names, generated, max_steps=limit, digits=digits)
    values = trace.values
    output = graph.output

    shown = [n.id for n in graph.nodes if n.op != CONST or n.id == output]
    for i in _window(shown, limit, "operations"):
        if isinstance(i, Omitted):
            result.forward.append(i)
            continue
        n = graph.nodes[i]
        if n.op in (VAR, CONST):
            result.forward.append(Forward(i, node_names[i], None, None, values[i]))
        else:
            result.forward.append(Forward(i, node_names[i], result.expression(i),
                                          result.substituted(i), values[i]))

    flow = _Flow(trace)
    steps: list[Step] = []
    counted = left_out = 0       # the limit counts lines of the chain rule, not the headers
    pending_at: Optional[At] = None
    for kind, i, k in flow.order():
        if limit and counted >= limit:
            left_out += kind != "at"
            continue
        counted += kind != "at"
        if kind == "at":
            pending_at = At(i, result.expression(i))
            continue
        if pending_at is not None:
            steps.append(pending_at)
            pending_at = None
        if kind == "seed":
            steps.append(Seed(i))
        elif kind == "edge":
            steps.append(flow.edge(result, i, k))
        else:
            steps.append(flow.sum(i))
    if left_out:
        steps.append(Omitted(left_out, "steps"))
    result.backward = steps

    gradient = [(input_name, trace.grads[node], flow.counts[node] > 0 or node == output)
                for input_name, node in graph.inputs.items() if wrt is None or input_name in wrt]
    result.gradient = _window(gradient, limit, "inputs")
    return result


def substitute(term: Term, values: dict[str, float]) -> Term:
    """A formula with each name replaced by its value: 1 − t² becomes 1 − 0.76², the local
    derivative's formula with the numbers it is evaluated at (a loop over the term's nodes:
    formulas are small, but no walk here recurses)."""
    done: dict[int, Term] = {}
    stack = [term]
    while stack:
        t = stack[-1]
        if id(t) in done:
            stack.pop()
        elif t.op == "name":
            done[id(t)] = num(values[t.text]) if t.text in values else t
            stack.pop()
        elif t.op == "num" or all(id(a) in done for a in t.args):
            done[id(t)] = (t if t.is_numeral else num(t.value)) if t.op == "num" else \
                operation(t.op, *(done[id(a)] for a in t.args))   # pi as its digits
            stack.pop()
        else:
            stack.extend(a for a in t.args if id(a) not in done)
    return done[id(term)]


class _Flow:
    """The edges the gradient flows along, from the output back: exactly
    the ones the evaluator's reverse pass visits, in its order."""

    def __init__(self, trace: Trace):
        self.trace = trace
        graph, grads = trace.graph, trace.grads
        self.edges: list[tuple[int, int, int]] = []   # (node, position, input)
        for i, flowing in reverse(graph, [g is not None for g in grads]):
            self.edges.extend((i, k, j) for k, j in flowing)
        self.counts = [0] * len(graph.nodes)          # edges into each node
        for _, _, j in self.edges:
            self.counts[j] += 1
        self.into: dict[int, list[tuple[int, int]]] = {}  # fork -> its edges, in order
        for i, k, j in self.edges:
            if self.counts[j] > 1:
                self.into.setdefault(j, []).append((i, k))

    def order(self) -> Iterator[tuple[str, int, int]]:
        """("seed", L, 0), then per node ("at", z, 0) and its ("edge", z, k); a
        ("sum", u, 0) right after the last edge into a node fed by several."""
        remaining = list(self.counts)
        if self.trace.grads[self.trace.graph.output] is not None:   # a constant output takes none
            yield "seed", self.trace.graph.output, 0
        current = None
        for i, k, j in self.edges:
            if i != current:
                current = i
                yield "at", i, 0
            yield "edge", i, k
            remaining[j] -= 1
            if remaining[j] == 0 and self.counts[j] > 1:
                yield "sum", j, 0

    def local(self, i: int, k: int) -> float:
        trace = self.trace
        node = trace.graph.nodes[i]
        return OPS[node.op].partials[k](*(trace.values[j] for j in node.inputs), trace.values[i])

    def edge(self, result: Explanation, i: int, k: int) -> Edge:
        trace = self.trace
        node = trace.graph.nodes[i]
        op = OPS[node.op]
        j = node.inputs[k]
        upstream, local = trace.grads[i], self.local(i, k)
        formula = partial(node.op, k, tuple(result.term(a) for a in node.inputs), result.term(i))
        values = {result.names[a]: trace.values[a] for a in (*node.inputs, i) if result.names[a]}
        kink = op.kink is not None and bool(op.kink(*(trace.values[a] for a in node.inputs)))
        return Edge(i, j, k, upstream, formula, substitute(formula, values), local,
                    upstream * local, fork=self.counts[j] > 1, kink=kink)

    def sum(self, j: int) -> Sum:
        trace = self.trace
        parts = tuple(Part(i, k, trace.graph.nodes[i].inputs.count(j) > 1,
                           trace.grads[i] * self.local(i, k))
                      for i, k in self.into[j])
        return Sum(j, parts, trace.grads[j])
