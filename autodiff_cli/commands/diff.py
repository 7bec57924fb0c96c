"""adiff diff: the derivative itself, as a formula or as code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import FILE, JSON, MAX_NODES, OF, PROGRAM, READS_A_PROGRAM, VAR, WRT, app, load
from ..edge import check_wrt, guarded, in_range, names_to_list, output, warn
from ..errors import AdiffError

HELP = """Print the derivative of PROGRAM as a formula or as code.

The derivative with respect to every input (or --wrt), of any --order, or
the --hessian: as text in the article's notation (the default), as a
program adiff reads back, as LaTeX, as a Python module, as C, or as JSON.
With bindings (--NAME VALUE, or defaults in the program) each derivative is
also evaluated there.

\b
Examples:
  adiff diff "(x*w+b-y)^2"
  adiff diff "(x*w+b-y)^2" --wrt x --x 2 --w 3 --b 1 --y 5
  adiff diff "log(1+x)" --order 6 --x 0.3
  adiff diff "(x*w+b-y)^2" --hessian --format latex
  adiff diff -f samples/seed.adiff --format python > seed_grad.py
  adiff diff "(x*w+b-y)^2" --wrt x --format adiff | adiff eval - --x 2 --w 3 --b 1 --y 5
"""

FORMATS = ("text", "adiff", "latex", "python", "c", "json")


@app.command("diff", help=HELP, **READS_A_PROGRAM)
def diff_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    wrt: List[str] = WRT,
    order: int = typer.Option(1, "--order", metavar="N", show_default=False,
                              help="The N-th derivative with respect to each input (default 1)."),
    hessian: bool = typer.Option(False, "--hessian", help="Every second partial derivative, each once."),
    format: str = typer.Option("text", "--format", metavar="|".join(FORMATS), show_default=False,
                               help="text (default), adiff, latex, python, c or json."),
    inline: bool = typer.Option(False, "--inline",
                                help="Each derivative as one expression, without shared definitions."),
    name: Optional[str] = typer.Option(None, "--name", metavar="NAME",
                                       help="The C function's name (default adiff_value_and_grad)."),
    json: bool = JSON,
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    of: Optional[str] = OF,
) -> None:
    as_json = json or format == "json"

    def body() -> None:
        chosen = "json" if json else format
        if format not in FORMATS:
            raise AdiffError("usage", f"--format: unknown format '{format}'",
                             hint="formats: " + ", ".join(FORMATS))
        if name is not None and chosen != "c":
            raise AdiffError("usage", "--name names the C function: use it with --format c")
        if hessian and order != 1:
            raise AdiffError("usage", "give --order or --hessian, not both",
                             hint="--hessian is every second partial; --order 2 each d2f/dx2")
        if order < 1:
            raise AdiffError("usage", f"--order {order}: the order of a derivative is a whole number, 1 or more",
                             hint="--order 1 is the gradient, --order 2 the second derivative")
        in_range("--max-nodes", max_nodes, 1)
        from ..derive import derivative
        from ..printing import render

        wanted = names_to_list(wrt)
        graph, bindings, shown = load(ctx, program, file, var, max_nodes, of)
        check_wrt(graph, wanted)
        if graph.results:
            several(graph, wanted, chosen, order, hessian, bindings, shown, inline, name)
            return
        result = derivative(graph, wanted, order, hessian, gradient=chosen in ("python", "c"),
                            max_nodes=max_nodes)
        if not any(result.outputs):
            print("adiff: warning: the program has no inputs: there is nothing to differentiate",
                  file=sys.stderr)
        # text and json show each derivative's value; code and LaTeX have no place for one
        values = _values(result, bindings) if chosen in ("text", "json") else None
        options = dict(inline=inline, program=shown, values=values, hessian=hessian)
        if name is not None:
            options["name"] = name
        text = render(result, chosen, **options)
        with output():
            sys.stdout.write(text)

    guarded(as_json, body)


def several(graph, wanted, chosen, order, hessian, bindings, shown, inline, name) -> None:
    """A program of several outputs: each output's first derivatives, in one answer."""
    from ..diff import jacobian
    from ..printing.jacobian import render_graph

    if order != 1 or hessian:
        raise AdiffError("usage", f"the program has {len(graph.results)} outputs: --order and --hessian "
                         "take one", hint=f"choose it with --of NAME, for example --of {next(iter(graph.results))}")
    result = jacobian(graph, wanted)
    if not result.inputs:
        print("adiff: warning: the program has no inputs: there is nothing to differentiate",
              file=sys.stderr)
    values = _values(result, bindings) if chosen in ("text", "json") else None
    text = render_graph(result, chosen, inline=inline, program=shown, values=values, name=name)
    with output():
        sys.stdout.write(text)


def _values(graph, bindings) -> Optional[list]:
    """Every node's value, where every input has one (bound, or a default)."""
    missing = [n for n in graph.inputs if n not in bindings and n not in graph.defaults]
    if missing:
        if bindings:
            print(f"adiff: warning: no value for {', '.join(missing[:5])}: the derivatives are "
                  "not evaluated", file=sys.stderr)
        return None
    if not bindings and not graph.defaults:
        return None
    from ..evaluator import bind, forward
    inputs, warnings = bind(graph, bindings)
    values, _needs = forward(graph, inputs, warnings)
    warn(warnings)
    return values
