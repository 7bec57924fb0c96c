"""adiff eval --check: gradients against central finite differences.

The check must pass on the op table as it is, and must fail, with exit 1,
when a rule in the table is wrong: the tests break one on purpose.
"""

import dataclasses
import json
import math
import re

import pytest

import autodiff_cli
from autodiff_cli.check import check
from autodiff_cli.ops import OPS

SEED = "(x*w+b-y)^2"
POINT = ["--x", "2", "--w", "3", "--b", "1", "--y", "5"]
ARTICLE_GRADIENT = {"x": 12, "w": 8, "b": 4, "y": -4}


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def wrong_rule(monkeypatch):
    """Break one partial in the op table: wrong_rule("mul", 0, lambda a, b, o: ...)."""
    def install(name: str, k: int, partial):
        op = OPS[name]
        partials = list(op.partials)
        partials[k] = partial
        monkeypatch.setitem(OPS, name, dataclasses.replace(op, partials=tuple(partials)))
    return install


def test_check_passes_on_the_seed_example(run_cli):
    code, out, err = run_cli("eval", SEED, *POINT, "--check")
    assert code == 0, err
    assert "gradient check, tolerance 1e-05" in out
    assert "check passed for 4 of 4 inputs" in out
    assert len(re.findall(r" pass *$", out, re.M)) == 4


def test_check_json_reports_both_numbers_per_input(run_cli):
    code, out, err = run_cli("eval", SEED, *POINT, "--check", "--json")
    assert code == 0, err
    doc = strict_json(out)
    result = doc["check"]
    assert result["passed"] is True
    assert result["tolerance"] == 1e-5
    assert list(result["inputs"]) == ["x", "w", "b", "y"]
    for name, expected in ARTICLE_GRADIENT.items():
        entry = result["inputs"][name]
        assert entry["status"] == "pass"
        assert entry["gradient"] == expected
        assert entry["finite_difference"] == pytest.approx(expected, rel=1e-8)
        assert entry["error"] < 1e-9
        x = float(POINT[POINT.index(f"--{name}") + 1])
        assert entry["step"] == pytest.approx(6e-6 * abs(x))
    # the rest of eval's document is still there
    assert doc["gradient"] == ARTICLE_GRADIENT


def test_check_fails_on_a_wrong_op_rule_and_exits_1(run_cli, wrong_rule):
    wrong_rule("mul", 0, lambda a, b, o: 1.1 * b)     # 10% too large: d(a·b)/da is b
    code, out, err = run_cli("eval", SEED, *POINT, "--check")
    assert code == 1
    assert "check failed for x" in out
    assert "gradient check failed for x" in err
    # the output came first, all of it
    assert out.index("∂output/∂x") < out.index("gradient check")
    code, out, err = run_cli("eval", SEED, *POINT, "--check", "--json")
    assert code == 1
    result = strict_json(out)["check"]
    assert result["passed"] is False
    assert result["inputs"]["x"]["status"] == "fail"
    assert result["inputs"]["x"]["finite_difference"] == pytest.approx(12, rel=1e-8)
    assert result["inputs"]["x"]["gradient"] == pytest.approx(13.2)
    assert [result["inputs"][n]["status"] for n in "wby"] == ["pass"] * 3


@pytest.mark.parametrize("name, program, wrong", [
    ("sin", "sin(x)*y", lambda x, o: -math.cos(x)),
    ("exp", "exp(x)*y", lambda x, o: o * 1.001),
    ("tanh", "tanh(x)*y", lambda x, o: 1 - o),
    ("div", "x/y", lambda a, b, o: 1 / (b * b)),
])
def test_check_catches_wrong_function_rules(run_cli, wrong_rule, name, program, wrong):
    args = ["--x", "0.7", "--y", "1.9"]
    assert run_cli("eval", program, *args, "--check")[0] == 0
    wrong_rule(name, 0, wrong)
    code, out, _ = run_cli("eval", program, *args, "--check")
    assert code == 1
    assert "check failed for x" in out


