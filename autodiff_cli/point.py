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
from .errors import ExitCode, strict_failure

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


# eval's options as quick.py reads them: the word, the field, and how its value
# reads (None: a flag).  A test checks that they are exactly the options eval declares.
OPTIONS = {"--json": ("json", None), "--strict": ("strict", None), "--check": ("check", None),
           "--hessian": ("hessian", None), "-f": ("file", "path"), "--file": ("file", "path"),
           "--wrt": ("wrt", list), "--var": ("var", list), "--digits": ("digits", int),
           "--tolerance": ("tolerance", float), "--max-nodes": ("max_nodes", int)}
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
    from .evaluator import evaluate

    edge.in_range("--digits", options.digits, 1, 17)
    edge.in_range("--max-nodes", options.max_nodes, 1)
    if options.tolerance is not None:
        edge.in_range("--tolerance", options.tolerance, 0, what="a number")
    wanted = edge.names_to_list(options.wrt)
    graph, bindings, shown = edge.load(arguments, options.program, options.file, options.var,
                                       options.max_nodes, check_options)
    edge.check_wrt(graph, wanted)
    trace = evaluate(graph, bindings)
    if options.strict and trace.warnings:
        raise strict_failure([w.message for w in trace.warnings])
    return trace, shown, wanted


def report(options: Options, trace, shown: str, wanted: Optional[list]) -> None:
    """The warnings, the check and the Hessian if asked for, and the table or JSON."""
    edge.warn(trace.warnings)
    checked = None
    if options.check or options.tolerance is not None:
        from .check import DEFAULT_TOLERANCE, check as run_check
        checked = run_check(trace, DEFAULT_TOLERANCE if options.tolerance is None else options.tolerance,
                            wanted)
    matrix = None
    if options.hessian:
        from .diff import hessian_values
        matrix = hessian_values(trace.graph, trace.inputs, wanted)
    if options.json:
        from .render.json import document
        doc = document(trace, shown, wanted)
        if matrix is not None:
            from .render.hessian import document as hessian_document
            doc = _after(doc, "gradient", "hessian", hessian_document(matrix))
        if checked is not None:
            from .render.check import document as check_document
            doc["check"] = check_document(checked)
        edge.print_json(doc)
    else:
        from .render.table import render
        with edge.output():
            render(trace, sys.stdout, digits=options.digits, wrt=wanted)
            if matrix is not None:
                from .render.hessian import render as render_hessian
                render_hessian(matrix, trace.graph.nodes[trace.graph.output].label or "output",
                               sys.stdout, digits=options.digits)
            if checked is not None:
                from .render.check import render as render_check
                render_check(checked, sys.stdout, digits=options.digits)
    if checked is not None and not checked.passed:
        worst = ", ".join(f"{c.name} (error {c.error:.2g})" for c in checked.failures)
        print(f"adiff: error: gradient check failed for {worst}; tolerance {checked.tolerance:g}",
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
