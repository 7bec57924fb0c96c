"""adiff explain: the forward and backward passes, step by step, in the article's notation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import DIGITS, FILE, MAX_NODES, OF, PROGRAM, READS_A_PROGRAM, VAR, WRT, app, load
from ..edge import check_wrt, guarded, in_range, names_to_list, one_output, output, print_json, warn
from ..errors import AdiffError, ExitCode

HELP = """Show the forward and backward passes of PROGRAM step by step.

The forward pass one line per operation, then the backward pass from the
output back in the notation of the chain rule: each input's gradient as
the upstream gradient times the local derivative, written as a formula and
as a number, and sums where paths meet.  Unnamed intermediate values get
short names (p, a, d, ...) in the forward pass; the output is L unless the
program names it.  Bind inputs as for eval.

\b
Examples:
  adiff explain "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5
  adiff explain "p = x*w; a = p + b; d = a - y; L = d^2" --x 2 --w 3 --b 1 --y 5
  adiff explain "x*x" --x 3 --format latex
  adiff explain -f samples/tanh_neuron.adiff --format json --max-steps 0
  adiff explain "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --format html -o seed.html
"""


@app.command("explain", help=HELP, **READS_A_PROGRAM)
def explain_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    format: Optional[str] = typer.Option(None, "--format", metavar="text|markdown|latex|json|html",
                                         show_default=False,
                                         help="text (the default), markdown, latex, json, or html: one "
                                              "self-contained page that steps through the passes on "
                                              "the graph (every step; --max-steps does not apply)."),
    json: bool = typer.Option(False, "--json", help="The same as --format json."),
    output_file: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE",
                                               help="Write to FILE instead of standard output."),
    max_steps: int = typer.Option(100, "--max-steps", metavar="N", show_default=False,
                                  help="Show at most N lines of each pass and of the gradient "
                                       "(default 100); 0 shows everything."),
    wrt: List[str] = WRT,
    digits: int = DIGITS,
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    of: Optional[str] = OF,
    mode: str = typer.Option("reverse", "--mode", metavar="reverse|forward", show_default=False,
                             help="reverse (the default): the backward pass; forward: a tangent "
                                  "pass per input, in dot notation (text, markdown or html)."),
) -> None:
    chosen = "json" if json and format is None else (format or "text")

    def body() -> None:
        from ..evaluator import evaluate
        from ..explain import explain
        from ..render import explain as render

        if json and format not in (None, "json"):
            raise AdiffError("usage", f"--json and --format {format} ask for two outputs: give one")
        formats = (*render.FORMATS, "html")
        if chosen not in formats:
            raise AdiffError("usage", f"--format: unknown format '{chosen}'",
                             hint="one of: " + ", ".join(formats))
        if mode not in ("reverse", "forward"):
            raise AdiffError("usage", f"--mode {mode}: give reverse or forward")
        if mode == "forward" and chosen not in ("text", "markdown", "html"):
            raise AdiffError("usage", f"explain --mode forward writes text, markdown or html, not {chosen}")
        in_range("--max-steps", max_steps, 0)
        in_range("--max-nodes", max_nodes, 1)
        in_range("--digits", digits, 1, 17)
        wanted = names_to_list(wrt)
        graph, bindings, shown = load(ctx, program, file, var, max_nodes, of)
        one_output(graph, "explain")
        check_wrt(graph, wanted)
        trace = evaluate(graph, bindings)
        warn(trace.warnings)
        if chosen == "html":
            from ..render import html
            if html.too_large(trace):
                print(f"adiff: warning: {html.too_large_message(trace)}", file=sys.stderr)
            _write(html.page(trace, shown, trace.warnings,
                             note=lambda text: print(f"adiff: note: {text}", file=sys.stderr),
                             forward_mode=(wanted or list(graph.inputs)) if mode == "forward" else None),
                   output_file)
            return
        explanation = explain(trace, max_steps, digits, wanted)
        if mode == "forward":
            _write(render.forward_mode(explanation, wanted or list(graph.inputs), chosen == "markdown"),
                   output_file)
        elif chosen == "json" and output_file is None:
            print_json(render.document(explanation, shown, trace.warnings))
        elif chosen == "json":
            import io

            from ..render.json import write
            buffer = io.StringIO()
            write(render.document(explanation, shown, trace.warnings), buffer)
            _write(buffer.getvalue(), output_file)
        else:
            _write(render.RENDERERS[chosen](explanation), output_file)

    guarded(chosen == "json", body)


def _write(text: str, target: Optional[Path]) -> None:
    """To standard output, or whole to FILE (-o)."""
    if target is None:
        with output():
            sys.stdout.write(text)
        return
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise AdiffError("file", f"cannot write {target}: {error.strerror or error}",
                         exit_code=ExitCode.FAILURE) from None
    print(f"adiff: wrote {target}", file=sys.stderr)
