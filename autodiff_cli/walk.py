"""The reverse walk, written once: which edges carry a gradient, in which order.

Reverse accumulation visits the node list backwards from an output.  A node
passes a gradient on when the output depends on it (it was reached along an
edge) and it depends on an input that takes a gradient; it passes it along
each edge whose input also depends on such an input.  The numeric backward
pass (evaluator.backward), the table of edges (evaluator.edges), explain's
flow and the symbolic pass (diff.py) all follow this one walk; what each does
along an edge (multiply numbers, show a step, emit nodes) is its own.

A mask is a structural zero of the op table (relu for x < 0, sign, step):
numerically nothing flows along a masked edge, whatever comes down.  The
symbolic pass needs no mask: there the partial formula itself is 0 or
step(...), and the simplifier drops a product with 0.
"""

from __future__ import annotations

from typing import Iterator, Sequence, Union

from .graph import Graph
from .ops import Op


def reverse(graph: Graph, needs_grad: Sequence[bool],
            output: Union[None, int, Sequence[int]] = None) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    """(node, [(position, input), ...]) for each node that passes a gradient
    on, from `output` (default: the program's value; or several outputs at
    once, for a vector-Jacobian product) back to the first node.

    Only nodes the output depends on pass gradients on, so a dead branch's
    infinite partial cannot leak into an input it shares.  The walk covers
    the nodes up to `output` only, so the caller may append nodes to the
    graph while walking (the symbolic pass does).
    """
    nodes = graph.nodes
    if output is None:
        output = graph.output
    starts = [output] if isinstance(output, int) else list(output)
    output = max(starts)
    reached = bytearray(output + 1)
    for start in starts:
        reached[start] = 1
    for i in range(output, -1, -1):
        if not (reached[i] and needs_grad[i]):
            continue
        inputs = nodes[i].inputs
        if not inputs:
            continue
        edges = []
        for k, j in enumerate(inputs):
            if needs_grad[j]:
                reached[j] = 1
                edges.append((k, j))
        yield i, edges


def forward(graph: Graph, moving: bytearray) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    """The same edges walked the other way, for forward mode: (node, [(position,
    input), ...]) in list order for each node that depends on a moving input
    (`moving` marks the seeded inputs, and is filled in as the walk goes),
    listing the edges whose input moves."""
    for node in graph.nodes:
        inputs = node.inputs
        if not inputs:
            continue
        edges = [(k, j) for k, j in enumerate(inputs) if moving[j]]
        if edges:
            moving[node.id] = 1
            yield node.id, edges


def masked(op: Op, k: int, args: Sequence[float]) -> bool:
    """True where input k's partial is a structural zero at these values."""
    return op.mask is not None and bool(op.mask(k, *args))
