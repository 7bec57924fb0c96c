"""The op table: the one place where an operation is defined.

Each entry holds the forward function and, per input, its local partial
derivative, called with the inputs and the node's own output (so that exp,
tanh and sigmoid reuse their result, as in PyTorch's derivatives.yaml).  The
evaluator applies the chain rule once for all of them; adding a function is
one entry here and nothing else: the grammar has a generic call rule.

Each entry also writes its partials as formulas in adiff's own syntax, over
the placeholders x (one input) or a, b (two inputs) and out (the output), for
`adiff explain`, which substitutes the user's names; a test evaluates every
formula with adiff itself against the numeric partial beside it.  The
formulas of abs, relu, max and min use sign and step; exactly at the kink
the numeric partial is PyTorch's convention (0, or 0.5 each at a tie).

Every function returns an IEEE double and never raises: overflow gives ±inf,
a domain error gives nan, as in PyTorch.  Python's math module raises instead
(math.exp(1000), math.log(-1), 10.0**400), so the helpers below wrap it once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

inf = math.inf
nan = math.nan

# the names an op's partial formulas use for its inputs and its own output
PLACEHOLDERS = {1: ("x",), 2: ("a", "b")}
OUTPUT = "out"


@dataclass(frozen=True)
class Op:
    """One entry of the op table."""
    name: str
    arity: int
    forward: Callable[..., float]
    # one per input: partial(*inputs, output) -> d output / d input
    partials: tuple[Callable[..., float], ...]
    # infix symbol, for operators; operators are not callable by name
    symbol: Optional[str] = None
    # true where the function is not differentiable (the gradient then follows PyTorch)
    kink: Optional[Callable[..., bool]] = None
    # why finite inputs gave a non-finite output, when a plain "overflow" would mislead
    domain: Optional[Callable[..., Optional[str]]] = None
    # one per input: the partial as an adiff formula over PLACEHOLDERS[arity] and OUTPUT
    formulas: tuple[str, ...] = ()
    # mask(k, *inputs): true where input k's partial is a structural zero that
    # stops the gradient outright, even a NaN or infinite one, as PyTorch's
    # masks do (relu(x) for x < 0 passes nothing back, whatever comes down)
    mask: Optional[Callable[..., bool]] = None

    @property
    def callable(self) -> bool:
        return self.symbol is None or self.name == "pow"


# ---- IEEE-safe helpers -------------------------------------------------------

def divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return nan
        return math.copysign(inf, a) * math.copysign(1.0, b)


def _is_odd_integer(b: float) -> bool:
    return math.isfinite(b) and b == int(b) and int(b) % 2 == 1


def power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return -inf if a < 0 and _is_odd_integer(b) else inf
    except ValueError:
        if a == 0:  # zero to a negative power
            return -inf if math.copysign(1.0, a) < 0 and _is_odd_integer(b) else inf
        return nan  # negative base, fractional exponent


def _real(f: Callable[[float], float], overflow: Callable[[float], float] = lambda x: inf):
    """f, with math's OverflowError as ±inf and ValueError (a domain error) as nan."""
    def safe(x: float) -> float:
        try:
            return f(x)
        except OverflowError:
            return overflow(x)
        except ValueError:
            return nan
    return safe


def _logarithm(log: Callable[[float], float]):
    def safe(x: float) -> float:
        if x > 0 or x != x:
            return log(x)
        return -inf if x == 0 else nan
    return safe


def _sqrt(x: float) -> float:
    return nan if x < 0 else math.sqrt(x)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0 or nan: cannot overflow
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))) if x == x else nan


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0   # 0 at 0, and at NaN (as PyTorch)


def _maximum(a: float, b: float) -> float:
    return nan if a != a or b != b else max(a, b)


def _minimum(a: float, b: float) -> float:
    return nan if a != a or b != b else min(a, b)


def _share(mine: float, other: float, loses: bool) -> float:
    """max/min's partial, as PyTorch: 0 to the loser, half each at a tie, and
    1 otherwise (so both inputs take the gradient when one is NaN)."""
    return 0.5 if mine == other else 0.0 if loses else 1.0


_log = _logarithm(math.log)
_exp = _real(math.exp)
_sin = _real(math.sin)
_cos = _real(math.cos)
_sinh = _real(math.sinh, lambda x: math.copysign(inf, x))
_cosh = _real(math.cosh)


def _atan2_partial(numerator: float, radius2: float) -> float:
    return 0.0 if numerator == 0 and radius2 == 0 else divide(numerator, radius2)


def _pow_base_partial(a: float, b: float, out: float) -> float:
    return 0.0 if b == 0 else b * power(a, b - 1)


def _pow_exponent_partial(a: float, b: float, out: float) -> float:
    return 0.0 if a == 0 and b >= 0 else out * _log(a)


def _pow_domain(a: float, b: float) -> Optional[str]:
    if a == 0 and b < 0:
        return "zero to a negative power"
    if a < 0 and b != int(b):
        return "a negative number to a fractional power"
    return None


def _log_domain(name: str):
    return lambda x: f"{name} of zero" if x == 0 else f"{name} of a negative number"


def _unit_domain(name: str):
    return lambda x: f"{name} of a number outside [-1, 1]"


_ln2 = math.log(2.0)
_ln10 = math.log(10.0)


def _op(name, arity, forward, *partials, **extra) -> Op:
    return Op(name, arity, forward, tuple(partials), **extra)


