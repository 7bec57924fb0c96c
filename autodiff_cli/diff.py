"""Symbolic differentiation: a pass from a graph to a graph of derivatives.

Reverse accumulation over the node list, as evaluator.backward does, along
the same walk (walk.reverse); but where the evaluator multiplies numbers,
this pass adds nodes: each edge contributes upstream × partial, the partial
being the op table's own formula for that input (ops.Op.formulas), parsed
once into a template and instantiated on the node's inputs and output.
There is no second table of derivative rules: a function added to the op
table is differentiable here, to any order.

Nodes are built through simplify.Simplifier, so constants fold, like terms
merge and equal subexpressions share one node as they are built.  An
N-th derivative in one input is built by Taylor mode (each node's
derivatives of orders 1..N from the same partials) and by this pass
applied N times, and the smaller kept; the Hessian is the pass applied
to each first derivative.  Nodes that no output reaches
are dropped at the end.  Everything is a loop: no recursion over graphs.
"""

from __future__ import annotations

import difflib
import math
from functools import lru_cache
from typing import Mapping, Optional, Sequence

from .errors import AdiffError, ExitCode, shorten
from .graph import CONST, VAR, Graph, Node
from .ops import OPS, OUTPUT, PLACEHOLDERS
from .simplify import GROUP_TERMS, Simplifier
from .walk import reverse

__all__ = ["differentiate", "hessian", "hessian_values", "jacobian", "operation_count"]


def differentiate(graph: Graph, wrt: Optional[Sequence[str]] = None, order: int = 1) -> Graph:
    """A new graph whose outputs are the program's value, under (), and its
    order-th derivative with respect to each name in wrt, under (x,)*order.

    wrt defaults to every input, in order of first use.  Raises AdiffError
    for a name that is not an input, an order below 1, or a result larger
    than graph.max_nodes.
    """
    names = _check_wrt(graph, wrt)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise AdiffError("usage", f"--order {order}: the order of a derivative is a whole number, 1 or more",
                         hint="--order 1 is the gradient, --order 2 the second derivative")
    work = _Pass(graph)
    outputs = {(): graph.output}
    if order == 1:
        first = work.gradient(graph.output, names)   # one pass for every name
        for name in names:
            outputs[(name,)] = first[name]
    else:
        # two constructions, each linear in the graph, and the smaller kept:
        # Taylor mode (smaller for products and quotients: Leibniz's rule),
        # and reverse mode repeated (smaller where each derivative is a
        # polynomial in the node's output, as tanh's are in tanh)
        repeated = work.gradient(graph.output, names, last=False)
        for name in names:
            try:
                taylor = work.taylor(graph.output, name, order)
            except AdiffError as error:
                raise work._too_large() if error.kind == "too_large" else error from None
            node = repeated[name]
            for n in range(1, order):
                node = work.gradient(node, [name], last=n == order - 1)[name]
            outputs[(name,) * order] = min(taylor, node, key=work.size)
    return work.finish(outputs)


def jacobian(graph: Graph, wrt: Optional[Sequence[str]] = None) -> Graph:
    """Every output of a program of several: its value under (name,) and its
    derivative with respect to each name in wrt under (name, x), in one
    graph, so that subexpressions shared across outputs are built once.
    The result's `results` keeps the outputs' names, in order."""
    names = _check_wrt(graph, wrt)
    work = _Pass(graph)
    outputs: dict[tuple[str, ...], int] = {}
    for name, node in graph.output_names().items():
        outputs[(name,)] = node
        first = work.gradient(node, names)
        for x in names:
            outputs[(name, x)] = first[x]
    result = work.finish(outputs)
    result.results = {name: result.outputs[(name,)] for name in graph.output_names()}
    return result


def hessian(graph: Graph, wrt: Optional[Sequence[str]] = None) -> Graph:
    """The value, each first derivative under (u,), and each second partial
    under (u, v) once, u at or before v in wrt's order."""
    names = _check_wrt(graph, wrt)
    work = _Pass(graph)
    outputs: dict[tuple[str, ...], int] = {(): graph.output}
    first = work.gradient(graph.output, names, last=False)
    for name in names:
        outputs[(name,)] = first[name]
    for n, u in enumerate(names):
        second = work.gradient(first[u], names[n:])
        for v in names[n:]:
            outputs[(u, v)] = second[v]
    return work.finish(outputs)


