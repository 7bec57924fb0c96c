"""A self-contained Python module: only `math`, and helpers only when used.

The helpers repeat the op table's IEEE conventions (ops.py), so that the
module gives the same numbers as `adiff eval`: division by zero is ±inf or
NaN, overflow is ±inf, a domain error is NaN, never an exception.
"""

from __future__ import annotations

import keyword
import math
import unicodedata
from typing import Optional

from .base import MUL, NEG, CodePrinter, Expr, Printer, ascii_identifier
from .layout import Functions, function_groups

# helper source, by name; each needs `math` unless noted
HELPERS = {
    "_div": '''\
def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
''',
    "_pow": '''\
def _pow(a, b):
    try:
        return math.pow(a, b)
    except OverflowError:
        odd = math.isfinite(b) and b == int(b) and int(b) % 2 == 1
        return -math.inf if a < 0 and odd else math.inf
    except ValueError:
        if a == 0:
            odd = math.isfinite(b) and b == int(b) and int(b) % 2 == 1
            return -math.inf if math.copysign(1.0, a) < 0 and odd else math.inf
        return math.nan
''',
    "_exp": '''\
def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
''',
    "_cosh": '''\
def _cosh(x):
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf
''',
    "_sinh": '''\
def _sinh(x):
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)
''',
    "_sqrt": '''\
def _sqrt(x):
    return math.nan if x < 0 else math.sqrt(x)
''',
    "_sign": '''\
def _sign(x):
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0
''',
    "_step": '''\
def _step(x):
    return 1.0 if x > 0 else 0.0 if x <= 0 else math.nan
''',
    "_relu": '''\
def _relu(x):
    return x if x > 0 or x != x else 0.0
''',
    "_sigmoid": '''\
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
''',
    "_softplus": '''\
def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))) if x == x else math.nan
''',
    "_max": '''\
def _max(a, b):
    return math.nan if a != a or b != b else max(a, b)
''',
    "_min": '''\
def _min(a, b):
    return math.nan if a != a or b != b else min(a, b)
''',
    "_atanh": '''\
def _atanh(x):
    if -1 < x < 1:
        return math.atanh(x)
    return x * math.inf if abs(x) == 1 else math.nan
''',
    "_log1p": '''\
def _log1p(x):
    if x > -1 or x != x:
        return math.log1p(x)
    return -math.inf if x == -1 else math.nan
''',
    "_expm1": '''\
def _expm1(x):
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf
''',
    "_cbrt": '''\
def _cbrt(x):
    if hasattr(math, "cbrt"):
        return math.cbrt(x)
    if x == 0 or not math.isfinite(x):
        return x
    y = math.copysign(abs(x) ** (1.0 / 3.0), x)
    return y - (y - x / (y * y)) / 3.0
''',
}
for _name in ("sin", "cos", "tan", "asin", "acos", "acosh"):
    HELPERS[f"_{_name}"] = f'''\
def _{_name}(x):
    try:
        return math.{_name}(x)
    except ValueError:
        return math.nan
'''
for _name in ("log", "log2", "log10"):
    HELPERS[f"_{_name}"] = f'''\
def _{_name}(x):
    if x > 0 or x != x:
        return math.{_name}(x)
    return -math.inf if x == 0 else math.nan
'''

_FUNCTIONS = {"atan": "math.atan", "tanh": "math.tanh", "atan2": "math.atan2", "abs": "abs",
              "asinh": "math.asinh", "hypot": "math.hypot", "erf": "math.erf"}


class PythonPrinter(CodePrinter):
    format = "python"
    functions = {name: _FUNCTIONS.get(name, f"_{name}") for name in Printer.functions}
    reserved = frozenset(keyword.kwlist) | {"math", "float", "abs", "max", "min", "value_and_grad",
                                            "derivatives", "hessian"} | set(HELPERS)
    breaks_inline = True
    helper_code = HELPERS

    def _use(self, helper: str) -> str:
        self.helpers.add(helper)
        return helper

    def _print_div(self, a: Expr, b: Expr) -> Expr:
        c = b.constant
        if c is not None and c != 0 and math.isfinite(c):
            return Expr(f"{self.paren(a, MUL)} / {self.paren(b, NEG + 1)}", MUL)
        return Expr(f"{self._use('_div')}({a.text}, {b.text})")

    def _print_pow(self, a: Expr, b: Expr) -> Expr:
        return Expr(f"{self._use('_pow')}({a.text}, {b.text})")

    def named_constant(self, label: str) -> Optional[str]:
        return f"math.{label}"

    def infinity(self) -> str:
        return "math.inf"

    def nan(self) -> str:
        return "math.nan"

    def identifier(self, name: str) -> str:
        if name.isidentifier() and unicodedata.normalize("NFKC", name) == name:
            return name if not keyword.iskeyword(name) else name + "_"
        return ascii_identifier(name)


def _function(printer: PythonPrinter, group: Functions, params: list[str]) -> list[str]:
    body = [f"    {name} = {text}" for name, text, _node in printer.statements()]
    names = {key: printer.output_names[key] for key in group.keys}
    lines = [f"def {group.python}({', '.join(params)}):", f'    """{group.doc}"""']
    if params:
        lines.append(f"    {', '.join(params)} = {', '.join(f'float({p})' for p in params)}"
                     if len(params) > 1 else f"    {params[0]} = float({params[0]})")
    lines += body
    lines.append(f"    return {group.result(names)}")
    return lines


def render_graph(graph, inline: bool = False, program: Optional[str] = None,
                 hessian: Optional[bool] = None, **_ignored) -> str:
    groups = function_groups(graph, hessian)
    printers = [PythonPrinter(graph, group.keys, inline=inline) for group in groups]
    params = list(printers[0].input_names.values())
    functions = [_function(p, g, params) for p, g in zip(printers, groups)]
    helpers = set().union(*(p.helpers for p in printers))
    uses_math = bool(helpers) or "math." in "".join("\n".join(f) for f in functions)
    out = ['"""' + _module_doc(program, groups, params) + '"""']
    if uses_math:
        out += ["", "import math"]
    for name in sorted(helpers):
        out += ["", "", HELPERS[name].rstrip("\n")]
    for function in functions:
        out += ["", ""] + function
    return "\n".join(out) + "\n"


def _module_doc(program, groups, params) -> str:
    shown = " ".join((program or "").split())
    if len(shown) > 60:
        shown = shown[:59] + "…"
    lines = [f"Generated by adiff from: {shown}" if program else "Generated by adiff.", ""]
    lines.append(f"Parameters, in the program's order of first use: {', '.join(params) or 'none'}.")
    for group in groups:
        lines.append(f"{group.python}(...) returns {group.describe}.")
    return "\n".join(lines) + "\n"
