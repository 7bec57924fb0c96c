"""Jacobians, forward mode against reverse mode, measured in process.

    python benchmarks/jacobian.py            # about a minute
    python benchmarks/jacobian.py --quick    # smaller programs

It prints figures and ratios, never pass/fail: on a shared machine the
absolute times move with the load, so read the ratios, each measured in the
same run.
  1. 1 input, 1,000 outputs (out_i = sin(i*x)): forward mode makes one
     tangent pass, reverse mode 1,000 backward passes.  Target: forward at
     most 1/50 of reverse.
  2. 1,000 inputs, 1 output (sum of sin(i*x_i)): the reverse.
  3. what `--mode auto` chooses for each.
  4. functions: a program calling sq(a) = a*a 10^4 times, against the same
     program written out: the parse time of each, and their node counts
     (equal: a call is inlined through Graph.add).
"""

from __future__ import annotations

import argparse
import time

from autodiff_cli.evaluator import choose_mode, evaluate
from autodiff_cli.parser import parse


def best(function, repeat: int = 3) -> float:
    """The fastest of `repeat` runs, in seconds: the least disturbed by the load."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def modes(title: str, text: str, bindings: dict) -> None:
    graph = parse(text)
    outputs, inputs = len(graph.output_names()), len(graph.inputs)
    # the shorter run is the more disturbed by the load: more tries for it
    forward = best(lambda: evaluate(graph, bindings, "forward"), 9 if outputs > inputs else 3)
    reverse = best(lambda: evaluate(graph, bindings, "reverse"), 9 if inputs >= outputs else 3)
    print(f"{title}: {inputs} input(s), {outputs} output(s), {len(graph.nodes)} nodes")
    print(f"  forward {forward * 1e3:9.2f} ms   reverse {reverse * 1e3:9.2f} ms   "
          f"forward/reverse {forward / reverse:.4f}")
    print(f"  auto chooses {choose_mode('auto', outputs, inputs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller programs")
    quick = parser.parse_args().quick
    n = 200 if quick else 1000
    modes("many outputs", ", ".join(f"sin({i}*x)" for i in range(1, n + 1)), {"x": 0.3})
    modes("many inputs", " + ".join(f"sin({i}*x{i})" for i in range(1, n + 1)),
          {f"x{i}": 0.001 * i for i in range(1, n + 1)})
    calls = 2_000 if quick else 10_000
    with_functions = "sq(a) = a*a\n" + " + ".join(f"sq(x + {k})" for k in range(calls))
    written_out = " + ".join(f"(x + {k})*(x + {k})" for k in range(calls))
    t_functions = best(lambda: parse(with_functions))
    t_written = best(lambda: parse(written_out))
    a, b = len(parse(with_functions).nodes), len(parse(written_out).nodes)
    print(f"functions: {calls} calls of sq(a) = a*a")
    print(f"  parse with functions {t_functions * 1e3:8.1f} ms ({a} nodes)   "
          f"written out {t_written * 1e3:8.1f} ms ({b} nodes)   ratio {t_functions / t_written:.2f}")


if __name__ == "__main__":
    main()
