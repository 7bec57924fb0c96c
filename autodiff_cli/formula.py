"""Local partial derivatives as formulas over the user's names.

Each op-table entry writes its partials in adiff's own syntax over
placeholders (ops.PLACEHOLDERS, ops.OUTPUT).  This module parses each
formula once with adiff's parser and turns it into a small Term tree with
the placeholders replaced by the program's names, or by a constant's value
where the input is a constant, so that `d^2` explains itself as `2d`, not
`2 · d^(2−1)`.

Terms are tiny (a formula from the op table over names), so the helpers
below may recurse over them; nothing here walks the program's graph.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional

from .graph import CONST, VAR, Graph
from .ops import OPS, OUTPUT, PLACEHOLDERS

_NUMERAL = re.compile(r"[+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?\Z")


@dataclass(frozen=True)
class Term:
    """A number, a name, or an op-table operation over terms."""
    op: str                        # "num", "name", or an op-table name
    args: tuple["Term", ...] = ()
    value: Optional[float] = None  # for "num"
    text: Optional[str] = None     # a name; a number as written (2, pi), if it was

    @property
    def is_numeral(self) -> bool:
        """A number written with digits (not pi or e, and not computed)."""
        return self.op == "num" and (self.text is None or bool(_NUMERAL.match(self.text)))


def num(value: float, text: Optional[str] = None) -> Term:
    return Term("num", value=value, text=text)


def name(text: str) -> Term:
    return Term("name", text=text)


def operation(op: str, *args: Term) -> Term:
    return Term(op, tuple(args))


@lru_cache(maxsize=None)
def formula_graph(op: str, k: int) -> Graph:
    """The op's partial with respect to input k, parsed by adiff itself."""
    from .parser import parse
    entry = OPS[op]
    if len(entry.formulas) != entry.arity:
        raise KeyError(f"the op table gives no partial formulas for '{op}'")
    return parse(entry.formulas[k], bound=PLACEHOLDERS[entry.arity] + (OUTPUT,))


def partial(op: str, k: int, inputs: tuple[Term, ...], output: Term) -> Term:
    """∂op/∂(input k) as a term, with the placeholders replaced."""
    graph = formula_graph(op, k)
    bound = dict(zip(PLACEHOLDERS[OPS[op].arity], inputs))
    bound[OUTPUT] = output
    terms: list[Term] = []
    for node in graph.nodes:
        if node.op == VAR:
            terms.append(bound[node.label])
        elif node.op == CONST:
            terms.append(num(node.constant, node.label))
        else:
            terms.append(simplify(operation(node.op, *(terms[i] for i in node.inputs))))
    return terms[graph.output]


_FOLDED = {"add", "sub", "mul", "div", "neg", "pow"}


def simplify(term: Term) -> Term:
    """The few rewrites that make a substituted formula read as written by hand.

    Arithmetic on numerals folds (2 - 1 is 1); multiplying by 1 or 0,
    adding 0 and raising to the power 1 vanish.  Named constants (pi) stay.
    """
    args = term.args
    if term.op in _FOLDED and all(a.is_numeral for a in args):
        value = OPS[term.op].forward(*(a.value for a in args))
        if math.isfinite(value):
            return num(value)
    if term.op == "mul":
        a, b = args
        for one, other in ((a, b), (b, a)):
            if one.op == "num" and one.value == 1:
                return other
            if one.op == "num" and one.value == 0 and other.op != "num":
                return num(0.0)
    if term.op in ("add", "sub") and args[1].op == "num" and args[1].value == 0:
        return args[0]
    if term.op == "add" and args[0].op == "num" and args[0].value == 0:
        return args[1]
    if term.op in ("pow", "div") and args[1].op == "num" and args[1].value == 1:
        return args[0]
    if term.op == "neg" and args[0].op == "num":
        return num(-args[0].value)
    return term


def evaluate_term(term: Term, values: Mapping[str, float]) -> float:
    """A term's value, names looked up in `values`: for tests and checks."""
    if term.op == "num":
        return term.value
    if term.op == "name":
        return values[term.text]
    return OPS[term.op].forward(*(evaluate_term(a, values) for a in term.args))