def test_tolerance_decides(run_cli, wrong_rule):
    wrong_rule("mul", 0, lambda a, b, o: 1.01 * b)    # 1% off
    assert run_cli("eval", SEED, *POINT, "--check")[0] == 1
    assert run_cli("eval", SEED, *POINT, "--check", "--tolerance", "0.1")[0] == 0
    code, out, _ = run_cli("eval", SEED, *POINT, "--tolerance", "0.001", "--json")
    assert code == 1   # --tolerance implies --check
    assert strict_json(out)["check"]["tolerance"] == 0.001


def test_inputs_at_a_kink_say_so_rather_than_fail(run_cli):
    code, out, err = run_cli("eval", "abs(x) + y*relu(z)", "--x", "0", "--y", "3", "--z", "2",
                             "--check", "--json")
    assert code == 0, err
    inputs = strict_json(out)["check"]["inputs"]
    assert inputs["x"]["status"] == "kink"
    assert "abs(x)" in inputs["x"]["note"]
    # the kink at x = 0 does not touch y and z
    assert inputs["y"]["status"] == inputs["z"]["status"] == "pass"


def test_a_kink_reaches_every_input_it_depends_on(run_cli):
    code, out, err = run_cli("eval", "max(x*w, y) + u", "--x", "1", "--w", "2", "--y", "2",
                             "--u", "5", "--check", "--json")
    assert code == 0, err
    inputs = strict_json(out)["check"]["inputs"]
    assert {n: inputs[n]["status"] for n in inputs} == {"x": "kink", "w": "kink", "y": "kink",
                                                         "u": "pass"}


def test_a_kink_in_the_table_output(run_cli):
    code, out, _ = run_cli("eval", "abs(x)", "--x", "0", "--check")
    assert code == 0
    assert "kink" in out
    assert "nothing checked (1 at a kink: not compared)" in out


def test_non_finite_values_are_reported_not_crashed_on(run_cli):
    code, out, err = run_cli("eval", "sqrt(x) + y", "--x", "0", "--y", "1", "--check", "--json")
    assert code == 0, err
    inputs = strict_json(out)["check"]["inputs"]
    assert inputs["x"]["status"] == "non-finite"
    assert inputs["x"]["gradient"] == "Infinity"
    assert inputs["y"]["status"] == "pass"
    code, out, err = run_cli("eval", "x*y", "--x", "inf", "--y", "1", "--check")
    assert code == 0, err
    assert "non-finite" in out


def test_a_huge_output_is_inconclusive_within_rounding_noise(run_cli):
    # f = 1e8 + x: the difference is off by ~1e-3 from rounding alone, more
    # than the tolerance: it cannot tell, and says so (issue 10)
    code, out, err = run_cli("eval", "1e8 + x", "--x", "1", "--check", "--json")
    assert code == 0, err
    entry = strict_json(out)["check"]["inputs"]["x"]
    assert entry["status"] == "inconclusive" and "noise floor" in entry["note"]
    # the floor: 4 ulps of 1e8 over 2h, as an error (|gradient| = 1)
    assert entry["noise_floor"] == pytest.approx(4 * 2.220446049250313e-16 * 1e8 / 6e-6, rel=0.01)


def test_wrt_limits_the_check(run_cli):
    code, out, _ = run_cli("eval", SEED, *POINT, "--check", "--wrt", "x,y", "--json")
    assert code == 0
    assert list(strict_json(out)["check"]["inputs"]) == ["x", "y"]


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.callable))
def test_every_function_passes_the_check(run_cli, name):
    op = OPS[name]
    positive = name in {"log", "log2", "log10", "sqrt", "acosh"}   # acosh: [1, inf)
    x = "1.7" if positive else "0.6"
    program = f"{name}(x)*y" if op.arity == 1 else f"{name}(x, y)*y"
    code, out, err = run_cli("eval", program, "--x", x, "--y", "0.3", "--check")
    assert code == 0, (name, out, err)
    assert "check passed for 2 of 2 inputs" in out


