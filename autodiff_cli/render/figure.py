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
    text: str         # "p = 6, ∂ 4" or "x"
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
    text: str         # the local partial, or ""


@dataclass
class Figure:
    values: list[Value]
    boxes: list[Box]
    arrows: list[Arrow]


_SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "neg": "−", "pow": "^"}


def figure(graph: Graph, trace: Optional[Trace] = None, digits: int = 6) -> Figure:
    values, boxes, arrows = [], [], []
    for node in graph.nodes:
        i = node.id
        name = node.label if node.label is not None else f"#{i}"
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
            text = "" if edge.partial is None else f"∂ {short(edge.partial, digits)}"
            arrows.append(Arrow(f"v{edge.source}", f"op{edge.target}", text))
    return Figure(values, boxes, arrows)
