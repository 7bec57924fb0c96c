"""A catalogue of hostile and odd inputs (issue 4, section 2), each a test.

Structure, characters, numbers and bindings, numerics at the edges (with the
documented answers of docs/hardening.md, which match PyTorch), and output
that cannot be written.  Every case ends in a result or a clear error with
the right exit code: never a traceback or a hang.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time

import pytest

import autodiff_cli
from autodiff_cli import AdiffError
from support import ADIFF, cli, interruptible, run

inf, nan = math.inf, math.nan


def error_of(program: str, bindings=None) -> AdiffError:
    with pytest.raises(AdiffError) as caught:
        autodiff_cli.evaluate(program, bindings or {})
    return caught.value


# ---- structure ------------------------------------------------------------------------

def test_100000_nested_parentheses():
    trace = autodiff_cli.evaluate("(" * 100_000 + "x" + ")" * 100_000, x=3)
    assert trace.value == 3 and trace.gradient() == {"x": 1.0}


def test_100000_unclosed_parentheses_end_too_soon():
    error = error_of("(" * 100_000 + "x", {"x": 1})
    assert error.kind == "syntax" and "ends too soon" in error.message
    assert "')'" in error.message


def test_100000_unary_minus_signs():
    trace = autodiff_cli.evaluate("-" * 100_000 + "x", x=2)
    assert trace.value == 2 and trace.gradient() == {"x": 1.0}
    trace = autodiff_cli.evaluate("-" * 100_001 + "x", x=2)
    assert trace.value == -2 and trace.gradient() == {"x": -1.0}


def test_unary_minus_signs_on_a_number_fold_into_a_constant():
    trace = autodiff_cli.evaluate("-" * 100_001 + "2")
    assert trace.value == -2 and len(trace.graph.nodes) == 1


@pytest.mark.slow
def test_1000000_unary_minus_signs(tmp_path):
    """About 8 s on the reference machine (Lark's lexer and parser: ~6 us per
    token); 1,000,001 nodes.  Marked slow: run with --run-slow."""
    path = tmp_path / "minus.adiff"
    path.write_text("-" * 1_000_000 + "x")
    outcome = run("eval", "-f", str(path), "--x", "2", "--json", timeout=600)
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["value"] == 2.0


def test_a_10_MB_program_file_of_comments_and_blank_lines(tmp_path):
    path = tmp_path / "big.adiff"
    line = "# " + "c" * 97 + "\n"
    with open(path, "w") as f:
        f.write("a = 2\n")
        for _ in range(10 * 1024 * 1024 // len(line) + 1):
            f.write(line)
        f.write("a * x\n")
    assert path.stat().st_size >= 10 * 1024 * 1024
    outcome = run("eval", "-f", str(path), "--x", "3", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["value"] == 6.0


def test_a_10_MB_program_file_with_an_error_at_the_end(tmp_path):
    path = tmp_path / "big.adiff"
    path.write_text("y = x\n" + ("# " + "c" * 97 + "\n") * 110_000 + "y $")
    outcome = run("eval", "-f", str(path), "--x", "0")
    assert outcome.exit_code == 2
    assert f"{path}:110002:3:" in outcome.stderr and "'$'" in outcome.stderr   # FILE:LINE:COLUMN


@pytest.mark.slow
def test_a_10_MB_program_of_a_million_statements_with_an_error_at_the_end(tmp_path):
    """About 40 s: 3 million tokens through Lark.  Run with --run-slow."""
    path = tmp_path / "big.adiff"
    path.write_text(("x = x + 1\n" * (1024 * 1024)) + "x $")
    outcome = run("eval", "-f", str(path), "--x", "0", timeout=600)
    assert outcome.exit_code == 2
    assert f"{path}:1048577:3:" in outcome.stderr and "'$'" in outcome.stderr


@pytest.mark.slow
def test_a_10_MB_program_of_terms(tmp_path):
    """~600,000 terms, ~1.8 million nodes: tens of seconds.  Run with --run-slow."""
    path = tmp_path / "terms.adiff"
    terms = [f"sin(x*{i}+w)" for i in range(1, 10**6)]
    text, size = [], 0
    for term in terms:
        if size > 10 * 1024 * 1024:
            break
        text.append(term)
        size += len(term) + 1
    path.write_text("+".join(text))
    outcome = run("eval", "-f", str(path), "--x", "0.5", "--w", "0.1", "--json", timeout=900)
    assert outcome.exit_code == 0, outcome.stderr


def test_a_name_100000_characters_long():
    name = "a" * 100_000
    trace = autodiff_cli.evaluate(f"{name} * 2 + {name}", {name: 3})
    assert trace.value == 9 and trace.gradient() == {name: 3.0}
    outcome = cli("eval", f"{name}*2", f"--{name}", "3", "--json")
    assert outcome.exit_code == 0 and json.loads(outcome.stdout)["value"] == 6.0


def test_an_unbound_name_100000_characters_long_gives_a_short_error():
    error = error_of("a" * 100_000 + " + 1")
    assert error.kind == "unbound"
    assert all(len(line) <= 100 for line in str(error).split("\n"))


def test_10000_distinct_inputs():
    names = [f"x{i}" for i in range(10_000)]
    program = "+".join(f"{n}*{n}" for n in names)
    trace = autodiff_cli.evaluate(program, {n: i for i, n in enumerate(names)})
    assert trace.value == sum(i * i for i in range(10_000))
    assert trace.gradient()["x9999"] == 2 * 9999
    bindings = [word for i, n in enumerate(names) for word in (f"--{n}", str(i))]
    outcome = cli("eval", program, *bindings, "--json")
    assert outcome.exit_code == 0 and len(json.loads(outcome.stdout)["gradient"]) == 10_000


def test_10000_unbound_inputs_are_listed_within_a_screen():
    outcome = cli("eval", "+".join(f"x{i}" for i in range(10_000)))
    assert outcome.exit_code == 2
    assert "and 9995 more" in outcome.stderr
    assert len(outcome.stderr.splitlines()) <= 24


@pytest.mark.parametrize("program", ["", "   ", "\n\n", "# only a comment", "# one\n# two\n",
                                     ";", ";;;", "; ; \n ;", "\ufeff", "\r\n\r\n"])
def test_an_empty_program_is_an_error(program):
    error = error_of(program)
    assert error.kind == "empty" and error.exit_code == 2
    outcome = cli("eval", "--json", "--", program) if program else cli("eval", program, "--json")
    assert outcome.exit_code == 2
    assert json.loads(outcome.stdout)["error"]["kind"] in ("empty", "usage")


@pytest.mark.parametrize("program, kind, where, words", [
    ("x =", "syntax", (1, 4), "ends too soon"),
    ("x = \n", "syntax", (1, 5), "expected a number, a name or '('"),
    ("2 = x", "syntax", (1, 3), "unexpected '='"),
    ("x + 1 = 3", "syntax", (1, 7), "unexpected '='"),
    ("sin()", "arity", (1, 1), "sin takes 1 argument, got 0"),
    ("sin(x, x)", "arity", (1, 1), "sin takes 1 argument, got 2"),
    ("atan2(x)", "arity", (1, 1), "atan2 takes 2 arguments, got 1"),
    ("max(x)", "arity", (1, 1), "max takes two or more arguments, got 1"),
    ("pow()", "arity", (1, 1), "pow takes 2 arguments, got 0"),
    ("sinn(x)", "unknown_function", (1, 1), "unknown function 'sinn'"),
    ("y = 1\nx(2)", "unknown_function", (2, 1), "unknown function 'x'"),
])
def test_structural_mistakes_are_clear_errors(program, kind, where, words):
    error = error_of(program, {"x": 1})
    assert error.kind == kind and error.exit_code == 2
    assert (error.line, error.column) == where
    assert words in error.message


def test_assigning_to_a_number_suggests_a_name():
    assert "only a name can be assigned" in error_of("2 = x", {"x": 1}).hint


def test_an_unknown_function_suggests_the_nearest():
    assert error_of("sinn(x)", {"x": 1}).hint == "did you mean 'sin'?"


# ---- characters ------------------------------------------------------------------------

def test_crlf_line_endings_are_accepted():
    assert autodiff_cli.evaluate("a = 2\r\nb = a * x\r\nb + 1\r\n", x=3).value == 7


def test_a_byte_order_mark_is_accepted_in_text_a_file_and_standard_input(tmp_path):
    assert autodiff_cli.evaluate("\ufeffx * 2", x=3).value == 6
    path = tmp_path / "bom.adiff"
    path.write_bytes(b"\xef\xbb\xbfx * 2\r\n")
    for outcome in (cli("eval", "-f", str(path), "--x", "3", "--json"),
                    cli("eval", "-", "--x", "3", "--json", input=b"\xef\xbb\xbfx * 2\r\n")):
        assert outcome.exit_code == 0, outcome.stderr
        assert json.loads(outcome.stdout)["value"] == 6.0


def test_a_byte_order_mark_does_not_shift_error_columns():
    assert (error_of("\ufeffx $", {"x": 1}).column) == 3


@pytest.mark.parametrize("program", ["x\t*\t2", "\tx * 2", "x * 2\t", "x\f*\v2", "x = 1\t# c\t\n\tx*2"])
def test_tabs_and_other_blanks_are_accepted(program):
    assert autodiff_cli.evaluate(program, x=1).value == 2


@pytest.mark.parametrize("program, where, shown", [
    ("x +\x00 1", (1, 4), "U+0000"),
    ("x\n+ 1\x1b[31m", (2, 4), "U+001B"),
    ("x + \x07", (1, 5), "U+0007"),
    ("x + 1\n\x7f", (2, 1), "U+007F"),
    ("x \u200b+ 1", (1, 3), "U+200B ZERO WIDTH SPACE"),
    ("x +\u00a01", (1, 4), "U+00A0 NO-BREAK SPACE"),
    ("x\u2028+1", (1, 2), "U+2028"),
])
def test_control_and_invisible_characters_are_errors_naming_the_position(program, where, shown):
    error = error_of(program, {"x": 1})
    assert error.kind == "syntax" and (error.line, error.column) == where
    assert shown in error.message
    assert "^" in str(error)


def test_nul_bytes_in_a_file_and_on_standard_input(tmp_path):
    path = tmp_path / "nul.adiff"
    path.write_bytes(b"x *\x00 2")
    for outcome, where in ((cli("eval", "-f", str(path), "--x", "1"), f"{path}:1:4:"),
                           (cli("eval", "-", "--x", "1", input=b"x *\x00 2"), "line 1, column 4:")):
        assert outcome.exit_code == 2
        assert where in " ".join(outcome.stderr.split()) and "U+0000" in outcome.stderr


@pytest.mark.parametrize("data, where, byte", [
    (b"x + \xff", (1, 5), "byte 5, 0xff"),
    (b"x = 1\ny = \xc3(", (2, 5), "byte 11, 0xc3"),
    (b"\xef\xbb\xbfx\xed\xa0\x80", (1, 5), "0xed"),  # an encoded surrogate
])
def test_invalid_utf8_on_standard_input_and_in_a_file(tmp_path, data, where, byte):
    path = tmp_path / "bad.adiff"
    path.write_bytes(data)
    for outcome, source in ((cli("eval", "-", "--x", "1", "--json", input=data), "standard input"),
                            (cli("eval", "-f", str(path), "--x", "1", "--json"), str(path))):
        assert outcome.exit_code == 2
        error = json.loads(outcome.stdout)["error"]
        assert error["kind"] == "encoding" and (error["line"], error["column"]) == where
        assert f"{source} is not valid UTF-8" in error["message"] and byte in error["message"]
        assert outcome.stderr.startswith("adiff: error: ")


@pytest.mark.parametrize("program, value", [
    ("x − 1", 2.0),             # U+2212 MINUS SIGN
    ("x × 2", 6.0), ("x ⋅ 2", 6.0), ("x · 2", 6.0),
    ("x ÷ 2", 1.5),
    ("x²", 9.0), ("x³", 27.0), ("x⁻¹", 1 / 3), ("(x⋅2+1−3)²", 16.0),
])
def test_documented_unicode_operators_are_accepted(program, value):
    assert autodiff_cli.evaluate(program, x=3).value == pytest.approx(value)


@pytest.mark.parametrize("program, character, hint", [
    ("x ‐ 1", "U+2010 HYPHEN", "-"), ("x – 1", "U+2013 EN DASH", "-"), ("x — 1", "U+2014 EM DASH", "-"),
    ("x ∗ 2", "U+2217 ASTERISK OPERATOR", "*"), ("x ✕ 2", "U+2715", "*"), ("x ⨉ 2", "U+2A09", "*"),
    ("x ＋ 2", "U+FF0B FULLWIDTH PLUS SIGN", "+"), ("x ∕ 2", "U+2215 DIVISION SLASH", "/"),
    ("x ＝ 2", "U+FF1D FULLWIDTH EQUALS SIGN", "="), ("sin（x)", "U+FF08", "("),
    ("x ‸ 2", "U+2038 CARET", "^"),
])
def test_lookalike_characters_that_are_not_operators_are_errors_with_a_hint(program, character, hint):
    error = error_of(program, {"x": 1})
    assert error.kind == "syntax" and character in error.message
    assert error.hint == f"did you mean '{hint}'?"


@pytest.mark.parametrize("program", ["x ＄ 2", "x ∑ 2", "x 😀", "x @ 2", "x ! ", "x & y", "x'"])
def test_other_stray_characters_are_errors_naming_the_character(program):
    error = error_of(program, {"x": 1, "y": 1})
    assert error.kind == "syntax" and error.message.startswith("unexpected character")
    assert error.column == 3 or (program == "x'" and error.column == 2)


# ---- numbers and bindings ------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("nan", nan), ("NaN", nan), ("inf", inf), ("-inf", -inf), ("+inf", inf), ("Infinity", inf),
    ("-Infinity", -inf), ("1e999", inf), ("-1e999", -inf),
])
def test_non_finite_bindings_are_accepted_with_a_warning(text, value):
    outcome = cli("eval", "x * 1", "--x", text, "--json")
    assert outcome.exit_code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    shown = {"NaN": nan, "Infinity": inf, "-Infinity": -inf}[document["inputs"]["x"]]
    assert shown == value or (value != value and shown != shown)
    assert "adiff: warning: input x is" in outcome.stderr
    assert any(w["kind"] == "binding" for w in document["warnings"])
    # --x=VALUE and --var x=VALUE say the same
    assert cli("eval", "x * 1", f"--x={text}", "--json").stdout == outcome.stdout
    assert cli("eval", "x * 1", "--var", f"x={text}", "--json").stdout == outcome.stdout


def test_1e999_is_infinity_with_a_warning():
    outcome = cli("eval", "x", "--x", "1e999")
    assert outcome.exit_code == 0 and "input x is inf" in outcome.stderr


def test_strict_makes_a_non_finite_binding_fail():
    outcome = cli("eval", "x", "--x", "nan", "--strict")
    assert outcome.exit_code == 1 and "input x is NaN" in outcome.stderr


@pytest.mark.parametrize("text, hint", [
    ("0x10", "write the number in decimal"), ("0b101", "write the number in decimal"),
    ("1,5", "use a decimal point: --x 1.5"), ("-2,25", "use a decimal point: --x -2.25"),
    ("", "give a number: --x 1"), ("  ", "give a number: --x 1"),
    ("1_000", "a value is a decimal number"), ("two", "a value is a decimal number"),
    ("١", "a value is a decimal number"), ("1e", "a value is a decimal number"),
    ("-", "a value is a decimal number"), ("nanx", "a value is a decimal number"),
])
def test_bindings_that_are_not_numbers_are_errors_with_a_hint(text, hint):
    outcome = cli("eval", "x", "--x", text, "--json")
    assert outcome.exit_code == 2, outcome
    error = json.loads(outcome.stdout)["error"]
    assert error["kind"] == "binding" and error["message"].startswith("--x:")
    assert hint in error["hint"]


@pytest.mark.parametrize("args", [
    ["--x", "1", "--x", "2"], ["--x=1", "--x", "2"], ["--x", "1", "--var", "x=2"],
    ["--var", "x=1", "--var", "x=2"],
])
def test_the_same_name_bound_twice_is_an_error(args):
    outcome = cli("eval", "x", *args)
    assert outcome.exit_code == 2 and "x is bound twice" in outcome.stderr


def test_a_binding_the_program_does_not_use_is_a_warning():
    outcome = cli("eval", "x", "--x", "1", "--xx", "2")
    assert outcome.exit_code == 0
    assert "adiff: warning: --xx is bound but the program has no input xx; did you mean x?" in outcome.stderr


def test_a_binding_without_a_value_is_an_error():
    outcome = cli("eval", "x", "--x")
    assert outcome.exit_code == 2 and "--x has no value" in outcome.stderr


@pytest.mark.parametrize("value", ["-2", "-0.5", "-inf", "-1e999", "-.5", "-nan"])
def test_negative_binding_values_stay_with_their_name(value):
    """`-inf` reads like Click's short options -i -n -f, and -f is --file."""
    outcome = cli("eval", "x * 1", "--x", value, "--json")
    assert outcome.exit_code == 0, outcome.stderr
    assert "x" in json.loads(outcome.stdout)["inputs"]


