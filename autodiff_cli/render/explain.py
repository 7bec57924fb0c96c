"""An Explanation as text, Markdown, LaTeX or JSON.

Text follows the article's notation (∂L/∂a = ∂L/∂d · ∂d/∂a = 4 · 1 = 4), with
the local derivative at the output's own step written over the operation
(∂L/∂d = ∂L/∂L · ∂(d²)/∂d = 1 · 2d = 4)
and stays valid adiff syntax where it can (· and − and x² parse), Markdown
wraps the same lines in code spans so that names like w_1 survive, and
LaTeX writes them as align* environments with \\frac{\\partial L}{\\partial d}.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

from ..explain import At, Edge, Explanation, Forward, Omitted, Seed, Sum
from ..formula import Term
from ..printing.latex import latex_call, latex_escape, latex_name
from .json import SCHEMA, number as json_number

FORMATS = ("text", "markdown", "latex", "json")
DIGITS = 6
MAX_SUM_TERMS = 12   # a sum at a fork shows this many paths, then counts the rest


# ---- terms -------------------------------------------------------------------

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _precedence(term: Term) -> int:
    if term.op == "num":
        return 3 if term.value < 0 else 5   # a negative number reads like a negation
    if term.op == "name":
        return 5
    return _PRECEDENCE.get(term.op, 5)   # a function call is an atom


def number_text(x: float, digits: int = DIGITS) -> str:
    """6 significant digits, − for minus (as the article), NaN and ±∞ spelled out."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    text = f"{x:.{digits}g}"
    if text == "-0":
        return "0"
    return "−" + text[1:] if text.startswith("-") else text


def number_latex(x: float, digits: int = DIGITS) -> str:
    if x != x:
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    text = f"{x:.{digits}g}"
    if text == "-0":
        return "0"
    mantissa, e, exponent = text.partition("e")
    if e:
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


class _Writer:
    """Writes terms in one style; the precedence rules are shared."""

    def __init__(self, latex: bool, digits: int = DIGITS):
        self.latex = latex
        self.digits = digits

    def number(self, term: Term) -> str:
        if not term.is_numeral:
            return latex_name(term.text) if self.latex else term.text  # pi, e
        if self.latex:
            return number_latex(term.value, self.digits)
        return number_text(term.value, self.digits)

    def write(self, term: Term) -> str:
        if term.op == "num":
            return self.number(term)
        if term.op == "name":
            return latex_name(term.text) if self.latex else term.text
        args = term.args
        op = term.op
        if op in ("add", "sub"):
            left, right = self.write(args[0]), self.write(args[1])
            if _precedence(args[1]) <= 1 or _precedence(args[1]) == 3:
                right = self.paren(right)
            sign = ("+" if op == "add" else "-") if self.latex else ("+" if op == "add" else "−")
            return f"{left} {sign} {right}"
        if op == "div" and self.latex:
            return rf"\frac{{{self.write(args[0])}}}{{{self.write(args[1])}}}"
        if op in ("mul", "div"):
            left, right = self.write(args[0]), self.write(args[1])
            if _precedence(args[0]) < 2:
                left = self.paren(left)
            if _precedence(args[1]) <= 2 or _precedence(args[1]) == 3:
                right = self.paren(right)
            if op == "div":
                return f"{left}/{right}"
            if self._juxtaposes(args[0], args[1]):
                return left + right
            return f"{left} \\cdot {right}" if self.latex else f"{left} · {right}"
        if op == "neg":
            inner = self.write(args[0])
            if _precedence(args[0]) <= 3:
                inner = self.paren(inner)
            return ("-" if self.latex else "−") + inner
        if op == "pow":
            base = self.write(args[0])
            if _precedence(args[0]) < 5:
                base = self.paren(base)
            exponent = args[1]
            if self.latex:
                return f"{base}^{{{self.write(exponent)}}}"
            if (exponent.op == "num" and exponent.is_numeral and exponent.value >= 0
                    and exponent.value == int(exponent.value) and exponent.value < 1e6):
                return base + str(int(exponent.value)).translate(_SUPERSCRIPT)
            power = self.write(exponent)
            return f"{base}^{power if _precedence(exponent) == 5 else self.paren(power)}"
        inner = ", ".join(self.write(a) for a in args)
        if self.latex:
            return latex_call(op, inner)
        return f"{op}({inner})"

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)" if self.latex else f"({text})"

    @staticmethod
    def _juxtaposes(left: Term, right: Term) -> bool:
        """2d and 3d², as written by hand: a whole number before a name or its power."""
        if not (left.is_numeral and left.value >= 0 and left.value == int(left.value)):
            return False
        return right.op == "name" or (right.op == "pow" and right.args[0].op == "name")


