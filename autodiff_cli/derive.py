"""The derivative of a program as a graph, for the API and `adiff diff`."""

from __future__ import annotations

from typing import Optional, Sequence, Union

from .errors import AdiffError
from .graph import CONST, VAR, Graph


def derivative(program: Union[str, Graph], wrt: Optional[Sequence[str]] = None, order: int = 1,
               hessian: bool = False, *, gradient: bool = False,
               max_nodes: Optional[int] = None) -> Graph:
    """The derivative graph: outputs () for the value, (x,)*order for each
    name in wrt (default: every input), or with hessian=True (x,) and every
    (u, v) once.  gradient=True keeps the first derivatives beside higher
    orders (what the python and c printers' value_and_grad returns)."""
    from .diff import differentiate, hessian as second_partials
    from .parser import parse

    graph = parse(program, max_nodes=max_nodes) if isinstance(program, str) else program
    if isinstance(wrt, str):
        wrt = [name.strip() for name in wrt.split(",") if name.strip()]
    if hessian:
        if order not in (1, 2):
            raise AdiffError("usage", "--hessian gives second partials: leave out --order",
                             hint="--order N is the N-th derivative with respect to each input")
        return second_partials(graph, wrt)
    result = differentiate(graph, wrt, order)
    if gradient and order > 1:
        result = combine(differentiate(graph, wrt, 1), result)
    return result


def combine(first: Graph, second: Graph) -> Graph:
    """One graph with both graphs' outputs; equal subexpressions share one node
    (Graph.add looks each one up), so nothing is computed twice."""
    mapping = [0] * len(second.nodes)
    for node in second.nodes:
        if node.op == VAR:
            new = first.input(node.label)
        elif node.op == CONST:
            new = first.constant(node.constant, node.label)
        else:
            new = first.add(node.op, tuple(mapping[j] for j in node.inputs))
            if node.label is not None:
                first.name(new, node.label)
        mapping[node.id] = new
    for key, node in second.outputs.items():
        first.outputs.setdefault(key, mapping[node])
    return first
