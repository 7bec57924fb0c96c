"""`adiff minimize`: lower a program's value by changing some of its inputs."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import FILE, JSON, MAX_NODES, OF, PROGRAM, READS_A_PROGRAM, VAR, WRT, app, load
from ..edge import check_wrt, guarded, in_range, names_to_list, one_output, output, print_json, warn
from ..errors import AdiffError, ExitCode

MINIMIZE_HELP = """Minimize PROGRAM's value over some of its inputs, from the bindings.

Starts from the bindings and the program's defaults, changes the --wrt
inputs (all inputs by default) to lower the program's value, and keeps the
others fixed.  Gradients come from adiff's reverse pass, one forward and one
reverse pass a step.  Methods: gd (gradient descent), momentum, adam, and
lbfgs (SciPy's L-BFGS-B, pip install "adiff[optimize]"; the default when
SciPy is installed, else gd).  Exit code 0 when converged (gradient norm at
most --tol, or, for lbfgs, SciPy's own convergence test), 1 when it
stopped otherwise (diverged, non-finite, interrupted and no-progress stops
print the best point seen), 130 on Ctrl-C.

\b
Examples:
  adiff minimize "(1-x)^2 + 100*(y-x^2)^2" --x -1.2 --y 1
  adiff minimize -f samples/two_layer.adiff --wrt w11,w12,w21,w22,b1,b2,v1,v2,c
  adiff minimize -f samples/seed.adiff --wrt w,b --method adam --lr 0.05
  adiff minimize "(w-2)^2" --w 0 --bound w=0:1
  adiff minimize "(1-x)^2 + 100*(y-x^2)^2" --x -1.2 --y 1 --json --trace run.jsonl
"""

NAMES = {"gd": "gradient descent", "momentum": "gradient descent with momentum (0.9)",
         "adam": "Adam (0.9, 0.999)", "lbfgs": "SciPy's L-BFGS-B"}


def parse_bound(text: str, wrt: list[str]) -> tuple[str, tuple[float, float]]:
    """`w=0:1`, `w=0:` or `w=:1`: the closed interval an input must stay in."""
    from ..bindings import parse_value

    name, eq, span = text.partition("=")
    name = name.strip()
    low_text, colon, high_text = span.partition(":")
    if not eq or not colon:
        raise AdiffError("usage", f"--bound {text}: write NAME=LOW:HIGH", hint="for example --bound w=0:1")
    if name not in wrt:
        raise AdiffError("usage", f"--bound {text}: {name} is not one of the inputs being changed",
                         hint="those are: " + ", ".join(wrt))
    low = -math.inf if not low_text.strip() else parse_value(name, low_text)
    high = math.inf if not high_text.strip() else parse_value(name, high_text)
    if low != low or high != high or not low <= high:
        raise AdiffError("usage", f"--bound {text}: LOW must be at most HIGH")
    return name, (low, high)


def _fmt(x: float, digits: int = 10) -> str:
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def table(result, method_note: str) -> str:
    """The final report: each parameter's start and final value, then why it stopped."""
    rows = [("input", "start", "final", "gradient")]
    for name, final in result.inputs.items():
        rows.append((name, _fmt(result.start[name]), _fmt(final), _fmt(result.gradient[name], 3)))
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join([row[0].ljust(widths[0])] + [row[k].rjust(widths[k]) for k in (1, 2, 3)]))
        if i == 0:
            lines.append("─" * len(lines[0]))
    lines.append("")
    stopped = result.why()
    if result.reason == "converged":
        stopped += f" ({result.test}"
        stopped += f"; on a bound: {', '.join(result.at_bound)})" if result.at_bound else ")"
    elif result.reason == "no progress" and result.detail:
        stopped += f" (SciPy: {result.detail})"
    elif result.reason == "diverged":
        stopped += (f": the loss grew without bound; the table shows the best point seen; "
                    f"a smaller --lr may help (this run's was {_fmt(result.rate, 6)})")
    elif result.reason == "non-finite loss":
        stopped += ": the table shows the best point before it" + (
            "; a smaller --lr may help" if result.method != "lbfgs"
            else "; a --bound that keeps the inputs where the program is defined may help")
    elif result.reason == "interrupted":
        stopped += " (Ctrl-C): the best point so far"
    facts = [("loss", f"{_fmt(result.start_value)} → {_fmt(result.value)}"),
             ("gradient norm", _fmt(result.grad_norm, 3)),
             ("steps", f"{result.steps} ({result.evaluations} evaluations)"),
             ("method", f"{result.method}: {NAMES[result.method]}{method_note}"),
             ("stopped", stopped)]
    if result.fixed:
        shown = ", ".join(f"{n} = {_fmt(v)}" for n, v in list(result.fixed.items())[:8])
        more = f" and {len(result.fixed) - 8} more" if len(result.fixed) > 8 else ""
        facts.append(("fixed", shown + more))
    key = max(len(k) for k, _ in facts)
    lines += [f"{k.ljust(key)}  {v}" for k, v in facts]
    return "\n".join(lines) + "\n"


