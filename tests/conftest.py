"""Shared test settings.

Hypothesis profiles: "default" keeps the fuzz tests fast enough for CI;
`ADIFF_FUZZ=long pytest tests/test_fuzz.py` runs the long fuzz campaign.
Tests marked `slow` (minutes of CPU, e.g. 1,000,000 unary minus signs) run
only with `ADIFF_SLOW=1` or `pytest --run-slow`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# from_lark's draws often overrun Hypothesis's size limit and are retried,
# which its health checks read as slow or over-filtered generation.
_quiet = [HealthCheck.too_slow, HealthCheck.filter_too_much]

# No deadlines anywhere: CI machines vary, and the test guide says no timed
# assertions.  "finishes well under a second" is measured by the benchmark
# and by the long fuzz profile's statistics (pytest --hypothesis-show-statistics).
settings.register_profile("default", max_examples=150, deadline=None,
                          suppress_health_check=_quiet)
settings.register_profile("long", max_examples=20_000, deadline=None,
                          suppress_health_check=_quiet)
settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=_quiet)
settings.load_profile(os.environ.get("ADIFF_FUZZ", "default"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="run tests marked slow (also: ADIFF_SLOW=1)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes many seconds; run with --run-slow or ADIFF_SLOW=1")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("ADIFF_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow or ADIFF_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def run_cli():
    """Run `adiff ARGS...` in-process as its console script does; returns
    (exit code, stdout, stderr)."""
    from support import cli

    def run(*args: str, input: str | None = None):
        outcome = cli(*args, input=input)
        return outcome.exit_code, outcome.stdout, outcome.stderr
    return run
