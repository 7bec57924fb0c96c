"""The Hessian at a point, for `adiff eval --hessian`: a matrix under the
gradient in the table, and {"x": {"x": ..., "w": ...}, ...} in JSON."""

from __future__ import annotations

from typing import TextIO

from rich.cells import cell_len

from .json import number as json_number
from .table import number


def document(matrix: dict[str, dict[str, float]]) -> dict:
    """Strict JSON: NaN and infinities as strings."""
    return {u: {v: json_number(x) for v, x in row.items()} for u, row in matrix.items()}


def render(matrix: dict[str, dict[str, float]], output: str, file: TextIO, digits: int = 6) -> None:
    """The symmetric matrix, one row per input, headed ∂²output/∂u∂v."""
    names = list(matrix)
    if not names:
        return
    cells = [[number(matrix[u][v], digits) for v in names] for u in names]
    left = max(cell_len(u) for u in names)
    widths = [max(cell_len(v), *(len(row[k]) for row in cells)) for k, v in enumerate(names)]
    lines = ["", f"Hessian ∂²{output}/∂u∂v",
             " " * left + "  " + "  ".join(v.rjust(w) for v, w in zip(names, widths))]
    for u, row in zip(names, cells):
        lines.append(u + " " * (left - cell_len(u)) + "  " +
                     "  ".join(x.rjust(w) for x, w in zip(row, widths)))
    file.write("\n".join(lines) + "\n")