TEXT = _Writer(latex=False)
LATEX = _Writer(latex=True)


# ---- lines -------------------------------------------------------------------

def _chain(parts: list[str]) -> str:
    """a = b = c, without saying the same thing twice in a row."""
    kept = [parts[0]]
    for part in parts[1:]:
        if part != kept[-1]:
            kept.append(part)
    return " = ".join(kept)


class _Lines:
    """The explanation's lines in one notation (text or LaTeX)."""

    def __init__(self, explanation: Explanation, latex: bool):
        self.x = explanation
        self.latex = latex
        self.w = _Writer(latex, explanation.digits)
        number = number_latex if latex else number_text
        self.num = lambda x: number(x, explanation.digits)

    def name(self, node: int) -> str:
        term = self.x.term(node)
        return self.w.write(term)

    def d(self, top: int, bottom: int) -> str:
        """∂top/∂bottom."""
        if self.latex:
            return rf"\frac{{\partial {self.name(top)}}}{{\partial {self.name(bottom)}}}"
        return f"∂{self.name(top)}/∂{self.name(bottom)}"

    def local(self, node: int, input: int) -> str:
        """The local derivative ∂z/∂u; at the output's own step, written over the
        operation itself (∂(d²)/∂d), so that it cannot be read as ∂L/∂d."""
        if node != self.x.graph.output:
            return self.d(node, input)
        operation = self.w.paren(self.w.write(self.x.expression(node)))
        if self.latex:
            return rf"\frac{{\partial {operation}}}{{\partial {self.name(input)}}}"
        return f"∂{operation}/∂{self.name(input)}"

    def times(self, left: str, right: str) -> str:
        return f"{left} \\cdot {right}" if self.latex else f"{left} · {right}"

    def factor(self, term: Term, text: Optional[str] = None) -> str:
        """A factor in a product: (2d), (−1) and cos(x), w, 3."""
        text = self.w.write(term) if text is None else text
        atom = term.op == "name" or (term.op == "num" and _precedence(term) == 5) or (
            term.op not in _PRECEDENCE and term.op not in ("num", "name")) or (
            term.op == "mul" and self.w._juxtaposes(*term.args))   # 2d, as written by hand
        return text if atom else self.w.paren(text)

    def value_factor(self, x: float) -> str:
        text = self.num(x)
        return text if not (x < 0 or text.startswith("−")) else self.w.paren(text)

    def via(self, node: int, position: int, duplicate: bool) -> str:
        """`x · x, left`: the operation a path goes through, and which input when it is ambiguous.
        In LaTeX the result is math-mode text (the words inside \\text)."""
        expression = self.w.write(self.x.expression(node))
        side = ""
        if duplicate:
            side = ", " + ("left" if position == 0 else "right" if position == 1
                           else f"argument {position + 1}")
        if self.latex:
            return expression + (rf"\text{{{side}}}" if side else "")
        return expression + side

    def forward(self, step: Forward) -> tuple[str, str]:
        """(left side, right side) of `p = x · w = 2 · 3 = 6`."""
        if step.expression is None:
            return self.name(step.node), self.num(step.value)
        return self.name(step.node), _chain([self.w.write(step.expression),
                                             self.w.write(step.substituted), self.num(step.value)])

    def seed(self, step: Seed) -> tuple[str, str]:
        return self.d(step.node, step.node), "1"

    def at(self, step: At) -> str:
        return f"{self.name(step.node)} = {self.w.write(step.expression)}"

    def edge(self, step: Edge) -> tuple[str, str]:
        """∂L/∂u = ∂L/∂z · ∂z/∂u = upstream · formula [= upstream · local] = contribution."""
        output = self.x.graph.output
        upstream = self.num(step.upstream)
        parts = [self.times(self.d(output, step.node), self.local(step.node, step.input)),
                 self.times(upstream, self.factor(step.formula)),
                 self.times(upstream, self.factor(step.substituted))]
        if step.upstream != 1:
            parts.append(self.times(upstream, self.value_factor(step.local)))
        parts.append(self.num(step.contribution))
        text = _chain(parts)
        notes = []
        if step.fork:
            where = self.via(step.node, step.position,
                             self.x.graph.nodes[step.node].inputs.count(step.input) > 1)
            notes.append(rf"via ${where}$" if self.latex else f"via {where}")
        if step.kink:
            notes.append("at a kink: the local derivative is a convention")
        if notes:
            text += rf" \quad\text{{({'; '.join(notes)})}}" if self.latex else f"   ({'; '.join(notes)})"
        return self.d(output, step.input), text

    def sum(self, step: Sum) -> tuple[str, str]:
        """6 (via x · x, left) + 6 (via x · x, right) = 12; a long sum keeps its first terms."""
        terms = []
        for p in step.parts[:MAX_SUM_TERMS]:
            via = self.via(p.via, p.position, p.duplicate)
            shown = self.num(abs(p.contribution)) if p.contribution == p.contribution else self.num(p.contribution)
            if self.latex:
                shown = rf"\underbrace{{{shown}}}_{{\text{{via }}{via}}}"
            else:
                shown = f"{shown} (via {via})"
            negative = p.contribution < 0
            if not terms:
                terms.append(("-" if self.latex else "−") + shown if negative else shown)
            else:
                terms.append(("- " if self.latex else "− ") + shown if negative else "+ " + shown)
        left_out = len(step.parts) - MAX_SUM_TERMS
        if left_out > 0:
            more = f"{left_out:,} more paths"
            terms.append(rf"+ \dots\text{{ ({more})}}" if self.latex else f"+ … ({more})")
        return self.d(self.x.graph.output, step.node), f"{' '.join(terms)} = {self.num(step.total)}"

    def gradient(self, item: tuple[str, float, bool]) -> tuple[str, str]:
        input_name, grad, depends = item
        node = self.x.graph.inputs[input_name]
        value = "" if grad is None else self.num(grad)
        if not depends:
            note = "does not depend on"
            value += rf" \quad\text{{({note} ${self.name(node)}$)}}" if self.latex else \
                f"   ({self.x.output} {note} {input_name})"
        return self.d(self.x.graph.output, node), value

    def omitted(self, step: Omitted) -> str:
        hint = "--max-steps 0 shows all"
        if step.what == "steps":
            return f"… {step.count:,} more steps left out ({hint})"
        return f"… {step.count:,} {step.what} left out here ({hint})"


