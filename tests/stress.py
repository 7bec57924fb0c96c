"""A stress set for every op, and each op's value and partials by mpmath at 50 digits.

Shared by tests/test_accuracy.py and benchmarks/accuracy.py, so that the
test and the README's table measure the same points: saturation, tiny and
huge arguments, near the domain's edges and near (not at) the kinks.

The references are mpmath's own functions, with derivatives written in
forms that do not cancel at 50 digits (sech², e^-|x|/(1+e^-|x|)²), never
adiff's formulas.  ulps(computed, true) counts the doubles between the two,
in units of the spacing at the true value; it is only meaningful where the
true value is a normal double (normal() says where).
"""

from __future__ import annotations

import math

import mpmath

mpmath.mp.dps = 50
mp = mpmath.mp

ONE_BELOW = 1 - 2.0 ** -53          # the double just below 1
ONE_ABOVE = 1 + 2.0 ** -52          # the double just above 1
HALF_PI = 1.5707963267948966

# points of ops of one argument; pairs for two
STRESS: dict[str, list] = {
    "neg": [1e-300, 2.5, -1e300],
    "sin": [1e-300, 1e-8, 0.5, HALF_PI, 3.0, -2.5, 1e5, 1e15],
    "cos": [1e-300, 1e-8, 0.5, HALF_PI, 3.0, -2.5, 1e5, 1e15],
    "tan": [1e-300, 1e-8, 0.5, 1.5, HALF_PI, -2.5, 1e5],
    "asin": [1e-300, 1e-10, 0.5, 0.9, 0.999999, ONE_BELOW, -0.999999, -ONE_BELOW],
    "acos": [1e-300, 1e-10, 0.5, 0.9, 0.999999, ONE_BELOW, -0.999999, -ONE_BELOW],
    "atan": [1e-300, 1e-8, 0.5, 1.0, -3.0, 1e8, 1e150],
    "sinh": [1e-300, 1e-8, 0.5, -5.0, 20.0, 700.0, -710.0],
    "cosh": [1e-300, 1e-8, 0.5, -5.0, 20.0, 700.0, -710.0],
    "tanh": [1e-300, 1e-8, 0.5, 2.0, -5.9346, 10.0, 20.0, -30.0, 100.0, 300.0, -350.0],
    "asinh": [1e-300, 1e-8, 0.5, -3.0, 1e8, 1e200, 1e308],
    "acosh": [ONE_ABOVE, 1 + 1e-10, 1.5, 10.0, 1e8, 1e200, 1e308],
    "atanh": [1e-300, 1e-8, 0.5, -0.9, 0.999999, ONE_BELOW, -ONE_BELOW],
    "exp": [-745.0, -700.0, -1e-300, 0.0, 1e-8, 1.0, 700.0, 709.7],
    "expm1": [1e-300, -1e-10, 1e-5, 0.5, -40.0, 700.0, 709.7],
    "log": [1e-300, 1e-8, 0.5, ONE_BELOW, ONE_ABOVE, 2.0, 1e300],
    "log2": [1e-300, 1e-8, 0.5, ONE_BELOW, ONE_ABOVE, 3.0, 1e300],
    "log10": [1e-300, 1e-8, 0.5, ONE_BELOW, ONE_ABOVE, 3.0, 1e300],
    "log1p": [1e-300, -1e-10, 1e-5, -0.5, -ONE_BELOW, 1.0, 1e300],
    "sqrt": [5e-324, 1e-300, 1e-8, 2.0, 1e300, 1.7e308],
    "cbrt": [5e-324, 1e-300, -1e-300, 1e-8, -8.0, 2.0, 1e300, -1.7e308],
    "erf": [1e-300, 1e-8, 0.5, -1.0, 3.0, 5.0, 5.7, 10.3, 20.0, -20.2, 26.0, 26.1, -26.5],
    "abs": [-3.0, 1e-300, -1e-300, 2.5],
    "sign": [-2.0, 1e-300, 3.0],
    "step": [-2.0, 1e-300, 3.0],
    "relu": [-2.0, 1e-300, 3.0],
    "sigmoid": [-700.0, -30.0, -1e-8, 0.0, 1e-300, 2.0, 30.0, 36.0, 40.0, 700.0],
    "softplus": [-700.0, -30.0, -1.0, 0.0, 1e-8, 1.0, 30.0, 700.0, 1e300],
    "add": [(1.5, 2.5), (1e300, 1e-8), (-2.0, 7.0)],
    "sub": [(1.5, 2.5), (1e300, 1e-8), (-2.0, 7.0)],
    "mul": [(1.5, 2.5), (1e150, 1e-8), (-2.0, 7.0)],
    "div": [(1.5, 2.5), (1.0, 1e-150), (1e-150, 1e150), (-2.0, 7.0)],
    "pow": [(2.0, 0.5), (1e300, 0.1), (1e-300, 0.1), (3.0, -2.5), (0.5, 1000.0), (-2.0, 3.0),
            (1.0000001, 1e8), (10.0, 300.0), (7.0, 2.0), (1e-5, 1e-5)],
    "atan2": [(1.0, 2.0), (-1.0, 1e-8), (1e-300, 1.0), (1e200, 1e200), (1e-200, 1e-200), (3.0, -4.0)],
    "hypot": [(3.0, 4.0), (1e-300, 1e-300), (1e300, 1e300), (1.0, 1e-10), (-2.0, 5e-324)],
    "max": [(1.0, 2.0), (3.0, -1.0)],
    "min": [(1.0, 2.0), (3.0, -1.0)],
}


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _sigmoid_slope(x):
    e = mpmath.exp(-abs(x))
    return e / (1 + e) ** 2


