"""The command line's shared parts on Typer: the app, the options every
command that reads a program shares, and the checks that need every
command's options (a mistyped option, an input named like one).

Each command lives in `commands/<name>.py` and holds only what is its own.
Everything a command computes lives in the core modules; the error edge
(AdiffError, and anything unexpected, usage errors included, to one
message, a JSON error document under --json, and an exit code) is edge.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

try:                       # newer typer carries its own copy of Click
    from typer._click import exceptions as click_errors
    from typer._click.globals import get_current_context
except ImportError:        # pragma: no cover
    from click import exceptions as click_errors
    from click import get_current_context

from . import __version__, edge
from .arguments import Arguments, close_option, split, wants_json
from .edge import fail
from .errors import AdiffError, shorten

if TYPE_CHECKING:
    from .graph import Graph

HELP_OPTIONS = ["-h", "--help"]
_ARGUMENTS = "adiff.arguments"


def _usage_error(error, command: Optional[str] = None) -> AdiffError:
    """Click's own complaint (a bad option value, a missing one) in adiff's words."""
    message = error.format_message()
    for prefix in ("Invalid value for ",):
        if message.startswith(prefix):
            message = message[len(prefix):].replace("'", "", 2)
    message = message.rstrip(".")
    message = message[:1].lower() + message[1:]
    return AdiffError("usage", message, hint=f"see adiff {command + ' ' if command else ''}--help")


class AdiffGroup(TyperGroup):
    """The `adiff` group: an unknown command or option is an adiff error too."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click_errors.NoArgsIsHelpError:
            raise
        except click_errors.ClickException as error:
            fail(_usage_error(error), False)

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name not in self.commands and not name.startswith("-"):
            import difflib
            close = difflib.get_close_matches(name, list(self.commands), n=1)
            fail(AdiffError("usage", f"no command '{shorten(name)}'" + (f"; did you mean {close[0]}?" if close else ""),
                            hint="commands: " + ", ".join(self.commands)), wants_json(args))
        return super().resolve_command(ctx, args)


class ProgramCommand(TyperCommand):
    """A command that reads a program and its bindings (`--x 2`).

    adiff's own reading of the words (arguments.split) decides what is an
    option, a binding or the program; Click then sees only the options it
    declared, and the program after `--`.
    """

    def option_words(self) -> tuple[set[str], set[str]]:
        flags, valued = set(HELP_OPTIONS), set()
        for param in self.params:
            if param.param_type_name != "option":
                continue
            words = {*param.opts, *param.secondary_opts}
            (flags if param.is_flag else valued).update(words)
        return flags, valued

    def long_options(self) -> list[str]:
        flags, valued = self.option_words()
        return sorted(word for word in flags | valued if word.startswith("--"))

    def parse_args(self, ctx, args):
        if not args or ctx.resilient_parsing:   # help, or shell completion: Click's own reading
            return super().parse_args(ctx, args)
        try:
            arguments = split(list(args), *self.option_words(), getattr(self, "positionals", 1))
        except AdiffError as error:
            fail(error, wants_json(args))
        ctx.meta[_ARGUMENTS] = arguments
        # "--" even with no program: words were given, so this is no call for help
        words = arguments.options + ["--"] + ([arguments.program, *arguments.rest]
                                              if arguments.program is not None else [])
        try:
            return super().parse_args(ctx, words)
        except click_errors.NoArgsIsHelpError:
            raise
        except click_errors.ClickException as error:
            fail(_usage_error(error, ctx.info_name), arguments.as_json)


app = typer.Typer(cls=AdiffGroup, add_completion=True, no_args_is_help=True, rich_markup_mode=None,
                  context_settings={"help_option_names": HELP_OPTIONS},
                  help="adiff: automatic differentiation you can read. Parses an expression "
                       "or a short program into a computational graph, runs the forward and "
                       "reverse passes, and shows every node's value and gradient.")

# what every command that reads a program and its bindings is declared with
READS_A_PROGRAM = dict(no_args_is_help=True, cls=ProgramCommand,
                       context_settings={"help_option_names": HELP_OPTIONS})


def _version(value: bool) -> None:
    if value:
        print(f"adiff {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Show the version and exit.")) -> None:
    """adiff: automatic differentiation you can read."""


# ---- the program and its bindings -------------------------------------------

def _arguments(ctx: typer.Context) -> Arguments:
    return ctx.meta.get(_ARGUMENTS) or Arguments()


def _check_options(ctx: typer.Context, arguments: Arguments, inputs) -> None:
    """A `--name` that binds no input but looks like an option is a mistake."""
    command = ctx.command
    mine = command.long_options() if isinstance(command, ProgramCommand) else []
    others: dict[str, list[str]] = {}
    root = ctx.find_root().command
    for name, other in getattr(root, "commands", {}).items():
        if isinstance(other, ProgramCommand) and other is not command:
            for option in other.long_options():
                others.setdefault(option, []).append(name)
    for binding in arguments.bindings:
        if binding.name in inputs:
            continue
        option = "--" + binding.name
        if option in others:
            names = others[option]
            listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
            hint = f"--{binding.name} is an option of adiff {listed}"
            if binding.name == "format" and "--json" in mine:
                hint += "; for JSON use --json"
            raise AdiffError("usage", f"adiff {ctx.info_name} has no option {shorten(option)}", hint=hint)
        close = close_option(binding.name, mine)
        if close is not None:
            raise AdiffError("usage", f"no option {shorten(option)}; did you mean {close}?",
                             hint=f"adiff {ctx.info_name} --help lists its options")


