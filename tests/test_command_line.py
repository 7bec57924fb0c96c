"""The command line as a newcomer meets it (issue 10, section 1): options and
bindings told apart, typos caught, help everywhere, every failure in adiff's
words, and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import ADIFF, cli

SEED = "(x*w+b-y)^2"
POINT = ["--x", "2", "--w", "3", "--b", "1", "--y", "5"]


def error_of(outcome) -> str:
    assert outcome.exit_code == 2, (outcome.exit_code, outcome.stdout, outcome.stderr)
    assert outcome.stderr.startswith("adiff: error: "), outcome.stderr
    assert "Traceback" not in outcome.stderr and "Usage:" not in outcome.stderr
    return outcome.stderr


@pytest.mark.parametrize("args, option", [
    (["--digit", "3"], "--digits"),
    (["--jsn"], "--json"),
    (["--wtr", "x"], "--wrt"),
    (["--tolerence", "1e-3"], "--tolerance"),
    (["--stric"], "--strict"),
])
def test_a_mistyped_option_is_an_error_naming_the_option(args, option):
    err = error_of(cli("eval", "x*2", "--x", "1", *args))
    assert f"did you mean {option}?" in err


def test_a_mistyped_flag_before_the_program_is_caught_too():
    err = error_of(cli("eval", "--jsn", "x*2", "--x", "1"))
    assert "did you mean --json?" in err


def test_an_option_of_another_command_is_named_as_such():
    err = error_of(cli("eval", "x*2", "--x", "1", "--format", "json"))
    assert "adiff eval has no option --format" in err and "--json" in err
    err = error_of(cli("eval", "x*2", "--x", "1", "--render", "g.svg"))
    assert "adiff eval has no option --render" in err and "adiff graph" in err


def test_an_input_named_like_an_option_is_a_binding():
    outcome = cli("eval", "digit*2", "--digit", "3", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["value"] == 6


def test_a_binding_far_from_every_option_stays_a_warning():
    outcome = cli("eval", "x*2", "--x", "1", "--zz", "1")
    assert outcome.exit_code == 0
    assert "warning: --zz is bound but the program has no input zz" in outcome.stderr


@pytest.mark.parametrize("name", ["digits", "json", "help", "wrt", "file", "strict"])
def test_the_unbound_hint_for_an_input_named_like_an_option_uses_var(name):
    err = error_of(cli("eval", f"{name}*2"))
    assert f"--var {name}=1" in err
    outcome = cli("eval", f"{name}*2", "--var", f"{name}=1", "--json")
    assert outcome.exit_code == 0 and json.loads(outcome.stdout)["value"] == 2


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["eval", "-h"], ["graph", "-h"], ["explain", "-h"],
                                  ["eval", SEED, "-h"], ["help"], ["help", "eval"], ["help", "graph"]])
def test_help_everywhere(args):
    outcome = cli(*args)
    assert outcome.exit_code == 0, outcome.stderr
    assert "Usage: " in outcome.stdout and "Options" in outcome.stdout
    assert "<int range>" not in outcome.stdout


def test_help_for_an_unknown_command_is_an_error():
    err = error_of(cli("help", "evl"))
    assert "did you mean eval" in err


def test_an_unknown_command_is_an_adiff_error_with_a_suggestion():
    err = error_of(cli("evl", "x"))
    assert "no command 'evl'; did you mean eval?" in err


@pytest.mark.parametrize("args, hint", [
    (["x^2", "-x", "2"], "--x 2"),
    (["-x", "2"], "--x 2"),
    (["x*y", "-y", "3", "--x", "1"], "--y 3"),
])
def test_a_binding_with_one_dash_suggests_two(args, hint):
    err = error_of(cli("eval", *args))
    assert f"bind inputs with two dashes: {hint}" in err
    assert "' -" not in err   # no stray space in the quoted word


def test_dash_f_dash_reads_standard_input():
    outcome = cli("eval", "-f", "-", "--x", "3", "--json", input="x^2\n")
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["gradient"] == {"x": 6}


def test_wrt_is_repeatable_and_additive():
    outcome = cli("eval", SEED, *POINT, "--wrt", "x", "--wrt", "y,b", "--json")
    assert json.loads(outcome.stdout)["gradient"] == {"x": 12, "y": -4, "b": 4}


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_an_empty_wrt_is_an_error(value):
    err = error_of(cli("eval", SEED, *POINT, "--wrt", value))
    assert "--wrt names no input" in err


def test_wrt_suggests_the_nearest_input():
    err = error_of(cli("eval", SEED, *POINT, "--wrt", "ww"))
    assert "did you mean w?" in err


@pytest.mark.parametrize("args, words", [
    (["--digits", "0"], "--digits 0: give a whole number from 1 to 17"),
    (["--digits", "18"], "from 1 to 17"),
    (["--digits", "abc"], "--digits"),
    (["--max-nodes", "0"], "--max-nodes 0"),
    (["--tolerance", "-1"], "--tolerance"),
    (["--json=1"], "--json"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_option_values_are_adiff_errors_with_a_json_document(args, words, as_json):
    outcome = cli("eval", "x", "--x", "1", *args, *(["--json"] if as_json and args != ["--json=1"] else []))
    err = error_of(outcome)
    assert words in err
    if as_json or args == ["--json=1"]:
        doc = json.loads(outcome.stdout)
        assert doc["error"]["kind"] == "usage"


def test_graph_json_is_format_json():
    outcome = cli("graph", SEED, *POINT, "--json")
    assert outcome.exit_code == 0
    doc = json.loads(outcome.stdout)
    assert doc["value"] == 4 and len(doc["nodes"]) == 9


def test_explain_json_is_format_json():
    outcome = cli("explain", SEED, *POINT, "--json")
    assert outcome.exit_code == 0
    assert "forward" in json.loads(outcome.stdout)


@pytest.mark.parametrize("command", ["graph", "explain"])
def test_json_and_another_format_is_an_error(command):
    err = error_of(cli(command, SEED, *POINT, "--json", "--format", "tree" if command == "graph" else "text"))
    assert "give one" in err


def test_render_with_another_format_is_refused(tmp_path):
    err = error_of(cli("graph", SEED, "--format", "mermaid", "--render", str(tmp_path / "g.svg")))
    assert "--render" in err and "mermaid" in err
    assert not (tmp_path / "g.svg").exists()


def test_options_show_a_plain_metavar_and_the_range_in_words():
    out = cli("eval", "--help").stdout
    assert "--digits N" in out and "1 to 17" in out
    assert "--max-nodes N" in out
    assert "int range" not in out and "<=x<=" not in out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(shell):
    # the shell named, not detected: the tests may run with no shell among their parents
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = subprocess.run([*ADIFF, "--show-completion", shell], capture_output=True, text=True, timeout=60,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert "_ADIFF_COMPLETE" in result.stdout or "adiff" in result.stdout
    assert len(result.stdout) > 100


@pytest.mark.parametrize("words, cword, expected", [
    ("adiff ev", 1, "eval"),
    ("adiff eval --js", 2, "--json"),
    ("adiff graph x --for", 3, "--format"),
    ("adiff eval x y --js", 4, "--json"),   # a command line adiff would refuse still completes
])
def test_bash_completion_completes_commands_and_options(words, cword, expected):
    env = {**os.environ, "_ADIFF_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run([sys.executable, "-m", "autodiff_cli"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert expected in result.stdout.split(), (result.stdout, result.stderr)


@pytest.mark.parametrize("fmt", ["tree", "dot", "mermaid"])
def test_graph_digits(fmt):
    outcome = cli("graph", "x/3", "--x", "1", "--format", fmt, "--digits", "3")
    assert outcome.exit_code == 0, outcome.stderr
    assert "0.333" in outcome.stdout and "0.3333" not in outcome.stdout
    wide = cli("graph", "x/3", "--x", "1", "--format", fmt, "--digits", "12").stdout
    assert "0.333333333333" in wide


def test_explain_digits_and_wrt():
    outcome = cli("explain", "x/3*y", "--x", "1", "--y", "2", "--digits", "3", "--wrt", "y")
    assert outcome.exit_code == 0, outcome.stderr
    gradient = outcome.stdout.split("Gradient")[1]
    assert "∂L/∂y = 0.333" in gradient and "0.3333" not in outcome.stdout
    assert "∂L/∂x" not in gradient
    wide = cli("explain", "x/3*y", "--x", "1", "--y", "2", "--digits", "10").stdout
    assert "0.3333333333" in wide
    err = error_of(cli("explain", "x*y", "--x", "1", "--y", "2", "--wrt", "q"))
    assert "no input q" in err
