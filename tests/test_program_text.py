"""Program text as people write it (issue 10, section 2): line ends of every
system, common mathematical spellings, and max/min of many arguments."""

from __future__ import annotations

import math

import pytest

import autodiff_cli
from autodiff_cli import AdiffError
from support import run


def error_of(program: str, **bindings) -> AdiffError:
    with pytest.raises(AdiffError) as caught:
        autodiff_cli.evaluate(program, **bindings)
    return caught.value


# ---- line ends -----------------------------------------------------------------------------

@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_end_separates_statements(end):
    trace = autodiff_cli.evaluate(end.join(["x = 2", "# a comment", "y = x^2", "y + 1"]) + end)
    assert trace.value == 5
    assert trace.gradient() == {"x": 4}


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_error_columns_do_not_depend_on_line_ends(end):
    error = error_of(f"x = 2{end}y = x^2 +{end}")
    assert (error.line, error.column) == (2, 10)
    assert "y = x^2 +\n" in str(error) and "\r" not in str(error)


def test_a_crlf_file_reports_the_same_column_as_lf(tmp_path):
    (tmp_path / "crlf.adiff").write_bytes(b"x = 2\r\ny = x^2 +\r\n")
    (tmp_path / "lf.adiff").write_bytes(b"x = 2\ny = x^2 +\n")
    crlf = run("eval", "-f", str(tmp_path / "crlf.adiff"))
    lf = run("eval", "-f", str(tmp_path / "lf.adiff"))
    assert crlf.exit_code == lf.exit_code == 2
    assert f"{tmp_path / 'crlf.adiff'}:2:10:" in " ".join(crlf.stderr.split())
    assert crlf.stderr.replace(str(tmp_path / "crlf.adiff"), "") == \
        lf.stderr.replace(str(tmp_path / "lf.adiff"), "")


def test_a_comment_ends_at_a_carriage_return():
    assert autodiff_cli.evaluate("x = 3 # three\rx * 2").value == 6


# ---- spellings -----------------------------------------------------------------------------

def test_ln_is_the_natural_logarithm():
    trace = autodiff_cli.evaluate("ln(x) * 2", x=3.0)
    assert trace.value == pytest.approx(2 * math.log(3.0))
    assert trace.gradient()["x"] == pytest.approx(2 / 3.0)
    assert [n.op for n in trace.graph.nodes if n.op not in ("var", "const")] == ["log", "mul"]


@pytest.mark.parametrize("written, meant", [("SIN", "sin"), ("Sin", "sin"), ("TANH", "tanh"),
                                            ("LN", "ln"), ("Exp", "exp"), ("ReLU", "relu")])
def test_a_function_in_capitals_suggests_its_name(written, meant):
    error = error_of(f"{written}(x)", x=1)
    assert error.kind == "unknown_function"
    assert f"did you mean '{meant}'?" in error.hint


@pytest.mark.parametrize("program, column, written", [
    ("2x", 2, "2*x"),
    ("2(x+1)", 2, "2*(x+1)"),
    ("(x+1)(x-1)", 6, "(x+1)*(x-1)"),
    ("3 sin(x)", 3, "3*sin(x)"),
    ("x²y", 3, "x²*y"),
    ("1 + 2.5x", 8, "2.5*x"),
    ("10x", 3, "10*x"),
])
def test_implicit_multiplication_says_how_to_write_it(program, column, written):
    error = error_of(program, x=1, y=2)
    assert error.kind == "syntax"
    assert (error.line, error.column) == (1, column)
    assert error.hint == f"adiff has no implicit multiplication: write {written}"
    caret = str(error).splitlines()
    assert caret[caret.index("  " + program) + 1] == "  " + " " * (column - 1) + "^"


def test_a_name_before_parentheses_is_not_taken_for_a_function_silently():
    error = error_of("x(x+1)", x=1)
    assert error.kind == "unknown_function"
    assert "no implicit multiplication: write x*(" in error.hint


def test_two_statements_on_one_line_say_how_to_separate_them():
    assert "separated by new lines or ';'" in error_of("x = 2 y = 3").hint


@pytest.mark.parametrize("program, inside", [("|x|", "x"), ("|x - y| + 1", "x - y"), ("2*|x", "x")])
def test_bars_suggest_abs(program, inside):
    error = error_of(program, x=1, y=2)
    assert error.hint == f"for an absolute value, write abs({inside})"


def test_the_suggestions_reach_the_command_line():
    result = run("eval", "2x", "--x", "3")
    assert result.exit_code == 2
    assert "write 2*x" in result.stderr and "^" in result.stderr


# ---- max and min of many arguments ---------------------------------------------------------

@pytest.mark.parametrize("function, pick", [("max", max), ("min", min)])
def test_max_and_min_take_two_or_more_arguments(function, pick):
    values = {"a": 0.5, "b": -2.0, "c": 3.0, "d": 1.0}
    trace = autodiff_cli.evaluate(f"{function}(a, b, c, d) * 2", **values)
    assert trace.value == 2 * pick(values.values())
    chosen = pick(values, key=values.get)
    assert trace.gradient() == {name: (2.0 if name == chosen else 0.0) for name in values}
    # folded into binary nodes: the op table keeps one entry of arity 2
    ops = [n for n in trace.graph.nodes if n.op == function]
    assert len(ops) == 3 and all(len(n.inputs) == 2 for n in ops)


@pytest.mark.parametrize("program", ["max(x)", "min(x)", "max()"])
def test_max_and_min_of_fewer_than_two_are_errors(program):
    error = error_of(program, x=1)
    assert error.kind == "arity"
    assert "two or more arguments" in error.message
