r"""LaTeX: an `aligned` block, one line per definition and derivative, with
\frac{\partial f}{\partial x}, \cdot, \sqrt{} and fractions.  It compiles
with pdflatex (amsmath) and renders in MathJax and KaTeX."""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

from .base import ATOM, MUL, NEG, POW, Expr, Key, Printer, key_counts

# LaTeX's names of functions, for explain and the LaTeX printer; the others
# are \operatorname{name}; sqrt, cbrt and abs have their own notation
FUNCTIONS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "asin": r"\arcsin",
             "acos": r"\arccos", "atan": r"\arctan", "sinh": r"\sinh", "cosh": r"\cosh",
             "tanh": r"\tanh", "asinh": r"\operatorname{arsinh}",
             "acosh": r"\operatorname{arcosh}", "atanh": r"\operatorname{artanh}",
             "exp": r"\exp", "log": r"\log", "log2": r"\log_{2}", "log10": r"\log_{10}",
             "erf": r"\operatorname{erf}", "max": r"\max", "min": r"\min"}


# ---- names ----------------------------------------------------------------------

# the Greek letters LaTeX has, by name (theta, omega0 and theta_1 print as \theta, \omega_{0}, \theta_{1})
GREEK_WORDS = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota
    kappa lambda mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
    Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split())
# Unicode letters with a macro of their own, as unicode-math spells them; the capital Greek
# letters that look Latin (Α, Β, ...) print as those Latin letters, upright like \Gamma
# (_LATIN_LOOKALIKES)
_UNICODE = {"ε": r"\varepsilon", "ϵ": r"\epsilon", "φ": r"\varphi", "ϕ": r"\phi",
            "ϑ": r"\vartheta", "ϖ": r"\varpi", "ϱ": r"\varrho", "ς": r"\varsigma",
            "ο": "o", "ϰ": r"\kappa", "ℏ": r"\hbar", "ℓ": r"\ell", "ı": r"\imath", "ȷ": r"\jmath",
            "∂": r"\partial", "∇": r"\nabla"}
_LATIN_LOOKALIKES = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I",
                     "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T",
                     "Chi": "X"}
# combining accents (é is e with U+0301) as math accents
_ACCENTS = {"\u0300": r"\grave", "\u0301": r"\acute", "\u0302": r"\hat", "\u0303": r"\tilde",
            "\u0304": r"\bar", "\u0306": r"\breve", "\u0307": r"\dot", "\u0308": r"\ddot",
            "\u030c": r"\check", "\u20d7": r"\vec"}
_SUBSCRIPTS = {chr(0x2080 + d): str(d) for d in range(10)} | dict(zip(
    "ₐₑₒₓₕₖₗₘₙₚₛₜ", "aeoxhklmnpst"))
_TRAILING_DIGITS = re.compile(r"(.*?)([0-9]+)\Z", re.S)
_LATEX_SPECIAL = {"_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "{": r"\{",
                  "}": r"\}", "\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


def latex_escape(text: str) -> str:
    """Text as LaTeX text: its special characters escaped (ASCII text only)."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def latex_call(op: str, inner: str) -> str:
    """A function applied to its arguments' LaTeX, joined with commas."""
    if op == "sqrt":
        return rf"\sqrt{{{inner}}}"
    if op == "cbrt":
        return rf"\sqrt[3]{{{inner}}}"
    if op == "abs":
        return rf"\left|{inner}\right|"
    function = FUNCTIONS.get(op, rf"\operatorname{{{latex_escape(op)}}}")
    return rf"{function}\left({inner}\right)"


def _letter(char: str) -> str:
    """One character of a name in math mode, pdflatex-safe without any Unicode set-up:
    ASCII as itself, Greek as its macro (θ is \\theta), an accented letter with a math
    accent (é is \\acute{e}), anything else by its code point."""
    if char.isascii():
        return latex_escape(char)
    if char in _UNICODE:
        return _UNICODE[char]
    described = unicodedata.name(char, "")
    for prefix in ("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER "):
        if described.startswith(prefix):
            word = {"LAMDA": "LAMBDA"}.get(described[len(prefix):], described[len(prefix):])
            word = word.lower() if prefix.startswith("GREEK SMALL") else word.capitalize()
            if word in GREEK_WORDS:
                return "\\" + word
            if word in _LATIN_LOOKALIKES:   # LaTeX has no \Alpha: Α is an upright A
                return rf"\mathrm{{{_LATIN_LOOKALIKES[word]}}}"
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char and decomposed:
        base, marks = decomposed[0], decomposed[1:]
        if all(m in _ACCENTS for m in marks) and (base.isascii() or base in _UNICODE or
                                                   unicodedata.name(base, "").startswith("GREEK")):
            shown = _letter(base)
            for mark in marks:
                shown = rf"{_ACCENTS[mark]}{{{shown}}}"
            return shown
        if decomposed.isascii():
            return latex_escape(decomposed)   # ﬁ, full-width and mathematical letters
    return _code_point(char)


def _code_point(char: str) -> str:
    return rf"\mathrm{{U{{+}}{ord(char):04X}}}"


def _symbol(text: str) -> tuple[str, str]:
    """A run of letters and digits as (symbol, subscript): one letter bare, a Greek word as
    its macro, a longer name as one italic word (\\mathit{rate}), trailing digits as the
    subscript (x2 is x_{2})."""
    base, digits = text, ""
    if text[-1:].isdigit() and not text.isdigit():
        base, digits = _TRAILING_DIGITS.match(text).groups()
    if base in GREEK_WORDS:
        return "\\" + base, digits
    letters = [_letter(c) for c in base]
    if len(letters) == 1 or base.isdigit():
        return "".join(letters), digits
    joined = letters[0]
    for before, letter in zip(letters, letters[1:]):
        # a macro before a letter needs a space (\Delta t)
        joined += (" " if re.search(r"\\[A-Za-z]+\Z", before) and letter[0].isalpha() else "") + letter
    return rf"\mathit{{{joined}}}", digits


def latex_name(name: str) -> str:
    """A name as LaTeX math, the one spelling of every LaTeX output (diff's printer and
    explain's): m_0 and m₀ are m_{0}, x2 is x_{2}, theta_1 and θ₁ are \\theta_{1}, x_max
    is x_{\\mathit{max}}, x_i_j is x_{i,j}, Δt is \\mathit{\\Delta t}.  A name whose
    underscores do not read as subscripts (x_, _x, a__b) prints as one word."""
    if name == "pi":
        return r"\pi"
    text, below = "", False   # runs of Unicode subscripts (w₁₂) are a subscript too (w_12)
    for i, c in enumerate(name):
        sub = i > 0 and c in _SUBSCRIPTS
        text += ("_" if sub and not below else "") + (_SUBSCRIPTS[c] if sub else c)
        below = sub
    parts = text.split("_")
    if not all(parts):
        return rf"\mathit{{{''.join(_letter(c) for c in name)}}}"
    head, subscripts = _symbol(parts[0])
    subscripts = [subscripts] if subscripts else []
    for part in parts[1:]:
        symbol, digits = _symbol(part)
        subscripts.append(f"{symbol}_{{{digits}}}" if digits else symbol)
    return f"{head}_{{{','.join(subscripts)}}}" if subscripts else head


class LatexPrinter(Printer):
    format = "latex"
    functions = {name: FUNCTIONS.get(name, rf"\operatorname{{{latex_escape(name)}}}")
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
        return latex_name(name)

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
