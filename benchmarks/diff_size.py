"""Size and speed of adiff's symbolic derivatives, against SymPy's.

    python benchmarks/diff_size.py            # everything (SymPy needed for its columns)
    python benchmarks/diff_size.py --quick    # fewer programs, smaller sums

SymPy is not a dependency of adiff: install it beside it (pip install sympy)
to get its columns; without it only adiff's figures are printed.

Operations are counted the same way on both sides: each + - * / ^, unary
minus and function call is one; shared definitions are included once.
adiff's count is the operation nodes its pruned derivative graph's
derivative outputs reach (diff.operation_count).  SymPy's is counted on
the printed text of sympy.cse's replacements and reduced expressions; a
minus sign that is part of a negative number (-2*x) is not counted, as
adiff's -2 is a constant, not an operation.

Three tables:
1. order 1 over random programs (seeded): totals, adiff against SymPy;
2. orders 1..8 of five functions, then of ten more: sizes, ratio and times
   (SymPy with a real symbol, its best of `diff(f, (x, n))` and n `diff`s);
3. the sum of sin(i*x + w) for i = 1..n: differentiation time against
   `adiff eval`'s (parse + forward + backward), and SymPy's times.

Figures depend on the machine and its load; compare ratios.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autodiff_cli.diff import differentiate, operation_count  # noqa: E402
from autodiff_cli.evaluator import evaluate  # noqa: E402
from autodiff_cli.graph import CONST, VAR  # noqa: E402
from autodiff_cli.parser import parse  # noqa: E402

try:
    import sympy
except ImportError:  # only adiff's columns then
    sympy = None

FUNCTIONS = ["exp(x*sin(x))/(1+x^2)", "log(1+x)", "tanh(x)", "sigmoid(x)", "sqrt(1+x^2)*exp(-x)"]
# more, of the kinds the first five do not cover: rational functions, nested
# exp/log/trig, products of powers, compositions of the smooth functions
MORE_FUNCTIONS = [
    "(x^3 - 2*x + 1)/(x^2 + 1)^2", "1/(1 + x + x^2)", "x/(1 + x^4)",
    "exp(sin(log(1 + x^2)))", "log(2 + cos(x))*exp(x)", "sin(exp(x))*cos(x)", "atan(x)/x",
    "x^3*(1 + x)^-2*sqrt(x)", "(1 + x)^2.5*(2 - x)^-1.5", "tanh(x^2)*sigmoid(x)",
]
SMOOTH = ["sin", "cos", "exp", "log", "sqrt", "tanh", "sigmoid", "atan", "sinh", "cosh", "tan"]
INPUTS = ["x", "w", "b", "y"]


# ---- random programs ------------------------------------------------------------------

def random_expression(rng: random.Random, names: list[str], size: int) -> str:
    """An expression with about `size` operations, built bottom-up (no recursion)."""
    pool = [rng.choice(names) for _ in range(size + 1)]
    for _ in range(size):
        kind = rng.random()
        a = pool.pop(rng.randrange(len(pool)))
        if kind < 0.3 and pool:
            b = pool.pop(rng.randrange(len(pool)))
            op = rng.choice(["+", "-", "*", "*", "/"])
            pool.append(f"({a} {op} {b})")
        elif kind < 0.45:
            pool.append(f"({a} {rng.choice(['+', '-', '*'])} {rng.choice(['2', '3', '0.5'])})")
        elif kind < 0.55:
            pool.append(f"{a}^{rng.choice(['2', '3', '-1'])}")
        else:
            pool.append(f"{rng.choice(SMOOTH)}({a})")
    while len(pool) > 1:
        a, b = pool.pop(), pool.pop()
        pool.append(f"({a} {rng.choice(['+', '*'])} {b})")
    return pool[0]


def random_program(rng: random.Random) -> str:
    """One to three statements; later ones use earlier names (shared subexpressions)."""
    names = rng.sample(INPUTS, rng.randint(1, 4))
    lines = []
    for n in range(rng.randint(0, 2)):
        lines.append(f"t{n} = {random_expression(rng, names, rng.randint(1, 4))}")
        names = names + [f"t{n}"] * 2
    lines.append(random_expression(rng, names, rng.randint(1, 5)))
    return "\n".join(lines)


# ---- SymPy ---------------------------------------------------------------------------

def to_sympy(graph):
    """The graph's value as a SymPy expression, built node by node (no recursion)."""
    s = sympy
    functions = {
        "sin": s.sin, "cos": s.cos, "tan": s.tan, "asin": s.asin, "acos": s.acos, "atan": s.atan,
        "sinh": s.sinh, "cosh": s.cosh, "tanh": s.tanh, "exp": s.exp, "log": s.log,
        "log2": lambda a: s.log(a) / s.log(2), "log10": lambda a: s.log(a) / s.log(10),
        "sqrt": s.sqrt, "abs": s.Abs, "sign": s.sign, "step": lambda a: s.Heaviside(a, 0),
        "sigmoid": lambda a: 1 / (1 + s.exp(-a)), "relu": lambda a: s.Max(a, 0),
        "softplus": lambda a: s.log(1 + s.exp(a)), "max": s.Max, "min": s.Min, "atan2": s.atan2,
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "neg": lambda a: -a, "pow": lambda a, b: a ** b,
    }
    values = []
    for node in graph.nodes:
        if node.op == VAR:
            values.append(s.Symbol(node.label, real=True))
        elif node.op == CONST:
            named = {"pi": s.pi, "e": s.E}
            values.append(named.get(node.label) or s.nsimplify(node.label or node.constant))
        else:
            values.append(functions[node.op](*(values[i] for i in node.inputs)))
    return values[graph.output], {n: values[i] for n, i in graph.inputs.items()}


