"""Minimizing a program's value: a driver over the evaluator.

The graph is parsed once; each step costs one forward and one reverse pass
(`Objective.evaluate`).  Gradient descent, momentum and Adam are a few lines
each; L-BFGS-B comes from SciPy, which is imported only when it runs.  No
maths of the program lives here: values and gradients come from the
evaluator, and this module only decides where to step and when to stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

from .errors import AdiffError, ExitCode
from .evaluator import backward, bind, forward
from .graph import Graph

METHODS = ("gd", "momentum", "adam", "lbfgs")

# why a run stopped
CONVERGED = "converged"            # gradient norm (projected onto the bounds) at most tol,
                                   # or (lbfgs) SciPy's own convergence test
STEP_LIMIT = "step limit"
NO_PROGRESS = "no progress"        # the loss stopped going down, or the point stopped moving
DIVERGED = "diverged"              # the loss grew without bound (the rate is too large)
NON_FINITE = "non-finite loss"     # the loss or its gradient became NaN or infinite
INTERRUPTED = "interrupted"        # Ctrl-C

PATIENCE = 100   # steps without a new best loss before gd, momentum and adam give up
GROWTH = 1e6     # a loss this many times above the start's (and the best's) size has diverged

DEFAULTS = {"gd": 0.1, "momentum": 0.05, "adam": 0.01}
BY_GRADIENT = "gradient norm at most the tolerance"   # the test behind a converged run, as reported


def scipy_available() -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec("scipy.optimize") is not None
    except (ImportError, ValueError):
        return False


def default_method() -> str:
    return "lbfgs" if scipy_available() else "gd"


def missing_scipy() -> AdiffError:
    return AdiffError("missing_extra", "--method lbfgs needs SciPy, which is not installed",
                      hint='install it with: pip install "adiff[optimize]" '
                           "(or choose --method gd, momentum or adam)",
                      exit_code=ExitCode.FAILURE)


@dataclass(frozen=True)
class Step:
    """One step of a run, as the live display and the trace file show it."""
    step: int
    loss: float
    grad_norm: float
    step_size: float          # |x_new - x_old|
    evaluations: int
    point: dict[str, float]

    def to_json(self) -> dict:
        from .render.json import number
        return {"step": self.step, "loss": number(self.loss), "grad_norm": number(self.grad_norm),
                "step_size": number(self.step_size), "evaluations": self.evaluations,
                "inputs": {name: number(v) for name, v in self.point.items()}}


@dataclass(frozen=True)
class Result:
    method: str
    reason: str               # one of the reasons above
    steps: int
    evaluations: int
    value: float              # the loss at `inputs`
    start: dict[str, float]   # the starting values of the parameters
    inputs: dict[str, float]  # their final values (the best point seen for interrupted,
                              # non-finite, diverged and no-progress stops)
    gradient: dict[str, float]
    grad_norm: float
    fixed: dict[str, float] = field(default_factory=dict)   # the inputs kept as they were
    start_value: float = math.nan
    failed_step: Optional[int] = None   # the step whose loss was non-finite, or diverged
    detail: str = ""                    # SciPy's own message, for lbfgs
    at_bound: list[str] = field(default_factory=list)   # parameters that end on one of their bounds
    test: str = ""                      # for a converged run: which test it passed
    rate: Optional[float] = None        # gd, momentum, adam: the learning rate at the end

    @property
    def converged(self) -> bool:
        return self.reason == CONVERGED

    @property
    def exit_code(self) -> int:
        if self.reason == INTERRUPTED:
            return int(ExitCode.INTERRUPTED)
        return int(ExitCode.OK) if self.converged else int(ExitCode.FAILURE)

    def why(self) -> str:
        if self.reason in (NON_FINITE, DIVERGED):
            return f"{self.reason} at step {self.failed_step}"
        return self.reason


class _Stop(Exception):
    """Raised inside SciPy's callbacks to end its run early."""


