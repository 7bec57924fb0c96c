"""The installed `adiff` command, run as a real subprocess from another directory."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def adiff_command() -> list[str]:
    script = Path(sys.executable).parent / "adiff"
    if script.exists():
        return [str(script)]
    found = shutil.which("adiff")
    if found:
        return [found]
    pytest.skip("the adiff command is not installed beside this Python")


def run(*args, cwd, input=None, env=None):
    return subprocess.run([*adiff_command(), *args], cwd=cwd, input=input, capture_output=True,
                          text=True, timeout=60, env=env)


def test_seed_example_from_another_directory(tmp_path):
    result = run("eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5", "--json",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["value"] == 4
    assert doc["gradient"] == {"x": 12, "w": 8, "b": 4, "y": -4}
    assert result.stderr == ""


def test_table_without_colour_when_piped(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    result = run("eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5",
                 cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout
    assert "input" in result.stdout and "12" in result.stdout


def test_python_dash_m_works_like_adiff(tmp_path):
    result = subprocess.run([sys.executable, "-m", "autodiff_cli", "eval", "x^2", "--x", "3", "--json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradient"] == {"x": 6}


def test_errors_have_no_traceback(tmp_path):
    result = run("eval", "(x*", "--x", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "^" in result.stderr


def test_standard_input(tmp_path):
    result = run("eval", "-", "--a", "1", "--b", "-2", "--json", cwd=tmp_path, input="tanh(a*b)\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradient"]["a"] == pytest.approx(-2 * (1 - 0.9640275800758169 ** 2))


def test_the_grammar_is_found_in_a_wheel_and_in_a_source_checkout():
    import autodiff_cli
    from autodiff_cli.parser import _grammar_text

    assert "NUMBER" in _grammar_text()
    package = Path(autodiff_cli.__file__).resolve().parent
    if not (package.parent / "grammar" / "adiff.lark").exists():  # installed from a wheel
        assert (package / "grammar" / "adiff.lark").is_file()