_TOKEN = re.compile(r"\*\*|[A-Za-z_][A-Za-z_0-9]*\(|[A-Za-z_][A-Za-z_0-9]*|[0-9.]+(?:e[+-]?[0-9]+)?|[-+*/(),]|\S")


def sympy_operations(expressions) -> int:
    replacements, reduced = sympy.cse(expressions)
    texts = [str(e) for _, e in replacements] + [str(e) for e in reduced]
    return sum(text_operations(t) for t in texts)


def text_operations(text: str) -> int:
    """Operations in printed SymPy text: + - * / **, unary minus, calls."""
    tokens = _TOKEN.findall(text)
    count = 0
    for n, token in enumerate(tokens):
        previous = tokens[n - 1] if n else None
        if token.endswith("("):
            count += 1
        elif token == "-":
            unary = previous is None or previous in ("(", ",", "+", "-", "*", "/", "**") \
                or previous.endswith("(")
            negative_number = unary and n + 1 < len(tokens) and tokens[n + 1][0].isdigit()
            count += 0 if negative_number else 1
        elif token in ("+", "*", "/", "**"):
            count += 1
    return count


# ---- the tables ----------------------------------------------------------------------

def table_random(count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    adiff_total = sympy_total = 0
    adiff_time = sympy_time = 0.0
    worse = 0
    for _ in range(count):
        program = random_program(rng)
        graph = parse(program)
        start = time.perf_counter()
        derivative = differentiate(graph)
        adiff_time += time.perf_counter() - start
        keys = [k for k in derivative.outputs if k]
        ours = operation_count(derivative, keys)
        adiff_total += ours
        if sympy:
            value, symbols = to_sympy(graph)
            start = time.perf_counter()
            theirs = sympy_operations([sympy.diff(value, symbols[n]) for n in graph.inputs])
            sympy_time += time.perf_counter() - start
            sympy_total += theirs
            worse += ours > theirs
    print(f"## order 1 over {count} random programs (seed {seed}, every input)")
    print(f"adiff operations: {adiff_total}   time {adiff_time:.2f} s")
    if sympy:
        print(f"SymPy operations: {sympy_total}   time {sympy_time:.2f} s (diff + cse)")
        print(f"ratio adiff/SymPy: {adiff_total / sympy_total:.3f}; "
              f"programs where adiff is larger: {worse}")
    print()


def table_orders(functions, max_order: int = 8) -> list:
    """Each order of each function: adiff against SymPy at its best.

    SymPy's symbol is declared real (Symbol('x', real=True)), which lets it
    drop conjugates and Abs; not positive, as none of these functions is
    restricted to x > 0 by its domain alone (log(1+x), sqrt(x) on its own
    line would be, and SymPy's experts would not assume it for the rest).
    Two SymPy columns: `diff(f, (x, n))`, which uses the general Leibniz
    rule on products (the smallest, usually), and n calls of `diff`, one
    order at a time, as the former benchmark did; the ratio is against the
    smaller.  Returns the rows (case, order, adiff, SymPy best)."""
    print(f"## orders 1..{max_order}: SymPy with x real; ratio against the smaller SymPy column")
    print(f"{'case':<28} {'order':>5} {'adiff':>7} {'diff(n)':>7} {'n diffs':>7} {'ratio':>6} "
          f"{'adiff s':>8} {'SymPy s':>8}")
    rows = []
    for text in functions:
        graph = parse(text)
        value, symbols = to_sympy(graph) if sympy else (None, None)
        derivative_sympy = value
        for order in range(1, max_order + 1):
            start = time.perf_counter()
            derivative = differentiate(graph, ["x"], order)
            ours_time = time.perf_counter() - start
            ours = operation_count(derivative, [("x",) * order])
            direct = iterated = ratio = theirs_time = None
            if sympy:
                start = time.perf_counter()
                direct = sympy_operations([sympy.diff(value, (symbols["x"], order))])
                theirs_time = time.perf_counter() - start
                derivative_sympy = sympy.diff(derivative_sympy, symbols["x"])
                iterated = sympy_operations([derivative_sympy])
                best = min(direct, iterated)
                ratio = ours / best if best else float("inf")
                rows.append((text, order, ours, best))
            print(f"{text:<28} {order:>5} {ours:>7} {_or(direct):>7} {_or(iterated):>7} "
                  f"{_or(ratio, '.2f'):>6} {ours_time:>8.4f} {_or(theirs_time, '.4f'):>8}")
    if rows:
        worst = max(rows, key=lambda row: row[2] / max(row[3], 1))
        print(f"largest ratio: {worst[2] / max(worst[3], 1):.2f} ({worst[0]}, order {worst[1]}); "
              f"total adiff/SymPy: {sum(r[2] for r in rows) / sum(r[3] for r in rows):.3f}")
    print()
    return rows


def sum_program(n: int) -> str:
    return " + ".join(f"sin({i}*x + w)" for i in range(1, n + 1))


def table_sum(sizes, sympy_sizes) -> None:
    print("## sum of sin(i*x + w), i = 1..n")
    print(f"{'n':>7} {'parse s':>8} {'eval s':>8} {'diff s':>8} {'alone':>6} {'diff/eval':>9} "
          f"{'nodes':>8} {'derivative nodes':>16} {'SymPy s':>8}")
    for n in sizes:
        text = sum_program(n)
        start = time.perf_counter()
        graph = parse(text)
        parsed = time.perf_counter() - start
        start = time.perf_counter()
        evaluate(graph, {"x": 0.5, "w": 0.25})
        evaluated = time.perf_counter() - start
        start = time.perf_counter()
        derivative = differentiate(graph)
        differentiated = time.perf_counter() - start
        theirs = None
        if sympy and n in sympy_sizes:
            theirs = _sympy_sum_time(n, SYMPY_TIMEOUT)
        ratio = (parsed + differentiated) / (parsed + evaluated)
        print(f"{n:>7} {parsed:>8.3f} {evaluated:>8.3f} {differentiated:>8.3f} "
              f"{differentiated / evaluated:>6.2f} {ratio:>9.2f} "
              f"{len(graph.nodes):>8} {len(derivative.nodes):>16} "
              f"{theirs if isinstance(theirs, str) else _or(theirs, '.3f'):>8}")
    print("alone: differentiate / evaluate (forward + backward), the parse left out")
    print("diff/eval: (parse + differentiate) / (parse + evaluate), as `adiff diff` against `adiff eval`")
    print()


SYMPY_TIMEOUT = 300.0


def _sympy_sum_time(n: int, timeout: float):
    """SymPy's diff + cse of the n-term sum, in a child process (its default
    recursion limit, as its users have it), or why it did not finish."""
    import subprocess
    code = (
        "import sys, time, sympy\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from diff_size import sum_program, to_sympy\n"
        "from autodiff_cli.parser import parse\n"
        f"graph = parse(sum_program({n}))\n"
        "start = time.perf_counter()\n"
        "try:\n"
        "    value, symbols = to_sympy(graph)\n"
        "    sympy.cse([sympy.diff(value, symbols[v]) for v in ('x', 'w')])\n"
        "    print(time.perf_counter() - start)\n"
        "except RecursionError:\n"
        "    print('RecursionError')\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return f">{timeout:.0f}s"
    answer = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "failed"
    try:
        return float(answer)
    except ValueError:
        return answer


def _or(value, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer programs and smaller sums")
    parser.add_argument("--only", choices=["random", "orders", "sum"], help="one table")
    parser.add_argument("--seed", type=int, default=7, help="the random programs' seed (default 7)")
    args = parser.parse_args()
    if sympy is None:
        print("SymPy is not installed: its columns are left empty (pip install sympy)\n")
    else:
        print(f"SymPy {sympy.__version__}\n")
    if args.only in (None, "random"):
        table_random(60 if args.quick else 250, args.seed)
    if args.only in (None, "orders"):
        table_orders(FUNCTIONS, 8)
        table_orders(MORE_FUNCTIONS, 8)
    if args.only in (None, "sum"):
        if args.quick:
            table_sum([100, 1000, 10_000], [100, 1000])
        else:
            table_sum([100, 1000, 10_000, 100_000], [100, 1000, 10_000])


if __name__ == "__main__":
    main()
