"""The computational graph: a list of nodes in topological order (a tape).

Nodes are plain data, with no closures: every renderer, the evaluator and
later passes read this one structure.  A node's id is its index in the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .errors import AdiffError

VAR = "var"
CONST = "const"


@dataclass(slots=True)
class Node:
    """One value of the program: an input, a constant, or an operation on earlier nodes."""
    id: int
    op: str                        # "var", "const", or a name in the op table
    inputs: tuple[int, ...] = ()   # ids of the inputs, in order (it matters for - / ^)
    label: Optional[str] = None    # the user's name, or a constant as written
    constant: Optional[float] = None
    call: Optional[str] = None     # which call of a user's function made it: "sq call 2"


@dataclass
class Graph:
    """The program as a list of nodes in topological order."""
    nodes: list[Node] = field(default_factory=list)
    inputs: dict[str, int] = field(default_factory=dict)      # name -> id, in order of first use
    defaults: dict[str, float] = field(default_factory=dict)  # from `name = number` statements
    first_use: dict[str, tuple[int, int]] = field(default_factory=dict)  # input -> (line, column)
    output: Optional[int] = None   # the program's value (the first, when it has several)
    # a program of several outputs (`R, H`): each output's name -> node, in order;
    # empty for a program of one output
    results: dict[str, int] = field(default_factory=dict)
    # every output, keyed by the derivative it is: () for the program's value,
    # ("x",) for d/dx, ("x", "w") for d2/dx dw; a parsed program has only ()
    outputs: dict[tuple[str, ...], int] = field(default_factory=dict)
    source: Optional[str] = None   # the program text, for messages that point into it
    max_nodes: Optional[int] = None
    _shared: dict = field(default_factory=dict, repr=False)   # (op, inputs) -> id
    _counts: Optional[dict] = field(default=None, repr=False)  # label -> how many nodes bear it

    def add(self, op: str, inputs: tuple[int, ...]) -> int:
        """The node for op(inputs); identical subexpressions share one node."""
        key = (op, inputs)
        found = self._shared.get(key)
        if found is not None:
            return found
        return self._append(key, Node(len(self.nodes), op, inputs))

    def constant(self, value: float, text: str) -> int:
        key = (CONST, repr(value))
        found = self._shared.get(key)
        if found is not None:
            return found
        return self._append(key, Node(len(self.nodes), CONST, (), text, value))

    def input(self, name: str) -> int:
        found = self.inputs.get(name)
        if found is not None:
            return found
        node = self._append(None, Node(len(self.nodes), VAR, (), name))
        self.inputs[name] = node
        return node

    def _append(self, key, node: Node) -> int:
        if self.max_nodes is not None and len(self.nodes) >= self.max_nodes:
            raise AdiffError("too_large",
                             f"the program has more than {self.max_nodes} nodes",
                             hint="raise the limit with --max-nodes N")
        self.nodes.append(node)
        self._counts = None
        if key is not None:
            self._shared[key] = node.id
        return node.id

    def name(self, node: int, label: str) -> None:
        """Give a node the user's name, unless it has one already."""
        if self.nodes[node].label is None:
            self.nodes[node].label = label
            self._counts = None

    def where(self, node: int) -> str:
        """` [sq call 2]` for a node made by a call of a user's function, else ""."""
        call = self.nodes[node].call
        return f" [{call}]" if call else ""

    def output_names(self) -> dict[str, int]:
        """Each output's name -> node: `results`, or the one output by its name
        (or "output")."""
        if self.results:
            return self.results
        node = self.nodes[self.output]
        return {node.label if node.label is not None and node.op != CONST else "output": self.output}

    def view(self, name: str) -> "Graph":
        """The graph of the one output `name`, sharing this graph's nodes."""
        from dataclasses import replace
        node = self.output_names()[name]
        return replace(self, output=node, outputs={(): node}, results={})

    def select(self, name: str) -> None:
        """Keep only the output `name` (`--of NAME`): the graph of one output."""
        names = self.output_names()
        if name not in names:
            import difflib

            from .errors import shorten
            close = difflib.get_close_matches(name, list(names), n=1)
            raise AdiffError("usage", f"--of: the program has no output {shorten(name)}"
                             + (f"; did you mean {shorten(close[0])}?" if close else ""),
                             hint="its outputs: " + ", ".join(shorten(n) for n in list(names)[:20]))
        self.output = names[name]
        self.outputs = {(): self.output}
        self.results = {}

    def ref(self, node: int) -> str:
        """How other nodes refer to this one: its label when unambiguous, else #id."""
        label = self.nodes[node].label
        if label is not None and self._label_counts().get(label) == 1:
            return label
        return f"#{node}"

    def expression(self, node: int) -> str:
        """The node's operation over its inputs' references: `x * w`, `sin(p)`.

        Short by design: it never spells out whole subexpressions, which
        would grow quadratically on deep graphs.
        """
        from .ops import OPS
        n = self.nodes[node]
        if n.op == VAR:
            return "input"
        if n.op == CONST:
            return n.label or repr(n.constant)
        args = [self.ref(i) for i in n.inputs]
        op = OPS[n.op]
        if op.symbol and len(args) == 2:
            return f"{args[0]} {op.symbol} {args[1]}"
        if op.symbol:
            return f"{op.symbol}{args[0]}"
        return f"{n.op}({', '.join(args)})"

    def _label_counts(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = {}
            for n in self.nodes:
                if n.label is not None:
                    self._counts[n.label] = self._counts.get(n.label, 0) + 1
        return self._counts
