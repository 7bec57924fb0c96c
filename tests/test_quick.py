"""`adiff eval` without Typer (issue 10, section 4): point.quick runs eval's
plain calls, and whatever it runs must come out exactly as the full command
line (Typer) would have it, byte for byte and exit code for exit code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from autodiff_cli.cli import app
from autodiff_cli.point import OPTIONS, Options, quick
from support import ROOT, cli

SEED = ["(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5"]


def _eval_command():
    from typer.main import get_command
    return get_command(app).commands["eval"]


def test_quick_reads_exactly_the_options_eval_declares():
    command = _eval_command()
    declared = {}
    for param in command.params:
        if param.param_type_name == "option":
            for word in param.opts:
                declared[word] = (param.name, param.is_flag)
    assert {word: (name, kind is None) for word, (name, kind) in OPTIONS.items()} == declared


def test_quick_takes_the_defaults_eval_declares():
    defaults = Options()
    for param in _eval_command().params:
        expected = param.default
        if param.multiple:
            expected = list(expected or [])
        assert getattr(defaults, param.name) == expected, param.name


def test_the_seed_example_never_loads_typer_click_or_numpy():
    code = ("import sys\n"
            "from autodiff_cli import main\n"
            f"sys.argv = ['adiff', 'eval', *{SEED!r}, '--json']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'click', 'numpy', 'rich'}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("words", [
    ["eval", *SEED],
    ["eval", *SEED, "--json"],
    ["eval", *SEED, "--wrt", "x,w", "--digits=3"],
    ["eval", *SEED, "--check", "--hessian"],
    ["eval", "-f", "samples/seed.adiff", "--json"],
    ["eval", "--var", "json=2", "json*x", "--x", "3"],
])
def test_quick_runs_plain_calls(words, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert quick(words) is True
    assert capsys.readouterr().out


@pytest.mark.parametrize("words", [
    ["eval"], ["graph", *SEED], ["eval", "-h"], ["eval", *SEED, "--help"],
    ["eval", "-", "--x", "1"], ["eval", "-f", "-"], ["eval", *SEED, "--json=1"],
    ["eval", *SEED, "--digits", "abc"], ["eval", *SEED, "--digit", "3"],
    ["eval", *SEED, "--z", "1"], ["eval", "x^2", "-x", "2"], ["eval", "x^", "--x", "1"],
    ["eval", "digits*2"], ["eval", *SEED, "--digits", "0"], ["eval", *SEED, "--wrt"],
])
def test_quick_hands_on_everything_else_before_writing_a_byte(words, capsys):
    assert quick(words) is False
    assert capsys.readouterr() == ("", "")


def test_shell_completion_is_left_to_typer(monkeypatch):
    monkeypatch.setenv("_ADIFF_COMPLETE", "complete_bash")
    assert quick(["eval", *SEED]) is False


# Random command lines: a program, bindings, options with good and bad
# values, in any order; now and then a typo, a missing or extra binding, a
# bad value or a stray word.
_PROGRAMS = {"(x*w+b-y)^2": "xwby", "x*w": "xw", "log(x)": "x", "sqrt(x-w)": "xw", "max(x, w, b)": "xwb",
             "abs(x)": "x", "digits*2": "", "5": "", "sin(x": "x", "x^": "x", "-": "x", "-x": "x"}
_GOOD = ["2", "-1", "0", "3", "0.5", "1e-300", "nan", "-inf"]
_BAD = ["abc", "", "1_0", " 4", "1,5"]
_OPTIONS = [["--json"], ["--strict"], ["--check"], ["--hessian"], ["--json=1"], ["--jsn"], ["-h"],
            ["--wrt", "x"], ["--wrt", "x,w"], ["--wrt", ""], ["--wrt=y"], ["--wrt", "q"],
            ["--digits", "3"], ["--digits=17"], ["--digits", "0"], ["--digit", "3"], ["--digits", "x"],
            ["--max-nodes", "2"], ["--max-nodes", "100"], ["--tolerance", "1e-3"], ["--tolerance", "-1"],
            ["--var", "b=1"], ["--var", "digits=2"], ["--var", "b"], ["-f", "samples/seed.adiff"],
            ["-f", "./samples/seed.adiff"], ["-f", "nowhere.adiff"], ["-x", "2"], ["--"], ["stray"]]


@st.composite
def _command_lines(draw) -> list[str]:
    program = draw(st.sampled_from(sorted(_PROGRAMS)))
    names = [n for n in _PROGRAMS[program] if draw(st.integers(0, 9))]
    if draw(st.integers(0, 4)) == 0:
        names.append(draw(st.sampled_from(["z", "digit", "x"])))
    groups = [[program]]
    for name in names:
        value = draw(st.sampled_from(_BAD)) if draw(st.integers(0, 7)) == 0 else draw(st.sampled_from(_GOOD))
        groups.append([f"--{name}={value}"] if draw(st.booleans()) else [f"--{name}", value])
    groups += draw(st.lists(st.sampled_from(_OPTIONS), max_size=3))
    return [word for group in draw(st.permutations(groups)) for word in group]


@settings(max_examples=200)
@given(_command_lines())
def test_any_eval_command_line_comes_out_as_typer_says(words):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        env = {"NO_COLOR": "1", "COLUMNS": "100"}
        assert cli("eval", *words, env=env) == cli("eval", *words, env=env, typer_only=True)
    finally:
        os.chdir(cwd)
