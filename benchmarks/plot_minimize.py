"""adiff plot and adiff minimize, measured.

    python benchmarks/plot_minimize.py            # about half a minute
    python benchmarks/plot_minimize.py --runs 5   # fewer cold starts

Prints figures and ratios, never pass/fail (machines are noisy):
  - time per minimize step for each sample, each method: one forward and
    one reverse pass over the parsed graph (no re-parse), against one
    plain `evaluate` of the same graph;
  - `adiff plot` on 400 points: sampling and drawing in process, and the
    whole command from a cold start (target: within 0.5 s);
  - cold start of `adiff eval` beside `adiff plot` and `adiff minimize`, as
    ratios to `python -c pass` (plot and minimize import nothing for eval:
    tests/test_plot.py checks which modules `eval` loads);
  - importing plotext, the terminal-plotting library not chosen.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ["seed", "logistic", "tanh_neuron", "two_layer", "projectile"]


def adiff_command() -> list[str]:
    script = Path(sys.executable).parent / "adiff"
    return [str(script)] if script.exists() else [sys.executable, "-m", "autodiff_cli"]


def cold(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=11, help="cold-start runs per command")
    args = options.parse_args()

    from autodiff_cli import optimize
    from autodiff_cli.evaluator import evaluate
    from autodiff_cli.parser import parse
    from autodiff_cli.plot import sample
    from autodiff_cli.render.plot import render

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    print("\nminimize: time per step / steps taken, best of 5 runs (gd, momentum, adam: 200 steps at"
          "\n  lr 1e-4; lbfgs: to convergence at tol 1e-8, its steps including SciPy's line search and"
          "\n  overhead); one plain evaluate for scale")
    print(f"  {'sample':12} {'nodes':>5} {'evaluate':>9} " + " ".join(f"{m:>12}" for m in ("gd", "momentum", "adam")) + "   lbfgs")
    for name in SAMPLES:
        graph = parse((ROOT / "samples" / f"{name}.adiff").read_text("utf-8"))
        wrt = list(graph.inputs)
        one = best(lambda: evaluate(graph, {}), 20)
        cells = []
        for method in ("gd", "momentum", "adam", "lbfgs"):
            seen = {}

            def run():
                first_order = method != "lbfgs"
                result = optimize.minimize(graph, {}, wrt, method=method, steps=200,
                                           tol=0.0 if first_order else 1e-8,
                                           lr=1e-4 if first_order else None)
                seen.update(steps=max(result.steps, 1), evaluations=result.evaluations)

            seconds = best(run)
            cells.append(f"{seconds / seen['steps'] * 1e6:.0f}us/{seen['steps']}")
            if method == "lbfgs":
                cells[-1] += f" ({seconds / seen['evaluations'] * 1e6:.0f}us/eval)"
        print(f"  {name:12} {len(graph.nodes):>5} {one * 1e6:7.0f}us " + " ".join(f"{c:>12}" for c in cells[:3]) + "   " + cells[3])

    print("\nplot, 400 points, in process (best of 5)")
    for text, name, low, high in (("tanh(x)", "x", -3, 3),
                                   ((ROOT / "samples" / "two_layer.adiff").read_text("utf-8"), "w11", -3, 3)):
        graph = parse(text)
        t_sample = best(lambda: sample(graph, {}, name, low, high, 400))
        samples = sample(graph, {}, name, low, high, 400)
        t_draw = best(lambda: render(samples, width=80, height=24, colour=True))
        t_second = best(lambda: sample(graph, {}, name, low, high, 400, order=2))
        label = text if len(text) < 20 else "two_layer (w11)"
        print(f"  {label:16} sample {t_sample * 1000:6.1f} ms   draw {t_draw * 1000:5.1f} ms   "
              f"sample with --order 2 {t_second * 1000:6.1f} ms")

    print(f"\ncold start (median of {args.runs} runs)")
    baseline = cold([sys.executable, "-c", "pass"], args.runs)
    print(f"  {'python -c pass':44} {baseline * 1000:7.1f} ms")
    two_layer = str(ROOT / "samples" / "two_layer.adiff")
    reference = None
    for label, words in (
            ("adiff eval seed --json", ["eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5", "--json"]),
            ("adiff plot tanh(x) --x -3:3 (400 points)", ["plot", "tanh(x)", "--x", "-3:3"]),
            ("adiff plot tanh(x) --x -3:3 --order 2", ["plot", "tanh(x)", "--x", "-3:3", "--order", "2"]),
            ("adiff minimize two_layer --method gd", ["minimize", "-f", two_layer, "--method", "gd"]),
            ("adiff minimize two_layer (lbfgs, SciPy)", ["minimize", "-f", two_layer, "--method", "lbfgs"])):
        seconds = cold(adiff_command() + words, args.runs)
        reference = reference or seconds
        print(f"  {label:44} {seconds * 1000:7.1f} ms   {seconds / baseline:5.1f}x python -c pass"
              f"   {seconds / reference:4.2f}x eval")
    label = "python -c 'import plotext' (not used)"
    if subprocess.run([sys.executable, "-c", "import plotext"], capture_output=True).returncode == 0:
        seconds = cold([sys.executable, "-c", "import plotext"], args.runs)
        print(f"  {label:44} {seconds * 1000:7.1f} ms   {seconds / baseline:5.1f}x python -c pass")
    else:
        print(f"  {label:44} plotext is not installed (pip install plotext to compare)")

if __name__ == "__main__":
    main()
