"""The op table: every entry's partials against central finite differences."""

import math
import re
from pathlib import Path

import pytest

import autodiff_cli
from autodiff_cli.ops import CONSTANTS, FUNCTIONS, OPS
from autodiff_cli.parser import ALIASES

from numeric import central_difference, close

# safe points: smooth, in the domain, away from kinks and ties
POINTS = {
    1: [-1.3, -0.4, 0.35, 0.9, 2.7],
    2: [(1.3, 0.7), (-0.8, 2.5), (2.2, -1.1), (0.45, 0.3)],
}
# where the general points leave the function's domain or land on a kink
DOMAIN = {
    "log": [0.2, 1.0, 3.5], "log2": [0.2, 1.0, 3.5], "log10": [0.2, 1.0, 3.5],
    "sqrt": [0.3, 1.0, 4.2], "asin": [-0.7, 0.1, 0.6], "acos": [-0.7, 0.1, 0.6],
    "acosh": [1.2, 2.7, 10.0], "atanh": [-0.7, 0.1, 0.6], "log1p": [-0.5, 0.2, 3.0],
    "pow": [(1.3, 0.7), (2.5, -1.2), (0.4, 3.0), (-1.5, 3.0)],
    "div": [(1.3, 0.7), (-0.8, 2.5), (2.2, -1.1)],
}


def cases():
    for name, op in OPS.items():
        for point in DOMAIN.get(name, POINTS[op.arity]):
            yield name, point if isinstance(point, tuple) else (point,)


@pytest.mark.parametrize("name, point", list(cases()), ids=lambda v: str(v))
def test_partials_match_central_differences(name, point):
    op = OPS[name]
    out = op.forward(*point)
    for k in range(op.arity):
        if name == "pow" and k == 1 and point[0] < 0:
            continue  # a^b is not differentiable in b for a < 0
        def along(v, k=k):
            args = list(point)
            args[k] = v
            return op.forward(*args)
        numeric = central_difference(along, point[k])
        assert close(op.partials[k](*point, out), numeric), (name, k, point)


def test_every_entry_is_complete():
    for name, op in OPS.items():
        assert op.name == name
        assert len(op.partials) == op.arity, name
        assert callable(op.forward)


def readme_functions():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    section = readme.split("### Functions", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"`([a-z][a-z0-9]*)\(", section))


def test_every_function_the_readme_names_has_an_entry():
    named = readme_functions()
    assert len(named) >= 22
    assert named == set(FUNCTIONS) | set(ALIASES)
    assert set(ALIASES.values()) <= set(FUNCTIONS)


def test_every_function_is_callable_from_a_program():
    for name in FUNCTIONS:
        point = DOMAIN.get(name, POINTS[OPS[name].arity])[-1]
        point = point if isinstance(point, tuple) else (point,)
        trace = autodiff_cli.evaluate(f"{name}({', '.join(map(repr, point))})")
        assert math.isfinite(trace.value) and trace.value == OPS[name].forward(*point), name
    assert set(CONSTANTS) == {"pi", "e"}


@pytest.mark.parametrize("program, point, gradient", [
    ("relu(x)", {"x": 0}, {"x": 0}),
    ("abs(x)", {"x": 0}, {"x": 0}),
    ("max(x, y)", {"x": 1, "y": 1}, {"x": 0.5, "y": 0.5}),
    ("min(x, y)", {"x": 1, "y": 1}, {"x": 0.5, "y": 0.5}),
    ("max(x, y)", {"x": 2, "y": 1}, {"x": 1, "y": 0}),
    ("min(x, y)", {"x": 2, "y": 1}, {"x": 0, "y": 1}),
])
def test_kinks_follow_pytorch_and_warn(program, point, gradient):
    trace = autodiff_cli.evaluate(program, point)
    assert trace.gradient() == gradient
    on_kink = len(set(point.values())) == 1 or 0 in point.values()
    assert any(w.kind == "kink" for w in trace.warnings) == on_kink


def test_the_exponents_partial_is_only_computed_when_needed():
    # x^2 at x < 0: log of the negative base must not be taken, nor warned about
    trace = autodiff_cli.evaluate("x^2", x=-3)
    assert trace.gradient() == {"x": -6}
    assert trace.warnings == []
    # but when the exponent is an input, its partial is out·log(base)
    trace = autodiff_cli.evaluate("x^y", x=2, y=3)
    assert close(trace.gradient()["y"], 8 * math.log(2))


