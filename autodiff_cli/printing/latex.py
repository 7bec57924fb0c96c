r"""LaTeX: an `aligned` block, one line per definition and derivative, with
\frac{\partial f}{\partial x}, \cdot, \sqrt{} and fractions.  It compiles
with pdflatex (amsmath) and renders in MathJax and KaTeX."""

from __future__ import annotations

import unicodedata
from typing import Optional

from ..render.explain import LATEX_FUNCTIONS, latex_call, latex_escape, name_latex
from .base import ATOM, MUL, NEG, POW, Expr, Key, Printer, key_counts



_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
          "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
          "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
          "Omega"}


class LatexPrinter(Printer):
    format = "latex"
    functions = {name: LATEX_FUNCTIONS.get(name, rf"\operatorname{{{latex_escape(name)}}}")
                 for name in Printer.functions}
    max_depth = 12   # a formula deeper than this does not read, or fit a page

    def paren(self, expr: Expr, below: int) -> str:
        return rf"\left({expr.text}\right)" if expr.precedence < below else expr.text

    exact = False

    def _print_mul(self, a: Expr, b: Expr) -> Expr:
        below = MUL if b.op == "mul" else NEG + 1
        return Expr(rf"{self.paren(a, MUL)} \cdot {self.paren(b, below)}", MUL, op="mul")

    def _print_div(self, a: Expr, b: Expr) -> Expr:
        # a fraction binds like a power: it needs parentheses only as a base
        return Expr(rf"\frac{{{a.text}}}{{{b.text}}}", POW)

    def _print_pow(self, a: Expr, b: Expr) -> Expr:
        return Expr(f"{self.paren(a, ATOM)}^{{{b.text}}}", POW)

    def _print_function(self, op, args):
        return Expr(latex_call(op, ", ".join(a.text for a in args)))

    def number(self, value: float) -> str:
        text = super().number(value)
        mantissa, e, exponent = text.partition("e")
        if e:
            return rf"{mantissa} \times 10^{{{int(exponent)}}}"
        return text

    def constant(self, value, label):
        expr = super().constant(value, label)
        if "times" in expr.text:  # 1.5 \times 10^{-7} is a product
            return Expr(expr.text, MUL, expr.positive, expr.constant)
        return expr

    def named_constant(self, label: str) -> Optional[str]:
        if label in self.graph.inputs or label in self.taken:
            return None
        return r"\pi" if label == "pi" else "e"

    def infinity(self) -> str:
        return r"\infty"

    def nan(self) -> str:
        return r"\mathrm{NaN}"

    suffix = "'"   # w_{1} and w_{1}' (from w1 and w₁), never w_{1}_

    def identifier(self, name: str) -> str:
        # Greek letters as commands, so that pdflatex needs no Unicode set-up
        head = name[:1]
        described = unicodedata.name(head, "") if head else ""
        if described.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
            word = described.split(" LETTER ", 1)[1].lower()
            if described.startswith("GREEK CAPITAL"):
                word = word.capitalize()
            rest = name_latex("a" + name[1:])[1:] if len(name) > 1 else ""
            word = {"lamda": "lambda", "Lamda": "Lambda"}.get(word, word)
            if word in _GREEK and (not rest or rest.startswith("_")):
                return f"\\{word}{{}}{rest}" if rest else f"\\{word}"
        return name_latex(name)

    def temporary(self, k: int) -> str:
        return f"t_{{{k}}}"

    def output_name(self, key: Key) -> str:
        value = self.identifier(self.value_name())
        if not key:
            return value
        order = f"^{{{len(key)}}}" if len(key) > 1 else ""
        below = r" ".join(rf"\partial {self.input_names.get(n, n)}" + (f"^{{{k}}}" if k > 1 else "")
                          for n, k in key_counts(key))
        return rf"\frac{{\partial{order} {value}}}{{{below}}}"


def render(printer: LatexPrinter) -> str:
    lines = [r"\begin{aligned}"]
    rows = [f"{name} &= {text}" for name, text, _node in printer.statements()]
    lines += [row + r" \\" for row in rows[:-1]] + rows[-1:]
    lines.append(r"\end{aligned}")
    return "\n".join(lines) + "\n"


def render_graph(graph, inline: bool = False, keys=None, **_ignored) -> str:
    keys = [k for k in graph.outputs if k] if keys is None else keys
    return render(LatexPrinter(graph, keys or [()], inline=inline))
