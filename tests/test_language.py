"""The language: precedence, associativity, Unicode forms, numbers, statements."""

import math

import pytest

import autodiff_cli
from autodiff_cli import AdiffError

from numeric import close, gradient_by_differences

POINT = {"x": 1.7, "w": -0.6, "b": 2.3}

# program, the same function written in Python with explicit grouping
PRECEDENCE = [
    ("-x^2", lambda x, w, b: -(x ** 2)),
    ("x^3^2", lambda x, w, b: x ** 9),
    ("2^-x", lambda x, w, b: 2 ** (-x)),
    ("x/w*b", lambda x, w, b: (x / w) * b),
    ("x - -w", lambda x, w, b: x + w),
    ("x*-w", lambda x, w, b: x * -w),
    ("x-w-b", lambda x, w, b: (x - w) - b),
    ("x/w/b", lambda x, w, b: (x / w) / b),
    ("x+w*b", lambda x, w, b: x + (w * b)),
    ("x*w^2", lambda x, w, b: x * (w ** 2)),
    ("-x*w", lambda x, w, b: (-x) * w),
    ("x**2**0.5", lambda x, w, b: x ** (2 ** 0.5)),
    ("+x - +w", lambda x, w, b: x - w),
    ("--x", lambda x, w, b: x),
    ("2^-x^2", lambda x, w, b: 2 ** (-(x ** 2))),
    ("x²", lambda x, w, b: x ** 2),
    ("x⁻¹", lambda x, w, b: 1 / x),
    ("-x²", lambda x, w, b: -(x ** 2)),
    ("x²³", lambda x, w, b: x ** 23),
    ("(x⋅w+b−y)²".replace("y", "x"), lambda x, w, b: (x * w + b - x) ** 2),
    ("x·w × b ÷ 2", lambda x, w, b: x * w * b / 2),
    ("x−w", lambda x, w, b: x - w),
    ("sin(x)^2 + cos(x)^2", lambda x, w, b: 1.0),
    ("pow(x, w) + atan2(w, b) + max(x, b) - min(w, b)",
     lambda x, w, b: x ** w + math.atan2(w, b) + max(x, b) - min(w, b)),
    ("log(x) + log2(b) + log10(x*b) + exp(w) + sqrt(b) + abs(w)",
     lambda x, w, b: math.log(x) + math.log2(b) + math.log10(x * b) + math.exp(w) + math.sqrt(b) + abs(w)),
    ("tanh(w) + sinh(w) + cosh(w) + tan(w) + asin(w) + acos(w) + atan(x)",
     lambda x, w, b: math.tanh(w) + math.sinh(w) + math.cosh(w) + math.tan(w) + math.asin(w)
     + math.acos(w) + math.atan(x)),
    ("sigmoid(x) + relu(w) + relu(x) + softplus(w)",
     lambda x, w, b: 1 / (1 + math.exp(-x)) + 0 + x + math.log1p(math.exp(w))),
    ("pi*x + e^w", lambda x, w, b: math.pi * x + math.e ** w),
]


@pytest.mark.parametrize("program, python", PRECEDENCE, ids=[p for p, _ in PRECEDENCE])
def test_precedence_and_functions(program, python):
    trace = autodiff_cli.evaluate(program, POINT)
    expected = python(**POINT)
    assert close(trace.value, expected, rel=1e-12, abs_=1e-12)
    by_differences = gradient_by_differences(lambda p: python(**p), POINT)
    for name, grad in trace.gradient().items():
        assert close(grad, by_differences[name]), (name, grad, by_differences[name])


