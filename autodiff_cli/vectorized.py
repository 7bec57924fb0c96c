"""The vectorised evaluator: the graph's node list over columns of points.

The same two passes as evaluator.py, with a NumPy array per node instead of
a float: forward, one array operation per node, then reverse accumulation,
one per edge, in the same order, so that every row gets the number
`adiff eval` gives at that point (bit for bit for arithmetic, within a few
ulps where NumPy's and Python's libm round a function differently).  This
is what `jax.jit(jax.vmap(jax.value_and_grad(f)))` does after compiling;
the speed comes from engineering, not from a compiler:

- rows are taken in blocks sized so that a block's live arrays stay in the
  cache (and memory is bounded for graphs of 10^5 nodes); for small graphs,
  long runs of rows are shared between the cores, each computing its part
  at once (NumPy lets go of Python's lock), as XLA does for JAX;
- nodes that depend on no input are folded once, with the scalar op table
  (the reference itself), and edges into them carry no gradient;
- a node's value is dropped as soon as neither the forward pass nor any
  partial needs it; a gradient is accumulated in place into an array the
  node owns; partials that are the same in every row (add's 1, sub's -1)
  cost nothing per row;
- warnings are aggregated per node and reason, with a count and the first
  row, never one per row; checking costs one sum per array (a finite sum
  means every element is finite) until something is actually wrong.

The Python API is `vectorize(program)` (or `Vectorized(graph)`): compile
once, call on a mapping of columns (a dict of arrays, a pandas DataFrame,
an Arrow record batch) to get {"value": ..., "grad_x": ...}.  That one pure
batch -> batch function is what Dask, Spark and Ray map over partitions.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from .array_ops import (ARRAY_DOMAIN, ARRAY_FORWARD, ARRAY_KINK, ARRAY_MASK, ARRAY_PARTIALS,
                        CONSTANT_PARTIALS)
from .errors import AdiffError, listed, strict_failure
from .evaluator import _fmt, describe
from .graph import CONST, VAR, Graph
from .ops import OPS

# the largest block on one core: 16,384 rows x 8 bytes is 128 KiB an array, so the few
# arrays a node touches stay in L2 (measured: benchmarks/batch.py)
BLOCK_ROWS = 16_384
# on several cores, longer blocks: fewer NumPy calls, so the threads wait less for Python's
# lock (measured on 2 cores, the seed example: 10-11 ns a point, against 18-28 with 16,384)
THREADED_BLOCK_ROWS = 131_072
# the live arrays of one block stay under this many bytes (big graphs get small blocks)
BLOCK_BYTES = 256 * 2 ** 20
# rows a core at the least before the rows are shared between cores
THREAD_ROWS = 65_536


def _cores() -> int:
    """The cores this process may run on (a container's share, not the machine's)."""
    try:
        return min(8, len(os.sched_getaffinity(0)))
    except AttributeError:   # pragma: no cover (macOS, Windows)
        return min(8, os.cpu_count() or 1)


# what an op's partials, kinks and masks read: its inputs' values, its own output
_NEEDS_OUT = {"div", "pow", "tan", "exp", "sqrt", "sigmoid", "cbrt", "hypot"}
_NEEDS_NOTHING = {"add", "sub", "neg", "sign", "step"}
# ops whose output is finite wherever their inputs are: their forward values need no check
_FINITE = {"neg", "sin", "cos", "tan", "atan", "tanh", "sigmoid", "softplus", "abs", "sign", "step",
           "relu", "max", "min", "atan2", "asinh", "cbrt", "erf"}


# the output's gradient, d output / d output
ONE = 1.0


def _text(x: float) -> str:
    return "NaN" if x != x else _fmt(x)


@dataclass
class BatchWarning:
    """One aggregated warning: a node (or input), a reason, how many rows, the first."""
    kind: str
    node: Optional[int]
    head: str              # what is wrong: "node 4 (log(x)) is NaN"
    tail: str = ""         # why, or what adiff does about it
    count: int = 0
    first_row: int = 0     # 1-based
    detail: str = ""       # e.g. the kink's arguments at the first row

    @property
    def message(self) -> str:
        rows = "1 row" if self.count == 1 else f"{self.count:,} rows"
        first = f"row {self.first_row}" if self.count == 1 else f"first: row {self.first_row}"
        return f"{self.head} in {rows} ({first}{self.detail}){self.tail}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "node": self.node, "rows": self.count,
                "first_row": self.first_row, "message": self.message}


@dataclass
class Warnings:
    """Warnings aggregated over every block and chunk of a run, in first-seen order."""
    found: dict = field(default_factory=dict)

    def add(self, key, count: int, first_row: int, make) -> None:
        if count <= 0:
            return
        warning = self.found.get(key)
        if warning is None:
            warning = self.found[key] = make()
            warning.first_row = first_row
        warning.count += count

    def merge(self, other: "Warnings") -> None:
        """Add another's warnings (those of later rows) after these."""
        for key, warning in other.found.items():
            self.add(key, warning.count, warning.first_row, lambda w=warning: replace(w, count=0))

    def __iter__(self):
        return iter(self.found.values())

    def __len__(self) -> int:
        return len(self.found)


