"""adiff's speed, measured: cold start, and parse / forward / backward by size.

Run from anywhere with the Python that has adiff installed:

    python benchmarks/speed.py            # about a minute
    python benchmarks/speed.py --quick    # sizes up to 10^4 only

It prints figures and ratios, never pass/fail: machines are noisy, so read
the ratios (each against a yardstick measured in the same run).
  - cold start: `adiff eval` on the seed example, --json and the table, as a
    ratio to `python -c pass`, in wall time and in CPU time (targets: at
    most 9x and 11x);
  - sums of n terms `sin(i*x + w)` read from a file: parse (text to graph),
    forward and backward, against Lark's bare parse of the same text with the
    same grammar (target at 10^5 terms: at most 1.5x).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = ["eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5"]


def adiff_command() -> list[str]:
    script = Path(sys.executable).parent / "adiff"
    return [str(script)] if script.exists() else [sys.executable, "-m", "autodiff_cli"]


def cold(commands: list[list[str]], runs: int) -> list[tuple[float, float]]:
    """Median wall time and median CPU time (user + system) of a fresh
    process running each command.  The commands take turns, run after run,
    so that a change in the machine's load touches each of them alike and
    the ratios between them hold.  On a busy machine the CPU time is the
    steadier of the two: it does not count the time spent waiting for a core."""
    import resource

    times: list[list[float]] = [[] for _ in commands]
    cpu: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for k, command in enumerate(commands):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[k].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return [(statistics.median(t), statistics.median(c)) for t, c in zip(times, cpu)]


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="sizes up to 10^4 terms only")
    options.add_argument("--runs", type=int, default=21, help="cold-start runs per command")
    args = options.parse_args()

    from lark import Lark

    from autodiff_cli.evaluator import backward, bind, forward
    from autodiff_cli.parser import _grammar_text, parse

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    os.chdir(tempfile.gettempdir())

    print("\ncold start (median of %d runs)" % args.runs)
    names = ("adiff eval seed --json", "adiff eval seed (table)")
    (baseline, baseline_cpu), *measured = cold([[sys.executable, "-c", "pass"],
                                                adiff_command() + SEED + ["--json"],
                                                adiff_command() + SEED], args.runs)
    print(f"  {'':24} {'wall':>7}            {'ratio':>5}   {'cpu':>7}            {'ratio':>5}")
    print(f"  python -c pass           {baseline * 1000:7.1f} ms {'':11}{baseline_cpu * 1000:7.1f} ms")
    for name, (seconds, cpu) in zip(names, measured):
        print(f"  {name:24} {seconds * 1000:7.1f} ms   {seconds / baseline:5.1f}x"
              f"   {cpu * 1000:7.1f} ms   {cpu / baseline_cpu:5.1f}x python -c pass")

    from autodiff_cli.tables import OPTIONS
    bare = Lark(_grammar_text(), **OPTIONS)   # the options adiff's parser is built with
    print("\nsum of n terms sin(i*x + w), from a file (best of 3; seconds)")
    print(f"  {'n':>7} {'nodes':>8} {'read+parse':>10} {'forward':>8} {'backward':>8} {'total':>7}"
          f" {'lark bare':>9} {'total/bare':>10} {'us/term':>8}")
    sizes = [10 ** 3, 10 ** 4] + ([] if args.quick else [10 ** 5])
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"sum{n}.adiff"
            path.write_text(" + ".join(f"sin({i}*x + w)" for i in range(n)) + "\n", encoding="utf-8")
            repeat = 3 if n < 10 ** 5 else 1
            graph = parse(path.read_text("utf-8"))
            inputs, warnings = bind(graph, {"x": 0.5, "w": 0.1})
            values, needs = forward(graph, inputs, warnings)
            t_parse = best(lambda: parse(path.read_text("utf-8")), repeat)
            t_forward = best(lambda: forward(graph, inputs, []), repeat)
            t_backward = best(lambda: backward(graph, values, needs, []), repeat)
            t_bare = best(lambda: bare.parse(path.read_text("utf-8")), repeat)
            total = t_parse + t_forward + t_backward
            print(f"  {n:>7} {len(graph.nodes):>8} {t_parse:>10.3f} {t_forward:>8.3f} {t_backward:>8.3f}"
                  f" {total:>7.3f} {t_bare:>9.3f} {total / t_bare:>9.2f}x {total / n * 1e6:>8.1f}")


if __name__ == "__main__":
    main()
