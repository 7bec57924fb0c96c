"""What adiff prints, as a newcomer sees it (issue 10, section 3): colour only
where wanted, nothing cut at narrow widths, no trailing spaces, the check's
noise floor, constant programs, and explain's local derivative."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

import autodiff_cli
from autodiff_cli.check import check
from support import ADIFF, ROOT, cli

SEED = ["(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5"]
ESCAPE = "\x1b["


def _environment(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "ADIFF_DEBUG")}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


def in_terminal(*args: str, env: dict = {}) -> str:
    """adiff with standard output and error on a pseudo-terminal; all it wrote."""
    import pty

    main, secondary = pty.openpty()
    try:
        process = subprocess.Popen([*ADIFF, *args], stdin=subprocess.DEVNULL, stdout=secondary,
                                   stderr=secondary, env=_environment(env), cwd=ROOT)
    finally:
        os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:   # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    process.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace")


def piped(*args: str, env: dict = {}) -> subprocess.CompletedProcess:
    return subprocess.run([*ADIFF, *args], capture_output=True, text=True, env=_environment(env),
                          cwd=ROOT, timeout=60)


# ---- colour --------------------------------------------------------------------------------

COLOURED = [
    ["eval", *SEED],
    ["eval", *SEED, "--check"],
    ["graph", "(x+y)*(x+y)", "--format", "tree"],
]


@pytest.mark.parametrize("args", COLOURED, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_a_terminal_gets_colour(args):
    assert ESCAPE in in_terminal(*args)   # the test can see colour when there is some


@pytest.mark.parametrize("args", COLOURED, ids=lambda a: " ".join(a[:1] + a[-2:]))
@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"},
                                 {"NO_COLOR": "1", "FORCE_COLOR": "1"}],
                         ids=["NO_COLOR", "TERM=dumb", "NO_COLOR-beats-FORCE_COLOR"])
def test_no_colour_where_it_is_not_wanted(args, env):
    shown = in_terminal(*args, env=env)
    assert ESCAPE not in shown, shown
    assert "output" in shown or "input" in shown


@pytest.mark.parametrize("args", COLOURED, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_force_color_colours_a_pipe(args):
    assert ESCAPE in piped(*args, env={"FORCE_COLOR": "1"}).stdout
    assert ESCAPE not in piped(*args).stdout
    assert ESCAPE not in piped(*args, env={"FORCE_COLOR": "0"}).stdout


@pytest.mark.parametrize("args", [["explain", *SEED], ["eval", "(x*", "--x", "1"], ["eval", "--help"],
                                  ["eval", *SEED, "--digits", "0"]],
                         ids=["explain", "error", "help", "usage-error"])
def test_other_outputs_have_no_colour_under_no_color(args):
    assert ESCAPE not in in_terminal(*args, env={"NO_COLOR": "1"})


# ---- narrow terminals ----------------------------------------------------------------------

def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])", text)


def _layout(columns: int, *args: str) -> str:
    result = piped(*args, env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("columns", [20, 40, 80])
@pytest.mark.parametrize("program, bindings", [
    (SEED[0], SEED[1:]),
    ("(a_rather_long_input_name_for_a_table*w + b)^2",
     ["--a_rather_long_input_name_for_a_table", "2", "--w", "3", "--b", "1"]),
    ("sin(x)/3 + exp(-x*y)", ["--x", "0.1", "--y", "2", "--digits", "17"]),
])
def test_nothing_is_cut_at_any_width(columns, program, bindings):
    out = _layout(columns, "eval", program, *bindings, "--check")
    wide = _layout(1000, "eval", program, *bindings, "--check")
    assert "(output)" in out and "(…" not in out and "(outpu…" not in out
    # every number the widest layout shows is shown whole at this width too
    assert sorted(_numbers(out)) == sorted(_numbers(wide))
    assert "gradient check, tolerance 1e-05" in out
    if columns >= 40:   # only a name longer than the terminal may overflow it
        assert all(len(line) <= columns for line in out.splitlines()
                   if "a_rather_long_input_name" not in line)


def test_a_long_input_name_keeps_the_output_marker_at_80_columns():
    out = _layout(80, "eval", "(a_rather_long_input_name_for_a_table*w + b)^2",
                  "--a_rather_long_input_name_for_a_table", "2", "--w", "3", "--b", "1")
    assert "#4 ^ 2 (output)" in out
    assert "∂output/∂a_rather_long_input_name_for_a_table" in out


def test_the_check_table_at_40_columns_keeps_its_headers_and_numbers():
    out = _layout(40, "eval", *SEED, "--check")
    check_part = out[out.index("gradient check"):]
    assert "gradi…" not in check_part and "9.8e-…" not in check_part
    assert "9.8e-12" in check_part and "1.8e-11" in check_part
    # the footnotes break between their parts, never inside a formula
    assert "h = 6e-06·|x|" in check_part and "(6e-06 at x = 0)" in check_part
    assert "/ max(|gradient|, |difference|, noise)" in check_part


# ---- the check -----------------------------------------------------------------------------

def test_the_check_table_follows_a_blank_line():
    out = piped("eval", *SEED, "--check").stdout
    assert "\n\ngradient check, tolerance 1e-05\n" in out


def test_a_tolerance_below_the_noise_floor_is_inconclusive():
    result = check(autodiff_cli.evaluate(SEED[0], x=2, w=3, b=1, y=5), tolerance=1e-13)
    assert [c.status for c in result.inputs] == ["inconclusive"] * 4
    # the floor: 4 ulps of the output (4) over the step, relative to the gradient
    for c in result.inputs:
        expected = 4 * 2.220446049250313e-16 * 4 / c.step / max(1, abs(c.gradient))
        assert c.floor == pytest.approx(expected, rel=0.3)
        assert c.error <= c.floor
    done = piped("eval", *SEED, "--tolerance", "1e-13")
    assert done.returncode == 0
    assert "check inconclusive for x, w, b, y" in done.stdout
    assert "noise floor" in done.stdout and "rounding noise" not in done.stdout
    assert " pass" not in done.stdout


def test_a_wrong_gradient_still_fails_with_a_tiny_tolerance(monkeypatch):
    import dataclasses

    from autodiff_cli.ops import OPS
    op = OPS["mul"]
    monkeypatch.setitem(OPS, "mul", dataclasses.replace(op, partials=(lambda a, b, o: b * 1.001,
                                                                      op.partials[1])))
    result = check(autodiff_cli.evaluate(SEED[0], x=2, w=3, b=1, y=5), tolerance=1e-13)
    assert result.inputs[0].status == "fail"


def test_a_sensible_tolerance_still_passes():
    result = check(autodiff_cli.evaluate(SEED[0], x=2, w=3, b=1, y=5))
    assert [c.status for c in result.inputs] == ["pass"] * 4


# ---- constant programs ---------------------------------------------------------------------

@pytest.mark.parametrize("program, value", [("5", 5.0), ("pi", 3.141592653589793), ("2*3", 6.0)])
def test_a_constant_program_says_output_and_has_no_gradient(program, value):
    out = piped("eval", program).stdout
    summary = out.split("\n\n")[1].splitlines()
    assert summary[0].split() == ["output", f"{value:g}"]
    assert len(summary) == 1
    doc = json.loads(piped("eval", program, "--json").stdout)
    assert doc["value"] == value and doc["gradient"] == {}
    assert doc["nodes"][doc["output"]]["grad"] is None   # a constant's gradient is null
    row = [line for line in out.splitlines() if "(output)" in line][0]
    assert row.split()[-1] == f"{value:g}"               # and blank in the table


def test_an_input_output_still_has_gradient_one():
    doc = json.loads(piped("eval", "x", "--x", "2", "--json").stdout)
    assert doc["gradient"] == {"x": 1.0}


# ---- explain's local derivative ------------------------------------------------------------

def test_explain_writes_the_output_steps_local_derivative_over_the_operation():
    text = piped("explain", *SEED).stdout
    assert "∂L/∂d = ∂L/∂L · ∂(d²)/∂d = 1 · 2d = 1 · (2 · 2) = 4" in text
    markdown = piped("explain", *SEED, "--format", "markdown").stdout
    assert "`∂L/∂d = ∂L/∂L · ∂(d²)/∂d = 1 · 2d = 1 · (2 · 2) = 4`" in markdown
    latex = piped("explain", *SEED, "--format", "latex").stdout
    assert r"\frac{\partial \left(d^{2}\right)}{\partial d} = 1 \cdot 2d = 1 \cdot \left(2 \cdot 2\right) = 4" in latex
    doc = json.loads(piped("explain", *SEED, "--format", "json").stdout)
    edge = [s for s in doc["backward"] if s["kind"] == "edge"][0]
    assert edge["text"] == "∂L/∂d = ∂L/∂L · ∂(d²)/∂d = 1 · 2d = 1 · (2 · 2) = 4"
    # the article's order and numbers are kept
    assert [s["contribution"] for s in doc["backward"] if s["kind"] == "edge"] == [4, 4, -4, 4, 4, 12, 8]
    assert edge["local_symbol"] == "∂(d²)/∂d"
    page = piped("explain", *SEED, "--format", "html").stdout
    assert "local ∂(d²)/∂d = 2d = 2 · 2 = 4" in page
    for output in (text, markdown, latex, json.dumps(doc, ensure_ascii=False), page):
        assert "∂L/∂L · ∂L/∂" not in output and r"\partial L} \cdot \frac{\partial L}" not in output


def test_a_named_output_reads_the_same_way():
    text = piped("explain", "p = x*w; loss = p^2", "--x", "2", "--w", "3").stdout
    assert "∂loss/∂p = ∂loss/∂loss · ∂(p²)/∂p = 1 · 2p = 1 · (2 · 6) = 12" in text


# ---- trailing spaces -----------------------------------------------------------------------

EVERY_OUTPUT = [
    ["eval", *SEED], ["eval", *SEED, "--check"], ["eval", *SEED, "--json"],
    ["eval", *SEED, "--tolerance", "1e-13"], ["eval", "5"], ["eval", "abs(x)", "--x", "0", "--check"],
    ["eval", "x*y", "--x", "inf", "--y", "1", "--check"],
    ["eval", "-f", "samples/two_layer.adiff", "--check", "--digits", "17"],
    ["graph", *SEED], ["graph", *SEED, "--format", "mermaid"], ["graph", *SEED, "--format", "tree"],
    ["graph", *SEED, "--format", "json"], ["graph", "x*y", "--format", "tree"],
    ["explain", *SEED], ["explain", *SEED, "--format", "markdown"], ["explain", *SEED, "--format", "latex"],
    ["explain", *SEED, "--format", "json"], ["explain", "(x+y)*(x+y)", "--x", "1", "--y", "2"],
    ["explain", "-f", "samples/two_layer.adiff", "--max-steps", "6"],
    ["eval", "(x*", "--x", "1"], ["eval", "2x", "--x", "1"], ["eval", "x"], ["eval", "--help"],
    ["--help"], ["graph", "--help"], ["explain", "--help"], ["help"], ["help", "eval"], ["eval", "-h"],
    ["eval", "SIN(x)", "--x", "1"], ["eval", "|x|", "--x", "1"], ["eval", "5", "--json"],
]


@pytest.mark.parametrize("columns", ["40", "80"])
@pytest.mark.parametrize("args", EVERY_OUTPUT, ids=lambda a: " ".join(a)[:50])
def test_no_line_ends_in_spaces(args, columns, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli(*args, env={"COLUMNS": columns, "NO_COLOR": None, "FORCE_COLOR": None})
    for stream in (result.stdout, result.stderr):
        trailing = [line for line in stream.splitlines() if line != line.rstrip()]
        assert not trailing, trailing