def test_a_negative_value_before_the_program_and_with_a_file(tmp_path):
    path = tmp_path / "p.adiff"
    path.write_text("x * 2")
    assert json.loads(cli("eval", "--x", "-inf", "x*2", "--json").stdout)["value"] == "-Infinity"
    assert json.loads(cli("eval", "-f", str(path), "--x", "-inf", "--json").stdout)["value"] == "-Infinity"


# ---- numerics at the edges -----------------------------------------------------------------
# (program, bindings, value, gradient by input, warning kinds): the documented
# answers of docs/hardening.md; each matches PyTorch's float64 result.

EDGES = [
    ("0^0", {}, 1.0, {}, []),
    ("x^y", {"x": 0, "y": 0}, 1.0, {"x": 0.0, "y": 0.0}, []),
    ("0^-1", {}, inf, {}, ["non-finite"]),
    ("x^y", {"x": 0, "y": -1}, inf, {"x": -inf, "y": -inf}, ["non-finite", "gradient", "gradient"]),
    ("(-8)^(1/3)", {}, nan, {}, ["non-finite"]),
    ("x^(1/3)", {"x": -8}, nan, {"x": nan}, ["non-finite", "gradient"]),
    ("sqrt(x)", {"x": 0}, 0.0, {"x": inf}, ["gradient"]),
    ("log(x)", {"x": 0}, -inf, {"x": inf}, ["non-finite", "gradient"]),
    ("log(x)", {"x": -1}, nan, {"x": -1.0}, ["non-finite"]),
    ("asin(x)", {"x": 2}, nan, {"x": nan}, ["non-finite", "gradient"]),
    # PyTorch 2.13 (float64 autograd) gives 0 for both partials at the origin
    ("atan2(y, x)", {"y": 0, "x": 0}, 0.0, {"y": 0.0, "x": 0.0}, ["kink"]),
    # a mask (relu, max, min, sign, step) stops even a NaN or infinite gradient, as in PyTorch
    ("relu(x) * 1e308 * 1e308", {"x": -1}, 0.0, {"x": 0.0}, ["gradient"]),
    ("max(x, log(y))", {"x": 1, "y": -1}, nan, {"x": 1.0, "y": -1.0}, ["non-finite"]),
    ("tan(pi/2)", {}, 1.633123935319537e16, {}, []),
    ("tan(x)", {"x": math.pi / 2}, 1.633123935319537e16, {"x": 2.6670937881135714e32}, []),
    ("exp(710)", {}, inf, {}, ["non-finite"]),
    ("exp(x)", {"x": 710}, inf, {"x": inf}, ["non-finite", "gradient"]),
    ("1/0", {}, inf, {}, ["non-finite"]),
    ("-1/0", {}, -inf, {}, ["non-finite"]),
    ("0/0", {}, nan, {}, ["non-finite"]),
    ("x/y", {"x": 1, "y": 0}, inf, {"x": inf, "y": -inf}, ["non-finite", "gradient", "gradient"]),
    # a finite value with an infinite gradient
    ("x^(1/3)", {"x": 0}, 0.0, {"x": inf}, ["gradient"]),
    ("acos(x)", {"x": 1}, 0.0, {"x": -inf}, ["gradient"]),
    # overflow in the backward pass only
    ("1e300*log(x)", {"x": 1e-10}, 1e300 * math.log(1e-10), {"x": inf}, ["gradient"]),
    ("9^9^9^9", {}, inf, {}, ["non-finite"]),
    # kinks follow PyTorch
    ("relu(x)", {"x": 0}, 0.0, {"x": 0.0}, ["kink"]),
    ("abs(x)", {"x": 0}, 0.0, {"x": 0.0}, ["kink"]),
    ("max(x, y)", {"x": 1, "y": 1}, 1.0, {"x": 0.5, "y": 0.5}, ["kink"]),
]