def hessian_values(graph: Graph, inputs: Mapping[str, float],
                   wrt: Optional[Sequence[str]] = None) -> dict[str, dict[str, float]]:
    """The Hessian at a point, as the full symmetric matrix {u: {v: d2f/dudv}}:
    the hessian graph evaluated by the evaluator's forward pass.  `inputs`
    binds every input (Trace.inputs does)."""
    from .evaluator import forward
    graph_h = hessian(graph, wrt)
    values, _ = forward(graph_h, inputs, [])
    names = [key[0] for key in graph_h.outputs if len(key) == 1]
    matrix: dict[str, dict[str, float]] = {u: {} for u in names}
    for u in names:
        for v in names:
            key = (u, v) if (u, v) in graph_h.outputs else (v, u)
            matrix[u][v] = values[graph_h.outputs[key]]
    return matrix


def operation_count(graph: Graph, keys: Optional[Sequence[tuple[str, ...]]] = None) -> int:
    """Operations (each + - * / ^, unary minus and function call counts one)
    that the given outputs (default: all) reach, shared nodes counted once."""
    keys = list(graph.outputs) if keys is None else keys
    live = bytearray(len(graph.nodes))
    for key in keys:
        live[graph.outputs[key]] = 1
    count = 0
    for i in range(len(graph.nodes) - 1, -1, -1):
        if live[i]:
            node = graph.nodes[i]
            if node.inputs:
                count += 1
                for j in node.inputs:
                    live[j] = 1
    return count


def _check_wrt(graph: Graph, wrt: Optional[Sequence[str]]) -> list[str]:
    if wrt is None:
        return list(graph.inputs)
    if isinstance(wrt, str):
        wrt = [wrt]
    names = list(dict.fromkeys(wrt))
    for name in names:
        if name not in graph.inputs:
            close = difflib.get_close_matches(name, list(graph.inputs), n=1)
            hint = (f"did you mean {shorten(close[0])}?" if close else
                    "its inputs: " + (", ".join(shorten(n) for n in graph.inputs) or "none"))
            raise AdiffError("usage", f"--wrt: the program has no input {shorten(name)}", hint=hint)
    return names


@lru_cache(maxsize=None)
def _template(op: str, k: int) -> tuple[tuple, int]:
    """The op's partial formula for input k as steps: ("arg", n) for the
    node's n-th input (n == arity: its output), ("const", value, text), or
    (op, (step, ...)) over earlier steps."""
    from .formula import formula_graph
    arity = OPS[op].arity
    names = PLACEHOLDERS[arity] + (OUTPUT,)
    formula = formula_graph(op, k)
    steps = []
    for node in formula.nodes:
        if node.op == VAR:
            steps.append(("arg", names.index(node.label)))
        elif node.op == CONST:
            steps.append(("const", node.constant, node.label))
        else:
            steps.append((node.op, node.inputs))
    return tuple(steps), formula.output