def test_check_on_a_large_program():
    program = "(" * 2000 + "x" + "*w+0.5)" * 2000
    trace = autodiff_cli.evaluate(program, x=0.3, w=1.0001)
    result = check(trace)
    assert result.passed
    assert [c.status for c in result.inputs] == ["pass", "pass"]
    # w^2000 curves so sharply that the plain difference is off by more than 1e-5
    w = result.inputs[1]
    assert w.error > 1e-5 and "extrapolated" in w.note


def test_extrapolation_does_not_rescue_a_wrong_rule(wrong_rule):
    wrong_rule("mul", 1, lambda a, b, o: a * 1.0001)   # 1e-4 off
    program = "(" * 2000 + "x" + "*w+0.5)" * 2000
    result = check(autodiff_cli.evaluate(program, x=0.3, w=1.0001))
    assert [c.status for c in result.inputs] == ["pass", "fail"]


PLANCK = ["h/(2*pi)*omega**3/(pi**2*c**2*(exp((h/(2*pi))*omega/(kb*T))-1))",
          "--h", "6.62607015e-34", "--omega", "3e14", "--c", "299792458", "--kb", "1.380649e-23",
          "--T", "5000"]


def test_check_passes_at_physical_scales(run_cli):
    # issue 20: an absolute step of 6e-6 below 1 stepped h = 6.6e-34 past zero
    code, out, err = run_cli("eval", *PLANCK, "--check", "--json")
    assert code == 0, out + err
    inputs = strict_json(out)["check"]["inputs"]
    assert {n: c["status"] for n, c in inputs.items()} == dict.fromkeys(["h", "omega", "c", "kb", "T"], "pass")
    for name in inputs:
        x = float(PLANCK[PLANCK.index(f"--{name}") + 1])
        assert inputs[name]["step"] == pytest.approx(6e-6 * x)
        assert inputs[name]["error"] < 1e-8


def test_the_step_is_absolute_only_at_zero(run_cli):
    code, out, err = run_cli("eval", "x*y + x", "--x", "0", "--y", "1e-300", "--check", "--json")
    assert code == 0, err
    inputs = strict_json(out)["check"]["inputs"]
    assert inputs["x"]["step"] == 6e-6
    assert inputs["y"]["step"] == pytest.approx(6e-306)
    # a subnormal input still moves, and its gradient is checked
    code, out, err = run_cli("eval", "3*x", "--x", "1e-320", "--check", "--json")
    assert code == 0, err
    entry = strict_json(out)["check"]["inputs"]["x"]
    assert entry["step"] > 0 and entry["status"] == "pass"


SCALES = [1e-300, 1e-30, 1e-12, 1e-3, 1.0, 1e3, 1e12, 1e30, 1e300]


@pytest.mark.parametrize("scale", SCALES)
def test_a_right_gradient_passes_at_any_scale(run_cli, scale):
    # f = sin(x·a) with x ~ s and a ~ 1/s: the gradients scale as 1/s and s;
    # the expected ones are the exact derivatives, not the check's output
    x, a = 0.7 * scale, 3.0 / scale
    code, out, err = run_cli("eval", "sin(x*a)", "--x", repr(x), "--a", repr(a), "--check", "--json")
    assert code == 0, out + err
    doc = strict_json(out)
    inputs = doc["check"]["inputs"]
    assert [c["status"] for c in inputs.values()] == ["pass", "pass"]
    assert inputs["x"]["finite_difference"] == pytest.approx(a * math.cos(x * a), rel=1e-6)
    assert inputs["a"]["finite_difference"] == pytest.approx(x * math.cos(x * a), rel=1e-6)


@pytest.mark.parametrize("scale", SCALES)
def test_a_wrong_gradient_fails_at_any_scale(run_cli, wrong_rule, scale):
    # d(a·x)/dx = a, 10% too large, with a of any magnitude (1e-30 passed as
    # "error < 1e-5" when the error was absolute below 1)
    wrong_rule("mul", 1, lambda a, b, o: 1.1 * a)
    code, out, _ = run_cli("eval", "a*x", "--a", repr(scale), "--x", "2", "--check", "--json")
    assert code == 1
    entry = strict_json(out)["check"]["inputs"]["x"]
    assert entry["status"] == "fail"
    assert entry["error"] == pytest.approx(0.1 / 1.1, rel=1e-6)
    assert entry["finite_difference"] == pytest.approx(scale, rel=1e-8)