class Objective:
    """The program as a function of the parameters: loss and gradient at a
    point, each call one forward and one reverse pass over the same graph.
    Remembers the best finite point seen, for Ctrl-C and non-finite stops."""

    def __init__(self, graph: Graph, bindings: Mapping[str, float], wrt: Sequence[str]):
        self.graph = graph
        self.wrt = list(wrt)
        inputs, _ = bind(graph, bindings)
        self.inputs = inputs
        self.ids = [graph.inputs[name] for name in self.wrt]
        self.evaluations = 0
        self.first_loss = math.nan   # the loss at the start: the first point evaluated
        self.best: Optional[tuple[float, list[float], list[float]]] = None

    def start(self) -> list[float]:
        return [self.inputs[name] for name in self.wrt]

    def evaluate(self, x: Sequence[float]) -> tuple[float, list[float]]:
        point = dict(self.inputs)
        for name, value in zip(self.wrt, x):
            point[name] = float(value)
        scratch: list = []   # warnings: a minimizer visits many points, so they are not reported
        values, needs_grad = forward(self.graph, point, scratch)
        grads = backward(self.graph, values, needs_grad, scratch)
        self.evaluations += 1
        loss = values[self.graph.output]
        if self.evaluations == 1:
            self.first_loss = loss
        gradient = [grads[i] if grads[i] is not None else 0.0 for i in self.ids]
        if _finite(loss, gradient) and (self.best is None or loss < self.best[0]):
            self.best = (loss, [float(v) for v in x], gradient)
        return loss, gradient

    def named(self, x: Sequence[float]) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.wrt, x)}


def _diverged(first: float, best: float, loss: float) -> bool:
    """A loss that has grown far above the start and the best point, or to +inf.
    The growth is measured against a scale of at least 1: from a start at the
    minimum (a loss of 1e-16), Adam's first step of about --lr is no divergence."""
    if loss == math.inf:
        return True
    return math.isfinite(loss) and loss > first and loss - best > GROWTH * max(abs(first), abs(best), 1.0)


def _finite(loss: float, gradient: Sequence[float]) -> bool:
    return math.isfinite(loss) and all(math.isfinite(g) for g in gradient)


def _norm(v: Sequence[float]) -> float:
    return math.sqrt(math.fsum(g * g for g in v))


def projected(x: Sequence[float], gradient: Sequence[float],
              bounds: Sequence[tuple[float, float]]) -> list[float]:
    """The gradient with the components that push out of a bound set to 0:
    at a bound, a gradient pointing outwards is a stop, not a failure."""
    out = []
    for xi, g, (low, high) in zip(x, gradient, bounds):
        if (xi <= low and g > 0) or (xi >= high and g < 0):
            out.append(0.0)
        else:
            out.append(g)
    return out


def _clip(x: Sequence[float], bounds: Sequence[tuple[float, float]]) -> list[float]:
    return [min(max(xi, low), high) for xi, (low, high) in zip(x, bounds)]


def minimize(graph: Graph, bindings: Mapping[str, float], wrt: Sequence[str], *,
             method: str, lr: Optional[float] = None, steps: int = 1000, tol: float = 1e-8,
             bounds: Optional[Mapping[str, tuple[float, float]]] = None,
             on_step: Optional[Callable[[Step], None]] = None) -> Result:
    """Lower the program's value by changing the `wrt` inputs, from the
    bindings and defaults.  `on_step` sees every step (live display, trace).
    Ctrl-C ends the run with reason "interrupted" and the best point so far."""
    if method not in METHODS:
        raise AdiffError("usage", f"--method {method}: choose gd, momentum, adam or lbfgs")
    objective = Objective(graph, bindings, wrt)
    box = [tuple(bounds.get(name, (-math.inf, math.inf))) if bounds else (-math.inf, math.inf)
           for name in objective.wrt]
    x0 = _clip(objective.start(), box)
    start = objective.named(x0)
    fixed = {name: v for name, v in objective.inputs.items() if name not in start}
    if method == "lbfgs":
        outcome = _lbfgs(objective, x0, box, steps, tol, on_step)
    else:
        rate = DEFAULTS[method] if lr is None else lr
        # gd's default rate backs off (halves) where a step would raise the
        # loss; a rate the user gave is kept as given
        outcome = _first_order(objective, x0, box, method, rate, steps, tol, on_step,
                               backtrack=method == "gd" and lr is None)
    reason, done, x, loss, gradient, failed, detail, test, rate = outcome
    if reason in (INTERRUPTED, NON_FINITE, DIVERGED, NO_PROGRESS) and objective.best is not None \
            and not (math.isfinite(loss) and loss <= objective.best[0]):
        loss, x, gradient = objective.best   # the best point seen, not the last
    start_value = objective.first_loss
    at_bound = [name for name, xi, (low, high) in zip(objective.wrt, x, box) if xi in (low, high)]
    return Result(method, reason, done, objective.evaluations, loss, start, objective.named(x),
                  objective.named(gradient), _norm(projected(x, gradient, box)), fixed,
                  start_value, failed, detail, at_bound, test, rate)


