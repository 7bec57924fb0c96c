"""adiff's own syntax: a program adiff reads back (`adiff eval -`, `adiff diff -`).

Definitions are statements; each output is a named statement (dL_dx = ...),
so the program's value is the last output's.  An output that is a bare
number reads back as an input with that default: its value is the same.
"""

from __future__ import annotations

from .base import Printer


class AdiffPrinter(Printer):
    format = "adiff"


def render(printer: Printer, header: str = "") -> str:
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for name, text, _node in printer.statements():
        lines.append(f"{name} = {text}")
    return "\n".join(lines) + "\n"


def render_graph(graph, inline: bool = False, program=None, keys=None, **_ignored) -> str:
    keys = [k for k in graph.outputs if k] if keys is None else keys
    printer = AdiffPrinter(graph, keys or [()], inline=inline)
    header = ""
    if program is not None:
        shown = " ".join(program.split())
        shown = shown if len(shown) <= 70 else shown[:69] + "…"
        header = f"derivatives by adiff of: {shown}"
    return render(printer, header)