def test_a_zero_gradient_within_the_noise_passes(run_cli):
    # d(cos x)/dx at x = π is -sin(π) = -1.2e-16 in doubles; the difference is
    # rounding noise around 0: both say 0, so it passes (with a note), not fails
    code, out, err = run_cli("eval", "cos(x) + y", "--x", repr(math.pi), "--y", "2", "--check", "--json")
    assert code == 0, err
    entry = strict_json(out)["check"]["inputs"]["x"]
    assert entry["status"] == "pass"
    assert entry["error"] <= 1e-5 or "within the difference's noise" in entry["note"]



def test_a_small_wrong_gradient_next_to_a_large_output_fails(run_cli, wrong_rule):
    # f = 1e-6·x + 1: the gradient 1e-6 is far above the difference's noise
    # (1.5e-10), so a 10% error in it is seen (an absolute error passed it)
    assert run_cli("eval", "a*x + 1", "--a", "1e-6", "--x", "1", "--check")[0] == 0
    wrong_rule("mul", 1, lambda a, b, o: 1.1 * a)
    code, out, _ = run_cli("eval", "a*x + 1", "--a", "1e-6", "--x", "1", "--check", "--json")
    assert code == 1
    assert strict_json(out)["check"]["inputs"]["x"]["status"] == "fail"


@pytest.mark.parametrize("a", ["3", "10", "1000"])
def test_a_zero_gradient_of_a_cubic_passes_on_the_extrapolated_difference(run_cli, a):
    # d((x-a)^3)/da at x = a is 0, but the central difference is -h² (its
    # truncation error): relative to 0 that would fail; extrapolated to h → 0
    # it is 0 within the noise
    code, out, err = run_cli("eval", "(x-a)^3 + x", "--x", a, "--a", a, "--check", "--json")
    assert code == 0, err
    entry = strict_json(out)["check"]["inputs"]["a"]
    assert entry["gradient"] == 0 and entry["status"] == "pass"
    h = 6e-6 * float(a)
    noise = 4 * 2.220446049250313e-16 * float(a) / h   # 4 ulps of the output (f = x = a) over h
    assert entry["finite_difference"] == pytest.approx(-h * h, abs=noise)
    assert "extrapolated to h → 0" in entry["note"] and "of 0, as the gradient is" in entry["note"]


def test_an_unsteady_difference_is_inconclusive_not_a_failure(run_cli, wrong_rule):
    # log(1 + u²) with u = x - a = -1.7e-8: 1 + u² rounds inside the program,
    # so the difference moves by as much as it misses the true gradient by
    # (2·u·b/(1+u²) = -8.0445e-4, by hand)
    point = ["--x", "2.072789972047705", "--a", "2.0727899893283013", "--b", "23276.031576131336"]
    code, out, err = run_cli("eval", "log(1+(x-a)^2)*b", *point, "--check", "--json")
    assert code == 0, err
    inputs = strict_json(out)["check"]["inputs"]
    u = 2.072789972047705 - 2.0727899893283013
    assert inputs["x"]["gradient"] == pytest.approx(2 * u * 23276.031576131336 / (1 + u * u), rel=1e-6)
    assert inputs["x"]["status"] == inputs["a"]["status"] == "inconclusive"
    assert "unsteady" in inputs["x"]["note"]
    # a wrong rule is still seen there: 3x the gradient is far outside the unsteadiness
    wrong_rule("log", 0, lambda x, o: 3 / x)
    code, out, _ = run_cli("eval", "log(1+(x-a)^2)*b", *point, "--check", "--json")
    assert code == 1 and strict_json(out)["check"]["inputs"]["x"]["status"] == "fail"
