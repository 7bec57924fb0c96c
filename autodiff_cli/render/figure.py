"""What every picture of the graph shows, whatever its format.

As in the article's figure: an ellipse for each value (inputs, constants,
named and computed values) and a box for each operation, with edges in the
direction of computation: input value → operation box → result value.
With a trace, values carry their value and gradient, and each edge into an
operation its local partial derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..evaluator import Trace, edges
from ..graph import CONST, VAR, Graph
from .table import number as short


@dataclass(frozen=True)
class Value:
    id: str           # "v4"
    node: int
    text: str         # "p = 6\ngrad 4" or "x"
    kind: str         # "input", "const", "named", "computed", "output"


@dataclass(frozen=True)
class Box:
    id: str           # "op4"
    node: int
    text: str         # "×", "sin"


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    text: str         # the local partial, "∂p/∂x = 3", or ""


@dataclass
class Figure:
    values: list[Value]
    boxes: list[Box]
    arrows: list[Arrow]


def node_name(graph: Graph, i: int) -> str:
    """A node as the pictures name it: its label, or #id (#2 in `#2 = 6`)."""
    label = graph.nodes[i].label
    return label if label is not None else f"#{i}"


def partial_text(graph: Graph, edge, digits: int = 6) -> str:
    """An edge's local partial as a student reads it: ∂#2/∂x = 3, the derivative of
    the operation's result with respect to this input, at the point."""
    if edge.partial is None:
        return ""
    top, below = node_name(graph, edge.target), node_name(graph, edge.source)
    return f"∂{top}/∂{below} = {short(edge.partial, digits)}"


_SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−", "pow": "^"}


def figure(graph: Graph, trace: Optional[Trace] = None, digits: int = 6) -> Figure:
    values, boxes, arrows = [], [], []
    for node in graph.nodes:
        i = node.id
        name = node_name(graph, i)
        if trace is not None and node.op != CONST:
            grad = trace.grads[i]
            name += f" = {short(trace.values[i], digits)}" + (f"\ngrad {short(grad, digits)}" if grad is not None else "")
        if node.call is not None:   # which call of a user's function made it
            name += f"\n{node.call}"
        outputs = graph.results.values() if graph.results else (graph.output,)
        kind = ("input" if node.op == VAR else "const" if node.op == CONST else
                "output" if i in outputs else "named" if node.label else "computed")
        if i == graph.output and node.inputs == ():
            kind = "output"
        values.append(Value(f"v{i}", i, name, kind))
        if node.inputs:
            boxes.append(Box(f"op{i}", i, _SYMBOLS.get(node.op, node.op)))
            arrows.append(Arrow(f"op{i}", f"v{i}", ""))
    if trace is None:
        for node in graph.nodes:
            for j in node.inputs:
                arrows.append(Arrow(f"v{j}", f"op{node.id}", ""))
    else:
        for edge in edges(trace):
            arrows.append(Arrow(f"v{edge.source}", f"op{edge.target}", partial_text(graph, edge, digits)))
    return Figure(values, boxes, arrows)
