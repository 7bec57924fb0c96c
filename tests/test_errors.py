"""Errors stay useful (issue 4, section 5).

Every error in the catalogue fits one screen (at most 24 lines of at most
100 characters, even for a 100,000-character line), names what was wrong and
where (line and column, with a caret, for text), suggests the fix where there
is an obvious one, and with --json also comes as a JSON `error` object on
standard output.  Internal errors are one line asking for a report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from autodiff_cli.ops import OPS
from support import ROOT, cli

LONG_NAME = "n" * 100_000

# (id, arguments, standard input, exit code, kind, (line, column) or None,
#  the character the caret points at or None, words the hint must hold or None)
CATALOGUE = [
    ("ends-too-soon", ["x +", "--x", "1"], None, 2, "syntax", (1, 4), None, None),
    ("assign-to-number", ["2 = x", "--x", "1"], None, 2, "syntax", (1, 3), "=", "only a name"),
    ("stray-character", ["x $ y", "--x", "1"], None, 2, "syntax", (1, 3), "$", None),
    ("third-line", ["a = 1\nb = 2\nc = a ++* b"], None, 2, "syntax", (3, 9), "*", None),
    ("long-line", ["x+" * 50_000 + "$", "--x", "1"], None, 2, "syntax", (1, 100_001), "$", None),
    ("long-line-middle", ["x+" * 25_000 + "$" + "+x" * 25_000, "--x", "1"], None, 2, "syntax",
     (1, 50_001), "$", None),
    ("long-name", [LONG_NAME + " " + LONG_NAME], None, 2, "syntax", (1, 100_002), "n", None),
    ("nul", ["-", "--x", "1"], b"x *\x00 2", 2, "syntax", (1, 4), None, None),
    ("control", ["x +\x1b 1", "--x", "1"], None, 2, "syntax", (1, 4), None, None),
    ("lookalike", ["x ‐ 1", "--x", "1"], None, 2, "syntax", (1, 3), "‐", "did you mean '-'"),
    ("invalid-utf8", ["-", "--x", "1"], b"x + \xff", 2, "encoding", (1, 5), None, None),
    ("unknown-function", ["sinn(x)", "--x", "1"], None, 2, "unknown_function", (1, 1), "s",
     "did you mean 'sin'"),
    ("unknown-function-far", ["A(x)", "--x", "1"], None, 2, "unknown_function", (1, 1), "A",
     "functions: abs"),
    ("too-few-arguments", ["atan2(x)", "--x", "1"], None, 2, "arity", (1, 1), "a", None),
    ("too-many-arguments", ["sin(x, x)", "--x", "1"], None, 2, "arity", (1, 1), "s", None),
    ("unbound", ["x + y*z"], None, 2, "unbound", (1, 1), "x", "--x 1 --y 1 --z 1"),
    ("unbound-10000", ["+".join(f"x{i}" for i in range(10_000))], None, 2, "unbound", (1, 1), "x",
     "and 9995 more"),
    ("unbound-long-name", [LONG_NAME], None, 2, "unbound", (1, 1), "n", "bind with"),
    ("empty", [""], None, 2, "empty", None, None, "give an expression"),
    ("only-comments", ["# nothing\n;"], None, 2, "empty", None, None, "give an expression"),
    ("comma-number", ["x", "--x", "1,5"], None, 2, "binding", None, None, "--x 1.5"),
    ("hex-number", ["x", "--x", "0x10"], None, 2, "binding", None, None, "decimal"),
    ("empty-binding", ["x", "--x", ""], None, 2, "binding", None, None, "--x 1"),
    ("bound-twice", ["x", "--x", "1", "--x", "2"], None, 2, "binding", None, None, "once"),
    ("no-value", ["x", "--x"], None, 2, "binding", None, None, "--x 1"),
    ("bad-name", ["x", "--x", "1", "--1x", "2"], None, 2, "binding", None, None, "letter"),
    ("bad-var", ["x", "--x", "1", "--var", "y"], None, 2, "binding", None, None, "--var json=2"),
    ("extra-argument", ["x", "y", "--x", "1"], None, 2, "usage", None, None, "quote the program"),
    ("wrt-unknown", ["x", "--x", "1", "--wrt", "q"], None, 2, "usage", None, None, "its inputs: x"),
    ("too-large", ["x+x*2+x*3", "--x", "1", "--max-nodes", "3"], None, 2, "too_large", None, None,
     "--max-nodes N"),
    ("strict", ["log(x)", "--x", "0", "--strict"], None, 1, "strict", None, None, "--strict"),
]


def _invoke(args, stdin, as_json):
    return cli("eval", *args, *(["--json"] if as_json else []), input=stdin)


def _screen(stderr: str) -> list[str]:
    lines = stderr.rstrip("\n").split("\n")
    assert len(lines) <= 24, f"{len(lines)} lines"
    assert all(len(line) <= 100 for line in lines), max(map(len, lines))
    return lines


@pytest.mark.parametrize("name, args, stdin, code, kind, where, at, hint", CATALOGUE,
                         ids=[case[0] for case in CATALOGUE])
def test_every_error_fits_a_screen_and_names_what_and_where(name, args, stdin, code, kind, where, at, hint):
    outcome = _invoke(args, stdin, as_json=False)
    assert outcome.exit_code == code
    assert outcome.stdout == ""
    lines = _screen(outcome.stderr)
    assert lines[0].startswith("adiff: error: ")
    if where is not None:
        line, column = where
        assert lines[0].startswith(f"adiff: error: line {line}, column {column}: ")
        carets = [i for i, text in enumerate(lines) if text.strip() == "^"]
        if kind != "encoding":  # undecodable bytes have no text to show
            assert len(carets) == 1, lines
            excerpt, caret = lines[carets[0] - 1], lines[carets[0]]
            if at is not None:
                assert excerpt[caret.index("^")] == at, (excerpt, caret)
    if hint is not None:
        assert hint in outcome.stderr


@pytest.mark.parametrize("name, args, stdin, code, kind, where, at, hint", CATALOGUE,
                         ids=[case[0] for case in CATALOGUE])
def test_every_error_is_a_json_error_object_with_json(name, args, stdin, code, kind, where, at, hint):
    outcome = _invoke(args, stdin, as_json=True)
    assert outcome.exit_code == code
    document = json.loads(outcome.stdout)
    assert document["schema"] == 1 and set(document) == {"schema", "error"}
    error = document["error"]
    assert set(error) == {"kind", "message", "line", "column", "hint"}
    assert error["kind"] == kind and error["message"]
    if where is not None:
        assert (error["line"], error["column"]) == where
    if hint is not None:
        assert hint in error["hint"]
    # the same error on standard error, for a person
    assert outcome.stderr.startswith("adiff: error: ")


def test_a_caret_at_the_end_when_the_program_ends_too_soon():
    lines = cli("eval", "sin(x", "--x", "1").stderr.split("\n")
    assert lines[1] == "  sin(x" and lines[2] == "       ^"


def test_tabs_before_the_error_keep_the_caret_aligned():
    lines = cli("eval", "\tx\t$", "--x", "1").stderr.split("\n")
    assert lines[2].index("^") == 5 and lines[1][5] == "$"


# ---- internal errors -----------------------------------------------------------------------------

def _broken(message: str = "a bug\nover two lines " + "x" * 200):
    def forward(x):
        raise ZeroDivisionError(message)
    return dataclasses.replace(OPS["sin"], forward=forward)


@pytest.mark.parametrize("as_json", [False, True])
def test_an_internal_error_is_one_line_asking_for_a_report(monkeypatch, as_json):
    monkeypatch.delenv("ADIFF_DEBUG", raising=False)
    monkeypatch.setitem(OPS, "sin", _broken())
    outcome = cli("eval", "sin(x)", "--x", "1", *(["--json"] if as_json else []))
    assert outcome.exit_code == 1
    assert outcome.stderr.count("\n") == 1, outcome.stderr
    line = outcome.stderr.rstrip("\n")
    assert line.startswith("adiff: error: internal error (ZeroDivisionError: a bug over two lines")
    assert "this is a bug in adiff, please report it" in line
    assert "ADIFF_DEBUG=1" in line and len(line) <= 200
    if as_json:
        assert json.loads(outcome.stdout)["error"]["kind"] == "internal"


_FAULT = r"""
import dataclasses, sys
from autodiff_cli import ops
def forward(x):
    raise ZeroDivisionError("injected")
