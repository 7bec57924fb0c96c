"""Simplification while building: normal forms, local rules, no search.

`Simplifier(graph).add(op, inputs)` is `Graph.add` with algebra: it folds
constants, applies identities, and keeps sums and products in canonical
n-ary normal forms, as SymPy's Add.flatten and Mul.flatten do:

- a sum is a constant plus {term: coefficient}, so like terms merge
  (2·t + 3·t is 5·t, a − a is 0);
- a product is a coefficient times {base: exponent}, so powers add
  ((1+x)^-2 · (1+x)^-1 is (1+x)^-3, x/x is 1);
- terms and bases are ordered by node id, so equal forms give equal nodes.

The forms live here, beside the graph, keyed by node id; the graph itself
stays binary (add, sub, mul, div, neg, pow and the functions), because every
consumer (evaluator, renderers, printers) reads binary nodes.  A form is
lowered to binary nodes through Graph.add, whose shared-node table makes
equal subexpressions one node, and is remembered for the node it lowers to,
so that building on it later is a dictionary lookup, not a search.

Every rule is local and costs time proportional to the sizes of the forms
it merges; forms larger than MAX_TERMS are not merged further (the node
becomes an atom), so a 10^5-term sum is built in linear time.

Not IEEE-exact, as in every computer algebra system: a·0 is 0 (inf·0 is
NaN), a − a is 0 and x/x is 1 (NaN at x = NaN or 0), x^a·x^b is x^(a+b).
What it does not do: expand products of sums, factor, cancel common
factors of a sum, or apply function identities (log(exp(x)) stays).
"""

from __future__ import annotations

import math
import re
from typing import Iterable, Optional, Sequence

from .graph import CONST, VAR, Graph
from .ops import OPS

# algebraic facts, as data (tinygrad keeps them so)
COMMUTATIVE = {"add", "mul", "max", "min"}
IDEMPOTENT = {"max", "min"}          # max(a, a) is a
ARITHMETIC = {"add", "sub", "mul", "div", "neg", "pow"}   # what the normal forms absorb
IDENTITY = {"add": 0.0, "mul": 1.0}
ABSORBING = {"mul": 0.0}             # a·0 is 0: not IEEE-exact, documented

# a sum or product with more entries than this is not merged into larger ones
MAX_TERMS = 48
# a function of numbers folds when its value is a small integer (cos(0), step(2));
# others stay as written (log(2), not 0.6931471805599453)
_EXACT = 2.0 ** 20

_NUMERAL = re.compile(r"-?[0-9.]+(?:[eE][+-]?[0-9]+)?\Z")

Bases = tuple[tuple[int, float], ...]   # ((base node, exponent), ...), by node id
Terms = tuple[tuple[Bases, float], ...]  # ((bases, coefficient), ...), sorted


def number_text(value: float) -> str:
    """A constant as adiff reads it back: 2, -0.5, 1e-30."""
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


