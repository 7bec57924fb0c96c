"""The graph as a tree in the terminal, the output at the root.

A node used more than once is drawn once and referred to afterwards. The
tree is drawn by a loop, not by recursion (Rich's Tree recurses on depth),
and indentation stops growing past MAX_INDENT levels so that a deep chain
stays linear in size; deeper lines show their depth instead.
"""

from __future__ import annotations

from typing import Optional, TextIO

from ..evaluator import Trace
from ..graph import CONST, VAR, Graph
from .table import number as short
from .terminal import painter

MAX_INDENT = 12


def _label(graph: Graph, trace: Optional[Trace], i: int, digits: int = 6) -> str:
    node = graph.nodes[i]
    if node.op == CONST:
        text = node.label or short(node.constant, digits)
    elif node.op == VAR:
        text = f"{node.label} (input)"
    else:
        name = node.label if node.label is not None else f"#{i}"
        text = f"{name} = {graph.expression(i)}{graph.where(i)}"
    if trace is not None and node.op != CONST:
        text += f"   value {short(trace.values[i], digits)}"
        if trace.grads[i] is not None:
            text += f", gradient {short(trace.grads[i], digits)}"
    return text


def render(graph: Graph, trace: Optional[Trace], file: TextIO, digits: int = 6) -> None:
    paint = painter(file)

    def dim(text: str) -> str:
        return paint(text, "dim")
    lines = []
    drawn = set()
    # (node, guides: the "│   " / "    " columns above it, is it its parent's last child)
    stack = [(graph.output, "", True, 0)]
    while stack:
        i, guides, last, depth = stack.pop()
        connector = "" if depth == 0 else ("└── " if last else "├── ")
        deep = f"[{depth}] " if depth > MAX_INDENT else ""
        if i in drawn and graph.nodes[i].op != CONST:
            name = graph.nodes[i].label or f"#{i}"
            lines.append(dim(guides + connector) + deep + dim(f"{name} (shown above)"))
            continue
        drawn.add(i)
        lines.append(dim(guides + connector) + deep + _label(graph, trace, i, digits))
        inputs = graph.nodes[i].inputs
        below = guides + ("" if depth == 0 else "    " if last else "│   ")
        if depth >= MAX_INDENT:
            below = guides
        for position in range(len(inputs) - 1, -1, -1):
            stack.append((inputs[position], below, position == len(inputs) - 1, depth + 1))
    file.write("\n".join(lines) + "\n")
