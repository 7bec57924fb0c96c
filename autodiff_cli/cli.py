"""The command line: wires options to the core and errors to exit codes.

Everything a command computes lives in the core modules; this file reads
the program and the bindings, picks a renderer, and turns AdiffError (and
anything unexpected) into one message and an exit code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, List, NoReturn, Optional

import typer
from typer.core import TyperCommand

from . import __version__
from .errors import AdiffError, ExitCode

if TYPE_CHECKING:
    from .graph import Graph

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="adiff: automatic differentiation you can read. Parses an expression "
                       "or a short program into a computational graph, runs the forward and "
                       "reverse passes, and shows every node's value and gradient.")

BINDINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


class BindingsCommand(TyperCommand):
    """A command whose unknown `--name value` pairs are bindings.

    Click reads a word such as `-inf` as a cluster of short options, and
    `-f` is one of ours: `--x -inf` lost its value and -f took the next word.
    Joining `--name -value` into `--name=-value` before Click parses keeps a
    negative value with its name (`--x=-inf` always worked).
    """

    def parse_args(self, ctx, args):
        known = {opt for param in self.params for opt in (*param.opts, *param.secondary_opts)}
        joined: list[str] = []
        i = 0
        while i < len(args):
            word = args[i]
            if word == "--":
                joined += args[i:]
                break
            if (word.startswith("--") and len(word) > 2 and "=" not in word and word not in known
                    and i + 1 < len(args) and args[i + 1].startswith("-") and args[i + 1] != "-"
                    and not args[i + 1].startswith("--")):
                joined.append(f"{word}={args[i + 1]}")
                i += 2
                continue
            if word.startswith("-") and not word.startswith("--") and len(word) > 1 and word not in known:
                # a program that starts with a minus sign ("-(f*x)", "-softplus(x)"):
                # Click would read it as short options, and its "f" as -f
                word = PROGRAM_MARK + word
            joined.append(word)
            i += 1
        return super().parse_args(ctx, joined)


# put before a program that begins with "-" so that Click takes it for an argument
PROGRAM_MARK = " "

# what every command that reads a program and its bindings is declared with
READS_A_PROGRAM = dict(context_settings=BINDINGS, no_args_is_help=True, cls=BindingsCommand)

EVAL_HELP = """Evaluate PROGRAM and its gradient with respect to every input.

Bind inputs with --NAME VALUE (or --NAME=VALUE); --var NAME=VALUE binds a
name that clashes with one of adiff's options.  PROGRAM may be '-' to read
standard input, or use -f FILE.

\b
Examples:
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --json | jq .gradient
  adiff eval "sin(x)*exp(-t)" --x 0.5 --t=1 --wrt x
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --check
  adiff eval -f samples/tanh_neuron.adiff --w1 0.3
  echo "tanh(a*b)" | adiff eval - --a 1 --b -2