@pytest.mark.parametrize("program, value", [
    ("exp(1000)", math.inf), ("10^400", math.inf), ("(-10)^401", -math.inf),
    ("log(0)", -math.inf), ("1/0", math.inf), ("-1/0", -math.inf),
    ("sinh(-1000)", -math.inf), ("cosh(1000)", math.inf), ("0^-1", math.inf), ("0^0", 1.0),
])
def test_overflow_and_poles_are_infinities_not_exceptions(program, value):
    trace = autodiff_cli.evaluate(program)
    assert trace.value == value
    assert [w.kind for w in trace.warnings] == (["non-finite"] if value != 1 else [])


@pytest.mark.parametrize("program, reason", [
    ("log(x)", "log of a negative number"), ("sqrt(x)", "square root of a negative number"),
    ("x^0.5", "negative number to a fractional power"), ("asin(x*2)", "outside [-1, 1]"),
])
def test_domain_errors_are_nan_with_a_reason(program, reason):
    trace = autodiff_cli.evaluate(program, x=-1)
    assert math.isnan(trace.value)
    assert any(reason in w.message for w in trace.warnings)


# ---- NumPy's and SciPy's names, and the hints for names adiff lacks ---------

@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_an_alias_is_its_function_through_the_command_line(alias):
    import json
    from support import cli
    target = ALIASES[alias]
    arity = 2 if OPS[target].arity == 2 else 1
    args = "x, y" if arity == 2 else "x"
    point = ["--x", "0.6", "--y", "1.7"] if arity == 2 else ["--x", "0.6" if target != "acosh" else "1.6"]
    pasted = cli("eval", f"{alias}({args})", *point, "--json")
    native = cli("eval", f"{target}({args})", *point, "--json")
    assert pasted.exit_code == native.exit_code == 0, pasted.stderr
    pasted, native = json.loads(pasted.stdout), json.loads(native.stdout)
    assert math.isfinite(pasted["value"])
    assert (pasted["value"], pasted["gradient"]) == (native["value"], native["gradient"])


@pytest.mark.parametrize("typed, hint", [
    ("asinhh", "did you mean 'asinh'?"), ("sinn", "did you mean 'sin'?"), ("tahn", "did you mean 'tanh'?"),
    ("sigmod", "did you mean 'sigmoid'?"), ("arcsinn", "did you mean 'arcsin'?"),
    ("ERF", "did you mean 'erf'? function names are lower case"),
    ("erfc", "adiff has no erfc: write 1 - erf(x)"), ("sec", "adiff has no sec: write 1/cos(x)"),
    ("arccot", "adiff has no arccot: write atan(1/x)"), ("acoth", "adiff has no acoth: write atanh(1/x)"),
    ("exp2", "adiff has no exp2: write 2^x"),
])
def test_an_unknown_function_gets_a_sensible_hint(typed, hint):
    from support import cli
    out = cli("eval", f"{typed}(x)", "--x", "0.5")
    assert out.exit_code == 2
    assert hint in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("typed, other", [
    ("asinh2", "asinh"), ("asinh2", "sinh"), ("sinc", "sin"), ("tanhc", "tanh"), ("arcsinh1p", "arcsin"),
    ("arcsinh1p", "arcsinh"), ("cosh2", "cosh"), ("log1pm1", "log1p"), ("aexp", "exp"), ("erfc", "erf"),
    ("atanh", "tanh"), ("arcsinh", "sinh"),
])
def test_a_hint_never_names_another_function_inside_the_name(typed, other):
    """A known name with a function prefix or suffix around it is another
    function (sinh in asinh, erf in erfc): never suggested for it."""
    from autodiff_cli.parser import ALIASES as names, _another_function
    from support import cli
    assert _another_function(typed, other)
    if typed in OPS or typed in names:
        return   # a function of its own now (atanh, arcsinh): no hint at all
    out = cli("eval", f"{typed}(x)", "--x", "0.5")
    assert out.exit_code == 2
    assert f"'{other}'" not in out.stderr, out.stderr
