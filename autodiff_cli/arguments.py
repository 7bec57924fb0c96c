"""One reading of the command line for every command: program, bindings, options.

Click cannot tell a binding (`--x 2`, `--y -5`) from an option, nor a
program that starts with a minus sign (`-(f*x)`) from short options, so
adiff reads the words itself, once, and hands Click only the options it
declared (and the program after `--`).  What is neither is a binding,
kept as text until the program is parsed: only then is it known whether
`--digit 3` binds an input or mistypes `--digits`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .errors import AdiffError, shorten

_SHORT_NAME = re.compile(r"-([^\W\d]\w*)\Z")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z|[+-]?(?i:inf|nan)\Z")


@dataclass
class Binding:
    """`--name value` as written: the value stays text until the program is read."""
    name: str
    value: Optional[str]   # None: `--name` came with no value


@dataclass
class Arguments:
    """A command's words, sorted: the program, the bindings, and Click's options."""
    program: Optional[str] = None
    bindings: list[Binding] = field(default_factory=list)
    options: list[str] = field(default_factory=list)   # for Click, in order
    rest: list[str] = field(default_factory=list)      # positionals after the program (batch's INPUT)

    @property
    def as_json(self) -> bool:
        return wants_json(self.options)


def wants_json(words: Iterable[str]) -> bool:
    """Whether a failure should also print a JSON error document."""
    words = list(words)
    for i, word in enumerate(words):
        if word == "--json" or word.startswith("--json=") or word == "--format=json":
            return True
        if word == "--format" and i + 1 < len(words) and words[i + 1] == "json":
            return True
    return False


def split(words: list[str], flags: set[str], valued: set[str], positionals: int = 1) -> Arguments:
    """Sort the words after a command's name.

    `flags` are the command's options without a value (`--json`), `valued`
    those with one (`--digits`, `-f`).  A value always goes with its option,
    even one that starts with a minus sign (`--tolerance -1` is then Click's
    to refuse); a binding takes the next word as its value unless that word
    is itself a long option.
    """
    result = Arguments()
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else None
        head = word.split("=", 1)[0]
        if word == "--":
            positional += words[i + 1:]
            break
        if word in flags or (head in flags and "=" in word and head.startswith("--")):
            result.options.append(word)
        elif word in valued:
            result.options.append(word)
            if following is not None:
                result.options.append(following)
                i += 1
        elif head in valued and "=" in word and head.startswith("--"):
            result.options.append(word)
        elif word.startswith("--") and len(word) > 2:
            name, eq, value = word[2:].partition("=")
            if not eq:
                if following is not None and not (following.startswith("--") and len(following) > 2):
                    value = following
                    i += 1
                else:
                    value = None
            result.bindings.append(Binding(name, value))
        else:
            positional.append(word)
        i += 1
    if positional:
        result.program = positional[0]
        result.rest = positional[1:positionals]
    if len(positional) > positionals:
        raise _stray(positional[positionals - 1:])
    return result


def _stray(positional: list[str]) -> AdiffError:
    """An extra word: most often a binding written with one dash (`-x 2`)."""
    extra = positional[1]
    # `"x^2" -x 2`: the stray word is the binding; `-x 2`: the program is
    after = positional[2] if len(positional) > 2 else None
    for word, value, sure in ((extra, after, True), (positional[0], extra, False)):
        short = _SHORT_NAME.match(word)
        if short and (sure or _NUMBER.match(value or "")):
            shown = value if value is not None and _NUMBER.match(value) else "VALUE"
            return AdiffError("usage", f"unexpected argument '{shorten(extra)}'",
                              hint=f"bind inputs with two dashes: --{shorten(short.group(1))} {shown}")
    return AdiffError("usage", f"unexpected argument '{shorten(extra)}'",
                      hint="quote the program, and bind inputs as --name value")


def close_option(name: str, options: Iterable[str]) -> Optional[str]:
    """The option that `--name` most likely mistypes, if one is close."""
    import difflib
    found = difflib.get_close_matches(name, [o[2:] for o in options if o.startswith("--")], n=1, cutoff=0.6)
    return "--" + found[0] if found else None
