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
it merges; forms larger than MAX_TERMS (sums) or MAX_FACTORS (products)
are not merged further (the node becomes an atom), so a 10^5-term sum or a
10^4-deep chain of products is built in linear time.

The program's own nodes, built without the simplifier, are read into
these forms once (read), so that the numbers the user wrote fold in the
derivatives (0.5·m·v² by v is m·v).

Two switches, which the symbolic pass sets: `expand` multiplies out
products of small sums (c·(a + b)·m is c·a·m + c·b·m) so that like terms
of a later derivative meet; `group` lowers a sum with its common factors
taken out (2·a·b + 2·a·c as 2·a·(b + c)), which prints smaller.

Not IEEE-exact, as in every computer algebra system: a·0 is 0 (inf·0 is
NaN), a − a is 0 and x/x is 1 (NaN at x = NaN or 0), x^a·x^b is x^(a+b),
sqrt(u)^2 is u, 0^y is 0.  What it does not do: search, factor beyond a
sum's common factors, cancel common factors of a numerator and a
denominator that are sums, expand large products or powers of sums, or
apply function identities (log(exp(x)) stays).
"""

from __future__ import annotations

import math
import re
from typing import Iterable, Optional, Sequence

from .graph import CONST, Graph
from .ops import OPS

# algebraic facts, as data (tinygrad keeps them so)
COMMUTATIVE = {"add", "mul", "max", "min"}
IDEMPOTENT = {"max", "min"}          # max(a, a) is a
ARITHMETIC = {"add", "sub", "mul", "div", "neg", "pow"}   # what the normal forms absorb
IDENTITY = {"add": 0.0, "mul": 1.0}
ABSORBING = {"mul": 0.0}             # a·0 is 0: not IEEE-exact, documented

# a sum or product with more entries than this is not merged into larger ones
MAX_TERMS = 256
# a product with more bases than this is not merged into larger ones: a chain
# of n products (the adjoints along a deep program) stays linear
MAX_FACTORS = 12
# sums with more terms are not grouped (the greedy grouping is quadratic in them)
GROUP_TERMS = 32
# a product of small sums is multiplied out when the result has at most this many terms
EXPAND_TERMS = 256
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

    def __init__(self, graph: Graph, expand: bool = True, group: bool = False):
        self.graph = graph
        self.expand = expand   # multiply out products of small sums
        self.group = group     # lower sums with common factors taken out
        self.sums: dict[int, tuple[float, Terms]] = {}
        self.numerals: set = set()   # labels of constants known to be numerals
        self.lowered: dict[tuple[float, Bases], int] = {}      # a product form -> its node
        self.chains: dict[tuple[tuple[int, float], ...], int] = {}  # factors -> their product
        self.products: dict[int, tuple[float, Bases]] = {}
        self.folded: set[int] = set()   # nodes read() gave a form in which numbers fold

    # ---- leaves ----------------------------------------------------------------

    def number(self, value: float) -> int:
        value = float(value) + 0.0   # -0.0 is 0 here
        return self.graph.constant(value, number_text(value))

    def value_of(self, node: int) -> Optional[float]:
        """The node's number, when it is a numeral (not pi or e: those stay named)."""
        n = self.graph.nodes[node]
        if n.op != CONST:
            return None
        label = n.label
        if label is None or label in self.numerals or _NUMERAL.match(label):
            self.numerals.add(label)
            return n.constant
        return None

    def read(self) -> None:
        """Give the graph's nodes, built without the simplifier (the
        program's own), the product form their numbers fold
        and their powers merge to: the derivative of 0.5·m·v² by v is m·v,
        not 2·0.5·m·v; 3*0.1 is one number; x^3·sqrt(x) is x^3.5.

        Folding is in double arithmetic, one rounding per operation, as the
        program computes it (3*0.1 is 0.30000000000000004, as `adiff eval`
        has it), so the derivative's numbers are the program's.  Only a
        node whose form folds a number or merges a base is replaced where
        the derivative uses it (folded_form); the others keep their node, so
        the program's structure prints as written, and the program's nodes
        themselves are never rewritten.  One loop in node order, each form built from
        its inputs'."""
        nodes, products, value_of = self.graph.nodes, self.products, self.value_of
        for i in range(len(nodes)):
            node = nodes[i]
            if (node.op not in ARITHMETIC and node.op != "sqrt") or i in products:
                continue
            forms = [self.product_form(j) for j in node.inputs]
            if all(not bases for _, bases in forms):      # numbers only: fold them
                value = OPS[node.op].forward(*(c for c, _ in forms))
                if math.isfinite(value):
                    products[i] = (value + 0.0, ())
                    self.folded.add(i)
                continue
            op = node.op
            if op == "sqrt" or (op == "pow" and value_of(node.inputs[1]) is not None):
                e = 0.5 if op == "sqrt" else value_of(node.inputs[1])
                (c, bases) = forms[0]
                if e != int(e) and not (c == 1 and len(bases) == 1 and bases[0][1] == 1):
                    continue      # (x·y)^0.5 is not x^0.5·y^0.5 for x, y < 0
                coefficient, scaled = _power(c, e), [((b, x * e),) for b, x in bases]
                forms, signs = [(1.0, sum(scaled, ()))], (1.0,)
                if coefficient is None:
                    continue
            elif op == "mul":
                coefficient, signs = forms[0][0] * forms[1][0], (1.0, 1.0)
            elif op == "div" and forms[1][0] != 0:
                coefficient, signs = forms[0][0] / forms[1][0], (1.0, -1.0)
            else:
                continue          # sums stay as written; -x stays -x
            bases_in = sum(len(bases) for _, bases in forms)
            merged: dict[int, float] = {}
            for (_, bases), sign in zip(forms, signs):
                for base, exponent in bases:
                    merged[base] = merged.get(base, 0.0) + sign * exponent
            items = tuple(sorted((b, e) for b, e in merged.items() if e != 0))
            if not (math.isfinite(coefficient) and coefficient != 0 and len(items) <= MAX_FACTORS):
                continue
            if coefficient == 1 and len(items) == bases_in:
                # nothing folds or merges: printed as written, but its form
                # is known, as for the products built here (sqrt(x)^2·y is
                # x·y, (1/u)·(1/u) is u^-2)
                products[i] = (1.0, items)
            else:
                products[i] = (coefficient, items)
                self.folded.add(i)

    def folded_form(self, node: int) -> int:
        """The node, or the node its numbers fold to when it is one read()
        gave a form: 2·x·3 is 6·x."""
        if node not in self.folded:
            return node
        coefficient, items = self.products[node]
        return self.lower_product(coefficient, dict(items))

    # ---- the forms of a node ---------------------------------------------------

    def product_form(self, node: int) -> tuple[float, Bases]:
        form = self.products.get(node)
        if form is not None:
            return form
        value = self.value_of(node)
        if value is not None:
            return value, ()
        n = self.graph.nodes[node]
        if n.op == "pow" and self.value_of(n.inputs[0]) == 0:
            return 0.0, ()   # 0^y is 0 for y > 0, as a·0 is 0 (its derivative in y is 0)
        return 1.0, ((node, 1.0),)

    def sum_form(self, node: int) -> tuple[float, Terms]:
        form = self.sums.get(node)
        if form is not None:
            return form
        value = self.value_of(node)
        if value is not None:
            return value, ()
        coefficient, bases = self.product_form(node)
        if not bases:
            return coefficient, ()
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
        constant = IDENTITY["add"]
        merged: dict[Bases, float] = {}
        for node, scale in terms:
            k, form = self.sum_form(node)
            constant += scale * k
            for bases, coefficient in form:
                merged[bases] = merged.get(bases, 0.0) + scale * coefficient
        if not (math.isfinite(constant) and all(map(math.isfinite, merged.values()))):
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

    def product(self, factors: Sequence[int], exponents: Optional[Sequence[float]] = None) -> int:
        """Π node^exponent, in normal form."""
        if exponents is None and len(factors) == 2:   # the common case: upstream × partial
            a, b = factors
            if self.value_of(a) == 1:
                return self.folded_form(b)
            if self.value_of(b) == 1:
                return self.folded_form(a)
        coefficient = IDENTITY["mul"]
        merged: dict[int, float] = {}
        factors = list(factors)
        for n, node in enumerate(factors):
            e = 1.0 if exponents is None else exponents[n]
            c, bases = self.product_form(node)
            if len(bases) > MAX_FACTORS:
                c, bases = 1.0, ((node, 1.0),)
            if c == ABSORBING["mul"] and e > 0:
                return self.number(c)        # a·0 is 0: not IEEE-exact, documented
            if c != 1:
                c = _power(c, e)
                if c is None:
                    return self._raw_product(factors, exponents)
            coefficient *= c
            for base, exponent in bases:
                merged[base] = merged.get(base, 0.0) + exponent * e
        if not math.isfinite(coefficient):
            return self._raw_product(factors, exponents)
        if self.expand:
            expanded = self._distribute(coefficient, merged)
            if expanded is not None:
                return expanded
        return self.lower_product(coefficient, merged)

    def _distribute(self, coefficient: float, merged: dict[int, float]) -> Optional[int]:
        """c·(a + b)·m as c·a·m + c·b·m, when the sums are small (at most
        EXPAND_TERMS terms in the result): flat sums of products let like
        terms meet, as in SymPy's derivatives; larger ones stay factored."""
        sums = [b for b, e in merged.items() if e == 1 and b in self.sums]
        if not sums:
            return None
        size = 1
        for b in sums:
            size *= len(self.sums[b][1]) + (self.sums[b][0] != 0)
        if size > EXPAND_TERMS:
            return None
        rest = {b: e for b, e in merged.items() if not (e == 1 and b in self.sums)}
        partial: list[tuple[float, dict[int, float]]] = [(coefficient, rest)]
        for b in sums:
            constant, terms = self.sums[b]
            choices = list(terms) + ([((), constant)] if constant != 0 else [])
            grown = []
            for c, bases in partial:
                for term_bases, term_c in choices:
                    combined = dict(bases)
                    for base, e in term_bases:
                        combined[base] = combined.get(base, 0.0) + e
                    grown.append((c * term_c, combined))
            partial = grown
        constant = 0.0
        result: dict[Bases, float] = {}
        for c, bases in partial:
            key = tuple(sorted((b, e) for b, e in bases.items() if e != 0))
            if key:
                result[key] = result.get(key, 0.0) + c
            else:
                constant += c
        return self.lower_sum(constant, result)

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
            if math.isfinite(value) and value == int(value) and abs(value) < _EXACT:
                return self.number(value)
        node = self.graph.add(op, inputs)
        if op == "sqrt":   # sqrt(u) is u^(1/2) to the normal forms: sqrt(u)^2·v is u·v
            self._remember(node, 1.0, ((inputs[0], 0.5),))
        return node

    # ---- lowering to binary nodes ----------------------------------------------

    def lower_product(self, coefficient: float, bases: dict[int, float]) -> int:
        """coefficient · Π base^exponent as binary nodes; remembers the form."""
        if coefficient == 0:
            return self.number(0.0)          # a·0 is 0: not IEEE-exact, documented
        items = tuple(sorted((b, e) for b, e in bases.items() if e != 0))
        if not items:
            return self.number(coefficient)
        if coefficient == 1 and len(items) == 1 and items[0][1] == 1:
            return items[0][0]
        key = (coefficient, items)
        found = self.lowered.get(key)
        if found is not None:
            return found
        self.lowered[key] = result = self._lower_product(coefficient, items)
        return result

    def _lower_product(self, coefficient: float, items: Bases) -> int:
        graph = self.graph
        # in node order: a product extended by a newer factor shares its prefix
        above = [(b, e) for b, e in items if e > 0]
        below = [(b, -e) for b, e in items if e < 0]
        numerator = self._chain(above)
        denominator = self._chain(below)
        result = numerator
        if denominator is not None:
            if result is None:
                result = graph.add("div", (self.number(coefficient), denominator))
                self._remember(result, coefficient, items)
                return result
            result = graph.add("div", (result, denominator))
            self._remember(result, 1.0, items)
        if coefficient == -1:
            result = graph.add("neg", (result,))
        elif coefficient != 1:
            result = graph.add("mul", (self.number(coefficient), result))
        self._remember(result, coefficient, items)
        return result

    def _chain(self, factors: list[tuple[int, float]]) -> Optional[int]:
        """f1^e1 · f2^e2 · ..., left to right; each partial product remembers its form."""
        if not factors:
            return None
        graph = self.graph
        # the longest prefix lowered before: extending a product costs one node
        start = len(factors)
        while start > 0 and tuple(factors[:start]) not in self.chains:
            start -= 1
            if len(factors) - start > 2:
                start = 0
                break
        result = self.chains[tuple(factors[:start])] if start else None
        done: list[tuple[int, float]] = list(factors[:start])
        for base, exponent in factors[start:]:
            factor = base
            if exponent == 0.5:
                factor = graph.add("sqrt", (base,))
                self._remember(factor, 1.0, ((base, exponent),))
            elif exponent != 1:
                factor = graph.add("pow", (base, self.number(exponent)))
                self._remember(factor, 1.0, ((base, exponent),))
            done.append((base, exponent))
            if result is None:
                result = factor
            else:
                result = self._commutative("mul", result, factor)
                if len(done) <= MAX_FACTORS:
                    self._remember(result, 1.0, tuple(sorted(done)))
            self.chains[tuple(done)] = result
        return result

    def _commutative(self, op: str, a: int, b: int) -> int:
        """op(a, b), or the node op(b, a) when the graph has it already (x·w and w·x)."""
        found = self.graph._shared.get((op, (b, a)))
        return found if found is not None else self.graph.add(op, (a, b))

    def _remember(self, node: int, coefficient: float, items: Bases) -> None:
        if (node not in self.products and len(items) <= MAX_FACTORS
                and self.graph.nodes[node].op in ARITHMETIC | {"sqrt"}):
            self.products[node] = (coefficient, items)

    def lower_sum(self, constant: float, terms: dict[Bases, float]) -> int:
        """constant + Σ coefficient·term as binary nodes; remembers the form."""
        items = tuple(sorted((b, c) for b, c in terms.items() if c != 0))
        if not items:
            return self.number(constant)
        if constant == 0 and len(items) == 1:
            bases, coefficient = items[0]
            return self.lower_product(coefficient, dict(bases))
        if len(items) > MAX_TERMS:
            return self._lower_flat(constant, items)
        if self.group and len(items) <= GROUP_TERMS:
            result = self._lower_grouped(constant, items)
        else:
            result = self._lower_flat(constant, items)
        if self.graph.nodes[result].op in ARITHMETIC:
            self.sums[result] = (constant, items)   # the flat form, whatever the grouping
        return result

    def _lower_grouped(self, constant: float, items: Terms) -> int:
        """Common factors taken out, greedily (a multivariate Horner scheme):
        the base in most terms first, as SymPy's cse would find it.  Local:
        the work is bounded by the form's size (at most GROUP_TERMS terms)."""
        terms = list(items)
        while True:
            counts: dict[int, int] = {}
            for bases, _ in terms:
                for base, _ in bases:
                    counts[base] = counts.get(base, 0) + 1
            best = max(counts.items(), key=lambda item: (item[1], item[0]), default=(None, 0))
            if best[1] < 2:
                scale = abs(terms[0][1])
                if constant == 0 and len(terms) > 1 and scale != 1 and all(abs(c) == scale for _, c in terms):
                    # 2·a + 2·b as 2·(a + b)
                    sign = -1.0 if all(c < 0 for _, c in terms) else 1.0
                    inner = self._lower_flat(0.0, tuple((b, c / (scale * sign)) for b, c in terms))
                    return self.graph.add("mul", (self.number(scale * sign), inner))
                return self._lower_flat(constant, tuple(terms))
            base = best[0]
            having = [(dict(bases), c) for bases, c in terms if any(b == base for b, _ in bases)]
            others = [(bases, c) for bases, c in terms if not any(b == base for b, _ in bases)]
            exponent = min(bases[base] for bases, _ in having)
            # the common numeric factor too, when every term has it (2·a·b + 4·a·c)
            scale = min((abs(c) for _, c in having), default=1.0)
            if any(c / scale != int(c / scale) for _, c in having):
                scale = 1.0
            if all(c < 0 for _, c in having):
                scale = -scale
            inner_constant = 0.0
            inner: dict[Bases, float] = {}
            for bases, c in having:
                bases[base] -= exponent
                key = tuple(sorted((b, e) for b, e in bases.items() if e != 0))
                if key:
                    inner[key] = inner.get(key, 0.0) + c / scale
                else:
                    inner_constant += c / scale
            group = self.lower_sum(inner_constant, inner)
            factor = self.lower_product(1.0, {base: exponent, group: 1.0}) if group != base \
                else self.lower_product(1.0, {base: exponent + 1.0})
            terms = others + [(((factor, 1.0),), scale)]

    def _lower_flat(self, constant: float, items) -> int:
        """constant + Σ terms, left to right: positive terms first, then the
        negative ones subtracted; a positive constant leads (1 - x^2), a
        negative one trails (x - 1)."""
        graph = self.graph
        ordered = [(b, c) for b, c in items if c > 0] + [(b, c) for b, c in items if c < 0]
        result = self.number(constant) if constant > 0 else None
        for bases, c in ordered:
            term = self.lower_product(abs(c), dict(bases))
            if result is None:
                result = term if c > 0 else graph.add("neg", (term,))
                if c < 0:
                    self._remember(result, c, bases)
            else:
                result = self._commutative("add", result, term) if c > 0 else graph.add("sub", (result, term))
        if constant < 0:
            result = graph.add("sub", (result, self.number(-constant)))
        return result


def _power(c: float, e: float) -> Optional[float]:
    """c^e when it is a finite real number; None otherwise."""
    value = OPS["pow"].forward(c, e)
    return value if math.isfinite(value) and value != 0 else None