@pytest.mark.parametrize("text, value", [
    ("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("5.", 5.0), ("1e-3", 1e-3), ("2.5E+4", 2.5e4),
    ("1E3", 1000.0), ("007", 7.0),
])
def test_number_forms(text, value):
    assert autodiff_cli.evaluate(text).value == value


def test_numbers_are_doubles_never_python_ints():
    trace = autodiff_cli.evaluate("9^9^9^9")
    assert trace.value == math.inf
    assert isinstance(autodiff_cli.evaluate("2*3").value, float)


@pytest.mark.parametrize("text", ["٣", "x + ٣", "１", "²", "x²y"])
def test_only_ascii_digits_are_numbers(text):
    with pytest.raises(AdiffError):
        autodiff_cli.evaluate(text, x=1, y=1)


@pytest.mark.parametrize("name", ["θ", "w_1", "x2", "_b", "Δt", "w₁", "αβγ"])
def test_unicode_names(name):
    trace = autodiff_cli.evaluate(f"3*{name}^2", {name: 2})
    assert trace.value == 12
    assert trace.gradient() == {name: 12}


def test_names_may_be_reassigned_and_later_statements_see_the_newest():
    trace = autodiff_cli.evaluate("c = x + 1; c = c + c + 1; c * 2", x=1)
    assert trace.value == 10          # c = 2, then c = 5, then 10
    assert trace.gradient() == {"x": 4}


def test_the_last_statement_is_the_value_and_assignment_counts():
    assert autodiff_cli.evaluate("a = x*2\nb = a + 1", x=3).value == 7
    assert autodiff_cli.evaluate("a = x*2\na", x=3).value == 6


def test_statement_separators_blank_lines_and_comments():
    program = "# a comment\n\n a = x  # trailing\n;;\n b = a*3 ;\n\n# end\n"
    trace = autodiff_cli.evaluate(program, x=2)
    assert trace.value == 6
    assert trace.gradient() == {"x": 3}


def test_crlf_and_byte_order_mark():
    assert autodiff_cli.evaluate("\ufeffa = x*2\r\nb = a + 1\r\n", x=1).value == 3


def test_defaults_declare_inputs_and_bindings_override():
    program = "x = 2\nw = -3\ny = x*w"
    trace = autodiff_cli.evaluate(program)
    assert trace.value == -6
    assert trace.inputs == {"x": 2, "w": -3}
    assert trace.gradient() == {"x": -3, "w": 2}
    assert autodiff_cli.evaluate(program, x=5).value == -15


def test_a_number_assigned_to_a_name_already_seen_is_a_constant():
    trace = autodiff_cli.evaluate("y = x*2; x = 3; x + y", x=1)
    assert trace.value == 5
    assert trace.gradient() == {"x": 2}


def test_constants_and_shadowing():
    assert autodiff_cli.evaluate("pi").value == math.pi
    assert autodiff_cli.evaluate("e").value == math.e
    assert autodiff_cli.evaluate("e = 3\ne*2").value == 6       # assigned: shadows
    trace = autodiff_cli.evaluate("2*pi", pi=3)                 # bound: shadows
    assert trace.value == 6 and trace.gradient() == {"pi": 2}


def test_identical_subexpressions_share_one_node_and_gradients_sum():
    trace = autodiff_cli.evaluate("(x+y)*(x+y)", x=1, y=2)
    nodes = trace.graph.nodes
    assert [n.op for n in nodes].count("add") == 1
    shared = next(n.id for n in nodes if n.op == "add")
    assert nodes[trace.graph.output].inputs == (shared, shared)
    assert trace.grads[shared] == 6      # 2·(x+y), through two edges
    assert trace.gradient() == {"x": 6, "y": 6}


def test_each_input_appears_once():
    trace = autodiff_cli.evaluate("x*x + x", x=3)
    assert [n.op for n in trace.graph.nodes].count("var") == 1
    assert trace.gradient() == {"x": 7}


def test_nodes_the_output_does_not_use_get_zero_gradient():
    # the unused log(x) at x=0 must not leak an infinite partial into x
    trace = autodiff_cli.evaluate("a = log(x); b = y*2; b", x=0, y=1)
    assert trace.gradient() == {"x": 0, "y": 2}


@pytest.mark.parametrize("program, nodes", [
    ("+".join(["x"] * 100_000), 100_000),
    ("(" * 10_000 + "x" + ")" * 10_000, 1),
    ("+".join(f"{i}*x" for i in range(1, 100_001)), 300_000),
])
def test_large_and_deep_programs_need_no_recursion(program, nodes):
    trace = autodiff_cli.evaluate(program, x=1.5)
    assert len(trace.graph.nodes) == nodes
    n = 100_000
    expected = {100_000: n, 1: 1, 300_000: n * (n + 1) / 2}[nodes]
    assert trace.gradient()["x"] == expected
