"""The article's notation: ∂L/∂x = 2·d·w, with · and − and superscripts.

It stays adiff syntax where it can (adiff reads ·, − and x²); the names of
derivatives (∂f/∂x) are for reading, not for reading back: `--format adiff`
is the one for that.
"""

from __future__ import annotations

import math
from typing import Optional

from .base import ATOM, MUL, NEG, POW, Expr, Key, Printer, key_counts

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SYMBOLS = {"*": "·", "-": "−", "/": "/", "^": "^", "+": "+"}


def superscript(n: int) -> str:
    return str(n).translate(_SUPERSCRIPT)


def derivative_name(value: str, key: Key, names: dict[str, str], ascii: bool = False) -> str:
    """∂f/∂x, ∂²f/∂x², ∂²f/∂x∂w; or d2f/dx2, d2f/dxdw in ASCII."""
    if not key:
        return value
    d, power = ("d", str) if ascii else ("∂", superscript)
    order = power(len(key)) if len(key) > 1 else ""
    below = "".join(f"{d}{names.get(n, n)}" + (power(k) if k > 1 else "")
                    for n, k in key_counts(key))
    return f"{d}{order}{value}/{below}"


class TextPrinter(Printer):
    format = "text"

    def symbol(self, operator: str) -> str:
        return _SYMBOLS[operator]

    exact = False

    def _print_mul(self, a: Expr, b: Expr) -> Expr:
        below = MUL if b.op == "mul" else NEG + 1
        return Expr(f"{self.paren(a, MUL)}·{self.paren(b, below)}", MUL, op="mul")

    def _print_div(self, a: Expr, b: Expr) -> Expr:
        return Expr(f"{self.paren(a, MUL)}/{self.paren(b, NEG + 1)}", MUL)

    def _print_pow(self, a: Expr, b: Expr) -> Expr:
        c = b.constant
        if c is not None and math.isfinite(c) and c == int(c) and abs(c) < 1000:
            return Expr(self.paren(a, ATOM) + superscript(int(c)), POW)
        return Expr(f"{self.paren(a, ATOM)}^{self.paren(b, ATOM)}", POW)

    def named_constant(self, label: str) -> Optional[str]:
        if label in self.graph.inputs or label in self.taken:
            return None
        return "π" if label == "pi" else label

    def infinity(self) -> str:
        return "∞"

    def nan(self) -> str:
        return "NaN"

    def output_name(self, key: Key) -> str:
        return derivative_name(self.value_name(), key, self.input_names)


def number_text(x: float) -> str:
    from ..render.explain import number_text as text
    return text(x)


def render(printer: TextPrinter) -> str:
    lines = []
    values = printer.values
    for name, text, node in printer.statements():
        line = f"{name} = {text}"
        if values is not None and node is not None:
            shown = number_text(values[node])
            if shown != text:
                line += f" = {shown}"
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def render_graph(graph, inline: bool = False, values=None, keys=None, **_ignored) -> str:
    """Each derivative on one line, shared subexpressions defined first."""
    keys = [k for k in graph.outputs if k] if keys is None else keys
    return render(TextPrinter(graph, keys or [()], inline=inline, values=values))