def _sign(x):
    return mpmath.mpf(1 if x > 0 else -1 if x < 0 else 0)


# name -> (value, (partial, ...)), functions of mpf arguments
REFERENCE = {
    "neg": (lambda x: -x, (lambda x: -1,)),
    "sin": (mpmath.sin, (mpmath.cos,)),
    "cos": (mpmath.cos, (lambda x: -mpmath.sin(x),)),
    "tan": (mpmath.tan, (lambda x: mpmath.sec(x) ** 2,)),
    "asin": (mpmath.asin, (lambda x: 1 / mpmath.sqrt(1 - x * x),)),
    "acos": (mpmath.acos, (lambda x: -1 / mpmath.sqrt(1 - x * x),)),
    "atan": (mpmath.atan, (lambda x: 1 / (1 + x * x),)),
    "sinh": (mpmath.sinh, (mpmath.cosh,)),
    "cosh": (mpmath.cosh, (mpmath.sinh,)),
    "tanh": (mpmath.tanh, (lambda x: mpmath.sech(x) ** 2,)),
    "asinh": (mpmath.asinh, (lambda x: 1 / mpmath.sqrt(1 + x * x),)),
    "acosh": (mpmath.acosh, (lambda x: 1 / mpmath.sqrt(x * x - 1),)),
    "atanh": (mpmath.atanh, (lambda x: 1 / (1 - x * x),)),
    "exp": (mpmath.exp, (mpmath.exp,)),
    "expm1": (mpmath.expm1, (mpmath.exp,)),
    "log": (mpmath.log, (lambda x: 1 / x,)),
    "log2": (lambda x: mpmath.log(x, 2), (lambda x: 1 / (x * mpmath.log(2)),)),
    "log10": (mpmath.log10, (lambda x: 1 / (x * mpmath.log(10)),)),
    "log1p": (mpmath.log1p, (lambda x: 1 / (1 + x),)),
    "sqrt": (mpmath.sqrt, (lambda x: 1 / (2 * mpmath.sqrt(x)),)),
    "cbrt": (lambda x: mpmath.sign(x) * mpmath.cbrt(abs(x)),
             (lambda x: 1 / (3 * mpmath.cbrt(abs(x)) ** 2),)),
    "erf": (mpmath.erf, (lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x),)),
    "abs": (abs, (_sign,)),
    "sign": (_sign, (lambda x: 0,)),
    "step": (lambda x: mpmath.mpf(x > 0), (lambda x: 0,)),
    "relu": (lambda x: max(x, 0), (lambda x: mpmath.mpf(x > 0),)),
    "sigmoid": (_sigmoid, (_sigmoid_slope,)),
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)) if x < 0 else x + mpmath.log1p(mpmath.exp(-x)),
                 (_sigmoid,)),
    "add": (lambda a, b: a + b, (lambda a, b: 1, lambda a, b: 1)),
    "sub": (lambda a, b: a - b, (lambda a, b: 1, lambda a, b: -1)),
    "mul": (lambda a, b: a * b, (lambda a, b: b, lambda a, b: a)),
    "div": (lambda a, b: a / b, (lambda a, b: 1 / b, lambda a, b: -a / b ** 2)),
    "pow": (lambda a, b: mpmath.power(a, b),
            (lambda a, b: b * mpmath.power(a, b - 1),
             lambda a, b: mpmath.power(a, b) * mpmath.log(a) if a > 0 else mpmath.nan)),
    "atan2": (mpmath.atan2, (lambda y, x: x / (x * x + y * y), lambda y, x: -y / (x * x + y * y))),
    "hypot": (mpmath.hypot, (lambda a, b: a / mpmath.hypot(a, b), lambda a, b: b / mpmath.hypot(a, b))),
    "max": (max, (lambda a, b: mpmath.mpf(a > b), lambda a, b: mpmath.mpf(b > a))),
    "min": (min, (lambda a, b: mpmath.mpf(a < b), lambda a, b: mpmath.mpf(b < a))),
}

TINY = 2.2250738585072014e-308


def points(name: str) -> list[tuple]:
    return [p if isinstance(p, tuple) else (p,) for p in STRESS[name]]


def reference(name: str, point: tuple) -> tuple:
    """(value, partial, ...) at 50 digits, as mpf (nan where undefined)."""
    value, partials = REFERENCE[name]
    args = [mpmath.mpf(p) for p in point]
    return (value(*args),) + tuple(mpmath.mpf(d(*args)) for d in partials)


def normal(true) -> bool:
    """A finite number whose rounding is a normal double (or exactly 0)."""
    if not mpmath.isfinite(true):
        return False
    if true == 0:
        return True
    return TINY <= abs(true) <= 1.7976931348623157e308


def ulps(computed: float, true) -> float:
    """|computed − true| in units of the spacing of doubles at true."""
    if true == 0:
        return 0.0 if computed == 0 else math.inf
    if not math.isfinite(computed):
        return math.inf
    spacing = math.ulp(float(true))
    return float(abs(mpmath.mpf(computed) - true) / spacing)
