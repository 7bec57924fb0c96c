"""Printers: a graph with outputs as text in a target notation.

One printer class per target (text.py, adiff.py, latex.py, python.py, c.py,
json.py) over the shared layout and precedence rules in base.py.  `render`
is the entry point for all of them.
"""

from __future__ import annotations

FORMATS = ("text", "adiff", "latex", "python", "c", "json")


def render(graph, format: str = "text", **options) -> str:
    """The graph's outputs in `format`.

    Options: inline=True (each output one expression), values (every node's
    value, from evaluator.forward: text adds `= 12`, json adds "values"),
    program (the source, for headers and JSON), name (the C function's)."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; formats: {', '.join(FORMATS)}")
    if format == "text":
        from .text import render_graph
    elif format == "adiff":
        from .adiff import render_graph
    elif format == "latex":
        from .latex import render_graph
    elif format == "python":
        from .python import render_graph
    elif format == "c":
        from .c import render_graph
    else:
        from .json import render_graph
    return render_graph(graph, **options)