def document(result, program: str) -> dict:
    from ..render.json import number
    return {"schema": 1, "program": program, "method": result.method, "converged": result.converged,
            "reason": result.reason, "failed_step": result.failed_step, "steps": result.steps,
            "evaluations": result.evaluations, "value": number(result.value),
            "start_value": number(result.start_value), "grad_norm": number(result.grad_norm),
            "start": {n: number(v) for n, v in result.start.items()},
            "inputs": {n: number(v) for n, v in result.inputs.items()},
            "gradient": {n: number(v) for n, v in result.gradient.items()},
            "fixed": {n: number(v) for n, v in result.fixed.items()}, "at_bound": result.at_bound,
            "detail": result.detail or None}


SPARKS = "▁▂▃▄▅▆▇█"


class Live:
    """Progress on standard error while a terminal watches: step, loss,
    gradient norm, step size, and a sparkline of the loss over the whole
    run so far (log scale)."""

    WIDTH = 40

    def __init__(self, method: str):
        from rich.console import Console
        from rich.live import Live as RichLive

        self.losses: list[float] = []
        self.seen, self.stride = 0, 1
        self.method = method
        self.last = 0.0
        self.live = RichLive("", console=Console(stderr=True), refresh_per_second=10, transient=True)

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc):
        return self.live.__exit__(*exc)

    def update(self, step) -> None:
        # the whole run in at most WIDTH points: every stride-th loss, the
        # stride doubling (and the history halving) as the run grows
        if self.seen % self.stride == 0:
            self.losses.append(step.loss)
            if len(self.losses) > self.WIDTH:
                self.losses = self.losses[::2]
                self.stride *= 2
        self.seen += 1
        now = time.monotonic()
        if now - self.last < 0.05:
            return
        self.last = now
        from rich.text import Text
        line = (f"{self.method}  step {step.step}  loss {_fmt(step.loss, 6)}  "
                f"|grad| {_fmt(step.grad_norm, 3)}  step size {_fmt(step.step_size, 3)}  ")
        self.live.update(Text(line + sparkline(self.losses)))


def sparkline(losses: list[float]) -> str:
    """The losses as bars: on a log scale when all are positive, else linear."""
    finite = [v for v in losses if math.isfinite(v)]
    if not finite:
        return ""
    if min(finite) > 0:
        finite = [math.log10(v) for v in finite]
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    return "".join(SPARKS[min(7, int((v - low) / span * 7.999))] for v in finite)