ops.OPS["sin"] = dataclasses.replace(ops.OPS["sin"], forward=forward)
from autodiff_cli.cli import run
sys.argv = ["adiff", "eval", "sin(x)", "--x", "1"]
run()
"""


@pytest.mark.parametrize("debug", ["", "1"])
def test_adiff_debug_shows_the_traceback(debug):
    env = {key: value for key, value in os.environ.items() if key != "ADIFF_DEBUG"}
    env.update({"NO_COLOR": "1", "COLUMNS": "100"})
    if debug:
        env["ADIFF_DEBUG"] = debug
    done = subprocess.run([sys.executable, "-c", _FAULT], capture_output=True, text=True, env=env,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 1
    if debug:
        assert "Traceback" in done.stderr and "ZeroDivisionError" in done.stderr
        assert "injected" in done.stderr
    else:
        assert "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch):
    def interrupt(x):
        raise KeyboardInterrupt
    monkeypatch.setitem(OPS, "sin", dataclasses.replace(OPS["sin"], forward=interrupt))
    outcome = cli("eval", "sin(x)", "--x", "1", "--json")
    assert outcome.exit_code == 130 and outcome.stderr == "adiff: interrupted\n"
    assert outcome.stdout == ""


def test_running_out_of_memory_is_a_clear_failure(monkeypatch):
    def exhaust(x):
        raise MemoryError
    monkeypatch.setitem(OPS, "sin", dataclasses.replace(OPS["sin"], forward=exhaust))
    outcome = cli("eval", "sin(x)", "--x", "1", "--json")
    assert outcome.exit_code == 1
    assert json.loads(outcome.stdout)["error"]["kind"] == "too_large"
    assert outcome.stderr.startswith("adiff: error: out of memory")


def _longest_named_characters(count: int) -> list:
    import unicodedata
    named = (chr(code) for code in range(0x110000)
             if unicodedata.name(chr(code), "") and not ("a" + chr(code)).isidentifier())
    return sorted(named, key=lambda char: -len(unicodedata.name(char)))[:count]


@pytest.mark.parametrize("where", ["{}", "x + {}", "x = 1\ny = sin(x) * {} + 2", "{}" + " + x" * 40])
def test_every_message_line_is_bounded_whatever_the_character(where):
    """An unexpected character (one no name can hold) is named by its Unicode
    name, and the longest
    names run past a line: each line of every message stays within 100
    columns (with the "adiff: error: " prefix), the name unbroken in the JSON."""
    import autodiff_cli
    import unicodedata
    for char in _longest_named_characters(40):
        program = where.format(char)
        with pytest.raises(autodiff_cli.AdiffError) as caught:
            autodiff_cli.evaluate(program, x=1)
        lines = str(caught.value).split("\n")
        assert all(len("adiff: error: " + line) <= 100 for line in lines), lines
        assert unicodedata.name(char) in " ".join(" ".join(lines).split())
        outcome = cli("eval", program, "--x", "1")
        assert outcome.exit_code == 2 and all(len(line) <= 100 for line in outcome.stderr.splitlines())
        assert unicodedata.name(char) in caught.value.message


def test_a_long_hint_or_clause_is_wrapped_at_spaces():
    from autodiff_cli.errors import AdiffError
    error = AdiffError("usage", "a clause " * 30, hint="and a hint " * 30)
    lines = str(error).split("\n")
    assert all(len(line) <= 86 for line in lines), lines
    assert " ".join(" ".join(lines).split()) == " ".join(("a clause " * 30 + "and a hint " * 30).split())


# ---- the Python API: bad values are AdiffError, never a bare Python error (issue 20) ----------

import autodiff_cli  # noqa: E402
from autodiff_cli import AdiffError, differentiate, evaluate, hessian  # noqa: E402


@pytest.mark.parametrize("call, kind, words", [
    (lambda: evaluate("x", x="abc"), "binding", "x = 'abc' is not a number"),
    (lambda: evaluate("x", x=None), "binding", "x = None is not a number"),
    (lambda: evaluate("x", x=[1]), "binding", "x = [1] is not a number"),
    (lambda: evaluate("x", x=True), "binding", "x = True is not a number"),
    (lambda: evaluate("x", x=1 + 2j), "binding", "is not a number"),
    (lambda: evaluate("x", {"x": object()}), "binding", "is not a number"),
    (lambda: evaluate("x", [("x", 1)]), "usage", "bindings must be a mapping"),
    (lambda: evaluate("x", {1: 2}), "usage", "a binding's name must be text"),
    (lambda: evaluate(5), "usage", "the program must be text"),
    (lambda: evaluate(None, x=1), "usage", "the program must be text"),
    (lambda: evaluate("x", x=1, max_nodes=0), "usage", "max_nodes must be a whole number"),
    (lambda: evaluate("x", x=1, max_nodes="10"), "usage", "max_nodes must be a whole number"),
    (lambda: differentiate("x^2", order=-1), "usage", "order must be a whole number"),
    (lambda: differentiate("x^2", order=0), "usage", "order must be a whole number"),
    (lambda: differentiate("x^2", order=2.5), "usage", "order must be a whole number"),
    (lambda: differentiate("x^2", order="2"), "usage", "order must be a whole number"),
    (lambda: differentiate("x^2", order=True), "usage", "order must be a whole number"),
    (lambda: differentiate("x^2", max_nodes="z"), "usage", "max_nodes must be a whole number"),
    (lambda: differentiate("x^2", max_nodes=-3), "usage", "max_nodes must be a whole number"),
    (lambda: differentiate("x^2", wrt=5), "usage", "wrt must be an input's name or a list"),
    (lambda: differentiate("x^2", wrt="q"), "usage", "no input q"),
    (lambda: differentiate(3.5), "usage", "the program must be text"),
    (lambda: hessian("x^2", wrt=5), "usage", "wrt must be an input's name or a list"),
    (lambda: hessian("x^2", wrt=[1, 2]), "usage", "wrt must be an input's name or a list"),
    (lambda: hessian("x^2", wrt=["x", "q"]), "usage", "no input q"),
    (lambda: hessian("x^2", max_nodes=0), "usage", "max_nodes must be a whole number"),
    (lambda: autodiff_cli.vectorize("x*y", bindings={"y": "abc"}), "binding", "y = 'abc' is not a number"),
    (lambda: autodiff_cli.vectorize("x*y", bindings={"y": None}), "binding", "y = None is not a number"),
    (lambda: autodiff_cli.vectorize("x*y", bindings=[1]), "usage", "bindings must be a mapping"),
    (lambda: autodiff_cli.vectorize(5), "usage", "the program must be text"),
    (lambda: autodiff_cli.vectorize("x", wrt=5), "usage", "wrt must be an input's name or a list"),
    (lambda: autodiff_cli.vectorize("x", max_nodes="z"), "usage", "max_nodes must be a whole number"),
])
def test_the_api_raises_adiff_error_for_bad_values(call, kind, words):
    with pytest.raises(AdiffError) as caught:
        call()
    assert caught.value.kind == kind and words in str(caught.value)
    assert all(len(line) <= 100 for line in str(caught.value).splitlines())


def test_the_api_takes_numbers_of_every_kind_and_numeric_text():
    import numpy as np
    trace = evaluate("(x*w+b-y)^2", {"x": "2", "w": np.float64(3)}, b=np.int64(1), y=5)
    assert trace.value == 4 and trace.gradient() == {"x": 12, "w": 8, "b": 4, "y": -4}
    assert evaluate("x", x="-inf").value == float("-inf")
    assert evaluate("x", x=10 ** 400).value == float("inf")   # as the command line reads 1e400
    assert set(differentiate("x^2*y", wrt="x, y").outputs) == {(), ("x",), ("y",)}
    assert set(hessian("x*y", wrt=("x", "y")).outputs) >= {("x", "y")}
    assert autodiff_cli.differentiate("x^3", order=np.int64(2)).outputs[("x", "x")] is not None


# ---- an error in a -f FILE program names the file, FILE:LINE:COLUMN (issue 20) ----------------

@pytest.mark.parametrize("command, extra", [
    ("eval", ["--x", "1"]), ("eval", ["--x", "1", "--check"]), ("graph", []), ("explain", ["--x", "1"]),
    ("diff", []), ("plot", ["--x", "0:1"]), ("minimize", ["--x", "1", "--method", "gd"]),
    ("batch", ["points.csv"]),
])
def test_an_error_in_a_program_file_names_the_file(tmp_path, monkeypatch, command, extra):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.csv").write_text("x\n1\n")
    (tmp_path / "model.adiff").write_text("# a model\ny = x * 2\nz = y +\n")
    outcome = cli(command, "-f", "model.adiff", *extra)
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("adiff: error: model.adiff:3:8: "), outcome.stderr
    assert "\n  z = y +\n         ^" in outcome.stderr   # the caret under column 8 still
    if command != "batch":   # batch writes its rows, not a JSON document
        outcome = cli(command, "-f", "model.adiff", *extra, "--json")
        error = json.loads(outcome.stdout)["error"]
        assert (error["file"], error["line"], error["column"]) == ("model.adiff", 3, 8)


def test_an_unbound_input_in_a_program_file_names_the_file(tmp_path):
    program = tmp_path / "loss.adiff"
    program.write_text("p = x * w\np + 1\n")
    outcome = cli("eval", "-f", str(program), "--x", "2")
    assert outcome.exit_code == 2
    # a long path may wrap the line (every line fits a screen): compare its words
    assert " ".join(outcome.stderr.split()).startswith(f"adiff: error: {program}:1:9: no value for input w")


def test_inline_and_standard_input_programs_keep_line_and_column():
    for args, stdin in ((["eval", "y = x *\nz = y"], None), (["eval", "-"], "y = x *\nz = y\n"),
                        (["eval", "-f", "-"], "y = x *\nz = y\n")):
        outcome = cli(*args, input=stdin)
        assert outcome.stderr.startswith("adiff: error: line 1, column 8: "), outcome.stderr
        error = json.loads(cli(*args, "--json", input=stdin).stdout)["error"]
        assert "file" not in error and error["line"] == 1
    # a file read before does not name a later inline program's error
    assert cli("eval", "x *").stderr.startswith("adiff: error: line 1, column 4: ")