def _report_start(on_step, objective: Objective, x, loss, gradient, box) -> None:
    """Step 0, the starting point, for the live display and the trace."""
    if on_step is not None:
        norm = _norm(projected(x, gradient, box)) if _finite(loss, gradient) else math.nan
        on_step(Step(0, loss, norm, 0.0, objective.evaluations, objective.named(x)))


def _first_order(objective: Objective, x: list[float], box, method: str, lr: float,
                 limit: int, tol: float, on_step, backtrack: bool = False) -> tuple:
    """gd, momentum (heavy ball, beta 0.9) and Adam (0.9, 0.999, 1e-8), each
    projected onto the bounds after the step.  With `backtrack` (gd's
    default rate), a step that would raise the loss or make it non-finite is
    not taken: the rate halves and the step is tried again (an evaluation,
    not a step)."""
    n = len(x)
    velocity = [0.0] * n
    m = [0.0] * n
    v = [0.0] * n
    beta, beta1, beta2, eps = 0.9, 0.9, 0.999, 1e-8
    step = 0
    loss, gradient = float("nan"), [0.0] * n
    best, since_best = math.inf, 0
    try:
        loss, gradient = objective.evaluate(x)
        _report_start(on_step, objective, x, loss, gradient, box)
        if not _finite(loss, gradient):
            return NON_FINITE, 0, x, loss, gradient, 0, "", "", lr
        first = loss
        while True:
            if _norm(projected(x, gradient, box)) <= tol:
                return CONVERGED, step, x, loss, gradient, None, "", BY_GRADIENT, lr
            if step >= limit:
                return STEP_LIMIT, step, x, loss, gradient, None, "", "", lr
            step += 1
            if method == "gd":
                new = [xi - lr * g for xi, g in zip(x, gradient)]
            elif method == "momentum":
                velocity = [beta * vi + g for vi, g in zip(velocity, gradient)]
                new = [xi - lr * vi for xi, vi in zip(x, velocity)]
            else:
                m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, gradient)]
                v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, gradient)]
                c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
                new = [xi - lr * (mi / c1) / (math.sqrt(vi / c2) + eps) for xi, mi, vi in zip(x, m, v)]
            new = _clip(new, box)
            size = _norm([a - b for a, b in zip(new, x)])
            if size == 0:
                return NO_PROGRESS, step, x, loss, gradient, None, "", "", lr
            new_loss, new_gradient = objective.evaluate(new)
            if backtrack and not (_finite(new_loss, new_gradient) and new_loss <= loss):
                lr /= 2
                step -= 1
                continue
            if on_step is not None:
                grad_norm = _norm(projected(new, new_gradient, box)) if _finite(new_loss, new_gradient) else math.nan
                on_step(Step(step, new_loss, grad_norm, size, objective.evaluations, objective.named(new)))
            if _diverged(first, min(best, first), new_loss) or (
                    not _finite(new_loss, new_gradient) and loss > first):
                return DIVERGED, step, x, loss, gradient, step, "", "", lr
            if not _finite(new_loss, new_gradient):
                return NON_FINITE, step, x, loss, gradient, step, "", "", lr
            x, loss, gradient = new, new_loss, new_gradient
            if loss < best:
                best, since_best = loss, 0
            else:
                since_best += 1
                if since_best >= PATIENCE:
                    return NO_PROGRESS, step, x, loss, gradient, None, "", "", lr
    except KeyboardInterrupt:
        return INTERRUPTED, step, x, loss, gradient, None, "", "", lr


