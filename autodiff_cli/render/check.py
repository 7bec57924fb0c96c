"""The gradient check as a Rich table (after eval's table) and as JSON."""

from __future__ import annotations

from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from ..check import FAIL, KINK, NON_FINITE, PASS, RELATIVE_STEP, CheckResult
from .json import number as json_number
from .table import number

METHOD = (f"central difference, h = {RELATIVE_STEP:g}·max(1, |x|); "
          "error = |gradient − difference| / max(1, |gradient|, |difference|)")

_STYLE = {PASS: "green", FAIL: "bold red", KINK: "yellow", NON_FINITE: "yellow"}


def verdict(result: CheckResult) -> str:
    """One line: passed, failed, or how many inputs could not be compared."""
    counts = {status: sum(c.status == status for c in result.inputs) for status in _STYLE}
    failed = result.failures
    if failed:
        head = f"check failed for {', '.join(c.name for c in failed)}"
    elif counts[PASS]:
        head = f"check passed for {counts[PASS]} of {len(result.inputs)} inputs"
    else:
        head = "nothing checked"
    unchecked = [f"{counts[KINK]} at a kink" if counts[KINK] else "",
                 f"{counts[NON_FINITE]} not finite" if counts[NON_FINITE] else ""]
    unchecked = [u for u in unchecked if u]
    return head + (f" ({', '.join(unchecked)}: not compared)" if unchecked else "")


def render(result: CheckResult, file: TextIO, digits: int = 6) -> None:
    console = Console(file=file, highlight=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                  title=f"gradient check, tolerance {result.tolerance:g}", title_justify="left")
    table.add_column("input")
    table.add_column("gradient", justify="right")
    table.add_column("finite difference", justify="right")
    table.add_column("error", justify="right")
    table.add_column("result")
    for c in result.inputs:
        table.add_row(c.name, number(c.gradient, digits), number(c.numeric, digits),
                      number(c.error, 2), f"[{_STYLE[c.status]}]{c.status}[/]")
    console.print(table)
    for c in result.inputs:
        if c.note:
            console.print(f"{c.name}: {c.note}", style="dim" if c.status == PASS else None)
    style = "bold red" if result.failures else "green" if result.passed else "yellow"
    console.print(f"[{style}]{verdict(result)}[/]")
    for part in METHOD.split("; "):
        console.print(part, style="dim")


def document(result: CheckResult) -> dict:
    """The `check` object of eval's JSON document."""
    return {
        "passed": result.passed,
        "summary": verdict(result),
        "tolerance": result.tolerance,
        "method": METHOD,
        "inputs": {c.name: {"gradient": json_number(c.gradient), "finite_difference": json_number(c.numeric),
                            "step": json_number(c.step), "error": json_number(c.error),
                            "status": c.status, "note": c.note}
                   for c in result.inputs},
    }
