"""The gradient check as a table (after eval's table) and as JSON.

Laid out by hand, like eval's table: numbers and headers are never cut.
Where the columns do not fit the terminal the "finite difference" header
shortens to "difference", and where they still do not fit each input is
stacked on lines of its own.  The footnotes break only between their parts,
never inside a formula.
"""

from __future__ import annotations

import textwrap
from typing import TextIO

from ..check import FAIL, INCONCLUSIVE, KINK, NON_FINITE, PASS, RELATIVE_STEP, CheckResult
from .json import number as json_number
from .table import number
from .terminal import cell_len, fit, painter, width as terminal_width

# each footnote as the parts it may be broken between
FOOTNOTES = (("central difference,", f"h = {RELATIVE_STEP:g}·|x|", f"({RELATIVE_STEP:g} at x = 0)"),
             ("error = |gradient − difference|", "/ max(|gradient|, |difference|, noise)",
              "(noise = 4 ulps of the output / h)"))
METHOD = "; ".join(" ".join(parts) for parts in FOOTNOTES)

_STYLE = {PASS: "green", FAIL: "bold red", KINK: "yellow", NON_FINITE: "yellow", INCONCLUSIVE: "yellow"}
GAP = "   "


def verdict(result: CheckResult) -> str:
    """One line: passed, failed, inconclusive, or how many inputs could not be compared."""
    counts = {status: sum(c.status == status for c in result.inputs) for status in _STYLE}
    failed = result.failures
    inconclusive = [c.name for c in result.inputs if c.status == INCONCLUSIVE]
    if failed:
        head = f"check failed for {', '.join(c.name for c in failed)}"
    elif counts[PASS]:
        head = f"check passed for {counts[PASS]} of {len(result.inputs)} inputs"
    elif inconclusive:
        floors = [c.floor for c in result.inputs if c.status == INCONCLUSIVE and c.floor is not None]
        low, high = f"{min(floors):.2g}", f"{max(floors):.2g}"
        return (f"check inconclusive for {', '.join(inconclusive)}: the tolerance {result.tolerance:g} "
                f"is below the finite difference's noise floor ({low if low == high else low + ' to ' + high})")
    else:
        head = "nothing checked" + ("" if result.inputs else ": the program has no inputs")
    unchecked = [f"{counts[INCONCLUSIVE]} inconclusive" if counts[INCONCLUSIVE] else "",
                 f"{counts[KINK]} at a kink" if counts[KINK] else "",
                 f"{counts[NON_FINITE]} not finite" if counts[NON_FINITE] else ""]
    unchecked = [u for u in unchecked if u]
    return head + (f" ({', '.join(unchecked)}: not compared)" if unchecked else "")


def _fill(parts, width: int, indent: str = "") -> list[str]:
    """Parts joined by spaces into lines of at most `width`, broken only between parts."""
    lines, line = [], ""
    for part in parts:
        if line and cell_len(line) + 1 + cell_len(part) > width:
            lines.append(line)
            line = indent + part
        else:
            line = f"{line} {part}" if line else part
    return lines + [line]


def render(result: CheckResult, file: TextIO, digits: int = 6) -> None:
    paint = painter(file)
    screen = terminal_width(file)
    rows = [(c.name, number(c.gradient, digits), number(c.numeric, digits), number(c.error, 2), c.status)
            for c in result.inputs]
    out = ["", f"gradient check, tolerance {result.tolerance:g}"]
    for header in (("input", "gradient", "finite difference", "error", "result"),
                   ("input", "gradient", "difference", "error", "result")):
        widths = [max([cell_len(header[k])] + [cell_len(row[k]) for row in rows]) for k in range(5)]
        if sum(widths) + 4 * len(GAP) <= screen:
            break
    else:
        widths = None
    if not rows:
        pass   # the verdict says that nothing was checked
    elif widths is not None:
        def line(cells, status: str) -> str:
            name, gradient, numeric, error = cells
            return GAP.join([fit(name, widths[0]), gradient.rjust(widths[1]), numeric.rjust(widths[2]),
                             error.rjust(widths[3]), status])
        out.append(paint(line(header[:4], header[4]), "bold"))
        out.append(paint("─" * (sum(widths) + 4 * len(GAP)), "dim"))
        for *cells, status in rows:
            out.append(line(cells, paint(status, _STYLE[status])))
    else:   # too narrow for the columns: each input stacked
        for name, gradient, numeric, error, status in rows:
            out.append(f"{name}: {paint(status, _STYLE[status])}")
            for label, value in (("gradient", gradient), ("finite difference", numeric), ("error", error)):
                text = f"  {label}: {value}"
                out += [text] if cell_len(text) <= screen else [f"  {label}:", f"    {value}"]
    for c in result.inputs:
        if c.note:
            for text in textwrap.wrap(f"{c.name}: {c.note}", width=max(screen, 20),
                                      subsequent_indent="  ", break_long_words=False,
                                      break_on_hyphens=False):
                out.append(paint(text, "dim") if c.status == PASS else text)
    style = "bold red" if result.failures else "green" if result.passed and any(
        c.status == PASS for c in result.inputs) else "yellow"
    out += [paint(text, style) for text in textwrap.wrap(verdict(result), width=max(screen, 20),
                                                          subsequent_indent="  ", break_long_words=False,
                                                          break_on_hyphens=False)]
    for parts in FOOTNOTES:
        out += [paint(text, "dim") for text in _fill(parts, screen, "  ")]
    file.write("\n".join(out) + "\n")


def document(result: CheckResult) -> dict:
    """The `check` object of eval's JSON document."""
    return {
        "passed": result.passed,
        "summary": verdict(result),
        "tolerance": result.tolerance,
        "method": METHOD,
        "inputs": {c.name: {"gradient": json_number(c.gradient), "finite_difference": json_number(c.numeric),
                            "step": json_number(c.step), "error": json_number(c.error),
                            "status": c.status, "note": c.note,
                            **({"noise_floor": json_number(c.floor)} if c.floor is not None else {})}
                   for c in result.inputs},
    }
