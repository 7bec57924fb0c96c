"""`adiff eval` and `adiff batch` without Typer (issue 10, section 4, and
issue 8's start-up): quick.py runs their plain calls, and whatever it runs
must come out exactly as the full command line (Typer) would have it, byte
for byte and exit code for exit code."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from autodiff_cli import batch, point
from autodiff_cli.cli import app
from autodiff_cli.quick import quick
from support import ROOT, cli

SEED = ["(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5"]


def _command(name: str):
    from typer.main import get_command
    return get_command(app).commands[name]


@pytest.mark.parametrize("name, module", [("eval", point), ("batch", batch)])
def test_quick_reads_exactly_the_options_the_command_declares(name, module):
    declared, positional = {}, []
    for param in _command(name).params:
        if param.param_type_name == "option":
            for word in [*param.opts, *param.secondary_opts]:
                declared[word] = (param.name, param.is_flag)
        else:
            positional.append(param.name)
    assert {word: (field, kind is None) for word, (field, kind) in module.OPTIONS.items()} == declared
    assert list(module.POSITIONALS) == positional


@pytest.mark.parametrize("name, module", [("eval", point), ("batch", batch)])
def test_quick_takes_the_defaults_the_command_declares(name, module):
    defaults = module.Options()
    for param in _command(name).params:
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


def test_a_plain_batch_call_never_loads_typer(tmp_path):
    (tmp_path / "in.csv").write_text("x,w\n1,2\n")
    code = ("import sys\n"
            "from autodiff_cli import main\n"
            "sys.argv = ['adiff', 'batch', 'x*w', 'in.csv', '-o', 'out.csv']\n"
            "main()\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'click'}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "out.csv").read_text().splitlines()[1] == "1.0,2.0,2.0,2.0,1.0"


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


def test_quick_runs_plain_batch_calls(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("in.csv").write_text("x,w\n1,2\n3,4\n")
    assert quick(["batch", "x*w", "in.csv"]) is True
    assert capsys.readouterr().out.splitlines()[1] == "1.0,2.0,2.0,2.0,1.0"
    assert quick(["batch", "x*w", "in.csv", "-o", "out.jsonl", "--wrt", "x", "-q"]) is True
    assert Path("out.jsonl").read_text().count("\n") == 2
    for words in (["batch", "x*w", "in.csv", "--z", "1"], ["batch", "x*w", "in.csv", "-h"],
                  ["batch", "x*w", "in.csv", "--chunk-rows", "0"], ["batch", "-", "in.csv"]):
        assert quick(words) is False, words
        assert capsys.readouterr() == ("", "")


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
    assert quick(["batch", "x", "in.csv"]) is False


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


# Random batch command lines over a few files: a quick run and a Typer run
# must print the same, exit the same and write the same file.
_BATCH_OPTIONS = [["-o", "out.csv"], ["-o", "out.jsonl"], ["-o", "out.parquet"], ["--output=out.csv"],
                  ["--keep", "id"], ["--keep", "x"], ["--wrt", "x"], ["--wrt", "q"], ["--b", "1"], ["--b", "x"],
                  ["--chunk-rows", "2"], ["--chunk-rows", "0"], ["-q"], ["--quiet"], ["--strict"], ["--hessian"],
                  ["--in-format", "jsonl"], ["--out-format", "jsonl"], ["--out-format", "xml"],
                  ["--engine", "local"], ["--engine", "spark"], ["--max-nodes", "3"], ["--var", "b=2"],
                  ["-f", "program.adiff"], ["--jsn"], ["-h"], ["stray"]]


@st.composite
def _batch_command_lines(draw) -> list[str]:
    groups = [[draw(st.sampled_from(["x*w", "(x*w+b-y)^2", "log(x)*w", "x^", "sin(q)", "-"]))]]
    if draw(st.integers(0, 5)):
        groups.append([draw(st.sampled_from(["in.csv", "in.jsonl", "bad.csv", "blank.csv", "none.csv", "-"]))])
    groups += draw(st.lists(st.sampled_from(_BATCH_OPTIONS), max_size=3))
    return [word for group in draw(st.permutations(groups)) for word in group]


def _batch_outcome(words: list[str], typer_only: bool):
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        (here / "in.csv").write_text("id,x,w,y\na,1,2,3\nb,-1,0.5,2\nc,0,4,1\n")
        (here / "in.jsonl").write_text('{"id": "a", "x": 1, "w": 2, "y": 3}\n{"id": "b", "x": -2, "w": 1, "y": 0}\n')
        (here / "bad.csv").write_text("x,w,y\n1,2,3\n1,two,3\n")
        (here / "blank.csv").write_text("x,w,y\n\n1,2,3\n  \n4,5,6\n")
        (here / "program.adiff").write_text("x*w + y\n")
        cwd = os.getcwd()
        os.chdir(here)
        try:
            outcome = cli(*words, input="x,w,y\n2,3,4\n", env={"NO_COLOR": "1", "COLUMNS": "100"},
                          typer_only=typer_only)
        finally:
            os.chdir(cwd)
        written = {path.name: path.read_bytes() for path in here.iterdir() if path.name.startswith("out")}
        return outcome, written


@settings(max_examples=80)
@given(_batch_command_lines())
def test_any_batch_command_line_comes_out_as_typer_says(words):
    assert _batch_outcome(["batch", *words], False) == _batch_outcome(["batch", *words], True)
