"""The command line's edge, without Typer: reading the program, shared checks
of options' values, and turning failures into one message and an exit code.

Everything here raises SystemExit, never Typer's or Click's exceptions, so
that `adiff eval`'s fast reading of the command line (quick.py) runs it
without importing Typer, and the full command line (cli.py) runs it as is.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Callable, List, NoReturn, Optional

from .errors import AdiffError, ExitCode, shorten

_LISTED = 5

if TYPE_CHECKING:
    from .arguments import Arguments
    from .graph import Graph


# ---- the program -------------------------------------------------------------

# the program last read from a file, {"text": ..., "name": ...}: an error whose
# line and column are in that text is named FILE:LINE:COLUMN (see fail)
_from_file: dict = {}


def read_program(program: Optional[str], file: Optional[str]) -> tuple[str, str]:
    """The program's text, and how to name it in the output."""
    _from_file.clear()
    if file is not None and program is not None:
        raise AdiffError("usage", "give the program either as an argument or with -f, not both")
    if file is None and program is None:
        raise AdiffError("usage", "no program given",
                         hint='for example: adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5')
    stdin = program == "-" or str(file) == "-"
    if file is not None or stdin:
        where = "standard input" if stdin else str(file)
        try:
            data = sys.stdin.buffer.read() if stdin else _read(file)
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
        if not stdin:   # the text as parse reads it: CRLF and CR end lines as "\n" does
            _from_file.update(text=text.replace("\r\n", "\n").replace("\r", "\n"), name=str(file))
        return text, (text if stdin else str(file))
    return program, program


def load(arguments: "Arguments", program: Optional[str], file, var: List[str], max_nodes: int,
         check_options: Callable[["Arguments", object], None],
         of: Optional[str] = None) -> tuple["Graph", dict[str, float], str]:
    """What every command starts with: the graph, the bindings, and the
    program as the output should name it (its text, or its file's path).
    `check_options(arguments, inputs)` refuses a binding that is no input
    but looks like a mistyped option.  `of` (`--of NAME`) keeps one output
    of a program of several."""
    from .bindings import parse_bindings
    from .parser import parse

    names = [b.name for b in arguments.bindings] + [v.partition("=")[0].strip() for v in var]
    try:
        text, shown = read_program(program, file)
    except AdiffError:
        check_options(arguments, ())   # `--jsn "x*2"` took the program as its value
        raise
    graph = parse(text, names, max_nodes=max_nodes)
    check_options(arguments, graph.inputs)
    if of is not None:
        graph.select(of)
    return graph, parse_bindings(arguments.bindings, var), shown


def one_output(graph: "Graph", command: str) -> None:
    """A command of one output (minimize, fit) refuses a program of several,
    naming them and how to choose one."""
    if graph.results:
        names = list(graph.results)
        shown = ", ".join(shorten(n) for n in names[:_LISTED]) + (" ..." if len(names) > _LISTED else "")
        raise AdiffError("usage", f"{command} takes one output; the program has {len(names)}: {shown}",
                         hint=f"choose one with --of NAME, for example --of {shorten(names[0])}")


def _read(file) -> bytes:
    with open(file, "rb") as handle:
        return handle.read()


# ---- options' values ----------------------------------------------------------

def names_to_list(words: List[str], option: str = "--wrt") -> Optional[list[str]]:
    """`--wrt x,w --wrt b` as [x, w, b]; None when the option is not given."""
    if not words:
        return None
    names = [name.strip() for word in words for name in word.split(",") if name.strip()]
    if not names:
        raise AdiffError("usage", f"{option} names no input", hint=f"for example {option} x,w")
    return list(dict.fromkeys(names))


def check_wrt(graph: "Graph", wanted: Optional[list[str]]) -> None:
    if wanted is None:
        return
    unknown = [name for name in wanted if name not in graph.inputs]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], list(graph.inputs), n=1)
        raise AdiffError("usage", f"--wrt: the program has no input {', '.join(shorten(n) for n in unknown[:5])}"
                         + (f"; did you mean {shorten(close[0])}?" if close else ""),
                         hint="its inputs: " + (", ".join(shorten(n) for n in list(graph.inputs)[:20]) or "none"))


def in_range(option: str, value, low, high=None, what: str = "a whole number") -> None:
    """Options' ranges, checked here so that a bad one is an adiff error."""
    if value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise AdiffError("usage", f"{option} {value}: give {what} {span}")


def warn(warnings) -> None:
    for warning in warnings:
        print(f"adiff: warning: {warning.message}", file=sys.stderr)


# ---- the error edge -----------------------------------------------------------

def fail(error: AdiffError, as_json: bool) -> NoReturn:
    if error.line is not None and error.source is not None and error.source == _from_file.get("text"):
        error.file = _from_file["name"]   # a place in the -f FILE: FILE:LINE:COLUMN
    if error.kind == "unbound" and getattr(error, "missing", None):
        from .cli import bind_with_var   # only the full command line knows which names are options
        bind_with_var(error)
    # the message first: it must survive an output that cannot be written
    print(f"adiff: error: {error}", file=sys.stderr)
    if as_json:
        from .render.json import error_document
        print_json(error_document(error))
    raise SystemExit(int(error.exit_code))


def print_json(doc: dict) -> None:
    """The whole document is made before a byte is written: an interruption
    or a failure part-way leaves no half JSON document on standard output."""
    import io

    from .render.json import write
    buffer = io.StringIO()
    write(doc, buffer)
    with output():
        sys.stdout.write(buffer.getvalue())


@contextlib.contextmanager
def output():
    """Writing to standard output: a closed pipe or a full disk ends quietly."""
    if sys.stdout is None:  # started with standard output closed (`adiff ... >&-`)
        print("adiff: error: cannot write the output: standard output is closed", file=sys.stderr)
        raise SystemExit(int(ExitCode.FAILURE))
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`| head`): no traceback, and none at exit either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(int(ExitCode.FAILURE)) from None
    except OSError as error:
        print(f"adiff: error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        raise SystemExit(int(ExitCode.FAILURE)) from None


def guarded(as_json: bool, body: Callable[[], None]) -> None:
    """Run a command's body with adiff's error handling at the edge."""
    try:
        body()
    except AdiffError as error:
        fail(error, as_json)
    except KeyboardInterrupt:
        print("adiff: interrupted", file=sys.stderr)
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except MemoryError:
        fail(AdiffError("too_large", "out of memory: the program is too large",
                        hint="try a smaller program, or --max-nodes to stop earlier",
                        exit_code=ExitCode.FAILURE), as_json)
    except Exception as error:
        if os.environ.get("ADIFF_DEBUG"):
            raise
        # one line whatever the exception holds (its text may span lines or pages)
        detail = " ".join(str(error).split())
        detail = detail if len(detail) <= 60 else detail[:59] + "…"
        fail(AdiffError("internal", f"internal error ({type(error).__name__}: {detail}); "
                        "this is a bug in adiff, please report it (ADIFF_DEBUG=1 shows the traceback)",
                        exit_code=ExitCode.FAILURE), as_json)
