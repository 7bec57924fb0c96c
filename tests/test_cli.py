"""The eval command: bindings, input sources, options, output forms and errors."""

import json
import math

import pytest

import autodiff_cli

SEED = "(x*w+b-y)^2"
POINT = ["--x", "2", "--w", "3", "--b", "1", "--y", "5"]


def gradient(run_cli, *args, **kw):
    code, out, err = run_cli("eval", *args, "--json", **kw)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("args", [
    ["--x", "2", "--y", "-5"], ["--x=2", "--y=-5"], ["--x", "2", "--y=-5"],
    ["--var", "x=2", "--var", "y=-5"], ["--x", "2e0", "--y", "-.5e1"],
])
def test_binding_forms(run_cli, args):
    doc = gradient(run_cli, "x*y", *args)
    assert doc["inputs"] == {"x": 2, "y": -5}
    assert doc["gradient"] == {"x": -5, "y": 2}


@pytest.mark.parametrize("program, args, expected", [
    ("-(f*x)", ["--f", "3", "--x", "1"], {"f": -1, "x": -3}),
    ("-softplus(x)*f", ["--x", "0", "--f", "2"], {"x": -1, "f": -math.log(2)}),
    ("-x^2", ["--x", "-3"], {"x": 6}),
])
def test_programs_that_start_with_a_minus_sign(run_cli, program, args, expected):
    doc = gradient(run_cli, program, *args)
    assert doc["program"] == program
    for name, value in expected.items():
        assert doc["gradient"][name] == pytest.approx(value)
    doc = gradient(run_cli, *args, program)
    assert doc["program"] == program


def test_bindings_before_the_program(run_cli):
    assert gradient(run_cli, "--x", "2", "x^3")["gradient"] == {"x": 12}


def test_var_binds_names_that_clash_with_options(run_cli):
    doc = gradient(run_cli, "json*help + version", "--var", "json=2", "--var", "help=3",
                   "--var", "version=1")
    assert doc["value"] == 7
    assert doc["gradient"] == {"json": 3, "help": 2, "version": 1}


def test_program_from_standard_input(run_cli):
    doc = gradient(run_cli, "-", "--x", "3", input="y = x^2\ny + 1\n")
    assert doc["value"] == 10 and doc["gradient"] == {"x": 6}


def test_program_from_a_file(run_cli, tmp_path):
    path = tmp_path / "p.adiff"
    path.write_text("p = x*w\nL = p^2\n", encoding="utf-8")
    doc = gradient(run_cli, "-f", str(path), "--x", "2", "--w", "3")
    assert doc["value"] == 36 and doc["gradient"] == {"x": 36, "w": 24}
    assert doc["program"] == str(path)
    doc = gradient(run_cli, "--file", str(path), "--x", "2", "--w", "3")
    assert doc["value"] == 36


def test_wrt_limits_the_gradient(run_cli):
    doc = gradient(run_cli, SEED, *POINT, "--wrt", "x,w")
    assert doc["gradient"] == {"x": 12, "w": 8}
    code, out, _ = run_cli("eval", SEED, *POINT, "--wrt", "b")
    assert code == 0
    assert "∂output/∂b" in out and "∂output/∂x" not in out


def test_wrt_an_unknown_input_is_an_error(run_cli):
    code, _, err = run_cli("eval", SEED, *POINT, "--wrt", "z")
    assert code == 2
    assert "no input z" in err and "x, w, b, y" in err


def test_digits(run_cli):
    _, out, _ = run_cli("eval", "pi*x", "--x", "1", "--digits", "3")
    assert "3.14 " in out and "3.142" not in out
    _, out, _ = run_cli("eval", "pi*x", "--x", "1", "--digits", "12")
    assert "3.14159265359" in out


