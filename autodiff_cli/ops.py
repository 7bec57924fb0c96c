"""The op table: the one place where an operation is defined.

Each entry holds the forward function and, per input, its local partial
derivative, called with the inputs and the node's own output (so that exp,
sqrt and sigmoid reuse their result, as in PyTorch's derivatives.yaml; not
where the output would cancel: tanh's is sech² from the input).  The
evaluator applies the chain rule once for all of them; adding a function is
one entry here (and its array form in array_ops.py): the grammar has a
generic call rule.

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


def _atanh(x: float) -> float:
    if -1 < x < 1:
        return math.atanh(x)
    return x * inf if abs(x) == 1 else nan


def _log1p(x: float) -> float:
    if x > -1 or x != x:
        return math.log1p(x)
    return -inf if x == -1 else nan


def _quotient_or_zero(numerator: float, denominator: float) -> float:
    """atan2's and hypot's partials: 0 at the origin, where they have no
    derivative (PyTorch's choice for atan2; abs(x) = hypot(x, 0) takes 0 at 0 too)."""
    return 0.0 if numerator == 0 and denominator == 0 else divide(numerator, denominator)


def _atan2_partial(numerator: float, y: float, x: float) -> float:
    h = math.hypot(y, x)
    return _quotient_or_zero(_quotient_or_zero(numerator, h), h)


# the smallest normal double: below it a value has fewer than 53 bits
TINY = 2.2250738585072014e-308


def _pow_base_partial(a: float, b: float, out: float) -> float:
    # b·a^(b−1) rounds b − 1 first when b is not a whole number (0.1 − 1),
    # and a^(rounded exponent) is off by |log a| times that rounding, 146 ulp
    # at a = 1e300; b·(a^b / a) from the output keeps the digits where the
    # output is a normal number
    if b == 0:
        return 0.0
    if math.isfinite(b) and b % 1.0 != 0 and a != 0 and TINY <= abs(out) < inf:
        return b * (out / a)
    return b * power(a, b - 1)


def _sech2(x: float) -> float:
    # tanh's partial from the input: 1 − tanh² cancels near saturation
    # (0 at x = 20, where the true value is 1.7e-17)
    c = _cosh(x)
    return divide(1.0, c * c)


def _unit_root(x: float) -> float:
    # asin's partial: (1 − x)(1 + x) does not cancel near ±1, as 1 − x² does
    return divide(1.0, _sqrt((1.0 - x) * (1.0 + x)))


def _acosh_partial(x: float) -> float:
    # 1/sqrt(x² − 1) as 1/(sqrt(x − 1)·sqrt(x + 1)): x − 1 is exact near 1,
    # and nothing overflows for huge x
    return divide(1.0, _sqrt(x - 1.0) * _sqrt(x + 1.0))


_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)
_SPLIT = 134217729.0  # 2^27 + 1: splits a double into two halves of 26 bits (Dekker)


def _gauss(x: float) -> float:
    """exp(−x²) without the rounding of x² (which costs x²·2^-53 relative,
    hundreds of ulps in erf's tails): x = hi + lo with hi² exact."""
    x = abs(x)
    if x > 27.5:
        return 0.0 if x == x else nan   # exp(−756) underflows to 0
    c = _SPLIT * x
    hi = c - (c - x)
    lo = x - hi
    return math.exp(-hi * hi) * math.exp(-(2.0 * hi + lo) * lo)


def _erf_partial(x: float, o: float) -> float:
    return _TWO_OVER_ROOT_PI * _gauss(x)


def _cbrt_fallback(x: float) -> float:
    # Python 3.10 has no math.cbrt: x^(1/3) and one Newton step
    if x == 0 or not math.isfinite(x):
        return x
    y = math.copysign(abs(x) ** (1.0 / 3.0), x)
    return y - (y - x / (y * y)) / 3.0


_cbrt = getattr(math, "cbrt", _cbrt_fallback)


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


def _atanh_domain(x: float) -> str:
    return "atanh of 1 or -1" if abs(x) == 1 else "atanh of a number outside [-1, 1]"