class Simplifier:
    """Builds simplified nodes into `graph` (which may already hold nodes)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.sums: dict[int, tuple[float, Terms]] = {}
        self.products: dict[int, tuple[float, Bases]] = {}

    # ---- leaves ----------------------------------------------------------------

    def number(self, value: float) -> int:
        value = float(value) + 0.0   # -0.0 is 0 here
        return self.graph.constant(value, number_text(value))

    def value_of(self, node: int) -> Optional[float]:
        """The node's number, when it is a numeral (not pi or e: those stay named)."""
        n = self.graph.nodes[node]
        if n.op == CONST and (n.label is None or _NUMERAL.match(n.label)):
            return n.constant
        return None

    # ---- the forms of a node ---------------------------------------------------

    def product_form(self, node: int) -> tuple[float, Bases]:
        form = self.products.get(node)
        if form is not None:
            return form
        value = self.value_of(node)
        if value is not None:
            return value, ()
        return 1.0, ((node, 1.0),)

    def sum_form(self, node: int) -> tuple[float, Terms]:
        form = self.sums.get(node)
        if form is not None:
            return form
        value = self.value_of(node)
        if value is not None:
            return value, ()
        coefficient, bases = self.product_form(node)
        return 0.0, ((bases, coefficient),)

    # ---- building --------------------------------------------------------------

    def add(self, op: str, inputs: Sequence[int]) -> int:
        """The simplified node for op(inputs)."""
        inputs = tuple(inputs)
        if op == "add":
            return self.sum(inputs)
        if op == "sub":
            return self.combine([(inputs[0], 1.0), (inputs[1], -1.0)])
        if op == "mul":
            return self.product(inputs)
        if op == "neg":
            return self.combine([(inputs[0], -1.0)])
        if op == "div":
            return self.quotient(*inputs)
        if op == "pow":
            return self.power(*inputs)
        return self.function(op, inputs)

    def sum(self, terms: Iterable[int]) -> int:
        return self.combine([(t, 1.0) for t in terms])

    def combine(self, terms: Sequence[tuple[int, float]]) -> int:
        """Σ coefficient·node, in normal form."""
        constant = 0.0
        merged: dict[Bases, float] = {}
        for node, scale in terms:
            k, form = self.sum_form(node)
            constant += scale * k
            for bases, coefficient in form:
                merged[bases] = merged.get(bases, 0.0) + scale * coefficient
        if not math.isfinite(constant):
            return self._raw_sum(terms)
        return self.lower_sum(constant, merged)

    def _raw_sum(self, terms: Sequence[tuple[int, float]]) -> int:
        """Without folding: a constant overflowed (adiff has no literal for inf)."""
        graph = self.graph
        result = None
        for node, scale in terms:
            term = node if scale == 1 else graph.add("mul", (self.number(scale), node))
            result = term if result is None else graph.add("add", (result, term))
        return result

    def product(self, factors: Iterable[int], exponents: Optional[Sequence[float]] = None) -> int:
        """Π node^exponent, in normal form."""
        coefficient = 1.0
        merged: dict[int, float] = {}
        factors = list(factors)
        for n, node in enumerate(factors):
            e = 1.0 if exponents is None else exponents[n]
            c, bases = self.product_form(node)
            if len(bases) > MAX_TERMS:
                c, bases = 1.0, ((node, 1.0),)
            if c != 1:
                c = _power(c, e)
                if c is None:
                    return self._raw_product(factors, exponents)
            coefficient *= c
            for base, exponent in bases:
                merged[base] = merged.get(base, 0.0) + exponent * e
        if not math.isfinite(coefficient):
            return self._raw_product(factors, exponents)
        return self.lower_product(coefficient, merged)

    def _raw_product(self, factors, exponents) -> int:
        graph = self.graph
        result = None
        for n, node in enumerate(factors):
            e = 1.0 if exponents is None else exponents[n]
            term = node if e == 1 else graph.add("pow", (node, self.number(e)))
            result = term if result is None else graph.add("mul", (result, term))
        return result

    def quotient(self, a: int, b: int) -> int:
        value = self.value_of(b)
        if value == 0:   # a/0: keep it, IEEE decides (inf, -inf or NaN)
            return self.graph.add("div", (a, b))
        return self.product([a, b], [1.0, -1.0])

    def power(self, a: int, b: int) -> int:
        e = self.value_of(b)
        if e is None:
            base = self.value_of(a)
            if base == 1:
                return self.number(1.0)
            return self.graph.add("pow", (a, b))
        if e == 0:
            return self.number(1.0)          # as pow(x, 0) is 1 even for NaN
        if e == 1:
            return a
        coefficient, bases = self.product_form(a)
        if not bases:
            value = OPS["pow"].forward(coefficient, e)
            if math.isfinite(value) and value != 0:
                return self.number(value)
            return self.graph.add("pow", (a, b))
        if e == int(e):                      # (c·x^2·y)^3 is c^3·x^6·y^3
            return self.product([a], [e])
        if len(bases) == 1 and bases[0][1] == 1 and coefficient > 0:
            c = _power(coefficient, e)       # (2·x)^0.5 is 2^0.5·x^0.5, for 2 > 0
            if c is not None:
                return self.lower_product(c, {bases[0][0]: e})
        return self.lower_product(1.0, {a: e})

    def function(self, op: str, inputs: tuple[int, ...]) -> int:
        if op in COMMUTATIVE and inputs[0] > inputs[1]:
            inputs = (inputs[1], inputs[0])
        if op in IDEMPOTENT and inputs[0] == inputs[1]:
            return inputs[0]
        values = [self.value_of(i) for i in inputs]
        if None not in values:
            value = OPS[op].forward(*values)
            if value == int(value) and abs(value) < _EXACT if math.isfinite(value) else False:
                return self.number(value)
        return self.graph.add(op, inputs)

    # ---- lowering to binary nodes ----------------------------------------------

    def lower_product(self, coefficient: float, bases: dict[int, float]) -> int:
        """coefficient · Π base^exponent as binary nodes; remembers the form."""
        if coefficient == 0:
            return self.number(0.0)          # a·0 is 0: not IEEE-exact, documented
        items = tuple(sorted((b, e) for b, e in bases.items() if e != 0))
        if not items:
            return self.number(coefficient)
        graph = self.graph
        if coefficient == 1 and len(items) == 1 and items[0][1] == 1:
            return items[0][0]
        scale = coefficient
        # later nodes (larger expressions) first: 2·d·w, cos(x)·x
        numerator = [self._power_node(b, e) for b, e in reversed(items) if e > 0]
        denominator = [self._power_node(b, -e) for b, e in reversed(items) if e < 0]
        result = None
        if numerator:
            result = numerator[0]
            for factor in numerator[1:]:
                result = graph.add("mul", (result, factor))
        if denominator:
            under = denominator[0]
            for factor in denominator[1:]:
                under = graph.add("mul", (under, factor))
            if result is None:
                result = graph.add("div", (self.number(coefficient), under))
                coefficient = 1.0
            else:
                result = graph.add("div", (result, under))
        if coefficient == -1:
            result = graph.add("neg", (result,))
        elif coefficient != 1:
            result = graph.add("mul", (self.number(coefficient), result))
        if (result not in self.products and len(items) <= MAX_TERMS
                and graph.nodes[result].op in ARITHMETIC):
            self.products[result] = (scale, items)
        return result

    def _power_node(self, base: int, exponent: float) -> int:
        if exponent == 1:
            return base
        return self.graph.add("pow", (base, self.number(exponent)))

    def lower_sum(self, constant: float, terms: dict[Bases, float]) -> int:
        """constant + Σ coefficient·term as binary nodes; remembers the form."""
        items = tuple(sorted((b, c) for b, c in terms.items() if c != 0))
        if not items:
            return self.number(constant)
        if constant == 0 and len(items) == 1:
            bases, coefficient = items[0]
            return self.lower_product(coefficient, dict(bases))
        graph = self.graph
        positive = [(b, c) for b, c in items if c > 0]
        negative = [(b, -c) for b, c in items if c < 0]
        result = None
        if constant > 0:
            result = self.number(constant)
        for bases, c in positive:
            term = self.lower_product(c, dict(bases))
            result = term if result is None else graph.add("add", (result, term))
        for bases, c in negative:
            term = self.lower_product(c, dict(bases))
            result = graph.add("neg", (term,)) if result is None else graph.add("sub", (result, term))
        if constant < 0:
            result = graph.add("sub", (result, self.number(-constant)))
        if result not in self.sums and len(items) <= MAX_TERMS:
            self.sums[result] = (constant, items)
        return result


def _power(c: float, e: float) -> Optional[float]:
    """c^e when it is a finite real number; None otherwise."""
    value = OPS["pow"].forward(c, e)
    return value if math.isfinite(value) and value != 0 else None


def rebuild(graph: Graph, target: Optional[Graph] = None) -> tuple[Graph, list[int]]:
    """Every node of `graph` rebuilt through a Simplifier into `target` (a new
    graph by default); returns the target and each old node's new id."""
    target = target if target is not None else Graph(max_nodes=graph.max_nodes)
    simplifier = Simplifier(target)
    mapping: list[int] = []
    for node in graph.nodes:
        if node.op == VAR:
            new = target.input(node.label)
        elif node.op == CONST:
            new = target.constant(node.constant, node.label)
        else:
            new = simplifier.add(node.op, [mapping[i] for i in node.inputs])
        mapping.append(new)
    return target, mapping