OPS: dict[str, Op] = {op.name: op for op in [
    # operators
    _op("add", 2, lambda a, b: a + b, lambda a, b, o: 1.0, lambda a, b, o: 1.0, symbol="+",
        formulas=("1", "1")),
    _op("sub", 2, lambda a, b: a - b, lambda a, b, o: 1.0, lambda a, b, o: -1.0, symbol="-",
        formulas=("1", "-1")),
    _op("mul", 2, lambda a, b: a * b, lambda a, b, o: b, lambda a, b, o: a, symbol="*",
        formulas=("b", "a")),
    _op("div", 2, divide, lambda a, b, o: divide(1.0, b), lambda a, b, o: -divide(o, b),
        symbol="/", domain=lambda a, b: "division by zero" if b == 0 else None,
        formulas=("1/b", "-a/b^2")),
    _op("neg", 1, lambda x: -x, lambda x, o: -1.0, symbol="-", formulas=("-1",)),
    _op("pow", 2, power, _pow_base_partial, _pow_exponent_partial, symbol="^",
        domain=_pow_domain, formulas=("b * a^(b-1)", "out * log(a)"),
        mask=lambda k, a, b: k == 0 and b == 0),
    # functions of one argument
    _op("sin", 1, _sin, lambda x, o: _cos(x), formulas=("cos(x)",)),
    _op("cos", 1, _cos, lambda x, o: -_sin(x), formulas=("-sin(x)",)),
    _op("tan", 1, _real(math.tan), lambda x, o: 1.0 + o * o, formulas=("1 + out^2",)),
    _op("asin", 1, _real(math.asin), lambda x, o: divide(1.0, _sqrt(1.0 - x * x)),
        domain=_unit_domain("asin"), formulas=("1/sqrt(1 - x^2)",)),
    _op("acos", 1, _real(math.acos), lambda x, o: -divide(1.0, _sqrt(1.0 - x * x)),
        domain=_unit_domain("acos"), formulas=("-1/sqrt(1 - x^2)",)),
    _op("atan", 1, math.atan, lambda x, o: 1.0 / (1.0 + x * x), formulas=("1/(1 + x^2)",)),
    _op("sinh", 1, _sinh, lambda x, o: _cosh(x), formulas=("cosh(x)",)),
    _op("cosh", 1, _cosh, lambda x, o: _sinh(x), formulas=("sinh(x)",)),
    _op("tanh", 1, math.tanh, lambda x, o: 1.0 - o * o, formulas=("1 - out^2",)),
    _op("exp", 1, _exp, lambda x, o: o, formulas=("out",)),
    _op("log", 1, _log, lambda x, o: divide(1.0, x), domain=_log_domain("log"),
        formulas=("1/x",)),
    _op("log2", 1, _logarithm(math.log2), lambda x, o: divide(1.0, x * _ln2),
        domain=_log_domain("log2"), formulas=("1/(x * log(2))",)),
    _op("log10", 1, _logarithm(math.log10), lambda x, o: divide(1.0, x * _ln10),
        domain=_log_domain("log10"), formulas=("1/(x * log(10))",)),
    _op("sqrt", 1, _sqrt, lambda x, o: divide(0.5, o),
        domain=lambda x: "square root of a negative number", formulas=("1/(2 * out)",)),
    _op("abs", 1, abs, lambda x, o: _sign(x), kink=lambda x: x == 0, formulas=("sign(x)",)),
    _op("sign", 1, _sign, lambda x, o: 0.0, kink=lambda x: x == 0, formulas=("0",), mask=lambda k, x: True),
    _op("step", 1, lambda x: 1.0 if x > 0 else 0.0 if x <= 0 else nan, lambda x, o: 0.0,
        kink=lambda x: x == 0, formulas=("0",), mask=lambda k, x: True),
    _op("sigmoid", 1, _sigmoid, lambda x, o: o * (1.0 - o), formulas=("out * (1 - out)",)),
    _op("relu", 1, lambda x: x if x > 0 or x != x else 0.0,
        lambda x, o: 0.0 if x <= 0 else 1.0, kink=lambda x: x == 0,
        formulas=("step(x)",), mask=lambda k, x: x <= 0),
    _op("softplus", 1, _softplus, lambda x, o: _sigmoid(x), formulas=("sigmoid(x)",)),
    # functions of two arguments
    _op("max", 2, _maximum, lambda a, b, o: _share(a, b, a < b), lambda a, b, o: _share(b, a, b < a),
        kink=lambda a, b: a == b, formulas=("step(a - b)", "step(b - a)"),
        mask=lambda k, a, b: a < b if k == 0 else b < a),
    _op("min", 2, _minimum, lambda a, b, o: _share(a, b, a > b), lambda a, b, o: _share(b, a, b > a),
        kink=lambda a, b: a == b, formulas=("step(b - a)", "step(a - b)"),
        mask=lambda k, a, b: a > b if k == 0 else b > a),
    # atan2(y, x): a is y, b is x
    # at the origin, where it has no derivative, PyTorch takes 0 for both
    _op("atan2", 2, math.atan2, lambda y, x, o: _atan2_partial(x, x * x + y * y),
        lambda y, x, o: _atan2_partial(-y, x * x + y * y), formulas=("b/(a^2 + b^2)", "-a/(a^2 + b^2)"),
        kink=lambda y, x: y == 0 and x == 0),
]}

FUNCTIONS = sorted(name for name, op in OPS.items() if op.callable)

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
