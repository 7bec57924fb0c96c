"""The symbolic pass (diff.py): derivatives as graphs, checked against
independent numbers (central finite differences of the value, and of the
evaluator's gradient for second derivatives), never against its own output."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from autodiff_cli import AdiffError
from autodiff_cli.diff import _Pass, differentiate, hessian, hessian_values, operation_count
from autodiff_cli.errors import ExitCode
from autodiff_cli.evaluator import evaluate, forward
from autodiff_cli.graph import Graph
from autodiff_cli.ops import OPS
from autodiff_cli.parser import parse

from numeric import central_difference, close
from test_fuzz import smooth_candidates
from test_ops import DOMAIN, POINTS

EPS = sys.float_info.epsilon


def outputs_at(graph: Graph, point: dict) -> dict:
    values, _ = forward(graph, point, [])
    return {key: values[node] for key, node in graph.outputs.items()}


def value_of(program: str, point: dict) -> float:
    return evaluate(parse(program), point).value


def gradient_of(program: str, point: dict, name: str) -> float:
    return evaluate(parse(program), point).gradient([name])[name]


# ---- every op's partial formula, instantiated, against its numeric partial -------------

def op_cases():
    for name, op in OPS.items():
        for point in DOMAIN.get(name, POINTS[op.arity]):
            yield name, point if isinstance(point, tuple) else (point,)


@pytest.mark.parametrize("name, point", list(op_cases()), ids=str)
def test_each_partial_formula_instantiated_agrees_with_the_numeric_partial(name, point):
    op = OPS[name]
    graph = Graph()
    args = tuple(graph.input(n) for n in ("a", "b")[:op.arity])
    node = graph.add(name, args)
    graph.output, graph.outputs = node, {(): node}
    work = _Pass(graph)
    bound = dict(zip(("a", "b"), point))
    out = op.forward(*point)
    for k in range(op.arity):
        local = work.partial(node, k)
        values, _ = forward(work.work, bound, [])
        expected = op.partials[k](*point, out)
        if math.isnan(expected):   # log of a negative base: both are NaN
            assert math.isnan(values[local])
            continue
        assert close(values[local], expected), (name, k, point, values[local], expected)


# ---- the pass on every op, against finite differences ----------------------------------

def op_programs():
    """Each op applied to expressions of two inputs, at points in its domain."""
    for name, op in OPS.items():
        if name in ("sign", "step"):
            continue  # constant almost everywhere; see the kink tests
        text = op.symbol if op.symbol and not op.callable else None
        if op.arity == 1:
            inner = "(0.3*x + 0.2*w)" if name not in ("log", "log2", "log10", "sqrt") else "(x*w + 0.5)"
            if name == "acosh":   # its domain is [1, inf)
                inner = "(x*w + 1.5)"
            program = f"-{inner}" if name == "neg" else f"{name}({inner})"
            points = [{"x": 0.7, "w": 0.9}, {"x": -1.1, "w": 0.4}] if name in ("asin", "acos", "abs", "relu") \
                else [{"x": 0.7, "w": 0.9}, {"x": 1.3, "w": 0.3}]
            if name in ("abs", "relu"):
                points = [{"x": 0.7, "w": 0.9}, {"x": -1.1, "w": -0.4}]
        else:
            left, right = "(x*w + 1)", "(x - 0.5*w + 2)"
            program = f"{left} {text} {right}" if text else f"{name}({left}, {right})"
            points = [{"x": 0.7, "w": 0.9}, {"x": 1.3, "w": -0.6}]
        for point in points:
            yield name, program, point


@pytest.mark.parametrize("name, program, point", list(op_programs()), ids=str)
def test_first_and_second_derivatives_of_every_op_match_finite_differences(name, program, point):
    graph = parse(program)
    h = hessian(graph)
    got = outputs_at(h, point)
    assert got[()] == value_of(program, point)
    for u in graph.inputs:
        fd = central_difference(lambda v: value_of(program, {**point, u: v}), point[u])
        assert close(got[(u,)], fd, rel=1e-5, abs_=1e-6), (program, u, got[(u,)], fd)
        for v in graph.inputs:
            key = (u, v) if (u, v) in h.outputs else (v, u)
            # second derivatives: finite differences of the evaluator's gradient
            fd2 = central_difference(lambda t: gradient_of(program, {**point, v: t}, u), point[v])
            assert close(got[key], fd2, rel=1e-4, abs_=1e-5), (program, u, v, got[key], fd2)


@pytest.mark.parametrize("program, point, order", [
    ("log(1+x)", {"x": 0.3}, 6),
    ("exp(x*sin(x))/(1+x^2)", {"x": 0.4}, 4),
    ("tanh(x)", {"x": 0.6}, 5),
    ("sigmoid(x)", {"x": -0.8}, 5),
    ("sqrt(1+x^2)*exp(-x)", {"x": 1.2}, 5),
    ("atan2(x, 1 + x^2)", {"x": 0.5}, 3),
])
def test_higher_orders_match_finite_differences_of_the_order_below(program, point, order):
    graph = parse(program)
    below = differentiate(graph, ["x"], order - 1) if order > 1 else None
    derivative = differentiate(graph, ["x"], order)
    got = outputs_at(derivative, point)[("x",) * order]

    def lower(t: float) -> float:
        if below is None:
            return value_of(program, {"x": t})
        return outputs_at(below, {"x": t})[("x",) * (order - 1)]
    fd = central_difference(lower, point["x"])
    assert close(got, fd, rel=1e-4, abs_=1e-6), (got, fd)


def test_log_1_plus_x_sixth_derivative_is_published_value():
    # d^n/dx^n log(1+x) = (-1)^(n-1) (n-1)! / (1+x)^n
    got = outputs_at(differentiate(parse("log(1+x)"), ["x"], 6), {"x": 0.3})[("x",) * 6]
    assert close(got, -120 / 1.3 ** 6, rel=1e-12)


# ---- the seed example -----------------------------------------------------------------

def test_seed_hessian_at_the_articles_point():
    h = hessian(parse("(x*w+b-y)^2"), ["x", "w"])
    got = outputs_at(h, {"x": 2, "w": 3, "b": 1, "y": 5})
    assert got[()] == 4
    assert got[("x",)] == 12 and got[("w",)] == 8
    assert got[("x", "x")] == 18      # 2w²
    assert got[("x", "w")] == 16      # 2(2xw + b − y)
    assert got[("w", "w")] == 8       # 2x²
    assert set(h.outputs) == {(), ("x",), ("w",), ("x", "x"), ("x", "w"), ("w", "w")}


def test_hessian_values_is_the_symmetric_matrix():
    graph = parse("(x*w+b-y)^2")
    matrix = hessian_values(graph, {"x": 2, "w": 3, "b": 1, "y": 5}, ["x", "w"])
    assert matrix == {"x": {"x": 18.0, "w": 16.0}, "w": {"x": 16.0, "w": 8.0}}


def test_seed_first_derivative_is_small_and_keeps_the_users_names():
    graph = parse("d = x*w + b - y\nL = d^2")
    derivative = differentiate(graph)
    labels = {n.label for n in derivative.nodes}
    assert {"d", "L"} <= labels
    # ∂L/∂x = 2·d·w: the product and the doubling, over the shared d
    d = next(n.id for n in derivative.nodes if n.label == "d")
    used = {i for n in derivative.nodes for i in n.inputs}
    assert d in used
    assert operation_count(derivative, [("x",)]) <= 3 + 3   # d's three operations + 2·d·w


# ---- the graph the pass returns -------------------------------------------------------

def test_the_derivative_graph_keeps_inputs_defaults_and_source():
    text = "w = 3\nx*w + sin(y)"
    graph = parse(text)
    derivative = differentiate(graph, order=2)
    assert list(derivative.inputs) == list(graph.inputs)
    assert derivative.defaults == graph.defaults and derivative.source == text
    assert derivative.first_use == graph.first_use
    assert derivative.output == derivative.outputs[()]
    assert set(derivative.outputs) == {(), ("w", "w"), ("x", "x"), ("y", "y")}


def test_dead_nodes_are_pruned():
    derivative = differentiate(parse("unused = cosh(x)^3\nx*2"))
    assert not any(n.op in ("cosh", "pow") for n in derivative.nodes)


def test_an_input_the_value_does_not_use_has_derivative_zero():
    graph = parse("a = y\nx^2")
    derivative = differentiate(graph)
    assert outputs_at(derivative, {"x": 3, "y": 1})[("y",)] == 0


def test_wrt_defaults_to_every_input_in_first_use_order():
    assert list(differentiate(parse("b*a + c")).outputs) == [(), ("b",), ("a",), ("c",)]


def test_a_wrt_that_is_not_an_input_is_a_usage_error_with_a_suggestion():
    with pytest.raises(AdiffError) as caught:
        differentiate(parse("x*w"), ["ww"])
    assert caught.value.kind == "usage" and "did you mean w" in caught.value.hint


@pytest.mark.parametrize("order", [0, -1, 1.5, True])
def test_an_order_below_one_is_a_usage_error(order):
    with pytest.raises(AdiffError) as caught:
        differentiate(parse("x^3"), ["x"], order)
    assert caught.value.kind == "usage"


def test_a_derivative_past_max_nodes_is_too_large_and_exits_one():
    graph = parse("exp(x*sin(x))/(1+x^2)", max_nodes=40)
    with pytest.raises(AdiffError) as caught:
        differentiate(graph, ["x"], 6)
    assert caught.value.kind == "too_large" and caught.value.exit_code == ExitCode.FAILURE


# ---- kinks: the derivative almost everywhere -------------------------------------------

def test_relu_differentiates_to_step_whose_derivative_is_zero():
    graph = parse("relu(x)")
    first = differentiate(graph, ["x"], 1)
    assert first.nodes[first.outputs[("x",)]].op == "step"
    second = differentiate(graph, ["x"], 2)
    for x in (-1.0, 0.0, 2.0):
        assert outputs_at(second, {"x": x})[("x", "x")] == 0


def test_at_a_tie_of_max_the_symbolic_partials_are_steps_not_halves():
    derivative = differentiate(parse("max(x, y)"))
    got = outputs_at(derivative, {"x": 1.0, "y": 1.0})
    assert got[("x",)] == 0 and got[("y",)] == 0       # step(0) each; eval says 0.5
    got = outputs_at(derivative, {"x": 2.0, "y": 1.0})
    assert got[("x",)] == 1 and got[("y",)] == 0


# ---- programs from the grammar --------------------------------------------------------

POINTS_FUZZ = [
    {"x": 0.7, "y": -1.3, "w": 2.1, "θ": 0.3, "a": 0.6, "b": 1.1},
    {"x": -0.4, "y": 1.7, "w": 0.9, "θ": -2.2, "a": 0.6, "b": 1.1},
]


def _smooth_trace(text, point):
    try:
        graph = parse(text, point)
        used = {name: point[name] for name in graph.inputs if name in point}
        trace = evaluate(graph, used)
    except AdiffError:
        assume(False)
    assume(used and not trace.warnings)
    assume(all(math.isfinite(v) for v in trace.values))
    assume(all(g is None or math.isfinite(g) for g in trace.grads))
    assume(abs(trace.value) < 1e6)
    # 0^y: the op table takes ∂/∂y as 0 there, the formula out·log(a) is 0·(−inf)
    assume(not any(n.op == "pow" and trace.values[n.inputs[0]] == 0 for n in graph.nodes))
    return graph, used, trace


def _fd(f, x):
    """Central difference, and whether two step sizes agree (no kink, moderate curvature)."""
    h = 6e-6 * max(1.0, abs(x))
    plus, minus, plus2, minus2 = f(x + h), f(x - h), f(x + 2 * h), f(x - 2 * h)
    assume(all(math.isfinite(v) for v in (plus, minus, plus2, minus2)))
    fd, wide = (plus - minus) / (2 * h), (plus2 - minus2) / (4 * h)
    return fd, wide, h


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(smooth_candidates, st.sampled_from(POINTS_FUZZ))
def test_generated_programs_first_derivatives_match_finite_differences(text, point):
    graph, used, trace = _smooth_trace(text, point)
    derivative = differentiate(graph)
    got = outputs_at(derivative, used)
    noise = 8 * EPS * sum(abs(v * g) for v, g in zip(trace.values, trace.grads) if g is not None)
    note(f"program {text!r} at {used}")
    for name, x in used.items():
        fd, wide, h = _fd(lambda t: evaluate(graph, {**used, name: t}).value, x)
        floor = 1e-9 + noise / h
        assume(abs(fd - wide) <= 1e-6 * abs(fd) + floor)
        assert abs(got[(name,)] - fd) <= 1e-5 * max(abs(fd), abs(got[(name,)])) + floor, \
            (name, got[(name,)], fd)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(smooth_candidates, st.sampled_from(POINTS_FUZZ))
def test_generated_programs_second_derivatives_match_finite_differences_of_the_gradient(text, point):
    graph, used, trace = _smooth_trace(text, point)
    h2 = hessian(graph)
    got = outputs_at(h2, used)
    names = list(used)
    note(f"program {text!r} at {used}")
    for n, u in enumerate(names):
        for v in names[n:]:
            def gradient(t: float) -> float:
                return evaluate(graph, {**used, v: t}).gradient([u])[u]
            fd, wide, h = _fd(gradient, used[v])
            scale = 1e-7 * (1 + max(abs(g) for g in trace.gradient().values())) / h
            assume(abs(fd - wide) <= 1e-5 * abs(fd) + scale)
            value = got[(u, v)]
            assume(math.isfinite(value))
            assert abs(value - fd) <= 1e-4 * max(abs(fd), abs(value)) + scale, (u, v, value, fd)


# ---- deep programs: no recursion --------------------------------------------------------

@pytest.mark.parametrize("depth, order", [(10_000, 1), (2_000, 2)])
def test_a_deep_chain_differentiates_without_recursion(depth, order):
    text = "t = x\n" + "t = sin(t) + x\n" * depth + "t"
    graph = parse(text)
    derivative = differentiate(graph, ["x"], order)
    # against the chain rule written out by hand: t' = cos(t)·t' + 1
    t, dt, d2t = 0.3, 1.0, 0.0
    for _ in range(depth):
        t, dt, d2t = math.sin(t) + 0.3, math.cos(t) * dt + 1, -math.sin(t) * dt * dt + math.cos(t) * d2t
    got = outputs_at(derivative, {"x": 0.3})[("x",) * order]
    assert close(got, dt if order == 1 else d2t, rel=1e-9)


# ---- adiff eval --hessian ------------------------------------------------------------------

def test_eval_hessian_json_is_the_symmetric_matrix_after_the_gradient(run_cli):
    import json
    code, out, err = run_cli("eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5",
                             "--hessian", "--wrt", "x,w", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc)[list(doc).index("gradient") + 1] == "hessian"
    assert doc["hessian"] == {"x": {"x": 18, "w": 16}, "w": {"x": 16, "w": 8}}


def test_eval_hessian_writes_non_finite_entries_as_strings(run_cli):
    import json
    code, out, err = run_cli("eval", "log(x)", "--x", "0", "--hessian", "--json")
    assert json.loads(out)["hessian"] == {"x": {"x": "-Infinity"}}


def test_eval_hessian_table_has_the_matrix_under_the_gradient(run_cli):
    code, out, err = run_cli("eval", "x^3*w", "--x", "2", "--w", "3", "--hessian")
    assert code == 0, err
    lines = out.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Hessian"))
    assert lines[start + 1].split() == ["x", "w"]
    assert lines[start + 2].split() == ["x", "36", "12"]     # 6xw, 3x²
    assert lines[start + 3].split() == ["w", "12", "0"]


@pytest.mark.parametrize("program", ["1e308*x*x", "1e308*x + 1e308*x", "x*1e200*1e200"])
def test_coefficients_that_overflow_are_not_folded(program):
    # folding 2e308 would need a literal for inf, which adiff's language has not:
    # the derivative keeps the finite factors and evaluates to eval's inf
    import autodiff_cli
    from autodiff_cli.evaluator import forward
    graph = autodiff_cli.differentiate(program)
    values, _ = forward(graph, {"x": 1.0}, [])
    expected = autodiff_cli.evaluate(program, x=1.0).gradient()["x"]
    assert values[graph.outputs[("x",)]] == expected == math.inf


# ---- n-th derivatives of random programs against mpmath at 50 digits --------------------

mpmath = pytest.importorskip("mpmath")

# the smooth ops, each with its meaning in mpmath (written here, not taken from ops.py)
_MP = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "neg": lambda a: -a, "pow": lambda a, b: mpmath.power(a, b),
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "atan": mpmath.atan,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh, "exp": mpmath.exp,
    "log": mpmath.log, "sqrt": mpmath.sqrt, "sigmoid": lambda a: 1 / (1 + mpmath.exp(-a)),
    "softplus": lambda a: mpmath.log(1 + mpmath.exp(a)), "atan2": mpmath.atan2,
}


def mp_value(graph: Graph, point: dict):
    """The program's value in mpmath's arithmetic, node by node (an oracle
    independent of the evaluator and of every derivative rule)."""
    values = []
    for node in graph.nodes:
        if node.op == "var":
            values.append(point[node.label])
        elif node.op == "const":
            values.append(mpmath.mpf(node.constant))   # the double the program holds
        else:
            values.append(_MP[node.op](*(values[i] for i in node.inputs)))
    return values[graph.output]


def random_program(rng, names, size):
    """A random expression over `names`: products, quotients, powers and
    compositions of the smooth functions, kept in their domains (log and
    sqrt of 1 + u², powers of 2 + u², quotients by 1 + u²)."""
    import random as _random
    assert isinstance(rng, _random.Random)
    pool = [rng.choice(names) for _ in range(size + 1)]
    for _ in range(size):
        a = pool.pop(rng.randrange(len(pool)))
        kind = rng.random()
        if kind < 0.3 and pool:
            b = pool.pop(rng.randrange(len(pool)))
            pool.append(rng.choice([f"({a} + {b})", f"({a} - {b})", f"({a} * {b})",
                                    f"({a} / (1 + ({b})^2))"]))
        elif kind < 0.45:
            pool.append(rng.choice([f"({a} * {rng.choice(['2', '0.5', '3', '-1.5'])})",
                                    f"({a} + {rng.choice(['1', '0.25'])})"]))
        elif kind < 0.6:
            pool.append(rng.choice([f"({a})^{rng.choice(['2', '3'])}",
                                    f"(2 + ({a})^2)^{rng.choice(['-1', '-2', '0.5', '-1.5', '2.5'])}"]))
        else:
            f = rng.choice(["sin", "cos", "exp", "atan", "tanh", "sigmoid", "sinh", "log1", "sqrt1"])
            pool.append({"log1": f"log(1 + ({a})^2)", "sqrt1": f"sqrt(1 + ({a})^2)"}.get(f, f"{f}({a})"))
    while len(pool) > 1:
        a, b = pool.pop(), pool.pop()
        pool.append(f"({a} {rng.choice(['+', '*'])} {b})")
    return pool[0]


@pytest.mark.parametrize("seed", range(40))
def test_nth_derivatives_of_random_programs_match_mpmath_at_50_digits(seed):
    import random
    rng = random.Random(seed)
    text = random_program(rng, ["x"], rng.randint(2, 6))
    graph = parse(text)
    x0 = rng.choice([-1.3, -0.6, 0.35, 0.8, 1.7])
    with mpmath.workdps(50):
        reference = mpmath.taylor(lambda t: mp_value(graph, {"x": t}), mpmath.mpf(x0), 6)
        reference = [c * mpmath.factorial(n) for n, c in enumerate(reference)]
    for order in range(1, 7):
        got = outputs_at(differentiate(graph, ["x"], order), {"x": x0})[("x",) * order]
        want = float(reference[order])
        # the double result carries the rounding of its own evaluation, relative to
        # the size of the derivatives it is built from (measured: at most 3.2e-15)
        scale = max(abs(float(c)) for c in reference[:order + 1])
        assert abs(got - want) <= 1e-13 * scale, (text, x0, order, got, want)


@pytest.mark.parametrize("seed", range(12))
def test_mixed_random_programs_gradients_match_mpmath(seed):
    import random
    rng = random.Random(100 + seed)
    names = ["x", "w", "b"]
    text = random_program(rng, names, rng.randint(3, 8))
    graph = parse(text)
    point = {n: rng.choice([-1.1, -0.4, 0.3, 0.9, 1.6]) for n in graph.inputs}
    got = outputs_at(differentiate(graph), point)
    with mpmath.workdps(50):
        for name in graph.inputs:
            want = mpmath.diff(lambda t: mp_value(graph, {**point, name: t}), mpmath.mpf(point[name]))
            assert close(got[(name,)], float(want), rel=1e-11, abs_=1e-13), (text, name)


# ---- the size of high-order derivatives ---------------------------------------------------

@pytest.mark.parametrize("program, order, at_most", [
    # SymPy 1.14's diff(f, (x, n)) + cse, x real: 277, 88, 65, 43 operations; the bound is 2×
    ("exp(x*sin(x))/(1+x^2)", 8, 2 * 277),
    ("sqrt(1+x^2)*exp(-x)", 8, 2 * 88),
    ("(x^3 - 2*x + 1)/(x^2 + 1)^2", 8, 2 * 65),
    ("atan(x)/x", 8, 2 * 43),
    ("tanh(x)", 8, 2 * 19),
])
def test_high_order_derivatives_stay_within_twice_sympys_size(program, order, at_most):
    derivative = differentiate(parse(program), ["x"], order)
    assert operation_count(derivative, [("x",) * order]) <= at_most


def test_nth_derivatives_grow_quadratically_not_exponentially():
    graph = parse("exp(x*sin(x))/(1+x^2)")
    sizes = [operation_count(differentiate(graph, ["x"], n), [("x",) * n]) for n in (4, 8, 16)]
    # Taylor mode: O(n²) nodes; repeated reverse mode roughly doubles with each order
    assert sizes[2] <= 5 * sizes[1] and sizes[1] <= 5 * sizes[0], sizes


# ---- numbers the user wrote fold ------------------------------------------------------------

@pytest.mark.parametrize("program, wrt, text", [
    ("0.5*m*v^2", "v", "∂f/∂v = m·v"),
    ("x*2*3*y", "y", "∂f/∂y = 6·x"),
    ("(2+3)*x*y", "y", "∂f/∂y = 5·x"),
    ("sin(2*3*x)", "x", "∂f/∂x = 6·cos(6·x)"),
    ("(2*x)^2*y", "y", "∂f/∂y = 4·x²"),
    ("x/4*2*y", "y", "∂f/∂y = 0.5·x"),
])
def test_numbers_the_user_wrote_fold_in_the_derivative(run_cli, program, wrt, text):
    code, out, err = run_cli("diff", program, "--wrt", wrt)
    assert code == 0, err
    assert out.strip() == text


def test_folded_numbers_are_the_programs_doubles():
    # 3*0.1 is 0.30000000000000004 in the program: its derivative says the same,
    # and agrees with the evaluator's gradient to the last bit
    program, point = "3*0.1*x*y", {"x": 0.7, "y": 1.9}
    derivative = differentiate(parse(program))
    got = outputs_at(derivative, point)
    trace = evaluate(parse(program), point).gradient()
    assert got[("x",)] == trace["x"] and got[("y",)] == trace["y"]


@pytest.mark.parametrize("seed", range(30))
def test_no_two_numbers_multiply_in_a_printed_derivative(run_cli, seed):
    import random
    import re
    rng = random.Random(seed)
    factors = [rng.choice(["2", "0.5", "3", "4", "x", "y", "x^2", "sin(x)", "(1+y)"])
               for _ in range(rng.randint(3, 7))] + ["x", "y"]
    rng.shuffle(factors)
    program = "*".join(factors)
    code, out, err = run_cli("diff", program)
    assert code == 0, err
    assert not re.search(r"(?<![\w.])[0-9.]+·[0-9.]+(?![\w.])", out), (program, out)
    graph = parse(program)
    got = outputs_at(differentiate(graph), {"x": 0.7, "y": 1.3})
    with mpmath.workdps(50):
        for name in graph.inputs:
            point = {"x": mpmath.mpf(0.7), "y": mpmath.mpf(1.3)}
            want = mpmath.diff(lambda t: mp_value(graph, {**point, name: t}), point[name])
            assert close(got[(name,)], float(want), rel=1e-13, abs_=1e-14), program