"""


def _version(value: bool) -> None:
    if value:
        print(f"adiff {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Show the version and exit.")) -> None:
    """adiff: automatic differentiation you can read."""


def _read_program(program: Optional[str], file: Optional[Path]) -> tuple[str, str]:
    """The program's text, and how to name it in the output."""
    if file is not None and program is not None:
        raise AdiffError("usage", "give the program either as an argument or with -f, not both")
    if file is None and program is None:
        raise AdiffError("usage", "no program given",
                         hint='for example: adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5')
    if file is not None or program == "-":
        where = "standard input" if file is None else str(file)
        try:
            data = sys.stdin.buffer.read() if file is None else file.read_bytes()
        except OSError as error:
            raise AdiffError("file", f"cannot read {where}: {error.strerror or error}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
            raise AdiffError("encoding", f"{where} is not valid UTF-8 (byte {error.start + 1}, "
                             f"0x{data[error.start]:02x})", line=line, column=column) from None
        # a byte-order mark is encoding, not program: keep it out of the JSON "program" too
        text = text[1:] if text.startswith("\ufeff") else text
        return text, (text if file is None else str(file))
    return program, program


def _split_arguments(program: Optional[str], extra: List[str]) -> tuple[Optional[str], list[str]]:
    """Click hands the first bare word to PROGRAM even when it is a binding's
    value (`adiff eval -f F --x 2` gives PROGRAM '--x'); put the words back in
    order and take the one that is not part of a binding."""
    words = ([program] if program is not None else []) + list(extra)
    found: Optional[str] = None
    bindings: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and len(word) > 2:
            bindings.append(word)
            if "=" not in word and i + 1 < len(words):
                bindings.append(words[i + 1])
                i += 1
        elif found is None:
            found = word[len(PROGRAM_MARK):] if word.startswith(PROGRAM_MARK + "-") else word
        else:
            raise AdiffError("usage", f"unexpected argument '{word}'",
                             hint="quote the program, and bind inputs as --name value")
        i += 1
    return found, bindings


def _fail(error: AdiffError, as_json: bool) -> NoReturn:
    # the message first: it must survive an output that cannot be written
    print(f"adiff: error: {error}", file=sys.stderr)
    if as_json:
        from .render.json import error_document
        _print_json(error_document(error))
    raise typer.Exit(int(error.exit_code))


def _print_json(doc: dict) -> None:
    """The whole document is made before a byte is written: an interruption
    or a failure part-way leaves no half JSON document on standard output."""
    import io

    from .render.json import write
    buffer = io.StringIO()
    write(doc, buffer)
    with _output():
        sys.stdout.write(buffer.getvalue())


@contextlib.contextmanager
def _output():
    """Writing to standard output: a closed pipe or a full disk ends quietly."""
    if sys.stdout is None:  # started with standard output closed (`adiff ... >&-`)
        print("adiff: error: cannot write the output: standard output is closed", file=sys.stderr)
        raise typer.Exit(int(ExitCode.FAILURE))
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`| head`): no traceback, and none at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(int(ExitCode.FAILURE)) from None
    except OSError as error:
        print(f"adiff: error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        raise typer.Exit(int(ExitCode.FAILURE)) from None


def _guarded(as_json: bool, body: Callable[[], None]) -> None:
    """Run a command's body with adiff's error handling at the edge."""
    try:
        body()
    except AdiffError as error:
        _fail(error, as_json)
    except KeyboardInterrupt:
        print("adiff: interrupted", file=sys.stderr)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except (typer.Exit, typer.Abort):
        raise
    except MemoryError:
        _fail(AdiffError("too_large", "out of memory: the program is too large",
                         hint="try a smaller program, or --max-nodes to stop earlier",
                         exit_code=ExitCode.FAILURE), as_json)
    except Exception as error:
        if os.environ.get("ADIFF_DEBUG"):
            raise
        # one line whatever the exception holds (its text may span lines or pages)
        detail = " ".join(str(error).split())
        detail = detail if len(detail) <= 60 else detail[:59] + "…"
        _fail(AdiffError("internal", f"internal error ({type(error).__name__}: {detail}); "
                         "this is a bug in adiff, please report it (ADIFF_DEBUG=1 shows the traceback)",
                         exit_code=ExitCode.FAILURE), as_json)


# Options that every command reading a program shares.
PROGRAM = typer.Argument(None, show_default=False, metavar="PROGRAM",
                         help="The expression or program; '-' reads standard input.")
FILE = typer.Option(None, "-f", "--file", metavar="FILE", help="Read the program from FILE.")
VAR = typer.Option([], "--var", metavar="NAME=VALUE",
                   help="Bind a name that clashes with an option (repeatable).")
MAX_NODES = typer.Option(5_000_000, "--max-nodes", min=1,
                         help="Stop with an error if the graph grows past this many nodes.")
JSON = typer.Option(False, "--json", help="Print one JSON document instead of the table.")


def load(ctx: typer.Context, program: Optional[str], file: Optional[Path], var: List[str],
         max_nodes: int) -> tuple["Graph", dict[str, float], str]:
    """What every command starts with: the graph, the bindings, and the
    program as the output should name it (its text, or its file's path)."""
    from .bindings import parse_bindings
    from .parser import parse

    text_arg, binding_words = _split_arguments(program, ctx.args)
    bindings = parse_bindings(binding_words, var)
    text, shown = _read_program(text_arg, file)
    return parse(text, bindings, max_nodes=max_nodes), bindings, shown


def warn(warnings) -> None:
    for warning in warnings:
        print(f"adiff: warning: {warning.message}", file=sys.stderr)


@app.command("eval", help=EVAL_HELP, **READS_A_PROGRAM)
def eval_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    json: bool = JSON,
    wrt: Optional[str] = typer.Option(None, "--wrt", metavar="NAMES",
                                      help="Report the gradient only for these inputs, comma-separated."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits in the table."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on any warning."),
    check: bool = typer.Option(False, "--check",
                               help="Compare every gradient with a central finite difference; "
                                    "exit 1 if one disagrees."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", min=0, metavar="TOL",
                                              help="The check's tolerance on the error "
                                                   "(default 1e-5); implies --check."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
) -> None:
    def body() -> None:
        from .evaluator import evaluate

        graph, bindings, shown = load(ctx, program, file, var, max_nodes)
        trace = evaluate(graph, bindings)
        wanted = None
        if wrt is not None:
            wanted = [name.strip() for name in wrt.split(",") if name.strip()]
            unknown = [name for name in wanted if name not in graph.inputs]
            if unknown:
                raise AdiffError("usage", f"--wrt: the program has no input {', '.join(unknown)}",
                                 hint="its inputs: " + (", ".join(graph.inputs) or "none"))
        if strict and trace.warnings:
            listed = [w.message for w in trace.warnings[:3]]
            if len(trace.warnings) > 3:
                listed.append(f"and {len(trace.warnings) - 3} more warnings")
            raise AdiffError("strict", "; ".join(listed),
                             hint="--strict makes every warning a failure", exit_code=ExitCode.FAILURE)
        warn(trace.warnings)
        checked = None
        if check or tolerance is not None:
            from .check import DEFAULT_TOLERANCE, check as run_check
            checked = run_check(trace, DEFAULT_TOLERANCE if tolerance is None else tolerance, wanted)
        if json:
            from .render.json import document
            doc = document(trace, shown, wanted)
            if checked is not None:
                from .render.check import document as check_document
                doc["check"] = check_document(checked)
            _print_json(doc)
        else:
            from .render.table import render
            with _output():
                render(trace, sys.stdout, digits=digits, wrt=wanted)
                if checked is not None:
                    from .render.check import render as render_check
                    render_check(checked, sys.stdout, digits=digits)
        if checked is not None and not checked.passed:
            worst = ", ".join(f"{c.name} (error {c.error:.2g})" for c in checked.failures)
            print(f"adiff: error: gradient check failed for {worst}; tolerance {checked.tolerance:g}",
                  file=sys.stderr)
            raise typer.Exit(int(ExitCode.FAILURE))

    _guarded(json, body)


GRAPH_HELP = """Draw PROGRAM's computational graph: ellipses for values, boxes for operations.

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

GRAPHVIZ_FORMATS = ("svg", "png", "pdf")


@app.command("graph", help=GRAPH_HELP, **READS_A_PROGRAM)
def graph_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    format: str = typer.Option("dot", "--format", metavar="dot|mermaid|tree|json",
                               help="dot (Graphviz), mermaid (Markdown), tree (terminal) or json."),
    render_to: Optional[Path] = typer.Option(None, "--render", metavar="FILE",
                                             help="Draw to FILE (.svg, .png or .pdf) with Graphviz's dot."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
) -> None:
    def body() -> None:
        from .evaluator import evaluate

        if format not in ("dot", "mermaid", "tree", "json"):
            raise AdiffError("usage", f"--format {format}: choose dot, mermaid, tree or json",
                             hint="to draw a picture file, use --render FILE.svg (or .png, .pdf)")
        graph, bindings, shown = load(ctx, program, file, var, max_nodes)
        bound = all(name in bindings or name in graph.defaults for name in graph.inputs)
        trace = evaluate(graph, bindings) if bound else None
        if trace is not None:
            warn(trace.warnings)
        elif bindings:
            missing = [name for name in graph.inputs if name not in bindings and name not in graph.defaults]
            print(f"adiff: warning: drawing the structure only: no value for {', '.join(missing[:5])}"
                  + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""), file=sys.stderr)
        if render_to is not None:
            _render_with_graphviz(graph, trace, render_to)
        elif format == "json":
            from .render.json import graph_document
            _print_json(graph_document(graph, trace, shown))
        elif format == "tree":
            from .render.tree import render
            with _output():
                render(graph, trace, sys.stdout)
        else:
            from .render.dot import dot
            from .render.figure import figure
            from .render.mermaid import mermaid
            with _output():
                sys.stdout.write((dot if format == "dot" else mermaid)(figure(graph, trace)))

    _guarded(format == "json", body)


def _render_with_graphviz(graph: "Graph", trace, target: Path) -> None:
    import shutil
    import subprocess

    from .render.dot import dot
    from .render.figure import figure

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
    result = subprocess.run([program, f"-T{kind}", "-o", str(target)], input=dot(figure(graph, trace)),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise AdiffError("graphviz", f"Graphviz's dot failed: {result.stderr.strip()[:300]}",
                         exit_code=ExitCode.FAILURE)
    print(f"adiff: drew {target}", file=sys.stderr)


EXPLAIN_HELP = """Show the forward and backward passes of PROGRAM step by step.

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
"""


@app.command("explain", help=EXPLAIN_HELP, **READS_A_PROGRAM)
def explain_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    format: str = typer.Option("text", "--format", metavar="text|markdown|latex|json",
                               help="text (the default), markdown, latex or json."),
    max_steps: int = typer.Option(100, "--max-steps", min=0, metavar="N",
                                  help="Show at most N lines of each pass and of the gradient; "
                                       "0 shows everything."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
) -> None:
    def body() -> None:
        from .evaluator import evaluate
        from .explain import explain
        from .render import explain as render

        if format not in render.FORMATS:
            raise AdiffError("usage", f"--format: unknown format '{format}'",
                             hint="one of: " + ", ".join(render.FORMATS))
        graph, bindings, shown = load(ctx, program, file, var, max_nodes)
        trace = evaluate(graph, bindings)
        warn(trace.warnings)
        explanation = explain(trace, max_steps)
        if format == "json":
            _print_json(render.document(explanation, shown, trace.warnings))
        else:
            with _output():
                sys.stdout.write(render.RENDERERS[format](explanation))

    _guarded(format == "json", body)


def run() -> None:
    """The `adiff` console script."""
    app(prog_name="adiff")


# `adiff diff` registers itself on the app (autodiff_cli/diff_command.py)
from . import diff_command as _diff_command  # noqa: E402,F401
