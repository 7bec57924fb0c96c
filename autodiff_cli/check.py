"""The gradient check: every input's gradient against a central difference.

For input x with step h = 6e-6·|x| (6e-6 at x = 0), the numeric derivative
is (f(x + h) − f(x − h)) / 2h, from two forward passes with only x moved.
The step is relative, so that an input at a physical scale (h = 6.6e-34,
c = 3e8) is moved by the same fraction of itself as an input near 1; only
at 0, which has no scale, is it absolute.  (Never below a million ulps of
x, so that a subnormal input still moves.)

Rounding alone moves the difference by about ε·|f|/h: the difference's
noise, about ROUNDING ulps of the output over h.  The error is relative,
|gradient − difference| / max(|gradient|, |difference|, noise), with that
noise as its floor, which counts only near 0: a gradient of 1e-30 is held
to the tolerance like one of 1e3, and where both numbers are within the
noise of 0 the two agree that the gradient is 0 as far as a difference can
tell (a true gradient of 0, where the difference is rounding noise, does
not fail).  Where the output is large next to its gradient (1e8 + x) the
noise can exceed the tolerance: the difference cannot tell a right
gradient from a wrong one, and an input whose numbers agree within the
noise is reported as inconclusive, with the floor, rather than passed.
And where the output curves so sharply that the difference's own
truncation error (h² times the third derivative, over 6) exceeds the
tolerance, a failing input is tried once more against the difference
extrapolated to h → 0 (Richardson), and passes with a note if that agrees.

An input that reaches a kink the evaluator warned about (abs(0), relu(0),
max at a tie) is reported as such, not failed: there the function has no
derivative for a difference to agree with.  Non-finite numbers are
reported, not failed, and never raise.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Iterable, Optional

from .evaluator import Trace, describe
from .graph import CONST, VAR
from .ops import OPS

DEFAULT_TOLERANCE = 1e-5
RELATIVE_STEP = 6e-6
ROUNDING = 4   # ulps of the output that the two forward passes may each be off by

PASS, FAIL, KINK, NON_FINITE = "pass", "fail", "kink", "non-finite"
INCONCLUSIVE = "inconclusive"   # the tolerance is below the difference's noise floor


@dataclass(frozen=True)
class InputCheck:
    """One input's gradient against its finite difference."""
    name: str
    gradient: Optional[float]      # reverse mode, as evaluated
    numeric: float                 # the central difference
    step: float                    # h
    error: float                   # nan when either number is not finite
    status: str                    # pass, fail, kink, non-finite, inconclusive
    note: Optional[str] = None
    floor: Optional[float] = None  # the difference's noise floor, as an error (inconclusive only)


@dataclass(frozen=True)
class CheckResult:
    """Every input's check, and the tolerance they were held to."""
    tolerance: float
    inputs: tuple[InputCheck, ...]

    @property
    def failures(self) -> list[InputCheck]:
        return [c for c in self.inputs if c.status == FAIL]

    @property
    def passed(self) -> bool:
        return not self.failures


def step_for(x: float) -> float:
    """h: relative to |x|, absolute only at 0, and never below a million ulps of x."""
    if x == 0:
        return RELATIVE_STEP
    return max(RELATIVE_STEP * abs(x), 1e6 * math.ulp(x))


def error(gradient: float, numeric: float, noise: float = 0.0) -> float:
    """Relative, with the difference's noise as a floor (which counts only near 0)."""
    scale = max(abs(gradient), abs(numeric), noise)
    return abs(gradient - numeric) / scale if scale > 0 else 0.0


def check(trace: Trace, tolerance: float = DEFAULT_TOLERANCE,
          wrt: Optional[Iterable[str]] = None) -> CheckResult:
    graph = trace.graph
    names = list(graph.inputs) if wrt is None else list(wrt)
    at_kink = _inputs_at_kinks(trace)
    results = []
    for name in names:
        node = graph.inputs[name]
        x = trace.inputs[name]
        gradient = trace.grads[node]
        h = step_for(x)
        if not math.isfinite(x):
            results.append(InputCheck(name, gradient, math.nan, h, math.nan, NON_FINITE,
                                      f"{name} is not finite: no difference to take"))
            continue
        above = _output_with(trace, node, x + h)
        below = _output_with(trace, node, x - h)
        numeric = (above - below) / (2 * h) if math.isfinite(above - below) else math.nan
        if node in at_kink:
            results.append(InputCheck(name, gradient, numeric, h, _error_or_nan(gradient, numeric),
                                      KINK, at_kink[node]))
        elif gradient is None or not (math.isfinite(gradient) and math.isfinite(numeric)):
            which = [what for what, v in (("the gradient", gradient), ("the finite difference", numeric))
                     if v is None or not math.isfinite(v)]
            verb = "is" if len(which) == 1 else "are"
            results.append(InputCheck(name, gradient, numeric, h, math.nan, NON_FINITE,
                                      f"{' and '.join(which)} {verb} not finite: nothing to compare"))
        else:
            noise = ROUNDING * sys.float_info.epsilon * max(abs(above), abs(below), abs(trace.value)) / h
            results.append(_compare(trace, node, name, x, h, gradient, numeric, noise, tolerance))
    return CheckResult(tolerance, tuple(results))