def _same(a: float, b: float) -> bool:
    return (a != a and b != b) or a == b


@pytest.mark.parametrize("program, bindings, value, gradient, warnings", EDGES,
                         ids=[f"{p} at {b}" if b else p for p, b, *_ in EDGES])
def test_numerics_at_the_edges(program, bindings, value, gradient, warnings):
    trace = autodiff_cli.evaluate(program, bindings)
    assert _same(trace.value, value), trace.value
    got = trace.gradient()
    assert got.keys() == gradient.keys() and all(_same(got[k], gradient[k]) for k in got), got
    assert [w.kind for w in trace.warnings] == warnings, trace.warnings


def test_numerics_at_the_edges_in_strict_json():
    outcome = cli("eval", "x/y", "--x", "0", "--y", "0", "--json")
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout, parse_constant=lambda c: pytest.fail(c))
    assert document["value"] == "NaN" and document["gradient"] == {"x": "Infinity", "y": "NaN"}


def test_non_finite_warnings_name_the_node_and_the_reason():
    messages = [w.message for w in autodiff_cli.evaluate("log(x) + sqrt(y)", x=0, y=-1).warnings]
    assert "node 1 (log(x)) is -inf: log of zero" in messages
    assert "node 3 (sqrt(y)) is NaN: square root of a negative number" in messages


