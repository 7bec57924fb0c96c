"""Helpers shared by the hardening tests: running adiff in-process and as a
real command, and checking that an outcome is one adiff promises."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from autodiff_cli import main
from autodiff_cli.cli import run as run_typer

ROOT = Path(__file__).resolve().parent.parent
ADIFF = [sys.executable, "-m", "autodiff_cli"]

_runner = CliRunner()


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def cli(*args: str, input: str | bytes | None = None, env: dict | None = None,
        typer_only: bool = False) -> Outcome:
    """adiff in-process, as its console script runs it (autodiff_cli.main):
    eval's and batch's plain calls through quick.py, the rest through Typer; with
    typer_only, everything through Typer.  Streams as CliRunner isolates them."""
    code = 0
    with _runner.isolation(input=input, env=env) as (stdout, stderr, _):
        try:
            (run_typer if typer_only else main)(list(args))
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = stdout.getvalue(), stderr.getvalue()
    return Outcome(code, *(text.decode("utf-8", "replace").replace("\r\n", "\n") for text in (out, err)))


def interruptible(*args, **kwargs) -> subprocess.Popen:
    """subprocess.Popen for a test that presses Ctrl-C (sends SIGINT): the
    child takes SIGINT as it would from a terminal even when the test run
    itself was started with it ignored (a background job of a script:
    `pytest &` in a non-interactive shell), which children inherit."""
    return subprocess.Popen(*args, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            **kwargs)


def run(*args: str, input: bytes | str | None = None, env: dict | None = None,
        timeout: float = 120, cwd=None) -> Outcome:
    """adiff as a real command (`python -m autodiff_cli`)."""
    if isinstance(input, str):
        input = input.encode("utf-8")
    full_env = {**os.environ, "NO_COLOR": "1"}
    full_env.pop("ADIFF_DEBUG", None)
    full_env.update(env or {})
    done = subprocess.run([*ADIFF, *args], input=input, capture_output=True, env=full_env,
                          timeout=timeout, cwd=cwd)
    return Outcome(done.returncode, done.stdout.decode("utf-8", "replace"),
                   done.stderr.decode("utf-8", "replace"))


def assert_promised(outcome: Outcome, as_json: bool = False) -> None:
    """The only outcomes adiff promises: a result (0), a failure (1) or a user
    error (2), with no traceback, and with --json one strict JSON document."""
    assert outcome.exit_code in (0, 1, 2), outcome
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert "internal error" not in outcome.stderr, outcome.stderr
    if outcome.exit_code == 2:
        assert outcome.stderr.startswith("adiff: error: "), outcome.stderr
    if as_json:
        document = json.loads(outcome.stdout, parse_constant=_reject_constant)
        assert document["schema"] == 1
        assert ("error" in document) == (outcome.exit_code != 0), document


def _reject_constant(name: str):
    raise AssertionError(f"JSON holds the non-standard constant {name}")
