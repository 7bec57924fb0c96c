"""adiff plot: ranges and their errors, sampled points against hand-written
derivatives, gaps, kinks, colour, size, ASCII, Matplotlib and its absence."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from support import ADIFF, ROOT, cli

ANSI = re.compile(r"\x1b\[")
BRAILLE = re.compile(r"[\u2800-\u28ff]")


def points(*args: str) -> dict:
    outcome = cli("plot", *args, "--json")
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)


def test_json_points_of_tanh_and_its_derivatives():
    doc = points("tanh(x)", "--x", "-3:3", "--points", "61", "--order", "2")
    assert doc["schema"] == 1 and doc["input"] == "x" and doc["wrt"] == "x"
    assert len(doc["x"]) == 61 and doc["x"][0] == -3 and doc["x"][-1] == 3
    assert doc["x"][30] == pytest.approx(0, abs=1e-15)
    for x, value, gradient, second in zip(doc["x"], doc["value"], doc["gradient"], doc["order2"]):
        t = math.tanh(x)
        assert value == pytest.approx(t, abs=1e-15)
        assert gradient == pytest.approx(1 - t * t, abs=1e-15)
        assert second == pytest.approx(-2 * t * (1 - t * t), abs=1e-14)


def test_the_seed_loss_against_w_with_the_others_bound():
    doc = points("(x*w+b-y)^2", "--w", "-3:3", "--x", "2", "--b", "1", "--y", "5", "--points", "13")
    for w, value, gradient in zip(doc["x"], doc["value"], doc["gradient"]):
        assert value == pytest.approx((2 * w - 4) ** 2, abs=1e-12)
        assert gradient == pytest.approx(4 * (2 * w - 4), abs=1e-12)
    assert "order2" not in doc


def test_the_derivative_with_respect_to_another_input():
    doc = points("(x*w+b-y)^2", "--w", "-3:3", "--x", "2", "--b", "1", "--y", "5", "--points", "7",
                 "--wrt", "x", "--order", "2")
    assert doc["input"] == "w" and doc["wrt"] == "x"
    for w, gradient, second in zip(doc["x"], doc["gradient"], doc["order2"]):
        assert gradient == pytest.approx(2 * (2 * w - 4) * w, abs=1e-12)   # dL/dx = 2(xw+b-y)·w
        assert second == pytest.approx(2 * w * w, abs=1e-12)
    legend = cli("plot", "(x*w+b-y)^2", "--w", "-3:3", "--x", "2", "--b", "1", "--y", "5", "--wrt", "x").stdout
    assert "d/dx" in legend.splitlines()[0]
    bad = cli("plot", "x*w", "--w", "0:1", "--x", "1", "--wrt", "x,w")
    assert bad.exit_code == 2 and "one input" in bad.stderr
    bad = cli("plot", "x*w", "--w", "0:1", "--x", "1", "--wrt", "q")
    assert bad.exit_code == 2 and "no input q" in bad.stderr


def test_a_sample_file_takes_its_defaults():
    doc = points("-f", str(ROOT / "samples" / "seed.adiff"), "--w", "0:1", "--points", "3")
    assert doc["value"] == [16.0, 9.0, 4.0]


def test_a_range_given_with_var_or_equals_sign():
    assert points("x^2", "--var", "x=-1:1", "--points", "3")["value"] == [1.0, 0.0, 1.0]
    assert points("x^2", "--x=-1:1", "--points", "3")["value"] == [1.0, 0.0, 1.0]


def test_non_finite_values_are_strings_in_json_and_gaps_in_the_plot():
    doc = points("log(x)", "--x", "-1:1", "--points", "21")
    assert doc["value"][:10] == ["NaN"] * 10 and doc["value"][10] == "-Infinity"
    assert doc["value"][20] == 0
    outcome = cli("plot", "log(x)", "--x", "-1:1", "--points", "21")
    assert "non-finite (drawn as gaps) of 21 points: log(x) at 11" in outcome.stdout


def test_gaps_are_not_drawn():
    """sqrt(x) over -1:1: nothing left of the y-axis's zero column."""
    outcome = cli("plot", "sqrt(x)", "--x", "-1:1", "--width", "42", "--height", "12", "--ascii")
    rows = [line for line in outcome.stdout.splitlines() if "|" in line or line.lstrip().startswith(("0", "1"))]
    assert outcome.exit_code == 0
    for line in rows[:-1]:
        body = line.split("|", 1)[-1] if "|" in line else line.split("+", 1)[-1]
        left = body[: len(body) // 2 - 1]
        assert not set(left) & {"*", "+"}, line


def test_kinks_are_found_listed_and_marked():
    doc = points("abs(x-0.3) + relu(x+0.5)", "--x", "-1:1")
    assert len(doc["kinks"]) == 2
    assert doc["kinks"][0] == pytest.approx(-0.5, abs=1e-12)
    assert doc["kinks"][1] == pytest.approx(0.3, abs=1e-12)
    outcome = cli("plot", "abs(x-0.3) + relu(x+0.5)", "--x", "-1:1")
    assert "kinks" in outcome.stdout and "x = -0.5" in outcome.stdout and "x = 0.3" in outcome.stdout
    assert outcome.stdout.count("▲") == 3   # twice on the axis, once in the note
    ascii_plot = cli("plot", "abs(x)", "--x", "-1:1", "--ascii").stdout
    assert "^" in ascii_plot


def test_smooth_functions_have_no_kinks():
    assert points("abs(log(x))", "--x", "-1:2")["kinks"] == [1.0]   # not at 0, where log(x) ends
    assert points("atan2(y, x)", "--x", "-1:1", "--y", "1")["kinks"] == []
    assert points("sin(x)*exp(x)", "--x", "-5:5")["kinks"] == []


@pytest.mark.parametrize("args, message", [
    (["--x", "3:-3"], "START must be below STOP"),
    (["--x", "1:1"], "START must be below STOP"),
    (["--x", "a:b"], "a range is START:STOP"),
    (["--x", "1:2:3"], "a range is START:STOP"),
    (["--x", "-1e308:1e308"], "the range must be finite"),
    (["--x", "0:1e999"], "the range must be finite"),
    (["--x", "-1:1", "--y", "0:1"], "plot takes one range"),
    (["--x", "1", "--y", "2"], "plot needs one input with a range"),
    (["--z", "0:1", "--x", "1", "--y", "1"], "the program has no input z"),
    (["--x", "0:1", "--y", "1", "--points", "1"], "--points 1"),
    (["--x", "0:1", "--y", "1", "--order", "3"], "--order 3"),
    (["--x", "0:1", "--y", "1", "--width", "5"], "--width 5"),
    (["--x", "0:1", "--x", "2", "--y", "1"], "bound twice"),
])
def test_range_errors_are_exit_2(args, message):
    outcome = cli("plot", "x*y", *args)
    assert outcome.exit_code == 2, outcome
    assert outcome.stderr.startswith("adiff: error: ") and message in outcome.stderr


def test_an_error_with_json_is_an_error_document():
    outcome = cli("plot", "x*y", "--x", "3:-3", "--json")
    assert outcome.exit_code == 2 and json.loads(outcome.stdout)["error"]["kind"] == "binding"


def test_no_colour_when_piped_or_with_no_color_and_colour_when_forced():
    assert not ANSI.search(cli("plot", "tanh(x)", "--x", "-3:3").stdout)
    assert not ANSI.search(cli("plot", "tanh(x)", "--x", "-3:3", env={"NO_COLOR": "1", "FORCE_COLOR": "1"}).stdout)
    forced = cli("plot", "tanh(x)", "--x", "-3:3", env={"FORCE_COLOR": "1", "NO_COLOR": ""}).stdout
    assert "\x1b[36m" in forced and "\x1b[35m" in forced   # the value's and the derivative's colours


def test_ascii_has_no_braille_and_braille_is_the_default():
    assert not BRAILLE.search(cli("plot", "tanh(x)", "--x", "-3:3", "--ascii").stdout)
    assert BRAILLE.search(cli("plot", "tanh(x)", "--x", "-3:3").stdout)


def test_legend_axes_and_tick_labels():
    out = cli("plot", "tanh(x)", "--x", "-3:3").stdout
    lines = out.splitlines()
    assert "tanh(x)" in lines[0] and "d/dx" in lines[0]
    assert any(re.match(r"\s*-1(\.0)? ┤", line) for line in lines)
    assert re.search(r"-3\s+-2\s+-1\s+0\s+1\s+2\s+3\s+x$", out.splitlines()[-1])
    named = cli("plot", "-f", str(ROOT / "samples" / "seed.adiff"), "--w", "-3:3").stdout
    assert "L" in named.splitlines()[0] and "dL/dw" in named.splitlines()[0]
    second = cli("plot", "x^3", "--x", "-1:1", "--order", "2").stdout
    assert "d²/dx²" in second.splitlines()[0]


@pytest.mark.parametrize("width, height", [(80, 24), (50, 15), (120, 40)])
def test_the_plot_fits_its_size(width, height):
    size = [] if (width, height) == (80, 24) else ["--width", str(width), "--height", str(height)]
    out = cli("plot", "abs(log(x))", "--x", "-1:2", *size).stdout   # with notes and kinks
    lines = out.splitlines()
    assert len(lines) == height
    assert max(len(line) for line in lines[:-3]) <= width


def test_render_with_matplotlib(tmp_path):
    svg, png = tmp_path / "t.svg", tmp_path / "t.png"
    outcome = cli("plot", "tanh(x)", "--x", "-3:3", "--render", str(svg))
    assert outcome.exit_code == 0 and outcome.stdout == ""
    assert "<svg" in svg.read_text()
    assert cli("plot", "abs(x)", "--x", "-3:3", "--render", str(png)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    bad = cli("plot", "tanh(x)", "--x", "-3:3", "--render", str(tmp_path / "t.gif"))
    assert bad.exit_code == 2 and ".svg, .png or .pdf" in bad.stderr


def test_render_without_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    outcome = cli("plot", "tanh(x)", "--x", "-3:3", "--render", str(tmp_path / "t.svg"))
    assert outcome.exit_code == 1
    assert outcome.stderr.startswith("adiff: error: --render needs Matplotlib")
    assert 'pip install "adiff[plot]"' in outcome.stderr
    assert not (tmp_path / "t.svg").exists()


def test_a_pole_is_clipped_not_a_spike():
    out = cli("plot", "1/x", "--x", "-1:1", "--points", "400").stdout
    assert "run off the plot" in out
    ticks = [float(m) for m in re.findall(r"^\s*(-?[0-9.]+) ┤", out, re.M)]
    assert max(ticks) < 1000   # not scaled to the largest sample (about 400 away from 0... or 1/0.0025)


def test_other_commands_do_not_import_the_plotting_or_optimizing_modules():
    code = ("import sys\n"
            "from typer.testing import CliRunner\n"
            "from autodiff_cli.cli import app\n"
            "CliRunner().invoke(app, ['eval', 'x*w', '--x', '2', '--w', '3', '--json'])\n"
            "heavy = ['scipy', 'matplotlib', 'numpy', 'autodiff_cli.optimize', 'autodiff_cli.plot',\n"
            "         'autodiff_cli.render.plot', 'rich.live', 'autodiff_cli.diff']\n"
            "print([name for name in heavy if name in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_plot_runs_as_a_real_command():
    done = subprocess.run([*ADIFF, "plot", "tanh(x)", "--x", "-3:3"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 24


def _readme_examples(command: str):
    text = (ROOT / "README.md").read_text("utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        first, _, rest = block.partition("\n")
        # not those that write files (--render): a test leaves the checkout as it was
        if first.startswith(f"$ adiff {command} ") and not any(c in first for c in ("|", ";", "--render")):
            yield first[2:], rest


@pytest.mark.parametrize("command", ["plot", "minimize"])
def test_the_readme_shows_real_output(command, monkeypatch):
    """The README's plot and minimize examples, run again: the same output
    (L-BFGS-B's last digits depend on SciPy's build, so those runs are left out)."""
    import shlex
    monkeypatch.chdir(ROOT)
    examples = list(_readme_examples(command))
    compared = 0
    for line, expected in examples:
        words = shlex.split(line)[1:]
        if command == "minimize" and ("--method" not in words or "lbfgs" in words):
            continue
        outcome = cli(*words, env={"NO_COLOR": "1"})
        assert outcome.stdout + outcome.stderr == expected, line
        compared += 1
    assert compared >= 3


def test_second_derivative_of_a_product_by_hand():
    doc = points("sin(x)*exp(x/3)", "--x", "-4:4", "--points", "33", "--order", "2")
    for x, second in zip(doc["x"], doc["order2"]):
        # (sin x · e^(x/3))'' = e^(x/3) (−sin x + 2/3 cos x + 1/9 sin x)
        expected = math.exp(x / 3) * (-math.sin(x) + 2 / 3 * math.cos(x) + math.sin(x) / 9)
        assert second == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_an_image_that_cannot_be_written_is_a_clear_error(tmp_path):
    outcome = cli("plot", "tanh(x)", "--x", "-3:3", "--render", str(tmp_path / "missing" / "t.svg"))
    assert outcome.exit_code == 1 and outcome.stderr.startswith("adiff: error: cannot write")


def test_the_same_plot_gives_the_same_image(tmp_path):
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    for target in (first, second):
        assert cli("plot", "tanh(x)", "--x", "-3:3", "--render", str(target)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def _axes(text: str, braille: bool):
    """A plot's y labels {row: value}, x labels {column: value} and its canvas rows."""
    lines = text.splitlines()
    corner, tick = ("└", "┬") if braille else ("+", "+")
    axis = next(k for k, line in enumerate(lines) if line.strip().startswith(corner))
    canvas = lines[1:axis]
    margin = lines[axis].index(corner)
    y_labels = {r: float(line[:margin]) for r, line in enumerate(canvas) if line[:margin].strip()}
    ticks = [c - margin - 1 for c, ch in enumerate(lines[axis]) if ch == tick and c > margin]
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", lines[axis + 1])][:-1]   # the last is x's name
    x_labels = {}
    for start, word in words:
        middle = start + len(word) // 2 - margin - 1   # under the tick it centres on
        assert middle in ticks, (word, ticks)
        x_labels[middle] = float(word)
    return y_labels, x_labels, [line[margin + 1:] for line in canvas]


def _marks(line: str, braille: bool) -> list[int]:
    return [c for c, ch in enumerate(line) if (0x2800 < ord(ch) <= 0x28ff if braille else ch == "*")]


@pytest.mark.parametrize("braille", [False, True])
@pytest.mark.parametrize("low, high", [(0, 10), (-3, 3), (0, 1), (-0.0003, 0.0007), (2.5, 7.5),
                                       (100000, 100001), (-1e-7, 3e-7), (0.1, 0.35)])
def test_tick_labels_match_their_positions(low, high, braille):
    # the identity: in every labelled row its mark lies where x is that label's
    # value, and every x tick is labelled with the x of its column (issue 20:
    # ticks at 2.5 and 7.5 were labelled 2 and 8)
    outcome = cli("plot", "x", "--x", f"{low}:{high}", "--width", "80", "--height", "40",
                  *([] if braille else ["--ascii"]), env={"NO_COLOR": "1"})
    assert outcome.exit_code == 0, outcome.stderr
    y_labels, x_labels, canvas = _axes(outcome.stdout, braille)
    columns = len(canvas[0])
    # a character column holds one dot, or two side by side in braille: the
    # x at its middle, and the width of x it holds
    per = 2 if braille else 1
    dot = (high - low) / (per * columns - 1)
    dx = per * dot

    def x_at(column: int) -> float:
        return low + (per * column + (per - 1) / 2) * dot

    assert len(x_labels) >= 3
    for column, value in x_labels.items():
        assert abs(value - x_at(column)) <= 0.5 * dx + 1e-12 * abs(high), (column, value)
    assert len(y_labels) >= 3
    for row, value in y_labels.items():
        marks = _marks(canvas[row], braille)
        if low <= value <= high and marks:
            assert x_at(marks[0]) - dx <= value <= x_at(marks[-1]) + dx, (row, value, marks)


@pytest.mark.parametrize("given, start, stop", [("-3..3", -3, 3), ("0..1", 0, 1), ("-0.5..2.5e1", -0.5, 25),
                                                (" 1 .. 2 ", 1, 2), (".5..1.", 0.5, 1)])
def test_a_range_may_be_written_with_two_dots(given, start, stop):
    # `plot --x -3..3` said no range was given (issue 20): it is START..STOP
    for args in (["--x", given], [f"--x={given}"], ["--var", f"x={given}"]):
        doc = points("x^2", *args, "--points", "3")
        assert doc["x"] == [start, (start + stop) / 2, stop]
        assert doc["value"] == [x * x for x in doc["x"]]


def test_a_bad_two_dot_range_says_what_a_range_is():
    outcome = cli("plot", "x^2", "--x", "1..")
    assert outcome.exit_code == 2 and "a range is START:STOP (or START..STOP)" in outcome.stderr
    outcome = cli("plot", "x^2", "--x", "3..-3")
    assert outcome.exit_code == 2 and "START must be below STOP" in outcome.stderr
    outcome = cli("plot", "x*y", "--x", "0..1", "--y", "1:2")
    assert outcome.exit_code == 2 and "plot takes one range" in outcome.stderr
