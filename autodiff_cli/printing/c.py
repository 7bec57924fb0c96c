"""A C99 translation unit: `#include <math.h>` only, and `static` helpers
only when used.  IEEE arithmetic gives division by zero, overflow and
domain errors as adiff eval does; the helpers repeat the op table's
conventions where C's library differs (fmax ignores a NaN, adiff's max
does not)."""

from __future__ import annotations

from typing import Optional

from ..errors import AdiffError
from .base import CodePrinter, Expr, Printer, ascii_identifier
from .layout import function_groups

HELPERS = {
    "adiff_sign": "static double adiff_sign(double x)\n{\n    return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);\n}",
    "adiff_step": "static double adiff_step(double x)\n{\n    return x > 0 ? 1.0 : (x <= 0 ? 0.0 : NAN);\n}",
    "adiff_relu": "static double adiff_relu(double x)\n{\n    return (x > 0 || x != x) ? x : 0.0;\n}",
    "adiff_sigmoid": ("static double adiff_sigmoid(double x)\n{\n    if (x >= 0)\n"
                      "        return 1.0 / (1.0 + exp(-x));\n"
                      "    return exp(x) / (1.0 + exp(x));\n}"),
    "adiff_softplus": ("static double adiff_softplus(double x)\n{\n    if (x != x)\n        return x;\n"
                       "    return (0.0 > x ? 0.0 : x) + log1p(exp(-fabs(x)));\n}"),
    "adiff_max": ("static double adiff_max(double a, double b)\n{\n"
                  "    return (a != a || b != b) ? NAN : (b > a ? b : a);\n}"),
    "adiff_min": ("static double adiff_min(double a, double b)\n{\n"
                  "    return (a != a || b != b) ? NAN : (b < a ? b : a);\n}"),
}

_FUNCTIONS = {"abs": "fabs", "sign": "adiff_sign", "step": "adiff_step", "relu": "adiff_relu",
              "sigmoid": "adiff_sigmoid", "softplus": "adiff_softplus", "max": "adiff_max",
              "min": "adiff_min"}

KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Bool _Complex _Imaginary""".split())
MACROS = frozenset("""NAN INFINITY HUGE_VAL HUGE_VALF HUGE_VALL FP_INFINITE FP_NAN FP_NORMAL
FP_SUBNORMAL FP_ZERO FP_ILOGB0 FP_ILOGBNAN MATH_ERRNO MATH_ERREXCEPT math_errhandling
FP_FAST_FMA FP_FAST_FMAF FP_FAST_FMAL""".split())


class CPrinter(CodePrinter):
    format = "c"
    functions = {name: _FUNCTIONS.get(name, name) for name in Printer.functions}
    reserved = (KEYWORDS | MACROS | set(functions.values()) | set(HELPERS)
                | {"pow", "log1p", "in", "grad", "out", "hess", "main"})
    breaks_inline = True
    helper_code = HELPERS

    def __init__(self, *args, function_names=(), **kwargs):
        self.reserved = self.reserved | set(function_names)
        super().__init__(*args, **kwargs)

    def prepare(self, statements: int) -> None:
        # GCC's time grows faster than a function's length when many values
        # stay live, as in a derivative (2,000 statements: 10.3 s of CPU at -O2
        # as one function, 5.6 s in parts): a long program's statements go in
        # parts of PART statements, separate functions that keep values in an array
        self.slots = statements > 2 * PART
        self.use_labels = not self.slots
        self.slot_count = 0

    def _input_names(self) -> dict[str, str]:
        if not self.slots:
            return super()._input_names()
        return {name: f"in[{k}]" for k, name in enumerate(self.graph.inputs)}

    def _next_slot(self) -> str:
        self.slot_count += 1
        return f"s[{self.slot_count - 1}]"

    def temporary(self, k: int) -> str:
        return self._next_slot() if self.slots else super().temporary(k)

    def output_name(self, key) -> str:
        return self._next_slot() if self.slots else super().output_name(key)

    def key_name(self, key) -> str:
        return self._next_slot() if self.slots else super().key_name(key)

    def _print_pow(self, a: Expr, b: Expr) -> Expr:
        return Expr(f"pow({a.text}, {b.text})")

    def _print_neg(self, a: Expr) -> Expr:
        # -(-a), never --a (the decrement operator)
        return Expr(f"-{self.paren(a, 4)}", 3, positive=a)

    def named_constant(self, label: str) -> Optional[str]:
        return None   # C99 has no M_PI: the number itself

    def infinity(self) -> str:
        return "INFINITY"

    def nan(self) -> str:
        return "NAN"

    def identifier(self, name: str) -> str:
        text = ascii_identifier(name)
        if text.startswith("__") or (text.startswith("_") and text[1:2].isupper()):
            text = "v" + text   # reserved for the implementation
        return text


PART = 200


def _valid_name(name: str) -> None:
    if not (name.isascii() and name.isidentifier()) or name in KEYWORDS or name in CPrinter.reserved:
        raise AdiffError("usage", f"--name: '{name}' is not a usable C function name",
                         hint="give a C identifier such as my_loss")


def render_graph(graph, inline: bool = False, program: Optional[str] = None,
                 name: str = "adiff_value_and_grad", hessian: Optional[bool] = None,
                 **_ignored) -> str:
    _valid_name(name)
    prefix = name[: -len("value_and_grad")] if name.endswith("value_and_grad") else name + "_"
    groups = function_groups(graph, hessian)
    names = {"value_and_grad": name, "derivatives": prefix + "derivatives", "hessian": prefix + "hessian"}
    for other in names.values():
        _valid_name(other)
    helpers: set[str] = set()
    blocks = []
    for group in groups:
        printer = CPrinter(graph, group.keys, inline=inline, function_names=names.values())
        blocks.append(_function(printer, group, names[group.kind]))
        helpers |= printer.helpers
    out = []
    shown = " ".join((program or "").split())
    if len(shown) > 60:
        shown = shown[:59] + "..."
    shown = shown.replace("*/", "* /")
    out.append(f"/* Generated by adiff{' from: ' + shown if shown else ''} */")
    out.append("#include <math.h>")
    for helper in sorted(helpers):
        out += ["", HELPERS[helper]]
    for block in blocks:
        out += [""] + block
    return "\n".join(out) + "\n"


def _function(printer: CPrinter, group, name: str) -> list[str]:
    statements = list(printer.statements())
    parts: list[str] = []
    calls: list[str] = []
    if printer.slots:
        for start in range(0, len(statements), PART):
            part = f"{name}_part{len(calls) + 1}"
            calls.append(part)
            parts += ["/* part of " + name + ", which calls it: not for use on its own */",
                      f"void {part}(const double *in, double *s);",
                      f"void {part}(const double *in, double *s)", "{", "    (void)in;"]
            parts += [f"    {n} = {text};" for n, text, _i in statements[start:start + PART]]
            parts += ["}", ""]
    graph = printer.graph
    used = [(k, ident) for k, (input_name, ident) in enumerate(printer.input_names.items())
            if printer.live[graph.inputs[input_name]]]
    params = ", ".join(printer.input_names) or "none"
    lines = ["/*"]
    lines.append(f" * in:   {params} (the program's inputs, in order of first use)")
    if group.kind == "value_and_grad":
        wanted = ", ".join(_describe(printer, k) for k in group.keys[1:]) or "nothing"
        lines.append(f" * grad: {wanted} (in the order of --wrt)")
        lines.append(f" * returns {printer.value_name()}, the program's value")
        signature = f"double {name}(const double *in, double *grad)"
        target = "grad"
    elif group.kind == "derivatives":
        wanted = ", ".join(_describe(printer, k) for k in group.keys)
        lines.append(f" * out:  {wanted} (in the order of --wrt)")
        signature = f"void {name}(const double *in, double *out)"
        target = "out"
    else:
        n = len(group.wrt)
        lines.append(f" * hess: the {n}x{n} Hessian of {printer.value_name()}, row by row, "
                     f"in the order of --wrt ({', '.join(group.wrt)})")
        signature = f"void {name}(const double *in, double *hess)"
        target = "hess"
    lines.append(" */")
    lines += [signature, "{"]
    results = {}
    if printer.slots:
        lines.append(f"    double s[{printer.slot_count}];")
        lines += [f"    {call}(in, s);" for call in calls]
    else:
        for k, ident in used:
            lines.append(f"    const double {ident} = in[{k}];")
        if not used:
            lines.append("    (void)in;")
        for out_name, text, _node in statements:
            lines.append(f"    const double {out_name} = {text};")
    for key in group.keys:
        results[key] = printer.output_names[key]
    if group.kind == "value_and_grad":
        for index, key in enumerate(group.keys[1:]):
            lines.append(f"    {target}[{index}] = {results[key]};")
        if len(group.keys) == 1:
            lines.append("    (void)grad;")
        lines.append(f"    return {results[()]};")
    elif group.kind == "derivatives":
        for index, key in enumerate(group.keys):
            lines.append(f"    {target}[{index}] = {results[key]};")
    else:
        from .layout import hessian_key
        n = len(group.wrt)
        for r, u in enumerate(group.wrt):
            for c, v in enumerate(group.wrt):
                lines.append(f"    {target}[{r * n + c}] = {results[hessian_key(group.keys, u, v)]};")
    lines.append("}")
    return parts + lines


def _describe(printer, key) -> str:
    from .text import derivative_name
    return derivative_name(printer.value_name(), key, {}, ascii=True)
