"""The op table's array forms: every op of ops.OPS over NumPy columns.

A parallel table keyed by op name, as JAX keeps one rule table per
interpretation (impl, jvp, vmap): ops.py is imported on every run of adiff
and must stay free of NumPy, which only `batch` (and later `plot`) need.
Each rule reproduces its scalar twin in ops.py point for point: the same
formula in the same order of operations (so arithmetic agrees bit for bit),
NumPy's ufuncs for the transcendental functions (within a few ulps of
Python's math module), and np.where for the edge conventions (NaN, signed
zeros, kinks, PyTorch's masks).  tests/test_array_ops.py checks that both
tables name the same ops and agree on edge points; adding a function to
ops.py without a rule here fails that test by name.

Rules are called inside `np.errstate(all="ignore")` (see vectorized.py):
IEEE results, never warnings, as the scalar helpers give.

  ARRAY_FORWARD[name](*args) -> out
  ARRAY_PARTIALS[name][k](*args, out) -> d out / d args[k]
      args may be arrays or Python floats (constants); a partial may return
      a float when it does not depend on the row (add's 1.0)
  ARRAY_KINK[name](*args) -> bool array: rows where the op has no derivative
  ARRAY_MASK[name](k, *args) -> bool array or True: rows where input k's
      partial is a structural zero that stops the gradient outright
  ARRAY_DOMAIN[name](*args) -> [(reason, bool array)]: why finite inputs
      gave a non-finite output, where a plain "overflow" would mislead
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .ops import _SPLIT, _TWO_OVER_ROOT_PI, TINY, _ln2, _ln10

nan = np.nan
inf = np.inf


def _divide(a, b):
    # IEEE division is ops.divide: 0/0 is NaN, x/±0 is ±inf with the signs' product
    return np.divide(a, b)


def _power(a, b):
    # C's pow (Annex F), which math.pow wraps; ops.power maps math.pow's
    # exceptions back to the IEEE results that C's pow returns
    return np.power(a, b)


def _sqrt(x):
    return np.sqrt(x)


def _sigmoid(x):
    # ops._sigmoid: 1/(1+exp(-x)) for x >= 0, exp(x)/(1+exp(x)) otherwise;
    # exp(-|x|) is the exponential both branches take
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def _softplus(x):
    # ops._softplus: max(x, 0) + log1p(exp(-|x|)), NaN at NaN
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sign(x):
    # 0 at 0 and at NaN, as ops._sign
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))


def _step(x):
    return np.where(x > 0, 1.0, np.where(x <= 0, 0.0, nan))


def _relu(x):
    # x where x > 0 or NaN, else +0.0 (relu(-0.0) is 0.0, as the scalar form)
    return np.where((x > 0) | (x != x), x, 0.0)


def _maximum(a, b):
    # Python's max(a, b) keeps a unless b > a (max(-0.0, 0.0) is -0.0)
    return np.where((a != a) | (b != b), nan, np.where(b > a, b, a))


def _minimum(a, b):
    return np.where((a != a) | (b != b), nan, np.where(b < a, b, a))


def _share(mine, other, loses):
    return np.where(mine == other, 0.5, np.where(loses, 0.0, 1.0))


def _quotient_or_zero(numerator, denominator):
    return np.where((numerator == 0) & (denominator == 0), 0.0, _divide(numerator, denominator))


def _atan2_partial(numerator, y, x):
    # ops._atan2_partial: (numerator/h)/h with h = hypot(y, x), 0 at the origin
    h = np.hypot(y, x)
    return _quotient_or_zero(_quotient_or_zero(numerator, h), h)


def _pow_base_partial(a, b, out):
    # ops._pow_base_partial: b·(a^b / a) where b is not whole and the output is normal
    from_out = (b != np.floor(b)) & (a != 0) & (np.abs(out) >= TINY) & (np.abs(out) < inf)
    return np.where(b == 0, 0.0, b * np.where(from_out, out / a, _power(a, b - 1)))


def _sech2(x):
    c = np.cosh(x)
    return 1.0 / (c * c)


def _acosh_partial(x):
    return _divide(1.0, np.sqrt(x - 1.0) * np.sqrt(x + 1.0))


def _gauss(x):
    # ops._gauss: exp(−x²) with x = hi + lo, hi² exact
    x = np.abs(x)
    c = _SPLIT * x
    hi = c - (c - x)
    lo = x - hi
    return np.where(x > 27.5, 0.0, np.exp(-hi * hi) * np.exp(-(2.0 * hi + lo) * lo))


def _erf(x):
    try:   # SciPy's erf when it is installed (an extra), else math's, row by row
        from scipy.special import erf
    except ImportError:
        import math
        return np.frompyfunc(math.erf, 1, 1)(x).astype(float)
    return erf(x)


def _pow_exponent_partial(a, b, out):
    return np.where((a == 0) & (b >= 0), 0.0, out * np.log(a))


def _unit(x):
    # ops._unit_root: 1/sqrt((1 − x)(1 + x)), with sqrt of a negative number NaN
    return _divide(1.0, _sqrt((1.0 - x) * (1.0 + x)))


def _pow_domain(a, b):
    return [("zero to a negative power", (a == 0) & (b < 0)),
            ("a negative number to a fractional power", (a < 0) & (np.floor(b) != b))]


def _log_domain(name: str):
    return lambda x: [(f"{name} of zero", x == 0), (f"{name} of a negative number", x != 0)]


def _unit_domain(name: str):
    return lambda x: [(f"{name} of a number outside [-1, 1]", np.ones(np.shape(x), bool))]


def _one(*args):
    return 1.0


def _minus_one(*args):
    return -1.0


def _zero(*args):
    return 0.0


ARRAY_FORWARD: dict[str, Callable] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": _divide,
    "neg": np.negative,
    "pow": _power,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "exp": np.exp,
    "expm1": np.expm1,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "sqrt": _sqrt,
    "cbrt": np.cbrt,
    "erf": _erf,
    "abs": np.abs,
    "sign": _sign,
    "step": _step,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "softplus": _softplus,
    "max": _maximum,
    "min": _minimum,
    "atan2": np.arctan2,
    "hypot": np.hypot,
}

ARRAY_PARTIALS: dict[str, tuple[Callable, ...]] = {
    "add": (_one, _one),
    "sub": (_one, _minus_one),
    "mul": (lambda a, b, o: b, lambda a, b, o: a),
    "div": (lambda a, b, o: _divide(1.0, b), lambda a, b, o: -_divide(o, b)),
    "neg": (_minus_one,),
    "pow": (_pow_base_partial, _pow_exponent_partial),
    "sin": (lambda x, o: np.cos(x),),
    "cos": (lambda x, o: -np.sin(x),),
    "tan": (lambda x, o: 1.0 + o * o,),
    "asin": (lambda x, o: _unit(x),),
    "acos": (lambda x, o: -_unit(x),),
    "atan": (lambda x, o: 1.0 / (1.0 + x * x),),
    "sinh": (lambda x, o: np.cosh(x),),
    "cosh": (lambda x, o: np.sinh(x),),
    "tanh": (lambda x, o: _sech2(x),),
    "asinh": (lambda x, o: 1.0 / np.hypot(1.0, x),),
    "acosh": (lambda x, o: _acosh_partial(x),),
    "atanh": (lambda x, o: _divide(1.0, (1.0 - x) * (1.0 + x)),),
    "exp": (lambda x, o: o,),
    "expm1": (lambda x, o: np.exp(x),),
    "log": (lambda x, o: _divide(1.0, x),),
    "log2": (lambda x, o: _divide(1.0, x * _ln2),),
    "log10": (lambda x, o: _divide(1.0, x * _ln10),),
    "log1p": (lambda x, o: _divide(1.0, 1.0 + x),),
    "sqrt": (lambda x, o: _divide(0.5, o),),
    "cbrt": (lambda x, o: _divide(1.0, 3.0 * o * o),),
    "erf": (lambda x, o: _TWO_OVER_ROOT_PI * _gauss(x),),
    "abs": (lambda x, o: _sign(x),),
    "sign": (_zero,),
    "step": (_zero,),
    "sigmoid": (lambda x, o: o * _sigmoid(-x),),
    "relu": (lambda x, o: np.where(x <= 0, 0.0, 1.0),),
    "softplus": (lambda x, o: _sigmoid(x),),
    "max": (lambda a, b, o: _share(a, b, a < b), lambda a, b, o: _share(b, a, b < a)),
    "min": (lambda a, b, o: _share(a, b, a > b), lambda a, b, o: _share(b, a, b > a)),
    "atan2": (lambda y, x, o: _atan2_partial(x, y, x), lambda y, x, o: _atan2_partial(-y, y, x)),
    "hypot": (lambda a, b, o: _quotient_or_zero(a, o), lambda a, b, o: _quotient_or_zero(b, o)),
}

# the partials that are the same number in every row: no work per row for them
CONSTANT_PARTIALS: dict[str, tuple] = {
    "add": (1.0, 1.0), "sub": (1.0, -1.0), "neg": (-1.0,), "sign": (0.0,), "step": (0.0,),
}

ARRAY_KINK: dict[str, Callable] = {
    "abs": lambda x: x == 0,
    "sign": lambda x: x == 0,
    "step": lambda x: x == 0,
    "relu": lambda x: x == 0,
    "max": lambda a, b: a == b,
    "min": lambda a, b: a == b,
    "atan2": lambda y, x: (y == 0) & (x == 0),
    "hypot": lambda a, b: (a == 0) & (b == 0),
}

ARRAY_MASK: dict[str, Callable] = {
    "pow": lambda k, a, b: (b == 0) if k == 0 else False,
    "sign": lambda k, x: True,
    "step": lambda k, x: True,
    "relu": lambda k, x: x <= 0,
    "max": lambda k, a, b: (a < b) if k == 0 else (b < a),
    "min": lambda k, a, b: (a > b) if k == 0 else (b > a),
}

ARRAY_DOMAIN: dict[str, Callable] = {
    "div": lambda a, b: [("division by zero", b == 0)],
    "pow": _pow_domain,
    "asin": _unit_domain("asin"),
    "acos": _unit_domain("acos"),
    "log": _log_domain("log"),
    "log2": _log_domain("log2"),
    "log10": _log_domain("log10"),
    "log1p": lambda x: [("log1p of -1", x == -1), ("log1p of a number below -1", x != -1)],
    "acosh": lambda x: [("acosh of a number below 1", np.ones(np.shape(x), bool))],
    "atanh": lambda x: [("atanh of 1 or -1", np.abs(x) == 1),
                        ("atanh of a number outside [-1, 1]", np.abs(x) != 1)],
    "sqrt": lambda x: [("square root of a negative number", np.ones(np.shape(x), bool))],
}


def missing_rules() -> dict[str, list[str]]:
    """Ops of ops.OPS without an array rule, and array rules for no op: for the test."""
    from .ops import OPS
    found = {}
    for table, rules in (("ARRAY_FORWARD", ARRAY_FORWARD), ("ARRAY_PARTIALS", ARRAY_PARTIALS)):
        lacking = sorted(set(OPS) - set(rules)) + sorted(f"{name} (no such op)" for name in set(rules) - set(OPS))
        if lacking:
            found[table] = lacking
    for name, op in OPS.items():
        if name in ARRAY_PARTIALS and len(ARRAY_PARTIALS[name]) != op.arity:
            found.setdefault("ARRAY_PARTIALS", []).append(f"{name} (arity)")
        for attribute, rules in (("kink", ARRAY_KINK), ("mask", ARRAY_MASK), ("domain", ARRAY_DOMAIN)):
            if (getattr(op, attribute) is not None) != (name in rules):
                found.setdefault(f"ARRAY_{attribute.upper()}", []).append(name)
    return found


__all__ = ["ARRAY_FORWARD", "ARRAY_PARTIALS", "CONSTANT_PARTIALS", "ARRAY_KINK", "ARRAY_MASK",
           "ARRAY_DOMAIN", "missing_rules"]
