"""The usual calls of `adiff eval` and `adiff batch`, without Typer.

They are the commands run in loops and pipelines, and Typer and Click cost
them about 100 ms of start-up.  `quick` reads the words with the reading
every command uses (arguments.split) and the command's options as data (its
module's OPTIONS), prepares the run (read, parse, bind, check) and runs the
same work as the Typer command.  Whenever the words are anything but plain
(help, shell completion, the program on standard input, an option value
Click would refuse, a binding that is no input of the program), or the
preparation fails, before a byte is written, it hands the words on to the
full command line, which answers exactly as it always does.

A module that offers its command here has: Options (a dataclass with the
command's defaults), OPTIONS (word: field and how its value reads),
POSITIONALS (the fields of the positional words), plain(options),
as_json(options), prepare(arguments, options, check_options) and
report(options, *prepared).
"""

from __future__ import annotations

import os
from typing import Optional

from . import edge
from .arguments import Arguments, split
from .errors import AdiffError

HELP_OPTIONS = ("-h", "--help")


def _module(command: str):
    if command == "eval":
        from . import point
        return point
    if command == "batch":
        from . import batch
        return batch
    return None


def quick(words: list[str]) -> bool:
    """Run `adiff WORDS...` if the words are plain; False hands them on."""
    module = _module(words[0]) if len(words) > 1 and "_ADIFF_COMPLETE" not in os.environ else None
    if module is None:
        return False
    flags = {word for word, (_, kind) in module.OPTIONS.items() if kind is None}
    try:
        arguments = split(words[1:], flags | set(HELP_OPTIONS), set(module.OPTIONS) - flags,
                          len(module.POSITIONALS))
    except AdiffError:
        return False
    options = _read_options(module, arguments)
    if options is None or not module.plain(options):
        return False

    def only_inputs(arguments: Arguments, inputs) -> None:
        if any(binding.name not in inputs for binding in arguments.bindings):
            raise AdiffError("usage", "a binding that is no input: the full command line explains")

    try:
        prepared = module.prepare(arguments, options, only_inputs)
    except Exception:    # AdiffError, or a bug: the full command line says it in its words
        return False
    edge.guarded(module.as_json(options), lambda: module.report(options, *prepared))
    return True


def _read_options(module, arguments: Arguments) -> Optional[object]:
    """The option words as Click would read them, or None if Click might
    read them otherwise (or refuse them)."""
    positional = [arguments.program, *arguments.rest]
    options = module.Options(**dict(zip(module.POSITIONALS, positional)))
    words = iter(arguments.options)
    for word in words:
        name, eq, value = word.partition("=")
        if not name.startswith("--"):
            name, eq, value = word, "", ""
        if name not in module.OPTIONS:
            return None
        attribute, kind = module.OPTIONS[name]
        if kind is None:
            if eq:
                return None
            setattr(options, attribute, True)
            continue
        if not eq:
            value = next(words, None)
            if value is None:
                return None
        try:
            if kind is list:
                getattr(options, attribute).append(value)
            elif kind == "path":   # as Typer reads a Path (which names the file in the output)
                from pathlib import Path
                setattr(options, attribute, Path(value))
            else:
                setattr(options, attribute, kind(value))
        except ValueError:
            return None
    return options
