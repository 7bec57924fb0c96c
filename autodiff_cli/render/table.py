"""The trace as a table: one row per node, then the output and its gradient.

adiff lays the columns out itself, linear in the number of rows (Rich's
Table measured every cell: 17 seconds for a 50,000-node program).  Numbers,
headers and the output's marker are never cut: the expressions and the
names give way first, and where even the numbers do not fit the terminal
(COLUMNS=40 and 17 digits), each node is stacked on lines of its own.
Colour follows render/terminal.py (NO_COLOR, FORCE_COLOR, TERM=dumb).
"""

from __future__ import annotations

from typing import Iterable, Optional, TextIO

from ..evaluator import Trace
from ..graph import CONST, VAR
from .terminal import cell_len, fit, painter, width as terminal_width

NAME_WIDTH = 16      # longer names are cut, with an ellipsis
MIN_NAME = 4         # "node"
MIN_COMPUTES = 12    # below this the table is stacked instead
MARKER = " (output)"
GAP = "  "
HEADER = ("#", "node", "computes", "value", "gradient")
STYLES = {"input": "bold cyan", "const": "dim", "named": "bold", "output": "bold green", "plain": ""}


def number(x: Optional[float], digits: int = 6) -> str:
    """A value for people: `digits` significant digits, blank for None."""
    if x is None:
        return ""
    if x != x:
        return "NaN"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def _wrap(text: str, cells: int) -> list[str]:
    """`text` on lines of at most `cells`, broken at spaces (inside a word only
    when the word alone is longer): nothing is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= cells:
            line = candidate
            continue
        if line:
            lines.append(line)
        while cell_len(word) > cells:
            head = _head(word, cells)
            lines.append(head)
            word = word[len(head):]
        line = word
    lines.append(line)
    return lines


def _head(word: str, cells: int) -> str:
    """The longest start of `word` that fits in `cells` (at least one character)."""
    used = 0
    for k, char in enumerate(word):
        used += cell_len(char)
        if used > cells:
            return word[:max(k, 1)]
    return word


def output_name(trace: Trace) -> str:
    """How the summary names the output: the program's name for it, else "output"
    (a constant's label is how it was written, not a name)."""
    node = trace.graph.nodes[trace.graph.output]
    return node.label if node.label is not None and node.op != CONST else "output"


def _columns(trace: Trace) -> dict[str, list[Optional[float]]]:
    """The table's columns after the value: the gradient; with several outputs
    a gradient column per output (∂R/∂·); in forward mode a tangent column per
    input (∂·/∂x), the forward-mode column."""
    jacobian = trace.jacobian
    if jacobian is None:
        return {HEADER[4]: trace.grads}
    if jacobian.mode == "reverse":
        return {f"∂{name}/∂·": column for name, column in jacobian.columns.items()}
    return {f"∂·/∂{name}": column for name, column in jacobian.columns.items()}


def _markers(trace: Trace) -> dict[int, str]:
    """` (output)` on the output's row; with several, ` (output R)` on each."""
    graph = trace.graph
    if not graph.results:
        return {graph.output: MARKER}
    names: dict[int, list[str]] = {}
    for name, node in graph.results.items():
        names.setdefault(node, []).append(name)
    return {node: f" (output {', '.join(n)})" for node, n in names.items()}


def render(trace: Trace, file: TextIO, digits: int = 6, wrt: Optional[Iterable[str]] = None) -> None:
    graph = trace.graph
    paint = painter(file)
    screen = terminal_width(file)
    columns = _columns(trace)
    headers = (*HEADER[:4], *columns)
    markers = _markers(trace)
    grad_columns = list(columns.values())

    rows = []
    for node in graph.nodes:
        i = node.id
        if node.op == VAR:
            kind = "input"
        elif node.op == CONST:
            kind = "const"
        else:
            kind = "named" if node.label else "plain"
        marker = markers.get(i, "")
        if marker:
            kind = "output"
        name = node.label if node.label is not None and node.op != CONST else ""
        rows.append((kind, str(i), name, graph.expression(i) + graph.where(i), marker,
                     number(trace.values[i], digits), tuple(number(c[i], digits) for c in grad_columns)))

    grads = [max([cell_len(h)] + [len(r[6][k]) for r in rows]) for k, h in enumerate(headers[4:])]
    widths = {
        "#": max([len(HEADER[0])] + [len(r[1]) for r in rows]),
        "value": max([len(HEADER[3])] + [len(r[5]) for r in rows]),
        "gradient": sum(grads) + len(GAP) * (len(grads) - 1),
        "node": min(max([MIN_NAME] + [cell_len(r[2]) for r in rows]), NAME_WIDTH),
        "computes": max([len(HEADER[2])] + [cell_len(r[3] + r[4]) for r in rows]),
    }
    fixed = widths["#"] + widths["value"] + widths["gradient"] + 4 * len(GAP)
    room = screen - fixed - widths["node"]
    if room < MIN_COMPUTES:   # names give way before expressions do
        widths["node"] = max(MIN_NAME, widths["node"] - (MIN_COMPUTES - room))
        room = screen - fixed - widths["node"]
    out: list[str] = []
    if room >= MIN_COMPUTES:
        widths["computes"] = min(widths["computes"], room)

        def line(cells) -> str:
            index, name, computes, value, grad = cells
            return GAP.join([index.rjust(widths["#"]), fit(name, widths["node"]),
                             fit(computes, widths["computes"]), value.rjust(widths["value"]),
                             *(g.rjust(w) for g, w in zip(grad, grads))]).rstrip()

        out.append(paint(line((*headers[:4], headers[4:])), "bold"))
        out.append(paint("─" * (sum(widths.values()) + 4 * len(GAP)), "dim"))
        for kind, index, name, expression, marker, value, grad in rows:
            text = expression + marker
            if cell_len(text) <= widths["computes"]:
                out.append(paint(line((index, name, text, value, grad)), STYLES[kind]))
                continue
            # too long for its column: the expression goes on on lines of its own
            first, *rest = _wrap(text, widths["computes"])
            out.append(paint(line((index, name, first, value, grad)), STYLES[kind]))
            out += [paint(line(("", "", more, "", ("",) * len(grads))), STYLES[kind]) for more in rest]
    else:
        out += _stacked(rows, headers[4:], screen, paint)
    out.append("")
    out += _summary(trace, digits, wrt, screen, paint)
    file.write("\n".join(out) + "\n")


def _stacked(rows, headers, screen: int, paint) -> list[str]:
    """Each node on lines of its own, for a terminal too narrow for the columns:
    `#8 L: #6 ^ 2 (output)`, then its value and gradient, every digit shown."""
    out = []
    for kind, index, name, expression, marker, value, grad in rows:
        head = f"#{index}" + (f" {name}:" if name else ":")
        room = screen - cell_len(head) - 1
        first, *rest = _wrap(expression + marker, max(room, MIN_COMPUTES))
        out.append(paint(f"{head} {first}", STYLES[kind]))
        out += [paint("   " + more, STYLES[kind]) for more in rest]
        numbers = [f"value {value}"] + [f"{h} {g}" for h, g in zip(headers, grad) if g]
        joined = "   " + ", ".join(numbers)
        out += [joined] if cell_len(joined) <= screen else ["   " + n for n in numbers]
    return out


def _summary(trace: Trace, digits: int, wrt, screen: int, paint) -> list[str]:
    if trace.graph.results:
        return _jacobian_summary(trace, digits, paint)
    name = output_name(trace)
    summary = [(name, number(trace.value, digits))]
    summary += [(f"∂{name}/∂{x}", number(g, digits)) for x, g in trace.gradient(wrt).items()]
    right = max(len(v) for _, v in summary)
    left = min(max(cell_len(k) for k, _ in summary), max(screen - len(GAP) - right, 8))
    out = []
    for k, (label, value) in enumerate(summary):
        if cell_len(label) <= left and left + len(GAP) + right <= screen:
            text = f"{fit(label, left)}{GAP}{value.rjust(right)}"
        elif cell_len(label) + len(GAP) + len(value) <= screen:
            text = f"{label}{GAP}{value}"
        else:   # a name longer than the terminal: the value on a line of its own
            text = f"{label}\n  {value}"
        out.append(paint(text, STYLES["output"]) if k == 0 else text)
    return out


def _jacobian_summary(trace: Trace, digits: int, paint) -> list[str]:
    """Each output's value, then the Jacobian: a row per output, a column per input."""
    jacobian = trace.jacobian
    names = list(jacobian.outputs)
    values = [number(trace.values[node], digits) for node in jacobian.outputs.values()]
    left = max(cell_len(n) for n in names) + 1
    right = max(len(v) for v in values)
    out = [paint(f"{fit(n, left)}{GAP}{v.rjust(right)}", STYLES["output"]) for n, v in zip(names, values)]
    heads = [f"∂/∂{x}" for x in jacobian.wrt]
    cells = [[number(jacobian.rows[n][x], digits) for x in jacobian.wrt] for n in names]
    widths = [max(cell_len(h), *(len(row[k]) for row in cells)) for k, h in enumerate(heads)]
    out += ["", "Jacobian" + " " * max(left - 8, 0) + GAP + GAP.join(h.rjust(w) for h, w in zip(heads, widths))]
    width = max(left, 8)
    out += [fit(f"∂{n}", width) + GAP + GAP.join(c.rjust(w) for c, w in zip(row, widths))
            for n, row in zip(names, cells)]
    return out


def render_products(products: dict, file: TextIO, digits: int = 6) -> None:
    """`--tangent`'s Jacobian-vector product and `--cotangent`'s vector-Jacobian product."""
    lines = []
    for key, (direction, result) in products.items():
        along = ", ".join(f"{k}={number(v, digits)}" for k, v in direction.items())
        lines += ["", f"JVP along {along} (each output's directional derivative)" if key == "jvp"
                  else f"VJP of {along} (Σ cotangent × ∂output/∂input)"]
        left = max(cell_len(k) for k in result)
        lines += [f"  {fit(k, left)}{GAP}{number(v, digits)}" for k, v in result.items()]
    if lines:
        file.write("\n".join(lines) + "\n")
