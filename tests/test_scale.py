"""Bounded time and memory (issue 4, section 3): --max-nodes stops a runaway
program early with a clear error, and memory grows linearly with the graph.
Timing is measured by benchmarks/scale.py, never asserted here."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import autodiff_cli
from autodiff_cli import AdiffError
from support import ADIFF, cli

TWO_GB = 2 * 1024**3


def sum_of_terms(terms: int) -> str:
    """Five nodes a term: the constant i, x*i, +w, sin, and the running sum."""
    return "+".join(f"sin(x*{i}+w)" for i in range(1, terms + 1))


@pytest.mark.parametrize("limit", [1, 2, 10, 1000])
def test_max_nodes_stops_with_a_clear_error(limit):
    outcome = cli("eval", sum_of_terms(1000), "--x", "1", "--w", "2", "--max-nodes", str(limit), "--json")
    assert outcome.exit_code == 2
    error = json.loads(outcome.stdout)["error"]
    assert error["kind"] == "too_large"
    assert error["message"] == f"the program has more than {limit} nodes"
    assert error["hint"] == "raise the limit with --max-nodes N"
    assert outcome.stderr.startswith(f"adiff: error: the program has more than {limit} nodes")


def test_max_nodes_allows_a_program_of_exactly_that_size():
    program = sum_of_terms(10)
    nodes = len(autodiff_cli.evaluate(program, x=1, w=2).graph.nodes)
    assert cli("eval", program, "--x", "1", "--w", "2", "--max-nodes", str(nodes)).exit_code == 0
    assert cli("eval", program, "--x", "1", "--w", "2", "--max-nodes", str(nodes - 1)).exit_code == 2


def test_max_nodes_in_the_python_api():
    with pytest.raises(AdiffError) as caught:
        autodiff_cli.evaluate(sum_of_terms(100), {"x": 1, "w": 2}, max_nodes=50)
    assert caught.value.kind == "too_large" and caught.value.exit_code == 2


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_nodes_must_be_a_positive_count(value):
    outcome = cli("eval", "x", "--x", "1", "--max-nodes", value)
    assert outcome.exit_code == 2 and "--max-nodes" in outcome.stderr


def test_max_nodes_stops_a_huge_program_early(tmp_path):
    """The graph is built while Lark reads the text, so the error comes after
    about N nodes' worth of text, whatever follows (here ~600,000 terms)."""
    path = tmp_path / "huge.adiff"
    path.write_text(sum_of_terms(600_000))
    outcome = cli("eval", "-f", str(path), "--x", "1", "--w", "2", "--max-nodes", "1000")
    assert outcome.exit_code == 2 and "more than 1000 nodes" in outcome.stderr


def test_the_default_limit_is_generous():
    from autodiff_cli.cli import MAX_NODES
    assert MAX_NODES.default >= 2_000_000   # a 10^6-node program must run with room to spare
    assert "(default 5,000,000" in " ".join(cli("eval", "--help").stdout.split())


def _peak_rss_of_run(args: list[str]) -> tuple[int, subprocess.CompletedProcess]:
    """Run adiff in a fresh process (forked from a tiny one, so RUSAGE_CHILDREN
    reports adiff's own peak) and return its peak resident memory in bytes."""
    code = ("import resource, subprocess, sys; "
            "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
            "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([ADIFF[0], "-c", code, *ADIFF, *args], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=1200)
    returncode, peak_kb = map(int, done.stdout.split())
    return peak_kb * 1024, returncode


def test_memory_per_node_is_bounded(tmp_path):
    """100,000 nodes with --json: the peak, less the start-up, extrapolated to
    10^6 nodes stays far inside 2 GB (measured ~1.1 KB a node)."""
    path = tmp_path / "p.adiff"
    path.write_text(sum_of_terms(20_000))
    base, _ = _peak_rss_of_run(["eval", "x", "--x", "1", "--json"])
    peak, returncode = _peak_rss_of_run(["eval", "-f", str(path), "--x", "1", "--w", "2", "--json"])
    assert returncode == 0
    per_node = (peak - base) / 100_000
    assert per_node < 1600, per_node
    assert base + per_node * 10**6 < TWO_GB


@pytest.mark.slow
def test_a_million_node_program_completes_within_2_GB(tmp_path):
    """About 25 s and 1.1 GB with --json.  Run with --run-slow."""
    path = tmp_path / "p.adiff"
    path.write_text(sum_of_terms(200_000))
    peak, returncode = _peak_rss_of_run(["eval", "-f", str(path), "--x", "1", "--w", "2", "--json"])
    assert returncode == 0
    assert peak < TWO_GB, peak
