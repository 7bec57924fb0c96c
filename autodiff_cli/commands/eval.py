"""adiff eval: the value and gradient at a point, as a table or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import (DIGITS, FILE, JSON, MAX_NODES, PROGRAM, READS_A_PROGRAM, VAR, WRT, app, check_wrt,
                   guarded, in_range, load, names_to_list, output, print_json, warn)
from ..errors import AdiffError, ExitCode

HELP = """Evaluate PROGRAM and its gradient with respect to every input.

Bind inputs with --NAME VALUE (or --NAME=VALUE); --var NAME=VALUE binds a
name that clashes with one of adiff's options.  PROGRAM may be '-' to read
standard input, or use -f FILE.

\b
Examples:
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --json | jq .gradient
  adiff eval "sin(x)*exp(-t)" --x 0.5 --t=1 --wrt x
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --check
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --hessian --wrt x,w
  adiff eval -f samples/tanh_neuron.adiff --w1 0.3
  echo "tanh(a*b)" | adiff eval - --a 1 --b -2
"""


@app.command("eval", help=HELP, **READS_A_PROGRAM)
def eval_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    json: bool = JSON,
    wrt: List[str] = WRT,
    digits: int = DIGITS,
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on any warning."),
    check: bool = typer.Option(False, "--check",
                               help="Compare every gradient with a central finite difference; "
                                    "exit 1 if one disagrees."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", metavar="TOL",
                                              help="The check's tolerance on the error, at least 0 "
                                                   "(default 1e-5); implies --check."),
    hessian: bool = typer.Option(False, "--hessian",
                                 help="Also the Hessian at the point (every second partial "
                                      "of the --wrt inputs), from the symbolic derivative."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
) -> None:
    def body() -> None:
        from ..evaluator import evaluate

        in_range("--digits", digits, 1, 17)
        in_range("--max-nodes", max_nodes, 1)
        if tolerance is not None:
            in_range("--tolerance", tolerance, 0, what="a number")
        wanted = names_to_list(wrt)
        graph, bindings, shown = load(ctx, program, file, var, max_nodes)
        check_wrt(graph, wanted)
        trace = evaluate(graph, bindings)
        if strict and trace.warnings:
            listed = [w.message for w in trace.warnings[:3]]
            if len(trace.warnings) > 3:
                listed.append(f"and {len(trace.warnings) - 3} more warnings")
            raise AdiffError("strict", "; ".join(listed),
                             hint="--strict makes every warning a failure", exit_code=ExitCode.FAILURE)
        warn(trace.warnings)
        checked = None
        if check or tolerance is not None:
            from ..check import DEFAULT_TOLERANCE, check as run_check
            checked = run_check(trace, DEFAULT_TOLERANCE if tolerance is None else tolerance, wanted)
        matrix = None
        if hessian:
            from ..diff import hessian_values
            matrix = hessian_values(graph, trace.inputs, wanted)
        if json:
            from ..render.json import document
            doc = document(trace, shown, wanted)
            if matrix is not None:
                from ..render.hessian import document as hessian_document
                doc = _after(doc, "gradient", "hessian", hessian_document(matrix))
            if checked is not None:
                from ..render.check import document as check_document
                doc["check"] = check_document(checked)
            print_json(doc)
        else:
            from ..render.table import render
            with output():
                render(trace, sys.stdout, digits=digits, wrt=wanted)
                if matrix is not None:
                    from ..render.hessian import render as render_hessian
                    render_hessian(matrix, graph.nodes[graph.output].label or "output",
                                   sys.stdout, digits=digits)
                if checked is not None:
                    from ..render.check import render as render_check
                    render_check(checked, sys.stdout, digits=digits)
        if checked is not None and not checked.passed:
            worst = ", ".join(f"{c.name} (error {c.error:.2g})" for c in checked.failures)
            print(f"adiff: error: gradient check failed for {worst}; tolerance {checked.tolerance:g}",
                  file=sys.stderr)
            raise typer.Exit(int(ExitCode.FAILURE))

    guarded(json, body)


def _after(doc: dict, key: str, new_key: str, value) -> dict:
    """The document with new_key inserted right after key (JSON keeps the order)."""
    result = {}
    for k, v in doc.items():
        result[k] = v
        if k == key:
            result[new_key] = value
    return result