class _Pass:
    """A working copy of the graph, grown by each gradient, pruned at the end."""

    def __init__(self, graph: Graph):
        self.source = graph
        work = Graph()
        # the program's nodes are shared, not copied: the pass never changes them
        work.nodes = list(graph.nodes)
        work.inputs = dict(graph.inputs)
        work._shared = dict(graph._shared)
        if not work._shared:   # a graph put together by hand
            for n in work.nodes:
                if n.op == CONST:
                    work._shared.setdefault((CONST, repr(n.constant)), n.id)
                elif n.op != VAR:
                    work._shared.setdefault((n.op, n.inputs), n.id)
        limit = graph.max_nodes
        # room for the nodes that pruning drops; the pruned result is checked exactly
        work.max_nodes = None if limit is None else 4 * limit + 100_000
        self.work = work
        self.simplifier = Simplifier(work)
        self.simplifier.read()
        self.partials: dict[tuple[int, int], int] = {}
        # Taylor mode's state, by input: which nodes depend on it, and their derivatives
        self._depends: dict[int, bytearray] = {}
        self._series: dict[int, dict[int, list[int]]] = {}

    def gradient(self, output: int, names: Sequence[str], last: bool = True) -> dict[str, int]:
        """d output / d name for each name, as nodes of the working graph.

        Before another pass (not `last`), products of small sums are
        multiplied out: the flat sums of products that result let like
        terms meet in the next derivative, which keeps high orders small
        (as SymPy's are); a last pass keeps them factored, which is smaller.
        """
        self.simplifier.expand = not last
        try:
            return self._gradient(output, names)
        except AdiffError as error:
            if error.kind == "too_large":
                raise self._too_large() from None
            raise

    def _gradient(self, output: int, names: Sequence[str]) -> dict[str, int]:
        work, simplifier = self.work, self.simplifier
        nodes = work.nodes
        wanted = {work.inputs[name] for name in names}
        needs = bytearray(output + 1)
        for i in range(output + 1):
            inputs = nodes[i].inputs
            if inputs:
                for j in inputs:
                    if needs[j]:
                        needs[i] = 1
                        break
            elif i in wanted:
                needs[i] = 1
        value_of = simplifier.value_of
        # each node's contributions: one node id, or a list of them where paths meet
        pending: dict = {output: simplifier.number(1.0)} if needs[output] else {}
        product = simplifier.product
        for i, flowing in reverse(work, needs, output):
            parts = pending.pop(i, None)
            if parts is None:
                continue
            upstream = parts if type(parts) is int else simplifier.sum(parts)
            if value_of(upstream) == 0:
                continue
            for k, j in flowing:
                local = self.partial(i, k)
                if value_of(local) == 0:
                    continue
                contribution = product((upstream, local))
                before = pending.get(j)
                if before is None:
                    pending[j] = contribution
                elif type(before) is int:
                    pending[j] = [before, contribution]
                else:
                    before.append(contribution)
        result = {}
        for name in names:
            parts = pending.get(work.inputs[name])
            if parts is None:
                result[name] = simplifier.number(0.0)
            else:
                result[name] = simplifier.folded_form(parts) if type(parts) is int else simplifier.sum(parts)
        return result

    def size(self, node: int) -> int:
        """Operations the node reaches in the working graph, each once."""
        nodes, seen, stack, count = self.work.nodes, {node}, [node], 0
        while stack:
            inputs = nodes[stack.pop()].inputs
            count += bool(inputs)
            for j in inputs:
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
        return count

    def taylor(self, output: int, name: str, order: int) -> int:
        """d^order output / d name^order, by Taylor-mode (forward) propagation.

        Each node m keeps its derivatives d^1 m, ..., d^order m, built in
        node order from the op table's partials (p_r = ∂m/∂r):

            d^k m = Σ_r Σ_{j<k} C(k−1, j) · d^j p_r · d^(k−j) r

        which is the general Leibniz rule for a product (the two sums' like
        terms merge into C(k, j)) and the chain rule's higher orders for a
        function.  A partial is itself a node (cos(x), out, 1/b), whose own
        derivatives are found the same way, to a lower order: each needed
        (node, order) is built once, on an explicit stack, no recursion.
        Every intermediate derivative is a shared node, so the n-th
        derivative costs O(n²) nodes per node of the program, where n
        passes of reverse mode multiply out and grow much faster.
        """
        work, simplifier = self.work, self.simplifier
        simplifier.expand = False
        nodes = work.nodes
        x = work.inputs[name]
        zero, one = simplifier.number(0.0), simplifier.number(1.0)
        value_of, folded = simplifier.value_of, simplifier.folded
        depends = self._depends.setdefault(x, bytearray())
        series: dict[int, list[int]] = self._series.setdefault(x, {})

        def known(m: int, k: int) -> Optional[int]:
            if k == 0:
                return m
            while len(depends) <= m:   # nodes are appended in order: their inputs are known
                i = len(depends)
                depends.append(i == x or any(depends[j] for j in nodes[i].inputs))
            if not depends[m]:
                return zero
            if m == x:
                return one if k == 1 else zero
            found = series.get(m)
            return found[k - 1] if found is not None and len(found) >= k else None

        stack = [(output, order)]
        while stack:
            m, k = stack[-1]
            if known(m, k) is not None:
                stack.pop()
                continue
            have = len(series.get(m, ()))
            if have < k - 1:                 # the lower orders first
                stack.append((m, have + 1))
                continue
            same = simplifier.folded_form(m) if m in folded else m
            if same != m:   # 2·x·3 as 6·x, x^3·sqrt(x) as x^3.5: one product
                found = known(same, k)
                if found is None:
                    stack.append((same, k))
                else:
                    series.setdefault(m, []).append(found)
                    stack.pop()
                continue
            node, missing, terms = nodes[m], [], []
            rule = self._recurrence(node)
            if rule is not None:   # y = a/b or y = u^c: a recurrence over y's own lower orders
                numerator, u, c = rule
                wanted = [(numerator, k)] if numerator is not None else []
                wanted += [(u, i) for i in range(1, k + 1)] + [(m, i) for i in range(k)]
                missing = [w for w in wanted if known(*w) is None]
                if not missing:
                    series.setdefault(m, []).append(self._recurrence_term(m, k, rule, known))
                    stack.pop()
                else:
                    stack.extend(missing)
                continue
            for index, r in enumerate(node.inputs):
                if known(r, 1) is zero:
                    continue
                p = self.partial(m, index)
                for j in range(k):
                    dp, dr = known(p, j), known(r, k - j)
                    if dp is None:
                        missing.append((p, j))
                    if dr is None:
                        missing.append((r, k - j))
                    if dp is None or dr is None or value_of(dp) == 0 or value_of(dr) == 0:
                        continue
                    terms.append((simplifier.product((dp, dr)), float(math.comb(k - 1, j))))
            if missing:
                stack.extend(missing)
                continue
            series.setdefault(m, []).append(simplifier.combine(terms) if terms else zero)
            stack.pop()
        return known(output, order)

    def _recurrence(self, node: Node):
        """(a, b, None) for a quotient a/b; (None, u, c) for a power u^c whose
        exponent c is a number but not a whole one ≥ 0 (sqrt(u) is u^0.5);
        None for the rest, which the general rule serves (a whole power's
        partial c·u^(c−1) comes down to u in c steps)."""
        if node.op == "div":
            return node.inputs[0], node.inputs[1], None
        if node.op == "sqrt":
            return None, node.inputs[0], 0.5
        if node.op == "pow":
            c = self.simplifier.value_of(node.inputs[1])
            if c is not None and not (c >= 0 and c == int(c)):
                return None, node.inputs[0], c
        return None

    def _recurrence_term(self, m: int, k: int, rule, known) -> int:
        """d^k y from y's lower orders, one division by the base:
        y = a/b: b·y = a, so y^(k) = (a^(k) − Σ_{1≤j≤k} C(k, j)·b^(j)·y^(k−j)) / b;
        y = u^c: u·y' = c·y·u', so
        y^(k) = (c·Σ_{j<k} C(k−1, j)·y^(j)·u^(k−j) − Σ_{1≤j<k} C(k−1, j)·u^(j)·y^(k−j)) / u."""
        simplifier = self.simplifier
        value_of, product = simplifier.value_of, simplifier.product
        numerator, u, c = rule
        terms = []

        def term(a: int, b: int, scale: float) -> None:
            if value_of(a) != 0 and value_of(b) != 0 and scale != 0:
                terms.append((product((a, b)), scale))

        if c is None:
            terms.append((known(numerator, k), 1.0))
            for j in range(1, k + 1):
                term(known(u, j), known(m, k - j), -float(math.comb(k, j)))
        else:
            for j in range(k):
                term(known(m, j), known(u, k - j), c * math.comb(k - 1, j))
            for j in range(1, k):
                term(known(u, j), known(m, k - j), -float(math.comb(k - 1, j)))
        return simplifier.quotient(simplifier.combine(terms), u)

    def partial(self, i: int, k: int) -> int:
        """∂ node i / ∂ its k-th input: the op's formula, instantiated."""
        found = self.partials.get((i, k))
        if found is not None:
            return found
        work, simplifier = self.work, self.simplifier
        node = work.nodes[i]
        steps, output = _template(node.op, k)
        if len(steps) == 1 and steps[0][0] == "const":   # add's 1, sub's -1: one node for all
            return work.constant(steps[0][1], steps[0][2])
        bound = tuple(map(simplifier.folded_form, node.inputs)) + (i,)
        slots: list[int] = []
        for step in steps:
            kind = step[0]
            if kind == "arg":
                slots.append(bound[step[1]])
            elif kind == "const":
                slots.append(work.constant(step[1], step[2]))
            else:
                slots.append(simplifier.add(kind, [slots[s] for s in step[1]]))
        self.partials[(i, k)] = slots[output]
        return slots[output]

    def _too_large(self) -> AdiffError:
        limit = self.source.max_nodes
        return AdiffError("too_large", f"the derivative has more than {limit} nodes",
                          hint="raise the limit with --max-nodes N, or ask for a lower --order",
                          exit_code=ExitCode.FAILURE)

    def finish(self, outputs: dict[tuple[str, ...], int]) -> Graph:
        """The result: the nodes some output reaches (and every input), in a
        new graph, with every small sum lowered again with its common factors
        taken out (2·a·b + 2·a·c as 2·a·(b + c)).  Grouping is done once, here,
        so that the passes above always build on flat sums."""
        try:
            result = self._copy(outputs)
        except AdiffError as error:
            raise self._too_large() if error.kind == "too_large" else error from None
        return _pruned(result)

    def _copy(self, outputs: dict[tuple[str, ...], int]) -> Graph:
        work, source, forms = self.work, self.source, self.simplifier
        nodes = work.nodes
        regrouped = {i: form for i, form in forms.sums.items() if len(form[1]) <= GROUP_TERMS}
        live = bytearray(len(nodes))
        for node in outputs.values():
            live[node] = 1
        for i in range(len(nodes) - 1, -1, -1):
            if not live[i]:
                continue
            form = regrouped.get(i)
            if form is None:
                for j in nodes[i].inputs:
                    live[j] = 1
            else:   # lowered again from its terms: its old chain of nodes is not needed
                for bases, _ in form[1]:
                    for b, _ in bases:
                        live[b] = 1
        target = Graph(defaults=dict(source.defaults), first_use=dict(source.first_use),
                       source=source.source, max_nodes=source.max_nodes)
        simplifier = Simplifier(target, expand=False, group=True)
        mapping = [-1] * len(nodes)
        for name in source.inputs:
            mapping[work.inputs[name]] = target.input(name)
        constant = target.constant
        new_nodes, shared = target.nodes, target._shared
        limit = source.max_nodes if source.max_nodes is not None else math.inf
        for node in nodes:
            i = node.id
            if not live[i] or node.op == VAR:
                continue
            if node.op == CONST:
                new = constant(node.constant, node.label)
            elif i in regrouped:
                k, terms = regrouped[i]
                new = simplifier.lower_sum(k, {
                    tuple(sorted((mapping[b], e) for b, e in bases)): c for bases, c in terms})
            else:
                inputs = tuple([mapping[j] for j in node.inputs])
                new = shared.get((node.op, inputs))
                if new is None:
                    new = len(new_nodes)
                    if new >= limit:
                        raise self._too_large()
                    new_nodes.append(Node(new, node.op, inputs, None, None))
                    shared[(node.op, inputs)] = new
            if node.label is not None and node.op != CONST:
                target.name(new, node.label)
            mapping[i] = new
        target.outputs = {key: mapping[node] for key, node in outputs.items()}
        target.output = target.outputs.get((), next(iter(target.outputs.values())))
        return target


