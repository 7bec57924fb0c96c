"""adiff eval's work, without Typer: the value and gradient at one point.

Run by the Typer command (commands/eval.py) and, for eval's plain calls,
by quick.py; the options are declared twice, here as data for quick.py and
there for Typer, and a test checks that the two agree.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from . import edge
from .arguments import Arguments
from .errors import AdiffError, ExitCode, shorten, strict_failure

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class Options:
    """eval's options; the defaults are the command's (a test checks both agree)."""
    program: Optional[str] = None
    file: Optional["Path"] = None
    json: bool = False
    wrt: list = field(default_factory=list)
    digits: int = 6
    strict: bool = False
    check: bool = False
    tolerance: Optional[float] = None
    hessian: bool = False
    var: list = field(default_factory=list)
    max_nodes: int = 5_000_000
    mode: str = "reverse"
    tangent: list = field(default_factory=list)
    cotangent: list = field(default_factory=list)
    of: Optional[str] = None


# eval's options as quick.py reads them: the word, the field, and how its value
# reads (None: a flag).  A test checks that they are exactly the options eval declares.
OPTIONS = {"--json": ("json", None), "--strict": ("strict", None), "--check": ("check", None),
           "--hessian": ("hessian", None), "-f": ("file", "path"), "--file": ("file", "path"),
           "--wrt": ("wrt", list), "--var": ("var", list), "--digits": ("digits", int),
           "--tolerance": ("tolerance", float), "--max-nodes": ("max_nodes", int),
           "--mode": ("mode", str), "--tangent": ("tangent", list), "--cotangent": ("cotangent", list),
           "--of": ("of", str)}
POSITIONALS = ("program",)


def plain(options: Options) -> bool:
    """Whether quick.py may run these options: not with the program on
    standard input, which can be read only once."""
    return options.program != "-" and str(options.file) != "-"


def as_json(options: Options) -> bool:
    return options.json


def prepare(arguments: Arguments, options: Options,
            check_options: Callable[[Arguments, object], None]):
    """Everything before a byte is written: read, parse, bind, evaluate.
    Raises AdiffError; returns what `report` shows."""
    from .evaluator import MODES, evaluate, jvp, vjp

    edge.in_range("--digits", options.digits, 1, 17)
    if options.mode not in MODES:
        raise AdiffError("usage", f"--mode {shorten(options.mode)}: give one of {', '.join(MODES)}")
    edge.in_range("--max-nodes", options.max_nodes, 1)
    if options.tolerance is not None:
        edge.in_range("--tolerance", options.tolerance, 0, what="a number")
    wanted = edge.names_to_list(options.wrt)
    graph, bindings, shown = edge.load(arguments, options.program, options.file, options.var,
                                       options.max_nodes, check_options, options.of)
    edge.check_wrt(graph, wanted)
    tangent = _directions("--tangent", options.tangent, graph.inputs, "input")
    cotangent = _directions("--cotangent", options.cotangent, graph.output_names(), "output")
    trace = evaluate(graph, bindings, options.mode, wanted)
    products = {}
    if tangent is not None:
        products["jvp"] = (tangent, jvp(trace, tangent))
    if cotangent is not None:
        products["vjp"] = (cotangent, vjp(trace, cotangent, wanted or list(graph.inputs)))
    if options.strict and trace.warnings:
        raise strict_failure([w.message for w in trace.warnings])
    return trace, shown, wanted, products


def _directions(option: str, words: list, names, what: str) -> Optional[dict]:
    """`--tangent x=1,w=0.5` as {x: 1.0, w: 0.5}; None when not given."""
    if not words:
        return None
    result = {}
    for word in words:
        for item in word.split(","):
            name, eq, value = item.partition("=")
            name = name.strip()
            try:
                number = float(value)
            except ValueError:
                number = None
            if not eq or not name or number is None:
                raise AdiffError("usage", f"{option}: '{shorten(item.strip())}' is not NAME=NUMBER",
                                 hint=f"for example {option} {next(iter(names), 'x')}=1")
            if name not in names:
                raise AdiffError("usage", f"{option}: the program has no {what} {shorten(name)}",
                                 hint=f"its {what}s: " + ", ".join(shorten(n) for n in list(names)[:20]))
            result[name] = number
    return result


def report(options: Options, trace, shown: str, wanted: Optional[list], products: dict) -> None:
    """The warnings, the check and the Hessian if asked for, and the table or JSON."""
    edge.warn(trace.warnings)
    graph = trace.graph
    several = bool(graph.results)
    # the check and the Hessian are of one output: with several, one each (name -> result)
    singles = {next(iter(graph.output_names())): trace}
    if several and (options.check or options.tolerance is not None or options.hessian):
        from .evaluator import evaluate
        singles = {name: evaluate(graph.view(name), trace.inputs) for name in graph.results}
    checked = None
    if options.check or options.tolerance is not None:
        from .check import DEFAULT_TOLERANCE, check as run_check
        tolerance = DEFAULT_TOLERANCE if options.tolerance is None else options.tolerance
        checked = {name: run_check(single, tolerance, wanted) for name, single in singles.items()}
    matrix = None
    if options.hessian:
        from .diff import hessian_values
        matrix = {name: hessian_values(single.graph, trace.inputs, wanted) for name, single in singles.items()}
    if options.json:
        from .render.json import document, number
        doc = document(trace, shown, wanted)
        for key, (direction, result) in products.items():
            doc = _after(doc, "jacobian" if several else "gradient", key,
                         {"along" if key == "jvp" else "of": direction,
                          "value": {name: number(v) for name, v in result.items()}})
        if matrix is not None:
            from .render.hessian import document as hessian_document
            doc = _after(doc, "jacobian" if several else "gradient", "hessian",
                         {name: hessian_document(m) for name, m in matrix.items()} if several
                         else hessian_document(next(iter(matrix.values()))))
        if checked is not None:
            from .render.check import document as check_document
            doc["check"] = ({name: check_document(c) for name, c in checked.items()} if several
                            else check_document(next(iter(checked.values()))))
        edge.print_json(doc)
    else:
        from .render.table import render, render_products
        with edge.output():
            render(trace, sys.stdout, digits=options.digits, wrt=wanted)
            render_products(products, sys.stdout, digits=options.digits)
            if matrix is not None:
                from .render.hessian import render as render_hessian
                for name, m in matrix.items():
                    render_hessian(m, name if several else graph.nodes[graph.output].label or "output",
                                   sys.stdout, digits=options.digits)
            if checked is not None:
                from .render.check import render as render_check
                for name, c in checked.items():
                    if several:
                        sys.stdout.write(f"\n{name}:")
                    render_check(c, sys.stdout, digits=options.digits)
    failed = [(name, c) for name, c in (checked or {}).items() if not c.passed]
    if failed:
        worst = ", ".join(f"{'∂' + name + '/∂' if several else ''}{c.name} (error {c.error:.2g})"
                          for name, result in failed for c in result.failures)
        print(f"adiff: error: gradient check failed for {worst}; tolerance {failed[0][1].tolerance:g}",
              file=sys.stderr)
        raise SystemExit(int(ExitCode.FAILURE))


def _after(doc: dict, key: str, new_key: str, value) -> dict:
    """The document with new_key inserted right after key (JSON keeps the order)."""
    result = {}
    for k, v in doc.items():
        result[k] = v
        if k == key:
            result[new_key] = value
    return result
