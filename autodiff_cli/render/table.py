"""The trace as a Rich table: one row per node, then the output and its gradient."""

from __future__ import annotations

from typing import Iterable, Optional, TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from ..evaluator import Trace
from ..graph import CONST, VAR


def number(x: Optional[float], digits: int) -> str:
    if x is None:
        return ""
    if x != x:
        return "NaN"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def render(trace: Trace, file: TextIO, digits: int = 6, wrt: Optional[Iterable[str]] = None) -> None:
    graph = trace.graph
    console = Console(file=file, highlight=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("node")
    table.add_column("computes", overflow="fold")
    table.add_column("value", justify="right")
    table.add_column("gradient", justify="right")
    for node in graph.nodes:
        i = node.id
        if node.op == VAR:
            name, style = node.label, "bold cyan"
        elif node.op == CONST:
            name, style = "", "dim"
        else:
            name, style = node.label or "", "bold" if node.label else None
        if i == graph.output:
            style = "bold green"
        table.add_row(str(i), name, graph.expression(i) + (" (output)" if i == graph.output else ""),
                      number(trace.values[i], digits), number(trace.grads[i], digits), style=style)
    console.print(table)

    out = graph.nodes[graph.output].label or "output"
    summary = Table.grid(padding=(0, 2))
    summary.add_column()
    summary.add_column(justify="right")
    summary.add_row(f"[bold]{out}[/]", f"[bold green]{number(trace.value, digits)}[/]")
    for name, grad in trace.gradient(wrt).items():
        summary.add_row(f"∂{out}/∂{name}", number(grad, digits))
    console.print(summary)
