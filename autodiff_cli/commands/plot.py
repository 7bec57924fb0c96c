"""`adiff plot`: a program and its derivative over a range of one input."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import FILE, JSON, MAX_NODES, OF, PROGRAM, READS_A_PROGRAM, VAR, _arguments, _check_options, app
from ..edge import check_wrt, guarded, in_range, names_to_list, output, read_program, warn
from ..errors import AdiffError

PLOT_HELP = """Plot PROGRAM and its derivative over a range of one input.

Give one input a range START:STOP (--x -3:3); bind the others as for eval,
or let them take the program's defaults.  The value and the derivative are
drawn in the terminal in braille dots (--ascii for plain characters), with
their own colours, axes and a legend; non-finite values are gaps, counted in
a note, and kinks are marked on the x-axis (▲) and listed.

\b
Examples:
  adiff plot "tanh(x)" --x -3:3
  adiff plot -f samples/seed.adiff --w -3:3
  adiff plot "log(x)" --x -1:1 --ascii
  adiff plot "sin(x)*x" --x -6:6 --order 2
  adiff plot "(x*w+b-y)^2" --w -3:3 --x 2 --b 1 --y 5 --wrt b
  adiff plot "tanh(x)" --x -3:3 --json | jq .gradient
  adiff plot "tanh(x)" --x -3:3 --render tanh.svg
"""


def use_colour(stream) -> bool:
    """Colour for a terminal, never with NO_COLOR; FORCE_COLOR forces it."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def plot_size(width: Optional[int], height: Optional[int]) -> tuple[int, int]:
    """The terminal's size when standard output is one, else 80×24."""
    columns, lines = 80, 24
    try:
        if sys.stdout.isatty():
            size = os.get_terminal_size(sys.stdout.fileno())
            columns, lines = size.columns, max(10, size.lines - 1)
    except (OSError, AttributeError, ValueError):
        pass
    return width or columns, height or lines


@app.command("plot", help=PLOT_HELP, **READS_A_PROGRAM)
def plot_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    json: bool = JSON,
    points: int = typer.Option(400, "--points", metavar="N", show_default=False,
                               help="How many points to sample (default 400)."),
    wrt: List[str] = typer.Option([], "--wrt", metavar="NAME", show_default=False,
                                  help="The derivative with respect to NAME (default: the input with the range)."),
    order: int = typer.Option(1, "--order", metavar="N", show_default=False,
                              help="1: value and derivative; 2 adds the second derivative."),
    width: Optional[int] = typer.Option(None, "--width", metavar="COLUMNS",
                                        help="Plot width (default: the terminal's, 80 otherwise)."),
    height: Optional[int] = typer.Option(None, "--height", metavar="LINES",
                                         help="Plot height (default: the terminal's, 24 otherwise)."),
    ascii: bool = typer.Option(False, "--ascii", help="Plain characters instead of braille dots."),
    render_to: Optional[Path] = typer.Option(None, "--render", metavar="FILE",
                                             help="Draw to FILE (.svg, .png or .pdf) with Matplotlib."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    of: Optional[str] = OF,
) -> None:
    def body() -> None:
        from ..bindings import parse_bindings
        from ..parser import parse
        from ..plot import parse_range, sample, split_range
        from ..render import plot as render

        if order not in (1, 2):
            raise AdiffError("usage", f"--order {order}: choose 1 or 2")
        in_range("--points", points, 2, 1_000_000)
        wanted = names_to_list(wrt)
        if wanted is not None and len(wanted) > 1:
            raise AdiffError("usage", f"--wrt {','.join(wanted)}: plot draws the derivative with respect "
                             "to one input", hint="give one name, for example --wrt x")
        in_range("--max-nodes", max_nodes, 1)
        for option, value, least in (("--width", width, 30), ("--height", height, 8)):
            if value is not None:
                in_range(option, value, least)
        arguments = _arguments(ctx)
        name, span, rest, assignments = split_range(arguments.bindings, list(var))
        if name is None:
            raise AdiffError("usage", "plot needs one input with a range START:STOP",
                             hint='for example: adiff plot "tanh(x)" --x -3:3')
        start, stop = parse_range(name, span)
        text, _ = read_program(program, file)
        bound = [b.name for b in rest] + [v.partition("=")[0].strip() for v in assignments] + [name]
        graph = parse(text, bound, max_nodes=max_nodes)
        _check_options(ctx, arguments, graph.inputs)
        if of is not None:
            graph.select(of)
        bindings = parse_bindings(rest, assignments)
        if name in bindings:
            raise AdiffError("binding", f"{name} is bound twice", hint="bind each input once")
        if name not in graph.inputs:
            raise AdiffError("usage", f"--{name} {span}: the program has no input {name}",
                             hint="its inputs: " + (", ".join(graph.inputs) or "none"))
        check_wrt(graph, wanted)
        from ..evaluator import bind
        warn(bind(graph, {**bindings, name: start})[1])
        samples = sample(graph, bindings, name, start, stop, points, order, wanted[0] if wanted else None)
        if render_to is not None:
            render.render_image(samples, render_to)
            print(f"adiff: drew {render_to}", file=sys.stderr)
        elif json:
            with output():
                sys.stdout.write(render.dumps(render.document(samples)))
        else:
            columns, lines = plot_size(width, height)
            drawn = render.render(samples, width=columns, height=lines, braille=not ascii,
                                  colour=use_colour(sys.stdout))
            with output():
                sys.stdout.write(drawn)

    guarded(json, body)
