"""A function and its derivatives drawn in the terminal, as JSON, or with Matplotlib.

The terminal plot is drawn here in braille cells (2×4 dots a character), or
one character a cell with --ascii, coloured with plain SGR codes (a code
for each run of one colour).  plotext was measured and not used: importing
it alone took longer than a whole 400-point `adiff plot` from a cold start
(1.2x; benchmarks/plot_minimize.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import AdiffError, ExitCode
from ..plot import Samples

# SGR colours: value, first derivative, second derivative (and more outputs'
# values, for a program of several); dim for axes
COLOURS = ("36", "35", "33", "32", "31", "34")
DIM = "2"
ASCII_MARKS = ("*", "o", "#", "+", "x", "%")
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))   # [row][column]
RENDER_FORMATS = ("svg", "png", "pdf")


def series(samples: Samples) -> list[tuple[str, list[float]]]:
    """(legend label, values) for each curve, value first."""
    f, x = samples.name, samples.by
    if samples.outputs:   # several outputs: each output's value, named in the legend
        return [(out, values) for out, (values, _) in samples.outputs.items()]
    if f.isidentifier():
        first, second = f"d{f}/d{x}", f"d²{f}/d{x}²"
    else:
        first, second = f"d/d{x}", f"d²/d{x}²"
    curves = [(f, samples.values), (first, samples.gradients)]
    if samples.order2 is not None:
        curves.append((second, samples.order2))
    return curves


def document(samples: Samples) -> dict:
    from .json import number
    doc = {"schema": 1, "input": samples.input, "wrt": samples.by,
           "x": [number(x) for x in samples.xs],
           "value": [number(v) for v in samples.values],
           "gradient": [number(g) for g in samples.gradients]}
    if samples.order2 is not None:
        doc["order2"] = [number(v) for v in samples.order2]
    if samples.outputs:   # several outputs: "values" and "gradients" by output, not "value"/"gradient"
        del doc["value"], doc["gradient"]
        doc["values"] = {out: [number(v) for v in values] for out, (values, _) in samples.outputs.items()}
        doc["gradients"] = {out: [number(g) for g in grads] for out, (_, grads) in samples.outputs.items()}
    doc["kinks"] = [number(k.x) for k in samples.kinks]
    return doc


def dumps(doc: dict) -> str:
    """The document with one line a key: the sampled lists stay compact."""
    import json
    lines = [f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}" for key, value in doc.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _labels(ticks: list[float], step: float) -> list[str]:
    """The ticks' labels, all with the same number of decimals (or significant
    digits, for very large or small numbers): the fewest with which every
    label reads back as its tick, so that a tick at 2.5 is labelled 2.5."""
    if not ticks:
        return []
    close = 1e-6 * step if step > 0 else 0.0
    big = max(abs(t) for t in ticks)
    for digits in range(16):
        if big >= 1e5 or big < 1e-4:
            texts = ["0" if t == 0 else f"{t:.{digits + 1}g}" for t in ticks]
        else:
            texts = ["0" if t == 0 else f"{t:.{digits}f}" for t in ticks]
        if all(abs(float(text) - t) <= close for text, t in zip(texts, ticks)):
            break
    return texts


def _nice_ticks(low: float, high: float, count: int) -> tuple[list[float], float]:
    """Round ticks (steps of 1, 2, 2.5 or 5 times a power of ten) within
    [low, high]: the widest step that still gives `count` ticks."""
    span = high - low
    if span <= 0 or not math.isfinite(span):
        return [low], 1.0
    power = 10.0 ** math.floor(math.log10(span))
    candidates = [m * power * scale for scale in (1, 0.1, 0.01) for m in (5, 2.5, 2, 1)]
    for step in candidates:
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        if last - first + 1 >= count:
            break
    ticks = [0.0 if k == 0 else k * step for k in range(first, last + 1)]
    return ticks, step


def _y_range(curves: list[list[float]]) -> tuple[float, float, bool]:
    """The y-axis range: every finite value, unless a few far-off values
    (near a pole) would flatten the rest; then those run off the plot."""
    finite = sorted(v for curve in curves for v in curve if math.isfinite(v))
    if not finite:
        return -1.0, 1.0, False
    low, high = finite[0], finite[-1]
    clipped = False
    if len(finite) >= 20:
        q_low = finite[int(0.02 * (len(finite) - 1))]
        q_high = finite[int(0.98 * (len(finite) - 1))]
        if q_high > q_low and high - low > 20 * (q_high - q_low):
            pad = 0.5 * (q_high - q_low)
            low, high, clipped = max(low, q_low - pad), min(high, q_high + pad), True
    if high == low:
        pad = max(1.0, abs(high) * 0.1)
        return low - pad, high + pad, clipped
    pad = (high - low) * 0.03
    return low - pad, high + pad, clipped


@dataclass
class _Canvas:
    columns: int      # character cells
    rows: int
    braille: bool

    def __post_init__(self):
        self.dot_columns = self.columns * (2 if self.braille else 1)
        self.dot_rows = self.rows * (4 if self.braille else 1)
        # per cell: the dots of each curve
        self.bits = [[[0] * len(COLOURS) for _ in range(self.columns)] for _ in range(self.rows)]

    def dot(self, curve: int, column: int, row: int) -> None:
        if 0 <= column < self.dot_columns and 0 <= row < self.dot_rows:
            if self.braille:
                cell = self.bits[row // 4][column // 2]
                cell[curve] |= BRAILLE_BITS[row % 4][column % 2]
            else:
                self.bits[row][column][curve] = 1

    def line(self, curve: int, c0: float, r0: float, c1: float, r1: float, pattern) -> None:
        """A segment between two points in dot coordinates, clipped to the
        canvas's rows first so that a value near a pole costs no more dots
        than the canvas has."""
        top, bottom = -0.5, self.dot_rows - 0.5
        if (r0 < top and r1 < top) or (r0 > bottom and r1 > bottom):
            return
        if (r0 < top and r1 > bottom) or (r1 < top and r0 > bottom):
            return   # from off the top to off the bottom: a pole, not a line
        t0, t1 = 0.0, 1.0
        dr = r1 - r0
        if r0 < top:
            t0 = (top - r0) / dr
        elif r0 > bottom:
            t0 = (bottom - r0) / dr
        if r1 < top:
            t1 = (top - r0) / dr
        elif r1 > bottom:
            t1 = (bottom - r0) / dr
        a = (c0 + (c1 - c0) * t0, r0 + dr * t0)
        b = (c0 + (c1 - c0) * t1, r0 + dr * t1)
        steps = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
        for k in range(steps + 1):
            t = k / steps
            column = round(a[0] + (b[0] - a[0]) * t)
            if pattern(column):
                self.dot(curve, column, round(a[1] + (b[1] - a[1]) * t))


def render(samples: Samples, *, width: int = 80, height: int = 24, braille: bool = True,
           colour: bool = False) -> str:
    """The plot as text: legend, canvas with a y-axis, x-axis, notes."""
    curves = series(samples)
    notes = _notes(samples, curves, "▲" if braille else "^")
    low, high, clipped = _y_range([values for _, values in curves])
    if clipped:
        notes.append(f"note: values beyond [{low:.3g}, {high:.3g}] run off the plot")
    rows = max(3, height - 3 - len(notes))
    dot_rows = rows * (4 if braille else 1)

    def row_of(y: float) -> float:
        return (high - y) / (high - low) * (dot_rows - 1)

    def cell_row(y: float) -> int:
        """The character row that a value's dot falls in: where its tick and label go."""
        return min(rows - 1, max(0, round(row_of(y)) // (dot_rows // rows)))

    y_ticks, y_step = _nice_ticks(low, high, max(3, rows // 5))
    labels = {cell_row(t): text for t, text in zip(y_ticks, _labels(y_ticks, y_step))}
    margin = max(len(s) for s in labels.values())
    columns = max(10, width - margin - 2)
    canvas = _Canvas(columns, rows, braille)

    x0, x1 = samples.xs[0], samples.xs[-1]

    def column_of(x: float) -> float:
        return (x - x0) / (x1 - x0) * (canvas.dot_columns - 1)

    patterns = [lambda c: True] * len(COLOURS)
    if braille and not colour:
        # without colour the curves are told apart by their line: solid, dashed, dotted
        patterns = [lambda c: True, lambda c: (c // 2) % 2 == 0, lambda c: c % 3 == 0,
                    lambda c: c % 4 < 3, lambda c: (c // 3) % 2 == 0, lambda c: c % 5 < 2]
    for index in range(len(curves) - 1, -1, -1):   # the value last, on top
        values = curves[index][1]
        previous = None
        for x, y in zip(samples.xs, values):
            if not math.isfinite(y):
                previous = None
                continue
            point = (column_of(x), row_of(y))
            if previous is None:
                if 0 <= point[1] <= canvas.dot_rows - 1:
                    canvas.dot(index, round(point[0]), round(point[1]))
            else:
                canvas.line(index, *previous, *point, patterns[index])
            previous = point

    zero_row = cell_row(0.0) if low < 0 < high else None

    def paint(text: str, code: Optional[str]) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text

    lines = [_legend(curves, braille, colour, paint)]
    for r in range(rows):
        label = labels.get(r, "")
        axis = "┤" if r in labels else "│"
        if not braille:
            axis = "+" if r in labels else "|"
        cells = []
        for c in range(columns):
            cell = canvas.bits[r][c]
            if braille:
                bits = cell[0] | cell[1] | cell[2]
                if bits:
                    owner = max(range(len(cell)), key=lambda k: (bin(cell[k]).count("1"), -k))
                    cells.append((chr(0x2800 + bits), COLOURS[owner]))
                    continue
            else:
                marks = [k for k in range(len(cell)) if cell[k]]
                if marks:
                    cells.append((ASCII_MARKS[marks[0]], COLOURS[marks[0]]))
                    continue
            if r == zero_row:
                cells.append(("─" if braille else "-", DIM))
            else:
                cells.append((" ", None))
        lines.append(f"{label:>{margin}} {paint(axis, DIM)}{_runs(cells, paint)}")
    lines += _x_axis(samples, margin, columns, canvas, braille, paint)
    lines += notes
    return "\n".join(lines) + "\n"


def _runs(cells: list[tuple[str, Optional[str]]], paint) -> str:
    """Characters with their colours, one colour code for each run of a colour."""
    out, k = [], 0
    while k < len(cells):
        end = k
        while end < len(cells) and cells[end][1] == cells[k][1]:
            end += 1
        out.append(paint("".join(c for c, _ in cells[k:end]), cells[k][1]))
        k = end
    return "".join(out)


def _legend(curves, braille: bool, colour: bool, paint) -> str:
    if not braille:
        glyphs = [m * 2 for m in ASCII_MARKS]
    elif colour:
        glyphs = ["━━"] * len(COLOURS)
    else:
        glyphs = ["━━", "╍╍", "┈┈", "┅┅", "╌╌", "┉┉"]
    return "  ".join(f"{paint(glyphs[k], COLOURS[k])} {label}" for k, (label, _) in enumerate(curves))


def _x_axis(samples: Samples, margin: int, columns: int, canvas: _Canvas, braille: bool, paint) -> list[str]:
    x0, x1 = samples.xs[0], samples.xs[-1]
    ticks, step = _nice_ticks(x0, x1, max(3, columns // 14))
    axis = ["─" if braille else "-"] * columns
    label_line = [" "] * (columns + margin + 8)
    taken_until = -1

    def column(x: float) -> int:
        """The character column that a value's dot falls in, as the curves are drawn."""
        dot = round((x - x0) / (x1 - x0) * (canvas.dot_columns - 1))
        return min(columns - 1, max(0, dot // (canvas.dot_columns // columns)))

    for t, text in zip(ticks, _labels(ticks, step)):
        c = column(t)
        axis[c] = "┬" if braille else "+"
        start = margin + 2 + c - len(text) // 2
        start = max(0, start)
        if start > taken_until + 1:
            label_line[start:start + len(text)] = list(text)
            taken_until = start + len(text)
    for kink in samples.kinks:
        axis[column(kink.x)] = "▲" if braille else "^"
    corner = "└" if braille else "+"
    axis_text = "".join(paint("▲", "31") if ch == "▲" else paint("^", "31") if ch == "^" and not braille
                        else paint(ch, DIM) for ch in axis)
    return [f"{'':>{margin}} {paint(corner, DIM)}{axis_text}",
            "".join(label_line).rstrip() + f"   {samples.input}"]


def _notes(samples: Samples, curves, mark: str) -> list[str]:
    notes = []
    n = len(samples.xs)
    counts = [(label, samples.non_finite(values)) for label, values in curves]
    bad = [(label, count) for label, count in counts if count]
    if bad:
        parts = ", ".join(f"{label} at {count}" for label, count in bad)
        notes.append(f"note: non-finite (drawn as gaps) of {n} points: {parts}")
    if samples.kinks:
        shown = ", ".join(f"{samples.input} = {k.x:.6g} ({k.where})" for k in samples.kinks[:4])
        more = f" and {len(samples.kinks) - 4} more" if len(samples.kinks) > 4 else ""
        notes.append(f"kinks ({mark}, not differentiable): {shown}{more}")
    return notes


def render_image(samples: Samples, target: Path) -> None:
    """A real image with Matplotlib (the optional extra adiff[plot])."""
    kind = target.suffix.lower().lstrip(".")
    if kind not in RENDER_FORMATS:
        raise AdiffError("usage", f"--render {target}: the file must end in .svg, .png or .pdf")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise AdiffError("missing_extra", "--render needs Matplotlib, which is not installed",
                         hint='install it with: pip install "adiff[plot]" (or use --json for the points)',
                         exit_code=ExitCode.FAILURE) from None
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for k, (label, values) in enumerate(series(samples)):
        shown = [v if math.isfinite(v) else math.nan for v in values]
        axes.plot(samples.xs, shown, label=label, linestyle=("-", "--", ":", "-.")[k % 4])
    for kink in samples.kinks:
        axes.axvline(kink.x, color="red", linestyle=":", linewidth=0.8)
    axes.axhline(0, color="grey", linewidth=0.5)
    low, high, clipped = _y_range([values for _, values in series(samples)])
    if clipped:   # as in the terminal: a pole's far-off values do not flatten the rest
        axes.set_ylim(low, high)
    axes.set_xlabel(samples.input)
    axes.legend()
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    try:
        # no date, fixed ids: the same plot gives the same file
        metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(kind)
        with matplotlib.rc_context({"svg.hashsalt": "adiff"}):
            figure.savefig(target, format=kind, metadata=metadata)
    except OSError as error:
        raise AdiffError("file", f"cannot write {target}: {error.strerror or error}",
                         exit_code=ExitCode.FAILURE) from None
    finally:
        plt.close(figure)