def _lbfgs(objective: Objective, x0: list[float], box, limit: int, tol: float, on_step) -> tuple:
    """SciPy's L-BFGS-B.  Its gtol bounds the largest projected gradient
    component; tol / sqrt(n) makes that imply adiff's own test, the
    projected gradient's 2-norm at most tol."""
    import os
    # L-BFGS-B's vectors are as long as the parameter list, a handful here:
    # BLAS threads only cost (10x slower per call, measured on 2 busy cores).
    # Set before NumPy loads; a user's own setting stands.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    try:
        from scipy.optimize import minimize as scipy_minimize
    except ImportError:
        raise missing_scipy() from None

    n = len(x0)
    state = {"step": 0, "x": list(x0), "loss": math.nan, "gradient": [0.0] * n, "failed": None,
             "last": None}

    def fun(x):
        x = [float(v) for v in x]
        last = state["last"]
        if last is not None and last[0] == x:   # SciPy starts by evaluating x0 again
            return last[1], last[2]
        loss, gradient = objective.evaluate(x)
        state["last"] = (x, loss, gradient)
        if not _finite(loss, gradient):
            state["failed"] = state["step"] + 1
            raise _Stop()
        return loss, gradient

    def callback(intermediate_result):
        x = [float(v) for v in intermediate_result.x]
        last = state["last"]
        if last is not None and last[0] == x:
            loss, gradient = last[1], last[2]
        else:
            loss, gradient = objective.evaluate(x)
            objective.evaluations -= 1   # a re-read, not one of SciPy's evaluations
        size = _norm([a - b for a, b in zip(x, state["x"])])
        state.update(step=state["step"] + 1, x=x, loss=loss, gradient=gradient)
        if on_step is not None:
            on_step(Step(state["step"], loss, _norm(projected(x, gradient, box)), size,
                         objective.evaluations, objective.named(x)))

    bounds = None if all(b == (-math.inf, math.inf) for b in box) else \
        [(None if math.isinf(lo) else lo, None if math.isinf(hi) else hi) for lo, hi in box]
    try:
        first = objective.evaluate(x0)
        state["last"] = (list(x0), first[0], first[1])
        _report_start(on_step, objective, x0, first[0], first[1], box)
        if not _finite(*first):
            state["failed"] = 0
            raise _Stop()
        state.update(loss=first[0], gradient=first[1])
        if _norm(projected(x0, first[1], box)) <= tol:
            return CONVERGED, 0, x0, first[0], first[1], None, "", BY_GRADIENT, None
        if limit == 0:
            return STEP_LIMIT, 0, x0, first[0], first[1], None, "", "", None
        found = scipy_minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, callback=callback,
                               options={"maxiter": limit, "gtol": tol / math.sqrt(max(n, 1)),
                                        "ftol": 1e-15, "maxfun": max(15000, 20 * limit)})
    except _Stop:
        return NON_FINITE, state["step"], state["x"], state["loss"], state["gradient"], state["failed"], "", "", None
    except KeyboardInterrupt:
        return INTERRUPTED, state["step"], state["x"], state["loss"], state["gradient"], None, "", "", None
    x = [float(v) for v in found.x]
    loss, gradient = float(found.fun), [float(g) for g in found.jac]
    steps = int(found.nit)
    message = str(found.message)
    # SciPy's own tests count too: at a minimum whose loss is not 0 rounding
    # leaves the gradient above an absolute tolerance, and L-BFGS-B ends on
    # "CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH", the loss no
    # longer going down relative to itself (ftol 1e-15)
    if _norm(projected(x, gradient, box)) <= tol:
        test = BY_GRADIENT
    else:
        test = f"SciPy: {message}" if found.success and message.upper().startswith("CONVERGENCE") else ""
    if test:
        reason = CONVERGED
    elif steps >= limit or "ITERATIONS" in message.upper() or "MAXFUN" in message.upper():
        reason = STEP_LIMIT
    else:
        reason = NO_PROGRESS
    return reason, steps, x, loss, gradient, None, message, test, None
