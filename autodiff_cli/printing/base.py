"""What every printer shares: which nodes become named statements, and how
an expression is put together from its operands, with precedence in one place.

A printer reads any graph with outputs (a parsed program, a derivative
graph): the outputs it is asked for, and only the nodes they reach.  A node
used more than once becomes a named definition (the user's label when the
program gave one, else t1, t2, ...), as SymPy's `cse` names its
replacements; so does a node that would nest too deeply, because CPython
refuses expressions nested more than about 200 levels and C compilers slow
down on deep nesting.  Everything else prints inline in its single user.

Every walk is a loop over the node list, never recursion: a chain of 10^5
statements prints like a short one.  Targets subclass `Printer`: a method
per structural op (`_print_add`, ..., `_print_function`), a table of
function names, and how numbers and names are spelled.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from ..errors import AdiffError
from ..graph import CONST, VAR, Graph
from ..ops import OPS

# ---- precedence, in one place ----------------------------------------------------

ADD = 1      # a + b, a - b
MUL = 2      # a * b, a / b
NEG = 3      # -a, and negative numbers
POW = 4      # a ^ b
ATOM = 5     # names, numbers, calls, anything in parentheses

PRECEDENCE = {"add": ADD, "sub": ADD, "mul": MUL, "div": MUL, "neg": NEG, "pow": POW}

# past this many levels of nesting, a node becomes a statement of its own
MAX_DEPTH = 40
# --inline repeats shared subexpressions: refuse answers past this many characters
MAX_INLINE_CHARS = 2_000_000

Key = tuple  # an output's key: () for the value, ("x",) for d/dx, ...


@dataclass(frozen=True)
class Expr:
    """An expression's text and the precedence of its outermost operator.

    `positive` is the expression without its leading minus, for a negation
    or a negative number, so that `a + -b` prints as `a - b` (the same IEEE
    operation); `constant` is the value of a number, for targets that treat
    division by a known non-zero number specially."""
    text: str
    precedence: int = ATOM
    positive: Optional["Expr"] = None
    constant: Optional[float] = None
    op: Optional[str] = None


def key_counts(key: Key) -> list[tuple[str, int]]:
    """("x", "x", "w") -> [("x", 2), ("w", 1)]: the variables of a derivative, in order."""
    counts: dict[str, int] = {}
    for name in key:
        counts[name] = counts.get(name, 0) + 1
    return list(counts.items())


def ascii_identifier(name: str) -> str:
    """An ASCII identifier for a name: θ is theta, w₁ is w1, anything else _uXXXX."""
    out = []
    for char in name:
        if char.isascii() and (char.isalnum() or char == "_"):
            out.append(char)
            continue
        described = unicodedata.name(char, "")
        if described.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
            word = described.split(" LETTER ", 1)[1].lower()
            out.append(word if described.startswith("GREEK SMALL") else word.capitalize())
        elif described.startswith("SUBSCRIPT ") or unicodedata.digit(char, None) is not None:
            digit = unicodedata.digit(char, None)
            out.append(str(digit) if digit is not None else f"_u{ord(char):04x}")
        else:
            out.append(f"_u{ord(char):04x}")
    text = "".join(out)
    return text if text and not text[0].isdigit() else "_" + text


class Printer:
    """One target notation.  Subclasses override the op methods and tables."""

    format = "base"
    # function name in the target, by op-table name
    functions: dict[str, str] = {name: name for name, op in OPS.items() if op.callable}
    # names a target reserves (keywords, its library's functions)
    reserved: frozenset = frozenset()
    max_depth = MAX_DEPTH
    # whether --inline still breaks past max_depth (code must compile)
    breaks_inline = False
    # code keeps every parenthesis of the graph (IEEE arithmetic is not associative);
    # notations for reading drop those algebra does not need: 2·d·w, a + b + c
    exact = True
    use_labels = True

    def prepare(self, statements: int) -> None:
        """Told how many statements there will be, before names are chosen."""

    def __init__(self, graph: Graph, keys: Optional[Sequence[Key]] = None, inline: bool = False,
                 values: Optional[Sequence[float]] = None, names: Optional[dict] = None):
        # names: each key's name, given by the caller (a Jacobian's R, dR_dv)
        self.given_names = names
        if not graph.outputs and graph.output is not None:
            graph.outputs = {(): graph.output}
        self.graph = graph
        self.keys = list(graph.outputs) if keys is None else list(keys)
        self.inline = inline
        self.values = values
        self.used_functions: set[str] = set()
        self._layout()

    # ---- which nodes are named --------------------------------------------------

    def _layout(self) -> None:
        graph, nodes = self.graph, self.graph.nodes
        roots = [graph.outputs[key] for key in self.keys]
        live = [False] * len(nodes)
        uses = [0] * len(nodes)
        for root in roots:
            live[root] = True
            uses[root] += 1
        for i in range(max(roots, default=-1), -1, -1):
            if live[i]:
                for j in nodes[i].inputs:
                    live[j] = True
                    uses[j] += 1
        self.live = live
        self.uses = uses
        # a definition: shared, or too deep to nest; inputs and numbers never are
        defined = [False] * len(nodes)
        depth = [0] * len(nodes)
        inline_size = [0] * len(nodes)
        break_deep = not self.inline or self.breaks_inline
        for node in nodes:
            i = node.id
            if not live[i] or not node.inputs:
                inline_size[i] = 1
                continue
            if uses[i] > 1 and not self.inline:
                defined[i] = True
            deepest = max((0 if defined[j] else depth[j]) for j in node.inputs)
            depth[i] = deepest + 1
            if depth[i] >= self.max_depth and break_deep:
                defined[i] = True
                depth[i] = 0
            if self.inline:
                inline_size[i] = 1 + sum(1 if defined[j] else inline_size[j] for j in node.inputs)
                if inline_size[i] > MAX_INLINE_CHARS:
                    raise AdiffError("too_large", "the answer is too large to print inline",
                                     hint="leave out --inline: shared subexpressions are then named once")
            if defined[i]:
                depth[i] = 0
        self.defined = defined
        self.order = self._emission_order()
        self.prepare(sum(defined) + len(self.keys))
        self._name_nodes(roots)

    def _emission_order(self) -> list:
        """Statements in the order they print: for each output in turn, the
        definitions it needs that are not out yet (in topological order), then
        the output itself.  Definitions thus sit just above their first use."""
        nodes, defined = self.graph.nodes, self.defined
        seen = bytearray(len(nodes))
        order: list = []
        for key in self.keys:
            root = self.graph.outputs[key]
            needed = []
            stack = [root]
            while stack:
                i = stack.pop()
                if seen[i]:
                    continue
                seen[i] = 1
                if defined[i]:
                    needed.append(i)
                stack.extend(j for j in nodes[i].inputs if not seen[j])
            needed.sort()
            order += [("def", i) for i in needed]
            order.append(("out", key))
        return order

    def _name_nodes(self, roots: list[int]) -> None:
        graph = self.graph
        self.input_names = self._input_names()
        taken = set(self.input_names.values()) | set(self.reserved)
        self.output_names: dict[Key, str] = {}
        for key in self.keys:
            self.output_names[key] = self._unique(self.key_name(key), taken)
        first_key = {}
        for key in self.keys:
            first_key.setdefault(graph.outputs[key], key)
        labels: dict[str, int] = {}
        for node in graph.nodes:
            if self.defined[node.id] and node.label is not None and node.op not in (VAR, CONST):
                labels[node.label] = labels.get(node.label, 0) + 1
        self.names: dict[int, str] = {}
        pending = []
        for kind, i in self.order:
            if kind != "def":
                continue
            node = graph.nodes[i]
            label = node.label if self.use_labels else None
            if label is not None and labels.get(label) == 1:
                name = self.identifier(label)
                if name not in taken:
                    taken.add(name)
                    self.names[i] = name
                    continue
            if i in first_key:
                self.names[i] = self.output_names[first_key[i]]
                continue
            pending.append(i)
        counter = 0
        for i in pending:
            while True:
                counter += 1
                name = self.temporary(counter)
                if name not in taken:
                    break
            taken.add(name)
            self.names[i] = name
        self.taken = taken

    def _input_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        taken = set(self.reserved)
        for name in self.graph.inputs:
            names[name] = self._unique(self.identifier(name), taken)
        return names

    # appended to a name until it is unique
    suffix = "_"

    def _unique(self, name: str, taken: set) -> str:
        while name in taken:
            name += self.suffix
        taken.add(name)
        return name

    # ---- the statements ----------------------------------------------------------

    def statements(self) -> Iterable[tuple[str, str, Optional[int]]]:
        """(name, expression, node) for each definition in order, then for each
        output not already defined under its own name."""
        nodes = self.graph.nodes
        texts: dict = {}   # a definition's text by node, an inline output's by key
        roots = {}
        for key in self.keys:
            roots.setdefault(self.graph.outputs[key], []).append(key)
        exprs: dict[int, Expr] = {}
        remaining = list(self.uses)  # inline operands are dropped after their last use
        for node in nodes:
            i = node.id
            if not self.live[i]:
                continue
            if node.op == VAR:
                expr = Expr(self.input_names[node.label])
            elif node.op == CONST:
                expr = self.constant(node.constant, node.label)
            else:
                operands = []
                for j in node.inputs:
                    if self.defined[j]:
                        operands.append(Expr(self.names[j]))
                    else:
                        operands.append(exprs[j])
                        remaining[j] -= 1
                        if remaining[j] == 0 and not self.inline:
                            del exprs[j]
                expr = self.operation(node.op, operands)
            if self.defined[i]:
                texts[i] = expr.text
            else:
                exprs[i] = expr
                for key in roots.get(i, ()):
                    texts[key] = expr.text
        for kind, item in self.order:
            if kind == "def":
                yield self.names[item], texts.pop(item), item
                continue
            i = self.graph.outputs[item]
            name = self.output_names[item]
            if self.defined[i]:
                if self.names[i] != name:
                    yield name, self.names[i], i
            else:
                yield name, texts.pop(item), i

    def ref(self, node: int) -> str:
        """A node's name where it is defined."""
        return self.names[node]

    # ---- expressions -------------------------------------------------------------

    def operation(self, op: str, args: list[Expr]) -> Expr:
        method = getattr(self, f"_print_{op}", None)
        if method is not None:
            return method(*args)
        self.used_functions.add(op)
        return self._print_function(op, args)

    def paren(self, expr: Expr, below: int) -> str:
        """expr's text, in parentheses when its precedence is below `below`."""
        return f"({expr.text})" if expr.precedence < below else expr.text

    def _print_add(self, a: Expr, b: Expr) -> Expr:
        if b.positive is not None:
            return self._infix(a, "-", b.positive)
        return self._infix(a, "+", b)

    def _print_sub(self, a: Expr, b: Expr) -> Expr:
        if b.positive is not None:
            return self._infix(a, "+", b.positive)
        return self._infix(a, "-", b)

    def _infix(self, a: Expr, sign: str, b: Expr) -> Expr:
        # floating-point addition is not associative: code keeps a + (b + c) as it is;
        # notations for reading drop what algebra does not need
        loose = not self.exact and sign == "+" and b.positive is None
        return Expr(f"{a.text} {self.symbol(sign)} {self.paren(b, ADD if loose else ADD + 1)}", ADD)

    def _print_mul(self, a: Expr, b: Expr) -> Expr:
        below = MUL if not self.exact and b.op == "mul" else NEG + 1
        return Expr(f"{self.paren(a, MUL)} {self.symbol('*')} {self.paren(b, below)}", MUL, op="mul")

    def _print_div(self, a: Expr, b: Expr) -> Expr:
        return Expr(f"{self.paren(a, MUL)} {self.symbol('/')} {self.paren(b, NEG + 1)}", MUL)

    def _print_neg(self, a: Expr) -> Expr:
        return Expr(f"{self.symbol('-')}{self.paren(a, NEG + 1)}", NEG, positive=a)

    def _print_pow(self, a: Expr, b: Expr) -> Expr:
        return Expr(f"{self.paren(a, ATOM)}{self.symbol('^')}{self.paren(b, POW)}", POW)

    def _print_function(self, op: str, args: list[Expr]) -> Expr:
        inner = ", ".join(a.text for a in args)
        return Expr(f"{self.functions[op]}({inner})")

    def symbol(self, operator: str) -> str:
        return operator

    # ---- numbers and names -------------------------------------------------------

    def constant(self, value: float, label: Optional[str]) -> Expr:
        if value != value:
            return Expr(self.nan())
        if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
            positive = self.constant(-value, None)
            return Expr(f"{self.symbol('-')}{positive.text}", NEG, positive=positive, constant=value)
        if math.isinf(value):
            return Expr(self.infinity(), constant=value)
        if label in ("pi", "e") and value == {"pi": math.pi, "e": math.e}[label]:
            named = self.named_constant(label)
            if named is not None:
                return Expr(named, constant=value)
        return Expr(self.number(value), constant=value)

    def number(self, value: float) -> str:
        """A non-negative finite number, exactly (it reads back as the same double)."""
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text

    def named_constant(self, label: str) -> Optional[str]:
        """pi and e by name, unless the program uses the name for something else."""
        return None if label in self.graph.inputs or label in self.taken else label

    def infinity(self) -> str:
        return "1e999"

    def nan(self) -> str:
        return "(0/0)"

    def identifier(self, name: str) -> str:
        """An input's or a label's name in the target."""
        return name

    def temporary(self, k: int) -> str:
        return f"t{k}"

    def value_name(self) -> str:
        """The program's value: the user's name for it, else f (or g, h, ...)."""
        node = self.graph.nodes[self.graph.outputs[()]] if () in self.graph.outputs else None
        if node is not None and node.label is not None and node.op not in (VAR, CONST):
            return node.label
        for name in ("f", "g", "h", "F", "out"):
            if name not in self.graph.inputs:
                return name
        return "out_"

    def key_name(self, key: Key) -> str:
        """An output's name: the caller's, else output_name's."""
        return self.output_name(key) if self.given_names is None else self.given_names[key]

    def output_name(self, key: Key) -> str:
        """d2f_dx2, d2f_dx_dw, df_dx: an identifier for each output."""
        value = self.identifier(self.value_name())
        if not key:
            return value
        parts = [self.input_names.get(n, self.identifier(n)) + (str(k) if k > 1 else "")
                 for n, k in key_counts(key)]
        order = str(len(key)) if len(key) > 1 else ""
        return f"d{order}{value}_d" + "_d".join(parts)


class CodePrinter(Printer):
    """A printer of code that runs (Python, C): numbers exactly as repr writes
    them, and each helper function (`helper_code`: name -> its source) emitted
    only when the program uses it."""
    helper_code: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        self.helpers: set[str] = set()
        super().__init__(*args, **kwargs)

    def _print_function(self, op, args):
        name = self.functions[op]
        if name in self.helper_code:
            self.helpers.add(name)
        return Expr(f"{name}({', '.join(a.text for a in args)})", ATOM)

    def number(self, value: float) -> str:
        return repr(value)
