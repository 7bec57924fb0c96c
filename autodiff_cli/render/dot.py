"""The graph as Graphviz DOT text."""

from __future__ import annotations

from .figure import Figure

_FILL = {"input": "#dbeafe", "const": "#f3f4f6", "named": "#fef3c7", "computed": "#ffffff",
         "output": "#bbf7d0"}


def quote(text: str) -> str:
    """A DOT string: quotes and backslashes escaped, new lines as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(figure: Figure) -> str:
    lines = ["digraph adiff {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11, style=filled];',
             '  edge [fontname="Helvetica", fontsize=9, color="#6b7280"];']
    for value in figure.values:
        lines.append(f"  {value.id} [shape=ellipse, fillcolor={quote(_FILL[value.kind])}, "
                     f"label={quote(value.text)}];")
    for box in figure.boxes:
        lines.append(f'  {box.id} [shape=box, fillcolor="#e5e7eb", label={quote(box.text)}];')
    for arrow in figure.arrows:
        label = f" [label={quote(arrow.text)}]" if arrow.text else ""
        lines.append(f"  {arrow.source} -> {arrow.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