def _log1p_domain(x: float) -> str:
    return "log1p of -1" if x == -1 else "log1p of a number below -1"


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
    _op("asin", 1, _real(math.asin), lambda x, o: _unit_root(x),
        domain=_unit_domain("asin"), formulas=("1/sqrt((1 - x) * (1 + x))",)),
    _op("acos", 1, _real(math.acos), lambda x, o: -_unit_root(x),
        domain=_unit_domain("acos"), formulas=("-1/sqrt((1 - x) * (1 + x))",)),
    _op("atan", 1, math.atan, lambda x, o: 1.0 / (1.0 + x * x), formulas=("1/(1 + x^2)",)),
    _op("sinh", 1, _sinh, lambda x, o: _cosh(x), formulas=("cosh(x)",)),
    _op("cosh", 1, _cosh, lambda x, o: _sinh(x), formulas=("sinh(x)",)),
    _op("tanh", 1, math.tanh, lambda x, o: _sech2(x), formulas=("1/cosh(x)^2",)),
    _op("asinh", 1, math.asinh, lambda x, o: divide(1.0, math.hypot(1.0, x)),
        formulas=("1/hypot(1, x)",)),
    _op("acosh", 1, _real(math.acosh), lambda x, o: _acosh_partial(x),
        domain=lambda x: "acosh of a number below 1", formulas=("1/(sqrt(x - 1) * sqrt(x + 1))",)),
    _op("atanh", 1, _atanh,
        lambda x, o: divide(1.0, (1.0 - x) * (1.0 + x)), domain=_atanh_domain,
        formulas=("1/((1 - x) * (1 + x))",)),
    _op("exp", 1, _exp, lambda x, o: o, formulas=("out",)),
    _op("expm1", 1, _real(math.expm1), lambda x, o: _exp(x), formulas=("exp(x)",)),
    _op("log", 1, _log, lambda x, o: divide(1.0, x), domain=_log_domain("log"),
        formulas=("1/x",)),
    _op("log2", 1, _logarithm(math.log2), lambda x, o: divide(1.0, x * _ln2),
        domain=_log_domain("log2"), formulas=("1/(x * log(2))",)),
    _op("log10", 1, _logarithm(math.log10), lambda x, o: divide(1.0, x * _ln10),
        domain=_log_domain("log10"), formulas=("1/(x * log(10))",)),
    _op("log1p", 1, _log1p, lambda x, o: divide(1.0, 1.0 + x), domain=_log1p_domain,
        formulas=("1/(1 + x)",)),
    _op("sqrt", 1, _sqrt, lambda x, o: divide(0.5, o),
        domain=lambda x: "square root of a negative number", formulas=("1/(2 * out)",)),
    _op("cbrt", 1, _cbrt, lambda x, o: divide(1.0, 3.0 * o * o), formulas=("1/(3 * out^2)",)),
    _op("erf", 1, math.erf, _erf_partial, formulas=("2/sqrt(pi) * exp(-x^2)",)),
    _op("abs", 1, abs, lambda x, o: _sign(x), kink=lambda x: x == 0, formulas=("sign(x)",)),
    _op("sign", 1, _sign, lambda x, o: 0.0, kink=lambda x: x == 0, formulas=("0",), mask=lambda k, x: True),
    _op("step", 1, lambda x: 1.0 if x > 0 else 0.0 if x <= 0 else nan, lambda x, o: 0.0,
        kink=lambda x: x == 0, formulas=("0",), mask=lambda k, x: True),
    # sigmoid's partial as σ(x)·σ(−x): out·(1 − out) cancels for large x (0.1% off at 30)
    _op("sigmoid", 1, _sigmoid, lambda x, o: o * _sigmoid(-x), formulas=("out * sigmoid(-x)",)),
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
    # x/(x² + y²) as (x/h)/h with h = hypot(y, x): x² + y² overflows from 1.3e154
    # and underflows below 1.5e-154, where the partial is still a normal number
    _op("atan2", 2, math.atan2, lambda y, x, o: _atan2_partial(x, y, x),
        lambda y, x, o: _atan2_partial(-y, y, x),
        formulas=("b/hypot(a, b)^2", "-a/hypot(a, b)^2"),
        kink=lambda y, x: y == 0 and x == 0),
    _op("hypot", 2, math.hypot, lambda a, b, o: _quotient_or_zero(a, o), lambda a, b, o: _quotient_or_zero(b, o),
        formulas=("a/out", "b/out"), kink=lambda a, b: a == 0 and b == 0),
]}

FUNCTIONS = sorted(name for name, op in OPS.items() if op.callable)

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
