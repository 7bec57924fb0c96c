"""adiff graph: the computational graph as DOT, Mermaid, a tree or JSON, or drawn by Graphviz."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from ..cli import DIGITS, FILE, MAX_NODES, OF, PROGRAM, READS_A_PROGRAM, VAR, app, load
from ..edge import guarded, in_range, output, print_json, warn
from ..errors import AdiffError, ExitCode

if TYPE_CHECKING:
    from ..graph import Graph

HELP = """Draw PROGRAM's computational graph: ellipses for values, boxes for operations.

With every input bound (or given a default by the program), each value also
shows its value and gradient, and each edge its local partial derivative;
otherwise the graph's structure alone is drawn.

\b
Examples:
  adiff graph "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 > seed.dot
  adiff graph "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --render seed.svg
  adiff graph "(x+y)*(x+y)" --format tree
  adiff graph -f samples/two_layer.adiff --format mermaid
"""

FORMATS = ("dot", "mermaid", "tree", "json")
GRAPHVIZ_FORMATS = ("svg", "png", "pdf")


@app.command("graph", help=HELP, **READS_A_PROGRAM)
def graph_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    format: Optional[str] = typer.Option(None, "--format", metavar="dot|mermaid|tree|json", show_default=False,
                                         help="dot (Graphviz, the default), mermaid (Markdown), "
                                              "tree (terminal) or json."),
    json: bool = typer.Option(False, "--json", help="The same as --format json."),
    digits: int = DIGITS,
    render_to: Optional[Path] = typer.Option(None, "--render", metavar="FILE",
                                             help="Draw to FILE (.svg, .png or .pdf) with Graphviz's dot."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    of: Optional[str] = OF,
) -> None:
    chosen = "json" if json and format is None else (format or "dot")

    def body() -> None:
        from ..evaluator import evaluate

        if json and format not in (None, "json"):
            raise AdiffError("usage", f"--json and --format {format} ask for two outputs: give one")
        if chosen not in FORMATS:
            raise AdiffError("usage", f"--format {chosen}: choose dot, mermaid, tree or json",
                             hint="to draw a picture file, use --render FILE.svg (or .png, .pdf)")
        if render_to is not None and (json or format not in (None, "dot")):
            raise AdiffError("usage", f"--render draws the DOT figure with Graphviz; it cannot also "
                             f"print --format {chosen}", hint="give --render FILE or --format, not both")
        in_range("--max-nodes", max_nodes, 1)
        in_range("--digits", digits, 1, 17)
        graph, bindings, shown = load(ctx, program, file, var, max_nodes, of)
        bound = all(name in bindings or name in graph.defaults for name in graph.inputs)
        trace = evaluate(graph, bindings) if bound else None
        if trace is not None:
            warn(trace.warnings)
        elif bindings:
            missing = [name for name in graph.inputs if name not in bindings and name not in graph.defaults]
            print(f"adiff: warning: drawing the structure only: no value for {', '.join(missing[:5])}"
                  + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""), file=sys.stderr)
        if render_to is not None:
            _render_with_graphviz(graph, trace, render_to, digits)
        elif chosen == "json":
            from ..render.json import graph_document
            print_json(graph_document(graph, trace, shown))
        elif chosen == "tree":
            from ..render.tree import render
            with output():
                render(graph, trace, sys.stdout, digits)
        else:
            from ..render.dot import dot
            from ..render.figure import figure
            from ..render.mermaid import mermaid
            with output():
                sys.stdout.write((dot if chosen == "dot" else mermaid)(figure(graph, trace, digits)))

    guarded(chosen == "json", body)


def _render_with_graphviz(graph: "Graph", trace, target: Path, digits: int) -> None:
    import shutil
    import subprocess

    from ..render.dot import dot
    from ..render.figure import figure

    kind = target.suffix.lower().lstrip(".")
    if kind not in GRAPHVIZ_FORMATS:
        raise AdiffError("usage", f"--render {target}: the file must end in .svg, .png or .pdf",
                         hint="or print DOT text with --format dot")
    program = shutil.which("dot")
    if program is None:
        raise AdiffError("graphviz", "--render needs Graphviz's dot program, which is not installed",
                         hint="install Graphviz (apt-get install graphviz, brew install graphviz, "
                              "winget install graphviz), or print DOT text with --format dot",
                         exit_code=ExitCode.FAILURE)
    if len(graph.nodes) > 300:
        print(f"adiff: note: Graphviz may take minutes to lay out {len(graph.nodes)} nodes; "
              "--format mermaid or tree is quicker for big graphs", file=sys.stderr)
    result = subprocess.run([program, f"-T{kind}", "-o", str(target)], input=dot(figure(graph, trace, digits)),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise AdiffError("graphviz", f"Graphviz's dot failed: {result.stderr.strip()[:300]}",
                         exit_code=ExitCode.FAILURE)
    print(f"adiff: drew {target}", file=sys.stderr)
