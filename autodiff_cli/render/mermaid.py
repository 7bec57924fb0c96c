"""The graph as a Mermaid flowchart, for Markdown pages."""

from __future__ import annotations

from .figure import Figure

_CLASSES = {"input": "fill:#dbeafe", "const": "fill:#f3f4f6", "named": "fill:#fef3c7",
            "computed": "fill:#ffffff", "output": "fill:#bbf7d0"}


def quote(text: str) -> str:
    """A Mermaid label: quoted, with quotes as entities and new lines as <br/>."""
    escaped = text.replace("#", "#35;").replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return '"' + escaped.replace("\n", "<br/>") + '"'


def mermaid(figure: Figure) -> str:
    lines = ["flowchart LR"]
    for value in figure.values:
        lines.append(f"  {value.id}([{quote(value.text)}]):::{value.kind}")
    for box in figure.boxes:
        lines.append(f"  {box.id}[{quote(box.text)}]")
    for arrow in figure.arrows:
        label = f"|{quote(arrow.text)}|" if arrow.text else ""
        lines.append(f"  {arrow.source} -->{label} {arrow.target}")
    lines += [f"  classDef {kind} {style}" for kind, style in _CLASSES.items()]
    return "\n".join(lines) + "\n"