def _all_finite(array) -> bool:
    # a finite sum means no element is NaN or infinite (an overflowing sum of
    # finite numbers only sends us to the exact check)
    return math.isfinite(float(np.add.reduce(array, axis=None))) if np.ndim(array) else math.isfinite(array)


class Vectorized:
    """A program compiled for columns: call it on a mapping of columns.

    `wrt` limits the gradient columns (all inputs by default, in the order
    of first use); `bindings` are constants for inputs that have no column,
    and the program's defaults fill the rest.  `gradient=False` computes the
    values of `graph.outputs` only (for multi-output derivative graphs).
    """

    def __init__(self, graph: Graph, *, bindings: Optional[Mapping[str, float]] = None,
                 wrt: Optional[Sequence[str]] = None, gradient: bool = True,
                 block_rows: Optional[int] = None, block_bytes: int = BLOCK_BYTES,
                 threads: Optional[int] = None):
        self.graph = graph
        self.bindings = {name: float(v) for name, v in (bindings or {}).items()}
        self.wrt = list(graph.inputs) if wrt is None else list(wrt)
        unknown = [name for name in self.wrt if name not in graph.inputs]
        if unknown:
            raise AdiffError("usage", f"--wrt: the program has no input {', '.join(unknown)}",
                             hint="its inputs: " + (", ".join(graph.inputs) or "none"))
        self.gradient = gradient
        self.warnings = Warnings()
        self._prepare(block_rows, block_bytes, _cores() if threads is None else threads)

    # ---- compiling the graph -------------------------------------------------------

    def _prepare(self, block_rows: Optional[int], block_bytes: int, threads: int) -> None:
        graph = self.graph
        nodes = graph.nodes
        n = len(nodes)
        output = graph.output
        self.outputs = dict(graph.outputs) if graph.outputs else {(): output}
        needs = [False] * n            # depends on an input
        constant: list = [None] * n    # the folded value of a node that does not
        self.constant_warnings = []    # (node, message head, reason)
        for node in nodes:
            i = node.id
            if node.op == VAR:
                needs[i] = True
            elif node.op == CONST:
                constant[i] = node.constant
            elif any(needs[j] for j in node.inputs):
                needs[i] = True
            else:
                # folded once with the scalar op table: the reference itself
                op = OPS[node.op]
                args = [constant[j] for j in node.inputs]
                out = constant[i] = op.forward(*args)
                if not math.isfinite(out) and all(math.isfinite(a) for a in args):
                    reason = op.domain(*args) if op.domain else None
                    reason = reason or ("overflow" if out == out else "not a real number")
                    self.constant_warnings.append((i, f"{describe(graph, i)} is {_text(out)}", reason))
        self.needs = needs
        self.constant = constant

        # which nodes the wanted outputs reach, and which take part in the reverse pass
        wanted = set(self.outputs.values())
        # with gradients, every node is computed, as `adiff eval` does: a statement
        # the output does not use still warns (`0/x` then `1`); for the outputs
        # of a derivative graph, only what they reach
        live = [self.gradient] * n
        for i in wanted:
            live[i] = True
        for i in range(n - 1, -1, -1):
            if live[i]:
                for j in nodes[i].inputs:
                    live[j] = True
        reached = [False] * n
        if self.gradient:
            reached[output] = True
            for i in range(output, -1, -1):
                if reached[i] and needs[i]:
                    for j in nodes[i].inputs:
                        if needs[j]:
                            reached[j] = True
        self.live = live
        self.reached = reached

        # keep[j]: j's value is read by the reverse pass; last_use[j]: the last
        # node of the forward pass that reads it
        keep = [False] * n
        last_use = [-1] * n
        for node in nodes:
            i = node.id
            for j in node.inputs:
                last_use[j] = i
            if reached[i] and needs[i] and node.inputs:
                if node.op in _NEEDS_OUT:
                    keep[i] = True
                if node.op not in _NEEDS_NOTHING or node.op in ARRAY_KINK:
                    for j in node.inputs:
                        keep[j] = True
        for i in wanted:
            keep[i] = True
        self.keep = keep
        self.free_after: list[list[int]] = [[] for _ in range(n)]
        for j in range(n):
            if needs[j] and not keep[j] and nodes[j].op != VAR:
                # a node nothing reads (a dead statement) is dropped as soon as it is made
                self.free_after[last_use[j] if last_use[j] >= 0 else j].append(j)

        live_arrays = sum(1 for i in range(n) if needs[i] and live[i] and keep[i]) + len(self.wrt) + 4
        by_memory = block_bytes // (8 * max(1, live_arrays))
        # several cores only for graphs small enough that a long block on every core stays
        # within block_bytes (on big graphs Python's own work per node is what takes the time)
        self.threads = max(1, threads) if by_memory >= THREADED_BLOCK_ROWS * threads else 1
        if block_rows is None:
            block_rows = THREADED_BLOCK_ROWS if self.threads > 1 else BLOCK_ROWS
        self.block_rows = max(64, min(block_rows, by_memory))
        # specialisations that give the same numbers as the generic rule, faster
        self.square = {i for i in range(n) if nodes[i].op == "pow" and needs[i]
                       and constant[nodes[i].inputs[1]] == 2.0 and not needs[nodes[i].inputs[1]]}

    @property
    def inputs(self) -> list[str]:
        return list(self.graph.inputs)

    @property
    def columns(self) -> list[str]:
        """The output columns, in order: value, then grad_<name> for each --wrt input."""
        if not self.gradient:
            return [_output_name(key) for key in self.outputs]
        return ["value"] + [f"grad_{name}" for name in self.wrt]

    # ---- running ------------------------------------------------------------------

    def input_columns(self, columns, rows: Optional[int] = None) -> tuple[dict, int]:
        """Each input's column (a float64 array) or constant (a float), and the row count."""
        found: dict = {}
        missing = []
        for name in self.graph.inputs:
            column = _get(columns, name)
            if column is not None:
                array = np.asarray(column, dtype=np.float64)
                if array.ndim != 1:
                    raise AdiffError("usage", f"column {name} is not one-dimensional")
                found[name] = array
            elif name in self.bindings:
                found[name] = self.bindings[name]
            elif name in self.graph.defaults:
                found[name] = self.graph.defaults[name]
            else:
                missing.append(name)
        if missing:
            there = _column_names(columns)
            plural = "s" if len(missing) > 1 else ""
            raise AdiffError("unbound", f"no column, binding or default for input{plural} "
                             f"{', '.join(missing[:5])}" + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
                             hint=f"the columns are: {listed(there)}; "
                                  f"or bind a constant with --{missing[0]} 1")
        lengths = {len(v) for v in found.values() if isinstance(v, np.ndarray)}
        if len(lengths) > 1:
            raise AdiffError("usage", f"the columns have different lengths: {sorted(lengths)}")
        if rows is None:
            rows = lengths.pop() if lengths else _length(columns)
        return found, rows

    def __call__(self, columns, *, rows: Optional[int] = None, first_row: int = 1) -> dict[str, np.ndarray]:
        """The output columns for a batch of rows; warnings gather in self.warnings.
        `rows` is needed only when no input comes from a column."""
        values, rows = self.input_columns(columns, rows)
        return self.run(values, rows, first_row)

    def run(self, inputs: Mapping, rows: int, first_row: int = 1) -> dict[str, np.ndarray]:
        names = self.columns
        result = {name: np.empty(rows, dtype=np.float64) for name in names}
        for i, head, reason in self.constant_warnings:
            self.warnings.add(("non-finite", i, head, reason), rows, first_row,
                              lambda h=head, r=reason, i=i: BatchWarning("non-finite", i, h, f": {r}"))
        with np.errstate(all="ignore"):
            self._input_warnings(inputs, rows, first_row)

        def part(span: tuple[int, int]) -> Warnings:
            found = Warnings()
            with np.errstate(all="ignore"):   # NumPy's error state is each thread's own
                for start in range(span[0], span[1], self.block_rows):
                    stop = min(span[1], start + self.block_rows)
                    # a bound input is still differentiated: a column of its value
                    block = {name: (v[start:stop] if isinstance(v, np.ndarray) else np.full(stop - start, v))
                             for name, v in inputs.items()}
                    self._block(block, stop - start, first_row + start,
                                [result[name][start:stop] for name in names], found)
            return found

        # long runs of rows are cut in one part a core, computed at once (NumPy lets go of
        # Python's lock); the parts' warnings are then added in order, as one pass would
        workers = min(self.threads, rows // THREAD_ROWS) if self.threads > 1 else 1
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor
            size = -(-rows // workers)
            with ThreadPoolExecutor(workers, thread_name_prefix="adiff-part") as pool:
                parts = list(pool.map(part, [(start, min(rows, start + size)) for start in range(0, rows, size)]))
        else:
            parts = [part((0, rows))]
        for found in parts:
            self.warnings.merge(found)
        return result

    def _input_warnings(self, inputs: Mapping, rows: int, first_row: int) -> None:
        for name, v in inputs.items():
            if rows == 0:
                break
            if isinstance(v, np.ndarray):
                if _all_finite(v):
                    continue
                bad = ~np.isfinite(v)
                for text, mask in (("NaN", bad & (v != v)), ("inf", v == np.inf), ("-inf", v == -np.inf)):
                    count = int(np.count_nonzero(mask))
                    if count:
                        first = first_row + int(np.argmax(mask))
                        self.warnings.add(("binding", name, text), count, first,
                                          lambda n=name, t=text: BatchWarning("binding", self.graph.inputs[n],
                                                                              f"input {n} is {t}"))
            elif not math.isfinite(v):
                self.warnings.add(("binding", name, _text(v)), rows, first_row,
                                  lambda n=name, t=_text(v): BatchWarning("binding", self.graph.inputs[n],
                                                                          f"input {n} is {t}"))

    def _block(self, inputs: Mapping, rows: int, first_row: int, into: list, found: Warnings) -> None:
        """One block of rows, forward then reverse; the output columns are written `into`,
        the block's warnings to `found`."""
        graph = self.graph
        nodes = graph.nodes
        needs, live, constant = self.needs, self.live, self.constant
        values: list = list(constant)
        free_after = self.free_after
        square = self.square
        for node in nodes:
            i = node.id
            if not (needs[i] and live[i]):
                continue
            if node.op == VAR:
                values[i] = inputs[node.label]
                continue
            args = [values[j] for j in node.inputs]
            if i in square:
                out = np.square(args[0])
            else:
                out = ARRAY_FORWARD[node.op](*args)
            values[i] = out
            if node.op not in _FINITE and not _all_finite(out):
                self._forward_warning(i, node.op, args, out, first_row, found)
            for j in free_after[i]:
                values[j] = None
        if not self.gradient:
            for target, i in zip(into, self.outputs.values()):
                target[...] = values[i]
            return
        grads = self._backward(values, rows, first_row, found)
        into[0][...] = values[graph.output]
        for target, name in zip(into[1:], self.wrt):
            g = grads[graph.inputs[name]]
            # + 0.0 turns -0.0 into 0.0, as the scalar pass's 0.0 + contribution does
            np.add(0.0 if g is None else g, 0.0, out=target)

    def _forward_warning(self, i: int, op_name: str, args: list, out, first_row: int, found: Warnings) -> None:
        bad = ~np.isfinite(out)
        for a in args:
            if isinstance(a, np.ndarray):
                bad &= np.isfinite(a)
            elif not math.isfinite(a):
                return
        if not bad.any():
            return
        rows = np.flatnonzero(bad)
        sub_out = out[rows]
        sub_args = [a[rows] if isinstance(a, np.ndarray) else a for a in args]
        reasons = np.full(len(rows), "", dtype=object)
        domain = ARRAY_DOMAIN.get(op_name)
        if domain is not None:
            for reason, mask in reversed(domain(*sub_args)):
                reasons[np.broadcast_to(mask, reasons.shape)] = reason
        is_nan = sub_out != sub_out
        reasons[(reasons == "") & ~is_nan] = "overflow"
        reasons[(reasons == "") & is_nan] = "not a real number"
        texts = np.where(is_nan, "NaN", np.where(sub_out > 0, "inf", "-inf"))
        graph = self.graph
        for text in ("NaN", "inf", "-inf"):
            for reason in dict.fromkeys(reasons[texts == text]):
                mask = (texts == text) & (reasons == reason)
                count = int(np.count_nonzero(mask))
                first = first_row + int(rows[int(np.argmax(mask))])
                found.add(("non-finite", i, text, reason), count, first,
                          lambda t=text, r=reason: BatchWarning(
                              "non-finite", i, f"{describe(graph, i)} is {t}", f": {r}"))

    def _backward(self, values: list, rows: int, first_row: int, found: Warnings) -> list:
        graph = self.graph
        nodes = graph.nodes
        needs, reached = self.needs, self.reached
        output = graph.output
        grads: list = [None] * len(nodes)
        owned = [False] * len(nodes)
        grads[output] = ONE
        square = self.square
        for i in range(output, -1, -1):
            node = nodes[i]
            if not (reached[i] and needs[i] and node.inputs):
                continue
            upstream = grads[i]
            if upstream is None:
                upstream = 0.0
            grads[i] = None  # its value and gradient are not needed any more
            op_name = node.op
            args = [values[j] for j in node.inputs]
            out = values[i]
            kink = ARRAY_KINK.get(op_name)
            if kink is not None:
                self._kink_warning(i, op_name, args, kink, first_row, found)
            fixed = CONSTANT_PARTIALS.get(op_name)
            mask_rule = ARRAY_MASK.get(op_name)
            upstream_finite = None
            # upstream itself is handed down (add's partial is 1): the input
            # may then add into it in place, but only if no other input holds it too
            aliases = {j for k, j in enumerate(node.inputs) if needs[j] and fixed is not None and fixed[k] == 1.0}
            transfer = owned[i] and len(aliases) == 1
            for k, j in enumerate(node.inputs):
                if not needs[j]:
                    continue
                if mask_rule is not None:
                    mask = mask_rule(k, *args)
                    if mask is True:
                        continue  # a structural zero in every row: nothing flows
                else:
                    mask = False
                if fixed is not None:
                    p = fixed[k]
                    contribution = upstream if p == 1.0 else -upstream if p == -1.0 else upstream * p
                    checked = True  # ±upstream is finite wherever upstream is
                else:
                    if i in square:
                        partial = 2.0 * args[0]  # b * a^(b-1) at b = 2: exactly 2a
                    else:
                        partial = ARRAY_PARTIALS[op_name][k](*args, out)
                    # 1.0 * partial is partial, bit for bit: no work at the output
                    contribution = partial if upstream is ONE else upstream * partial
                    checked = False
                if mask is not False:
                    contribution = np.where(mask, 0.0, contribution)
                if not checked and not _all_finite(contribution):
                    if upstream_finite is None:
                        upstream_finite = np.isfinite(upstream)
                    bad = np.broadcast_to(~np.isfinite(contribution) & upstream_finite, (rows,))
                    if bad.any():
                        self._gradient_warning(i, j, bad, np.broadcast_to(contribution, (rows,)), first_row,
                                               found)
                # accumulate, in the scalar pass's order
                g = grads[j]
                if g is None:
                    grads[j] = contribution
                    if contribution is upstream:
                        owned[j] = transfer
                    elif upstream is ONE:
                        owned[j] = False  # the partial itself, which may be a node's value
                    else:
                        owned[j] = isinstance(contribution, np.ndarray) and contribution.shape == (rows,)
                elif owned[j]:
                    np.add(g, contribution, out=g)
                else:
                    grads[j] = np.add(g, contribution)
                    owned[j] = isinstance(grads[j], np.ndarray) and grads[j].shape == (rows,)
        return grads

    def _gradient_warning(self, i: int, j: int, bad, contribution, first_row: int, found: Warnings) -> None:
        graph = self.graph
        where = np.flatnonzero(bad)
        flowing = contribution[where]
        for text, mask in (("NaN", flowing != flowing), ("inf", flowing == np.inf), ("-inf", flowing == -np.inf)):
            count = int(np.count_nonzero(mask))
            if count:
                first = first_row + int(where[int(np.argmax(mask))])
                found.add(("gradient", i, j, text), count, first,
                          lambda t=text: BatchWarning(
                              "gradient", j, f"{describe(graph, i)}: the gradient flowing to "
                              f"{describe(graph, j)} is {t}"))

    def _kink_warning(self, i: int, op_name: str, args: list, kink, first_row: int, found: Warnings) -> None:
        at = kink(*args)
        if not np.any(at):
            return
        at = np.broadcast_to(at, (max(len(a) for a in args if isinstance(a, np.ndarray)),))
        count = int(np.count_nonzero(at))
        row = int(np.argmax(at))
        point = [float(a[row]) if isinstance(a, np.ndarray) else a for a in args]
        op = OPS[op_name]
        graph = self.graph

        def make() -> BatchWarning:
            out = op.forward(*point)
            used = ", ".join(_fmt(partial(*point, out)) for partial in op.partials)
            return BatchWarning("kink", i, f"{describe(graph, i)}: {op_name} is not differentiable",
                                f"; adiff takes its local derivative there as {used}, as PyTorch does",
                                detail=f", at {', '.join(_fmt(a) for a in point)}")
        found.add(("kink", i), count, first_row + row, make)

    def check_strict(self) -> None:
        """--strict: any warning is a failure (exit 1)."""
        if len(self.warnings):
            raise strict_failure([w.message for w in self.warnings])


def _full(v, rows: int):
    if isinstance(v, np.ndarray) and v.shape == (rows,):
        return v
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (rows,)).copy()


def _output_name(key: tuple) -> str:
    if not key:
        return "value"
    if len(key) == 1:
        return f"grad_{key[0]}"
    return "hess_" + "_".join(key) if len(key) == 2 else "d" + str(len(key)) + "_" + "_".join(key)


def _get(columns, name: str):
    try:
        return columns[name]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    except Exception:  # an Arrow batch or a Polars frame raise their own errors for a missing name
        return None


def _column_names(columns) -> list[str]:
    for attribute in ("columns", "column_names", "keys"):
        found = getattr(columns, attribute, None)
        if found is not None:
            found = found() if callable(found) else found
            return [str(c) for c in found]
    return []


def _length(columns) -> int:
    for attribute in ("num_rows", "height"):
        if hasattr(columns, attribute):
            return int(getattr(columns, attribute))
    try:
        return len(columns)
    except TypeError:
        return 0


def vectorize(program: str, *, bindings: Optional[Mapping[str, float]] = None,
              wrt: Optional[Iterable[str]] = None, max_nodes: Optional[int] = None) -> Vectorized:
    """Compile `program` once for columns of points.

        >>> f = vectorize("(x*w+b-y)^2", bindings={"b": 1})
        >>> f({"x": [2.0, 1.0], "w": [3.0, 3.0], "y": [5.0, 5.0]})["grad_x"]
        array([12., -6.])
    """
    from .parser import parse
    graph = parse(program, bindings or {}, max_nodes=max_nodes)
    return Vectorized(graph, bindings=bindings, wrt=None if wrt is None else list(wrt))


def evaluate_outputs(graph: Graph, columns, *, bindings: Optional[Mapping[str, float]] = None,
                     warnings: Optional[Warnings] = None) -> dict[tuple, np.ndarray]:
    """The value of every key of `graph.outputs` at every row (no reverse pass):
    for derivative graphs with several outputs, such as `diff.hessian(graph)`."""
    program = Vectorized(graph, bindings=bindings, gradient=False)
    if warnings is not None:
        program.warnings = warnings
    found = program(columns)
    return {key: found[name] for key, name in zip(program.outputs, program.columns)}