def _is_fork_part(step) -> bool:
    return isinstance(step, Edge) and step.fork


# ---- the formats -------------------------------------------------------------

def _outline(explanation: Explanation, markdown: bool) -> str:
    """Plain text, or the same lines as a Markdown list of code spans."""
    lines = _Lines(explanation, latex=False)

    def heading(title: str) -> list[str]:
        return [f"### {title}", ""] if markdown else [title]

    def row(text: str, depth: int = 0) -> str:
        return "  " * depth + f"- `{text}`" if markdown else "  " * (depth + 1) + text

    def note(step: Omitted) -> str:
        return f"- *{lines.omitted(step)}*" if markdown else "  " + lines.omitted(step)

    out = heading("Forward pass")
    for step in explanation.forward:
        if isinstance(step, Omitted):
            out.append(note(step))
        else:
            left, right = lines.forward(step)
            out.append(row(f"{left} = {right}{explanation.graph.where(step.node)}"))
    out += [""] + heading("Backward pass")
    if not explanation.backward:
        out.append("  (the output is a constant: it has no gradient)" if not markdown else
                   "- *the output is a constant: it has no gradient*")
    for step in explanation.backward:
        if isinstance(step, Omitted):
            out.append(note(step))
        elif isinstance(step, At):
            out.append(f"- at `{lines.at(step)}`:" if markdown else f"  at {lines.at(step)}:")
        else:
            left, right = _backward_line(lines, step)
            op = "+=" if _is_fork_part(step) else "="
            out.append(row(f"{left} {op} {right}", 0 if isinstance(step, Seed) else 1))
    out += [""] + heading("Gradient")
    if not explanation.gradient and not markdown:
        out.append("  (the program has no inputs)")
    for item in explanation.gradient:
        if isinstance(item, Omitted):
            out.append(note(item))
        else:
            left, right = lines.gradient(item)
            out.append(row(f"{left} = {right}"))
    return "\n".join(out) + "\n"