def load(ctx: typer.Context, program: Optional[str], file: Optional[Path], var: List[str],
         max_nodes: int, of: Optional[str] = None) -> tuple["Graph", dict[str, float], str]:
    """edge.load, with the option checks that need every command's options."""
    return edge.load(_arguments(ctx), program, file, var, max_nodes,
                     lambda arguments, inputs: _check_options(ctx, arguments, inputs), of)


def bind_with_var(error: AdiffError) -> None:
    """An input named like an option (`digits`, `json`, `help`) is bound with
    --var, or the suggested binding would set the option instead."""
    ctx = get_current_context(silent=True)
    command = ctx.command if ctx is not None else None
    options = command.long_options() if isinstance(command, ProgramCommand) else ["--help"]
    reserved = {option[2:] for option in options}
    if any(name in reserved for name in error.missing):
        error.hint = "bind with " + " ".join(f"--var {name}=1" if name in reserved else f"--{name} 1"
                                             for name in error.missing) + error.more



# ---- options that every command reading a program shares ----------------------

PROGRAM = typer.Argument(None, show_default=False, metavar="PROGRAM",
                         help="The expression or program; '-' reads standard input.")
FILE = typer.Option(None, "-f", "--file", metavar="FILE",
                    help="Read the program from FILE ('-' for standard input).")
VAR = typer.Option([], "--var", metavar="NAME=VALUE",
                   help="Bind a name that clashes with an option (repeatable).")
MAX_NODES = typer.Option(5_000_000, "--max-nodes", metavar="N", show_default=False,
                         help="Stop with an error if the graph grows past N nodes "
                              "(default 5,000,000, at least 1).")
JSON = typer.Option(False, "--json", help="Print one JSON document instead of the table.")
WRT = typer.Option([], "--wrt", metavar="NAMES", show_default=False,
                   help="Only these inputs, comma-separated; repeatable (default: every input).")
OF = typer.Option(None, "--of", metavar="NAME",
                  help="Of a program of several outputs (`R, H`), only the output NAME.")
DIGITS = typer.Option(6, "--digits", metavar="N", show_default=False,
                      help="Significant digits shown, 1 to 17 (default 6).")


SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _completion_for_a_named_shell(args: list[str]) -> None:
    """`adiff --show-completion SHELL` (or --install-completion SHELL): for
    that shell.  Typer's own option, where it can detect the shell, takes no
    value and would answer for the shell it runs in whatever was named."""
    if not args or args[0].partition("=")[0] not in ("--show-completion", "--install-completion"):
        return
    flag, eq, shell = args[0].partition("=")
    if not eq:
        if len(args) < 2 or args[1].startswith("-"):
            return   # no shell named: Typer's detection of the current one
        shell = args[1]
    if shell not in SHELLS:
        fail(AdiffError("usage", f"{flag} {shorten(shell)}: not a shell adiff completes",
                        hint="choose " + ", ".join(SHELLS[:-1]) + " or " + SHELLS[-1]), False)
    from typer._completion_shared import get_completion_script, install
    with edge.output():
        if flag == "--show-completion":
            print(get_completion_script(prog_name="adiff", complete_var="_ADIFF_COMPLETE", shell=shell))
        else:
            shell, path = install(shell=shell, prog_name="adiff", complete_var="_ADIFF_COMPLETE")
            print(f"{shell} completion installed in {path}")
            print("Completion will take effect once you restart the terminal")
    raise SystemExit(0)


def run(args=None) -> None:
    """The full command line (the `adiff` console script is autodiff_cli.main)."""
    import sys
    _completion_for_a_named_shell(sys.argv[1:] if args is None else list(args))
    app(args=args, prog_name="adiff")


# each command registers itself on `app` as it is imported
from .commands import eval as eval_command, explain as explain_command, graph as graph_command  # noqa: E402
COMMANDS = (eval_command, explain_command, graph_command)
from .commands import minimize as minimize_command, plot as plot_command  # noqa: E402
COMMANDS += (minimize_command, plot_command)
from .commands import diff as diff_command  # noqa: E402
COMMANDS += (diff_command,)
from .commands import batch as batch_command  # noqa: E402
COMMANDS += (batch_command,)


@app.command("help", context_settings={"help_option_names": HELP_OPTIONS})
def help_command(ctx: typer.Context,
                 command: Optional[str] = typer.Argument(None, metavar="[COMMAND]",
                                                         help="The command to explain.")) -> None:
    """Show help for adiff, or for one of its commands."""
    group = ctx.parent.command
    if command is None:
        print(ctx.parent.get_help())
        return
    found = group.get_command(ctx.parent, command)
    if found is None:
        group.resolve_command(ctx.parent, [command])   # says what there is, and exits 2
    with found.make_context(command, [], parent=ctx.parent, resilient_parsing=True) as sub:
        print(found.get_help(sub))
