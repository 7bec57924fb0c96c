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
            joined.append(word)
            i += 1
        return super().parse_args(ctx, joined)

EVAL_HELP = """Evaluate PROGRAM and its gradient with respect to every input.

Bind inputs with --NAME VALUE (or --NAME=VALUE); --var NAME=VALUE binds a
name that clashes with one of adiff's options.  PROGRAM may be '-' to read
standard input, or use -f FILE.

\b
Examples:
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --json | jq .gradient
  adiff eval "sin(x)*exp(-t)" --x 0.5 --t=1 --wrt x
  adiff eval -f samples/neuron.adiff --w1 0.3
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
            found = word
        else:
            raise AdiffError("usage", f"unexpected argument '{word}'",
                             hint="quote the program, and bind inputs as --name value")
        i += 1
    return found, bindings


def _fail(error: AdiffError, as_json: bool) -> NoReturn:
    # the message first: it must survive an output that cannot be written
    print(f"adiff: error: {error}", file=sys.stderr)
    if as_json:
        from .render.json import dumps, error_document
        with _output():
            sys.stdout.write(dumps(error_document(error)) + "\n")
    raise typer.Exit(int(error.exit_code))


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
MAX_NODES = typer.Option(10_000_000, "--max-nodes", min=1,
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


@app.command("eval", help=EVAL_HELP, context_settings=BINDINGS, no_args_is_help=True,
             cls=BindingsCommand)
def eval_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    json: bool = JSON,
    wrt: Optional[str] = typer.Option(None, "--wrt", metavar="NAMES",
                                      help="Report the gradient only for these inputs, comma-separated."),
    digits: int = typer.Option(6, "--digits", min=1, max=17, help="Significant digits in the table."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on any warning."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
) -> None:
    def body() -> None:
        from .evaluate import evaluate

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
        if json:
            from .render.json import document, dumps
            with _output():
                sys.stdout.write(dumps(document(trace, shown, wanted)) + "\n")
        else:
            from .render.table import render
            with _output():
                render(trace, sys.stdout, digits=digits, wrt=wanted)

    _guarded(json, body)


def run() -> None:
    """The `adiff` console script."""
    app(prog_name="adiff")