def _compare(trace: Trace, node: int, name: str, x: float, h: float, gradient: float, numeric: float,
             noise: float, tolerance: float) -> InputCheck:
    """One input's verdict, from its gradient, its difference and the difference's noise."""
    e = error(gradient, numeric, noise)
    top = max(abs(gradient), abs(numeric))
    if top > noise and abs(gradient - numeric) <= noise and tolerance < noise / top:
        floor = noise / top   # the noise, as an error
        return InputCheck(name, gradient, numeric, h, e, INCONCLUSIVE,
                          f"the difference's noise floor here is {floor:.2g}, above "
                          f"the tolerance {tolerance:g}", floor)
    if e <= tolerance:
        return InputCheck(name, gradient, numeric, h, e, PASS)
    if top <= noise:
        return InputCheck(name, gradient, numeric, h, e, PASS,
                          f"both numbers are within the difference's noise ({noise:.2g}) of 0: "
                          "the gradient is 0 as far as a difference can tell")
    # a function that curves sharply (w^2000, or x³ where its gradient is 0)
    # puts the plain difference's truncation error above the tolerance: the
    # difference extrapolated to h → 0 (Richardson), (4·D(h/2) − D(h)) / 3,
    # cancels its h² error, at three times the noise
    half = h / 2
    fine = (_output_with(trace, node, x + half) - _output_with(trace, node, x - half)) / (2 * half)
    refined, refined_noise = (4 * fine - numeric) / 3, 3 * noise
    if not math.isfinite(refined):
        return InputCheck(name, gradient, numeric, h, e, FAIL)
    refined_error = error(gradient, refined, refined_noise)
    if refined_error <= tolerance or max(abs(gradient), abs(refined)) <= refined_noise:
        agrees = (f"error {refined_error:.2g}" if refined_error <= tolerance else
                  f"within its noise ({refined_noise:.2g}) of 0, as the gradient is")
        return InputCheck(name, gradient, numeric, h, e, PASS,
                          f"the output curves sharply: the difference extrapolated to h → 0 is "
                          f"{refined:.10g}, {agrees}")
    # where rounding inside the program (1 + a tiny number) makes the
    # difference unsteady, it moves, as its step halves, by as much as it
    # differs from the gradient: it cannot tell a right one from a wrong one
    spread = abs(fine - numeric)
    if abs(gradient - numeric) <= 2 * spread:
        floor = 2 * spread / top
        return InputCheck(name, gradient, numeric, h, e, INCONCLUSIVE,
                          f"the difference is unsteady here: it moves by {spread:.2g} as its step "
                          f"halves, as much as it differs from the gradient", floor)
    return InputCheck(name, gradient, numeric, h, e, FAIL)


def _error_or_nan(gradient: Optional[float], numeric: float) -> float:
    if gradient is None or not (math.isfinite(gradient) and math.isfinite(numeric)):
        return math.nan
    return error(gradient, numeric)


def _output_with(trace: Trace, input_node: int, value: float) -> float:
    """The output with one input moved: a forward pass over the nodes that
    depend on it, the others' values reused from the trace."""
    graph = trace.graph
    values = list(trace.values)
    moved = [False] * len(graph.nodes)
    values[input_node] = value
    moved[input_node] = True
    for node in graph.nodes[input_node + 1:graph.output + 1]:
        if node.op in (VAR, CONST) or not any(moved[j] for j in node.inputs):
            continue
        values[node.id] = OPS[node.op].forward(*(values[j] for j in node.inputs))
        moved[node.id] = True
    return values[graph.output]


def _inputs_at_kinks(trace: Trace) -> dict[int, str]:
    """input node -> a note, for inputs that some kink on the gradient's path depends on.

    The evaluator warns once per kink node it passes in the reverse pass;
    every input upstream of such a node is affected.  One sweep down the
    node list marks them, whatever the number of kinks.
    """
    graph = trace.graph
    kinks = {w.node: w for w in trace.warnings if w.kind == "kink" and w.node is not None}
    if not kinks:
        return {}
    cause: list[Optional[int]] = [None] * len(graph.nodes)   # the kink a node feeds
    for node_id in kinks:
        cause[node_id] = node_id
    for i in range(len(graph.nodes) - 1, -1, -1):
        if cause[i] is not None:
            for j in graph.nodes[i].inputs:
                if cause[j] is None:
                    cause[j] = cause[i]
    return {node: f"at a kink of {describe(graph, cause[node])}: not differentiable there, "
                  "so the two numbers need not agree"
            for node in graph.inputs.values() if cause[node] is not None}