def text(explanation: Explanation) -> str:
    return _outline(explanation, markdown=False)


def markdown(explanation: Explanation) -> str:
    return _outline(explanation, markdown=True)


def dotted(name: str) -> str:
    """A name's tangent in dot notation: ẋ, ṗ₁, ẇ1 (the dot over its first letter)."""
    import unicodedata
    return unicodedata.normalize("NFC", name[:1] + "\u0307") + name[1:]


def tangent_lines(lines: "_Lines", steps) -> list[str]:
    """Each step of a tangent pass as a line: `ẋ = 1`, `ṗ = ẋ · w + ẇ · x = 1 · 3 + 0 · 2 = 3`."""
    from ..explain import Forward as Input
    out = []
    for step in steps:
        if isinstance(step, Omitted):
            out.append(lines.omitted(step))
        elif isinstance(step, Input):
            out.append(f"{dotted(lines.name(step.node))} = {lines.num(step.value)}")
        else:
            symbolic = " + ".join(lines.times(dotted(lines.name(j)), lines.factor(formula))
                                  for j, formula, _, _ in step.terms)
            numeric = " + ".join(lines.times(lines.value_factor(t), lines.value_factor(local))
                                 for _, _, local, t in step.terms)
            out.append(f"{dotted(lines.name(step.node))} = "
                       + _chain([symbolic, numeric, lines.num(step.tangent)]))
    return out


WORK = ("reverse mode: one backward pass gives all {n} gradient{s} of the one output",
        "forward mode: {n} tangent pass{es}, one per input, each gives one column for every output",
        "so reverse wins for many inputs and few outputs (a loss), forward for few inputs "
        "and many outputs")


def work_lines(inputs: int) -> list[str]:
    """The closing comparison of the two modes' work."""
    return [line.format(n=inputs, s="s" if inputs != 1 else "", es="es" if inputs != 1 else "")
            for line in WORK]


def forward_mode(explanation: Explanation, wrt: list[str], markdown: bool = False) -> str:
    """The forward pass, then forward mode: a tangent pass per input of `wrt`,
    ż = Σ u̇ · ∂z/∂u in dot notation, and the work of each mode compared."""
    from ..explain import tangent_pass
    lines = _Lines(explanation, latex=False)
    body = _outline(explanation, markdown).split("\n")
    # keep the forward pass; the backward pass and gradient give way to the tangents
    cut = body.index("### Backward pass" if markdown else "Backward pass")
    out = body[:cut]

    def heading(title: str) -> list[str]:
        return [f"### {title}", ""] if markdown else [title]

    def row(text: str) -> str:
        return f"- `{text}`" if markdown else "  " + text

    graph = explanation.graph
    output = graph.output
    for n, x in enumerate(wrt, 1):
        out += heading(f"Forward mode, tangent pass {n} of {len(wrt)}: seed {dotted(x)} = 1, "
                       "every other input's tangent 0")
        steps, value = tangent_pass(explanation, x)
        for step, line in zip(steps, tangent_lines(lines, steps)):
            if isinstance(step, Omitted):
                out.append(f"- *{line}*" if markdown else "  " + line)
            else:
                out.append(row(line))
        out.append(row(f"∂{lines.name(output)}/∂{x} = {dotted(lines.name(output))} = {lines.num(value)}"))
        out.append("")
    out += heading("The work")
    out += [row(line) for line in work_lines(len(graph.inputs))]
    return "\n".join(out) + "\n"


def _backward_line(lines: _Lines, step) -> tuple[str, str]:
    if isinstance(step, Seed):
        return lines.seed(step)
    if isinstance(step, Edge):
        return lines.edge(step)
    return lines.sum(step)