# ---- output ------------------------------------------------------------------------------------

def _program(tmp_path_factory, terms: int):
    path = tmp_path_factory.mktemp("big") / f"sum{terms}.adiff"
    path.write_text("+".join(f"sin(x*{i}+w)" for i in range(1, terms + 1)))
    return path


@pytest.fixture(scope="module")
def big_program(tmp_path_factory):
    """Big enough that its evaluation takes a few seconds (300,000 nodes)."""
    return _program(tmp_path_factory, 100_000)


@pytest.fixture(scope="module")
def table_program(tmp_path_factory):
    """Big enough that its table (~10,000 rows, ~400 KB) or JSON (~1 MB)
    outlasts a pipe's buffer.
    Rich draws about 2,000 rows a second, so the table test stays small."""
    return _program(tmp_path_factory, 2_000)


@pytest.mark.parametrize("as_json", [True, False])
def test_a_reader_that_goes_away_ends_quietly(table_program, as_json):
    """`adiff eval ... --json | head -c 10`: no BrokenPipeError traceback.
    The exit status is 0 or 1: CPython may report a write cut short by the
    closed pipe as a success, or raise the broken pipe, which adiff turns into 1."""
    program = table_program
    command = " ".join([*map(_quote, ADIFF), "eval", "-f", _quote(str(program)),
                        "--x", "1", "--w", "2", *(["--json"] if as_json else [])])
    done = subprocess.run(["bash", "-c", f"{command} 2>stderr.txt | head -c 10; "
                           "echo; echo ${PIPESTATUS[0]}"],
                          capture_output=True, text=True, cwd=program.parent, timeout=300)
    head, status = done.stdout.rsplit("\n", 2)[:2]
    assert head == ("{\n  \"schem" if as_json else head) and len(head) == 10
    assert status in ("0", "1")
    assert (program.parent / "stderr.txt").read_text() == ""