def test_table_has_no_colour_codes_when_not_a_terminal(run_cli, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    _, out, _ = run_cli("eval", SEED, *POINT)
    assert "\x1b[" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_json_non_finite_numbers_are_strings(run_cli):
    code, out, err = run_cli("eval", "log(x) + y/z", "--x", "-1", "--y", "1", "--z", "0", "--json")
    assert code == 0
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert doc["value"] == "NaN"
    assert {n["value"] for n in doc["nodes"]} >= {"NaN", "Infinity"}
    assert "log of a negative number" in err and "division by zero" in err
    kinds = [w["kind"] for w in doc["warnings"]]
    assert "non-finite" in kinds


def test_warnings_go_to_standard_error(run_cli):
    code, out, err = run_cli("eval", "relu(x)", "--x", "0")
    assert code == 0
    assert "warning" in err and "not differentiable" in err
    assert "warning" not in out


def test_strict_turns_warnings_into_failure(run_cli):
    code, out, err = run_cli("eval", "relu(x)", "--x", "0", "--strict", "--json")
    assert code == 1
    assert json.loads(out)["error"]["kind"] == "strict"
    assert run_cli("eval", "relu(x)", "--x", "1", "--strict")[0] == 0


def test_unused_binding_is_a_warning(run_cli):
    code, out, err = run_cli("eval", "x*2", "--x", "1", "--xx", "3", "--json")
    assert code == 0
    assert "--xx" in err and "did you mean x" in err
    assert json.loads(out)["warnings"][0]["kind"] == "binding"


def test_version_and_help(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"adiff {autodiff_cli.__version__}"
    code, out, _ = run_cli("--help")
    assert code == 0 and "eval" in out
    code, out, _ = run_cli("eval", "--help")
    assert code == 0 and "Examples" in out and "--json" in out and "--var" in out


# ---- bad input: one clear message, the right exit code, never a traceback --------

BAD = [
    # args, kind, words that must appear in the message
    (["x*w+", "--x", "1", "--w", "1"], "syntax", ["ends too soon", "expected a number, a name or '('"]),
    (["(x", "--x", "1"], "syntax", ["expected", "')'"]),
    (["x $ 2", "--x", "1"], "syntax", ["unexpected character '$'"]),
    (["sinn(x)", "--x", "1"], "unknown_function", ["sinn", "did you mean 'sin'"]),
    (["sin(x, x)", "--x", "1"], "arity", ["sin takes 1 argument, got 2"]),
    (["atan2(x)", "--x", "1"], "arity", ["atan2 takes 2 arguments, got 1"]),
    (["x*z + q"], "unbound", ["x, z, q", "--x 1 --z 1 --q 1"]),
    (["x", "--x", "two"], "binding", ["--x", "'two' is not a number"]),
    (["x", "--x", "1,5"], "binding", ["1.5"]),
    (["x", "--x"], "binding", ["--x has no value"]),
    (["x", "--x", "1", "--x", "2"], "binding", ["bound twice"]),
    (["-f", "/no/such/file.adiff"], "file", ["cannot read", "/no/such/file.adiff"]),
    (["# only a comment"], "empty", ["empty"]),
    ([""], "empty", ["empty"]),
    (["x", "y", "--x", "1"], "usage", ["unexpected argument"]),
    (["2 = x", "--x", "1"], "syntax", ["unexpected '='"]),
    (["0x10 + y", "--y", "1"], "syntax", ["numbers are written in decimal: 0x10 is 16"]),
]


@pytest.mark.parametrize("args, kind, words", BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_input(run_cli, args, kind, words):
    code, out, err = run_cli("eval", *args)
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("adiff: error:")
    for word in words:
        assert word in err
    assert len(err.splitlines()) <= 12
    # the same through --json: an error document on standard output
    code, out, err = run_cli("eval", *args, "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["kind"] == kind
    assert set(error) >= {"kind", "message", "line", "column"}


def test_syntax_error_shows_the_line_and_a_caret(run_cli):
    code, _, err = run_cli("eval", "a = x*2\nb = a + * 3", "--x", "1")
    assert code == 2
    lines = err.splitlines()
    assert "line 2, column 9" in lines[0]
    assert lines[1] == "  b = a + * 3"
    assert lines[2] == "  " + " " * 8 + "^"


def test_caret_at_the_end_when_the_input_ends_too_soon(run_cli):
    _, out, err = run_cli("eval", "(x*w+b-y)^", "--json")
    error = json.loads(out)["error"]
    assert (error["line"], error["column"]) == (1, 11)
    assert err.splitlines()[2] == "  " + " " * 10 + "^"


def test_unbound_names_point_at_their_first_use(run_cli):
    _, out, _ = run_cli("eval", "a = 1\nb = a*q", "--json")
    error = json.loads(out)["error"]
    assert (error["line"], error["column"]) == (2, 7)


def test_invalid_utf8_on_standard_input_is_an_error(tmp_path, run_cli):
    path = tmp_path / "bad.adiff"
    path.write_bytes(b"x + \xff\xfe")
    code, _, err = run_cli("eval", "-f", str(path), "--x", "1")
    assert code == 2 and "not valid UTF-8" in " ".join(err.split())   # long paths wrap


def test_program_text_is_never_executed(run_cli, tmp_path):
    marker = tmp_path / "pwned"
    code, _, err = run_cli("eval", f"__import__('os').system('touch {marker}')")
    assert code == 2 and "syntax" not in err or "unexpected" in err
    assert not marker.exists()


from support import run  # noqa: E402


# ---- --show-completion SHELL: the script for that shell, whatever shell runs adiff (issue 20) ----

SHELL_SCRIPTS = {"bash": "complete -o default -F _adiff_completion adiff", "zsh": "#compdef adiff",
                 "fish": "complete --command adiff", "powershell": "Register-ArgumentCompleter",
                 "pwsh": "Register-ArgumentCompleter"}


@pytest.mark.parametrize("shell", sorted(SHELL_SCRIPTS))
def test_show_completion_answers_for_the_shell_named(shell):
    for args in (["--show-completion", shell], [f"--show-completion={shell}"]):
        outcome = run(*args)   # a real process, whose own shell is not the one named
        assert outcome.exit_code == 0, outcome.stderr
        assert SHELL_SCRIPTS[shell] in outcome.stdout
        others = {marker for name, marker in SHELL_SCRIPTS.items() if marker != SHELL_SCRIPTS[shell]}
        assert not any(marker in outcome.stdout for marker in others)
        assert "_ADIFF_COMPLETE" in outcome.stdout


def test_show_completion_of_an_unknown_shell_is_a_usage_error():
    outcome = run("--show-completion", "tcsh")
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("adiff: error: --show-completion tcsh: not a shell adiff completes")
    assert "bash, zsh, fish" in outcome.stderr and "Traceback" not in outcome.stderr