def _pruned(graph: Graph) -> Graph:
    """The graph without nodes that no output reaches (inputs stay); the
    same graph when there are none, as is usual."""
    nodes = graph.nodes
    live = bytearray(len(nodes))
    for node in graph.outputs.values():
        live[node] = 1
    for node in graph.inputs.values():
        live[node] = 1
    for i in range(len(nodes) - 1, -1, -1):
        if live[i]:
            for j in nodes[i].inputs:
                live[j] = 1
    if all(live):
        return graph
    result = Graph(defaults=graph.defaults, first_use=graph.first_use,
                   source=graph.source, max_nodes=graph.max_nodes)
    mapping = [-1] * len(nodes)
    new_nodes, shared = result.nodes, result._shared
    for node in nodes:
        if not live[node.id]:
            continue
        new = len(new_nodes)
        mapping[node.id] = new
        inputs = tuple([mapping[j] for j in node.inputs])
        new_nodes.append(Node(new, node.op, inputs, node.label, node.constant))
        if node.op == CONST:
            shared.setdefault((CONST, repr(node.constant)), new)
        elif node.op != VAR:
            shared.setdefault((node.op, inputs), new)
    result.inputs = {name: mapping[node] for name, node in graph.inputs.items()}
    result.outputs = {key: mapping[node] for key, node in graph.outputs.items()}
    result.output = result.outputs.get((), next(iter(result.outputs.values())))
    return result