def latex(explanation: Explanation) -> str:
    lines = _Lines(explanation, latex=True)

    def block(title: str, rows: list[str]) -> list[str]:
        # rows are separated by \\; an \intertext line follows a \\ and takes none itself
        rows = rows or [r"\text{(none)}"]
        body = [rf"\textbf{{{title}}}", r"\begin{align*}"]
        for i, row in enumerate(rows):
            last = i == len(rows) - 1
            body.append(f"  {row}" if last or row.startswith(r"\intertext") else f"  {row} \\\\")
        return body + [r"\end{align*}"]

    def note(step: Omitted) -> str:
        return rf"\intertext{{\emph{{{latex_escape(lines.omitted(step))}}}}}"

    def equations(items, line) -> list[str]:
        return [note(item) if isinstance(item, Omitted) else "{} &= {}".format(*line(item))
                for item in items]

    forward = equations(explanation.forward, lines.forward)
    backward = []
    for step in explanation.backward:
        if isinstance(step, Omitted):
            backward.append(note(step))
        elif isinstance(step, At):
            backward.append(rf"\intertext{{at ${lines.at(step)}$:}}")
        else:
            left, right = _backward_line(lines, step)
            op = r"\mathrel{+}=" if _is_fork_part(step) else "="
            backward.append(f"{left} &{op} {right}")
    gradient = equations(explanation.gradient, lines.gradient)
    out = [r"% adiff explain; needs \usepackage{amsmath}"]
    out += block("Forward pass", forward) + [""] + block("Backward pass", backward)
    out += [""] + block("Gradient", gradient)
    return "\n".join(out) + "\n"


def document(explanation: Explanation, program: str, warnings=()) -> dict:
    """The steps as data; numbers as numbers, each step's text line beside them."""
    x = explanation
    lines = _Lines(x, latex=False)
    n = json_number

    def name(node: int) -> Optional[str]:
        return x.names[node]

    forward = []
    for step in x.forward:
        if isinstance(step, Omitted):
            forward.append({"kind": "omitted", "count": step.count, "what": step.what})
            continue
        item = {"kind": "input" if step.expression is None else "operation", "node": step.node,
                "name": step.name, "generated": x.generated[step.node],
                "op": x.graph.nodes[step.node].op, "value": n(step.value)}
        if step.expression is not None:
            item["inputs"] = list(x.graph.nodes[step.node].inputs)
            item["expression"] = TEXT.write(step.expression)
        left, right = lines.forward(step)
        item["text"] = f"{left} = {right}"
        forward.append(item)

    backward = []
    for step in x.backward:
        if isinstance(step, Omitted):
            backward.append({"kind": "omitted", "count": step.count, "what": step.what})
        elif isinstance(step, At):
            continue  # implicit in each edge's node
        elif isinstance(step, Seed):
            backward.append({"kind": "seed", "node": step.node, "name": name(step.node),
                             "gradient": 1.0, "text": " = ".join(lines.seed(step))})
        elif isinstance(step, Edge):
            left, right = lines.edge(step)
            backward.append({
                "kind": "edge", "node": step.node, "name": name(step.node),
                "input": step.input, "input_name": name(step.input), "position": step.position,
                "upstream": n(step.upstream), "local_symbol": lines.local(step.node, step.input),
                "formula": TEXT.write(step.formula),
                "formula_latex": LATEX.write(step.formula),
                "substituted": lines.w.write(step.substituted), "local": n(step.local),
                "contribution": n(step.contribution), "fork": step.fork, "kink": step.kink,
                "text": f"{left} {'+=' if step.fork else '='} {right}"})
        else:
            backward.append({
                "kind": "sum", "node": step.node, "name": name(step.node),
                "parts": [{"via": p.via, "position": p.position, "contribution": n(p.contribution)}
                          for p in step.parts],
                "gradient": n(step.total), "text": " = ".join(lines.sum(step))})
    return {
        "schema": SCHEMA,
        "program": program,
        "output": {"node": x.graph.output, "name": x.output,
                   "value": n(x.trace.values[x.graph.output])},
        "inputs": {k: n(v) for k, v in x.trace.inputs.items()},
        "forward": forward,
        "backward": backward,
        "gradient": {item[0]: n(item[1]) for item in x.gradient if not isinstance(item, Omitted)},
        "max_steps": x.max_steps,
        "omitted": x.omitted,
        "warnings": [w.to_json() for w in warnings],
    }


RENDERERS: dict[str, Callable[[Explanation], str]] = {
    "text": text, "markdown": markdown, "latex": latex}
