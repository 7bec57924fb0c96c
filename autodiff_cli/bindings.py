"""Command-line bindings (`--x 2`, `--x=-2.5`, `--var x=2`) to numbers."""

from __future__ import annotations

import re
from typing import Iterable, Optional

from .errors import AdiffError

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_SPECIAL = {"nan": float("nan"), "inf": float("inf"), "infinity": float("inf")}
_NAME = re.compile(r"[^\W\d]\w*\Z")


def parse_value(name: str, text: str) -> float:
    """A binding's value: a decimal number, nan or ±inf, and nothing else."""
    stripped = text.strip()
    if _NUMBER.match(stripped):
        return float(stripped)
    special = _SPECIAL.get(stripped.lstrip("+-").lower())
    if special is not None:
        return -special if stripped.startswith("-") else special
    if not stripped:
        hint = f"give a number: --{name} 1"
    elif re.fullmatch(r"[+-]?[0-9]+,[0-9]+", stripped):
        hint = f"use a decimal point: --{name} {stripped.replace(',', '.')}"
    elif re.fullmatch(r"[+-]?0[xXbBoO][0-9a-fA-F_]+", stripped):
        hint = "write the number in decimal"
    else:
        hint = "a value is a decimal number such as 2, -0.5 or 1e-3 (or nan, inf, -inf)"
    raise AdiffError("binding", f"--{name}: '{text}' is not a number", hint=hint)


def parse_bindings(bindings: Iterable, assignments: Iterable[str] = ()) -> dict[str, float]:
    """Bindings (arguments.Binding: a name and its text) plus `NAME=VALUE`
    strings from --var, as numbers."""
    pairs: list[tuple[str, Optional[str]]] = [(b.name, b.value) for b in bindings]
    for assignment in assignments:
        name, eq, value = assignment.partition("=")
        if not eq:
            raise AdiffError("binding", f"--var '{assignment}' is not NAME=VALUE",
                             hint="for example --var json=2")
        pairs.append((name.strip(), value))

    values: dict[str, float] = {}
    for name, value in pairs:
        if not _NAME.match(name):
            raise AdiffError("binding", f"'{name}' is not a name that a program can use",
                             hint="names start with a letter or _, then letters, digits or _")
        if value is None:
            raise AdiffError("binding", f"--{name} has no value", hint=f"give one: --{name} 1")
        if name in values:
            raise AdiffError("binding", f"{name} is bound twice", hint="bind each input once")
        values[name] = parse_value(name, value)
    return values
