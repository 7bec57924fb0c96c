"""The trace as a table: one row per node, then the output and its gradient.

Rich decides whether to colour (a terminal, NO_COLOR, FORCE_COLOR) and
supplies the styles, but adiff lays the columns out itself: Rich's Table
measures every cell and takes about a third of a millisecond per row, which
is 17 seconds for a 50,000-node program; this layout is linear and cheap.
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional, TextIO

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.style import Style

from ..evaluator import Trace
from ..graph import CONST, VAR

NAME_WIDTH = 16   # longer names are cut, with an ellipsis


def number(x: Optional[float], digits: int = 6) -> str:
    """A value for people: `digits` significant digits, blank for None."""
    if x is None:
        return ""
    if x != x:
        return "NaN"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` terminal cells: padded, or cut with an ellipsis."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


def render(trace: Trace, file: TextIO, digits: int = 6, wrt: Optional[Iterable[str]] = None) -> None:
    graph = trace.graph
    console = Console(file=file)
    color = console.color_system

    def paint(style: str) -> Callable[[str], str]:
        if color is None:
            return lambda text: text
        return lambda text, s=Style.parse(style): s.render(text, color_system=color)

    styles = {"input": paint("bold cyan"), "const": paint("dim"), "named": paint("bold"),
              "output": paint("bold green"), "plain": lambda text: text, "rule": paint("dim")}

    rows = []
    for node in graph.nodes:
        i = node.id
        if node.op == VAR:
            kind = "input"
        elif node.op == CONST:
            kind = "const"
        else:
            kind = "named" if node.label else "plain"
        if i == graph.output:
            kind = "output"
        name = node.label if node.label is not None and node.op != CONST else ""
        computes = graph.expression(i) + (" (output)" if i == graph.output else "")
        rows.append((kind, str(i), name, computes,
                     number(trace.values[i], digits), number(trace.grads[i], digits)))

    header = ("#", "node", "computes", "value", "gradient")
    widths = [max([len(header[k])] + [len(row[k + 1]) for row in rows]) for k in range(5)]
    widths[1] = min(max([4] + [cell_len(row[2]) for row in rows]), NAME_WIDTH)
    # the expression column takes what the terminal (80 columns when piped) leaves
    fixed = widths[0] + widths[1] + widths[3] + widths[4] + 4 * 2
    widths[2] = max(12, min(widths[2], console.width - fixed))

    def line(cells) -> str:
        number_, name, computes, value, grad = cells
        return "  ".join([number_.rjust(widths[0]), _fit(name, widths[1]), _fit(computes, widths[2]),
                          value.rjust(widths[3]), grad.rjust(widths[4])]).rstrip()

    out = [paint("bold")(line(header)), styles["rule"]("─" * (sum(widths) + 8))]
    out += [styles[row[0]](line(row[1:])) for row in rows]

    name = graph.nodes[graph.output].label or "output"
    summary = [(name, number(trace.value, digits))]
    summary += [(f"∂{name}/∂{x}", number(g, digits)) for x, g in trace.gradient(wrt).items()]
    left = min(max(cell_len(k) for k, _ in summary), 40)
    right = max(len(v) for _, v in summary)
    out.append("")
    for k, (label, value) in enumerate(summary):
        text = f"{_fit(label, left)}  {value.rjust(right)}"
        out.append(styles["output"](text) if k == 0 else text)
    file.write("\n".join(out) + "\n")
