"""Printers: a graph with outputs as text in a target notation.

One printer class per target (text.py, adiff.py, latex.py, python.py, c.py,
json.py) over the shared layout and precedence rules in base.py.  `render`
is the entry point for all of them.
"""

from __future__ import annotations

from importlib import import_module

FORMATS = ("text", "adiff", "latex", "python", "c", "json")


def render(graph, format: str = "text", **options) -> str:
    """The graph's outputs in `format`.

    Options: inline=True (each output one expression), values (every node's
    value, from evaluator.forward: text adds `= 12`, json adds "values"),
    program (the source, for headers and JSON), name (the C function's)."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    return import_module(f".{format}", __name__).render_graph(graph, **options)