def _quote(word: str) -> str:
    import shlex
    return shlex.quote(word)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["x", "--x", "1"], ["x", "--x", "1", "--json"],
                                  ["x y", "--json"]])
def test_a_full_disk_is_a_clear_error(args):
    with open("/dev/full", "w") as full:
        done = subprocess.run([*ADIFF, "eval", *args], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert "adiff: error: cannot write the output: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["x", "--x", "1"], ["x", "--x", "1", "--json"], ["x y", "--json"]])
def test_a_closed_standard_output_is_a_clear_error(args):
    done = subprocess.run([*ADIFF, "eval", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, timeout=60, preexec_fn=lambda: os.close(1))
    assert done.returncode == 1
    assert "cannot write the output: standard output is closed" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    for path in (tmp_path / "missing.adiff", tmp_path):
        outcome = cli("eval", "-f", str(path))
        # long messages wrap at 100 columns: compare the words
        words = " ".join(outcome.stderr.split())
        assert outcome.exit_code == 2 and words.startswith(f"adiff: error: cannot read {path}")


def test_ctrl_c_during_a_long_evaluation_exits_130_with_one_line(big_program):
    process = interruptible([*ADIFF, "eval", "-f", str(big_program), "--x", "1", "--w", "2",
                                "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "NO_COLOR": "1"})
    time.sleep(1.5)  # past start-up, into parsing or evaluation (not a timing assertion)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.decode() == "adiff: interrupted\n"
    assert stdout == b""