@app.command("minimize", help=MINIMIZE_HELP, **READS_A_PROGRAM)
def minimize_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    json: bool = JSON,
    wrt: List[str] = WRT,
    method: Optional[str] = typer.Option(None, "--method", metavar="gd|momentum|adam|lbfgs",
                                         help="lbfgs when SciPy is installed, else gd."),
    lr: Optional[float] = typer.Option(None, "--lr", metavar="RATE",
                                       help="Learning rate of gd (default 0.1, halved where a step would raise the loss), "
                                            "momentum (0.05), adam (0.01)."),
    steps: int = typer.Option(1000, "--steps", metavar="N", show_default=False, help="The step limit (default 1000)."),
    tol: float = typer.Option(1e-8, "--tol", metavar="TOL", show_default=False,
                              help="Converged when the gradient's norm is at most TOL (default 1e-8)."),
    bound: List[str] = typer.Option([], "--bound", metavar="NAME=LOW:HIGH",
                                    help="Keep an input within [LOW, HIGH] (repeatable)."),
    trace: Optional[Path] = typer.Option(None, "--trace", metavar="FILE.jsonl",
                                         help="Write one JSON line per step to FILE."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    of: Optional[str] = OF,
) -> None:
    outcome = {}

    def body() -> None:
        from .. import optimize

        chosen = method
        note = ""
        if chosen is None:
            chosen = optimize.default_method()
            if chosen == "gd":
                note = ' (the default without SciPy; pip install "adiff[optimize]" for L-BFGS)'
        if chosen not in optimize.METHODS:
            raise AdiffError("usage", f"--method {chosen}: choose gd, momentum, adam or lbfgs")
        if chosen == "lbfgs" and not optimize.scipy_available():
            raise optimize.missing_scipy()
        if lr is not None and not (lr > 0 and math.isfinite(lr)):
            raise AdiffError("usage", f"--lr {lr}: give a positive learning rate")
        if lr is not None and chosen == "lbfgs":
            raise AdiffError("usage", "--lr is for gd, momentum and adam; lbfgs chooses its own steps")
        if steps < 0:
            raise AdiffError("usage", f"--steps {steps}: give 0 or more")
        if not (tol >= 0 and math.isfinite(tol)):
            raise AdiffError("usage", f"--tol {tol}: give a tolerance of 0 or more")
        in_range("--max-nodes", max_nodes, 1)
        wanted = names_to_list(wrt)
        graph, bindings, shown = load(ctx, program, file, var, max_nodes, of)
        one_output(graph, "minimize")
        check_wrt(graph, wanted)
        names = wanted if wanted is not None else list(graph.inputs)
        if not names:
            raise AdiffError("usage", "the program has no inputs to change")
        bounds = dict(parse_bound(b, names) for b in bound)
        from ..evaluator import bind
        start, warnings = bind(graph, bindings)
        warn(warnings)
        for name, (low, high) in bounds.items():
            if not low <= start[name] <= high:
                print(f"adiff: note: {name} starts at {_fmt(start[name])}, outside its bound; "
                      f"starting from {_fmt(min(max(start[name], low), high))}", file=sys.stderr)

        sink = None
        if trace is not None:
            try:
                sink = open(trace, "w", encoding="utf-8")
            except OSError as error:
                raise AdiffError("file", f"cannot write {trace}: {error.strerror or error}",
                                 exit_code=ExitCode.FAILURE) from None
        live = Live(chosen) if sys.stderr is not None and sys.stderr.isatty() else None
        from json import dumps

        def on_step(step) -> None:
            if sink is not None:
                sink.write(dumps(step.to_json()) + "\n")
            if live is not None:
                live.update(step)

        try:
            with live if live is not None else contextlib.nullcontext():
                result = optimize.minimize(graph, bindings, names, method=chosen, lr=lr, steps=steps,
                                           tol=tol, bounds=bounds, on_step=on_step)
        finally:
            if sink is not None:
                sink.close()
        if json:
            print_json(document(result, shown))
        else:
            with output():
                sys.stdout.write(table(result, note))
        outcome["code"] = result.exit_code
        if result.reason == "interrupted":
            print("adiff: interrupted", file=sys.stderr)
        elif not result.converged:
            print(f"adiff: stopped without converging: {result.why()}", file=sys.stderr)

    guarded(json, body)
    if outcome.get("code"):
        raise SystemExit(outcome["code"])
