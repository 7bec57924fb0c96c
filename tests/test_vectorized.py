"""The vectorised evaluator gives, row for row, what `adiff eval` gives.

The reference is the scalar evaluator (evaluator.py over ops.py): it is
independent of NumPy, and its numbers are checked elsewhere against finite
differences, PyTorch and published values.  Here both run on the same
points, which include zeros of both signs, ties, negative bases, domain
edges, NaN and infinities; values and gradients must agree bit for bit
(NaN, infinities and signed zeros identically), except that where NumPy's
and Python's libm round a transcendental function differently a few ulps
are allowed.  Warnings must be the scalar ones, counted.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import AdiffError
from autodiff_cli.array_ops import (ARRAY_DOMAIN, ARRAY_FORWARD, ARRAY_KINK, ARRAY_MASK,
                                    ARRAY_PARTIALS, missing_rules)
from autodiff_cli.evaluator import evaluate
from autodiff_cli.ops import OPS
from autodiff_cli.parser import parse
from autodiff_cli.vectorized import Vectorized, evaluate_outputs, vectorize
from test_fuzz import smooth_candidates

EDGES = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 1e-300, -1e-300, 5e-324,
         1e300, -1e300, 709.0, 710.0, -745.0, 1000.0, 0.7, -1.3, math.pi / 2, 1e16,
         math.inf, -math.inf, math.nan]
ULPS = 4


def same(a: float, b: float, ulps: int = 0) -> bool:
    """Identical as doubles (NaN is NaN, -0.0 is not 0.0), or within `ulps` when both are finite."""
    if a != a or b != b:
        return a != a and b != b
    if a == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    if ulps and math.isfinite(a) and math.isfinite(b):
        return abs(a - b) <= ulps * math.ulp(max(abs(a), abs(b)))
    return False


def test_the_array_table_covers_every_op():
    assert set(ARRAY_FORWARD) == set(OPS), missing_rules()
    assert missing_rules() == {}, f"array rules missing or extra: {missing_rules()}"


def _points(arity: int):
    return list(itertools.product(EDGES, repeat=arity))


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_agrees_with_its_scalar_form_on_edge_points(name):
    op = OPS[name]
    points = _points(op.arity)
    columns = [np.array([p[k] for p in points]) for k in range(op.arity)]
    with np.errstate(all="ignore"):
        out = ARRAY_FORWARD[name](*columns)
        partials = [np.broadcast_to(ARRAY_PARTIALS[name][k](*columns, out), out.shape)
                    for k in range(op.arity)]
        kinks = np.broadcast_to(ARRAY_KINK[name](*columns), out.shape) if name in ARRAY_KINK else None
        masks = [np.broadcast_to(ARRAY_MASK[name](k, *columns), out.shape) if name in ARRAY_MASK else None
                 for k in range(op.arity)]
    wrong = []
    for row, point in enumerate(points):
        expected = op.forward(*point)
        if not same(float(out[row]), expected, ULPS):
            wrong.append(f"{name}{point} = {out[row]!r}, scalar {expected!r}")
        for k in range(op.arity):
            scalar = op.partials[k](*point, expected)
            if not same(float(partials[k][row]), scalar, ULPS):
                wrong.append(f"d{name}/d{k}{point} = {partials[k][row]!r}, scalar {scalar!r}")
            if masks[k] is not None and bool(masks[k][row]) != bool(op.mask(k, *point)):
                wrong.append(f"mask {k} of {name}{point}")
        if kinks is not None and bool(kinks[row]) != bool(op.kink(*point)):
            wrong.append(f"kink of {name}{point}")
        if op.domain is not None and not math.isfinite(expected) and all(map(math.isfinite, point)):
            reasons = ARRAY_DOMAIN[name](*[np.array([p]) for p in point])
            found = next((r for r, m in reasons if np.broadcast_to(m, (1,))[0]), None)
            if found != (op.domain(*point) or None):
                wrong.append(f"domain of {name}{point}: {found!r}, scalar {op.domain(*point)!r}")
    assert not wrong, "\n".join(wrong[:20])


# ---- whole programs, row by row ---------------------------------------------------------

VARIABLES = ["x", "y", "w", "θ", "a", "b"]
# values that meet the edges: zeros of both signs, ties (the same value in two
# columns), negative bases, ±1 for asin/acos, overflow, NaN, infinities
POOL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 0.7, -1.3, 2.1, 1e-300,
        1e300, 710.0, -800.0, math.inf, -math.inf, math.nan, 0.3]

point_rows = st.lists(st.fixed_dictionaries({name: st.sampled_from(POOL) for name in VARIABLES}),
                      min_size=1, max_size=24)

TRANSCENDENTAL = {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log",
                  "log2", "log10", "sigmoid", "softplus", "atan2", "pow"}


def scalar_warnings(graph, rows) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        for w in evaluate(graph, row).warnings:
            counts[(w.kind, w.node)] += 1
    return counts


def assert_agrees(text: str, rows: list[dict]) -> None:
    try:
        graph = parse(text, VARIABLES)
    except AdiffError:
        return
    if graph.results:   # several outputs: their batch columns are checked in tests/test_functions.py
        return
    used = [name for name in graph.inputs]
    rows = [{name: row[name] for name in used} for row in rows]
    program = Vectorized(graph)
    columns = {name: np.array([row[name] for row in rows]) for name in used}
    found = program(columns, rows=len(rows))
    ulps = ULPS if any(n.op in TRANSCENDENTAL for n in graph.nodes) else 0
    for r, row in enumerate(rows):
        trace = evaluate(graph, row)
        expected = {"value": trace.value, **{f"grad_{k}": v for k, v in trace.gradient().items()}}
        for column, want in expected.items():
            got = float(found[column][r])
            assert same(got, want, ulps) or (ulps and _amplified(got, want)), \
                f"{text!r} at {row}: {column} is {got!r}, eval gives {want!r}"
    aggregated = Counter()
    for w in program.warnings:
        aggregated[(w.kind, w.node)] += w.count
    assert aggregated == scalar_warnings(graph, rows), text


def _amplified(got: float, want: float) -> bool:
    # a few ulps of difference inside a function can grow through later
    # arithmetic (x - y of two near-equal values); the class of the number
    # (NaN, ±inf, finite) must still be the same
    if not (math.isfinite(got) and math.isfinite(want)):
        return False
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


@settings(max_examples=150)
@given(smooth_candidates, point_rows)
def test_random_programs_agree_with_eval_row_by_row(text, rows):
    assert_agrees(text, rows)


@pytest.mark.parametrize("text", [
    "(x*w+b-y)^2", "x*x", "x+x", "x-x", "-x", "x/y", "x^y", "y^x", "0^x", "x^0", "(-8)^(1/3)",
    "relu(x) + step(x) + sign(x)", "max(x, y) + min(x, w)", "max(x, x)", "atan2(y, x)", "abs(x)",
    "log(x) * sqrt(y)", "asin(x) + acos(x)", "exp(x) + sinh(x) + cosh(x)", "sigmoid(x) + softplus(x)",
    "sign(log(x))", "relu(log(x))", "x*0", "pi*x + e", "log(0) + x", "x^2 + y^2", "x/0",
])
def test_programs_at_every_edge_agree_with_eval(text):
    rows = [dict(zip(["x", "y", "w"], p)) for p in itertools.product(POOL[:14] + POOL[-4:], repeat=2)]
    for row in rows:
        row["w"] = row["x"]  # a tie in every row
        row["a"] = row["b"] = 1.0
    assert_agrees(text, rows)


def test_blocks_and_bindings_do_not_change_the_numbers():
    graph = parse("tanh(x*w + b) * y", ["b"])
    rng = np.random.default_rng(1)
    columns = {name: rng.normal(size=1000) for name in "xwy"}
    whole = Vectorized(graph, bindings={"b": 0.25})(columns)
    blocked = Vectorized(graph, bindings={"b": 0.25}, block_rows=7)(columns)
    for name in whole:
        assert np.array_equal(whole[name], blocked[name])
    for r in (0, 499, 999):
        trace = evaluate(graph, {"x": columns["x"][r], "w": columns["w"][r], "y": columns["y"][r], "b": 0.25})
        # NumPy's tanh and cosh are not libm's: eval and batch agree to ULPS
        assert same(float(whole["value"][r]), trace.value, ULPS)
        assert same(float(whole["grad_b"][r]), trace.gradient()["b"], ULPS)


def test_rows_shared_between_cores_give_the_same_numbers_and_warnings(monkeypatch):
    """Parts of the rows computed on several threads: every number, and every
    warning with its count, first row and place in the list, as one pass gives."""
    import autodiff_cli.vectorized as vectorized

    monkeypatch.setattr(vectorized, "THREAD_ROWS", 1000)
    graph = parse("a = log(x)\nb = sqrt(w - 1)\nabs(x - y) * a + max(w, y) / x + b")
    rng = np.random.default_rng(3)
    n = 20_000
    columns = {name: rng.normal(size=n) for name in "xwy"}
    for name, rows in (("x", [5, 7_000, 19_999]), ("w", [6_001, 13_000])):
        columns[name][rows] = 0.0          # log of zero, division by zero
    columns["y"][[300, 12_345]] = columns["x"][[300, 12_345]]   # abs at its kink
    columns["y"][17_000] = columns["w"][17_000]                 # max at a tie
    one = Vectorized(graph, threads=1, block_rows=512)
    many = Vectorized(graph, threads=4, block_rows=512)
    assert one.threads == 1 and many.threads == 4
    first, second = one(columns), many(columns)
    for name in first:
        assert np.array_equal(first[name], second[name], equal_nan=True), name
        assert np.array_equal(np.signbit(first[name]), np.signbit(second[name])), name
    assert [w.message for w in many.warnings] == [w.message for w in one.warnings]
    assert len(one.warnings) >= 5   # log's NaN and -inf, sqrt's NaN, the kink, the tie


def test_wrt_limits_the_gradient_columns_and_missing_inputs_are_named():
    f = vectorize("x*w + b", wrt=["w"], bindings={"b": 1})
    assert f.columns == ["value", "grad_w"]
    out = f({"x": [2.0], "w": [3.0]})
    assert out["grad_w"].tolist() == [2.0] and out["value"].tolist() == [7.0]
    with pytest.raises(AdiffError, match="no column, binding or default for input w"):
        vectorize("x*w")({"x": [1.0], "z": [2.0]})
    with pytest.raises(AdiffError, match="no input q"):
        vectorize("x*w", wrt=["q"])


def test_the_api_takes_pandas_arrow_and_polars_batches():
    import pandas as pd   # installed with the dask extra, which .[test] includes
    import polars as pl
    import pyarrow as pa
    f = vectorize("x^2 * w")
    assert f(pd.DataFrame({"x": [1.0, 2.0], "w": [3.0, 4.0]}))["grad_x"].tolist() == [6.0, 16.0]
    assert f(pa.record_batch({"x": [1.0, 2.0], "w": [3.0, 4.0]}))["grad_x"].tolist() == [6.0, 16.0]
    assert f(pl.DataFrame({"x": [1.0], "w": [3.0]}))["grad_w"].tolist() == [1.0]


def test_every_output_of_a_multi_output_graph_is_evaluated():
    # a graph with several outputs, as `adiff diff` builds: f, df/dx and d2f/dx2 of x^3,
    # written by hand (3x^2 and 6x), checked against numbers computed here
    graph = parse("a = x^3\nb = 3*x^2\nc = 6*x\na + b + c")
    nodes = {n.label: n.id for n in graph.nodes if n.label in ("a", "b", "c")}
    graph.outputs = {(): nodes["a"], ("x",): nodes["b"], ("x", "x"): nodes["c"]}
    xs = np.array([-2.0, 0.0, 1.5])
    found = evaluate_outputs(graph, {"x": xs})
    assert found[()].tolist() == [x ** 3 for x in xs]
    assert found[("x",)].tolist() == [3 * x * x for x in xs]
    assert found[("x", "x")].tolist() == [6 * x for x in xs]


def test_warnings_are_counted_with_the_first_row():
    f = vectorize("log(x)")
    f({"x": np.array([1.0, -1.0, 2.0, -3.0, 0.0])})
    messages = [w.message for w in f.warnings]
    assert "node 1 (log(x)) is NaN in 2 rows (first: row 2): log of a negative number" in messages
    assert "node 1 (log(x)) is -inf in 1 row (row 5): log of zero" in messages


def test_the_hessian_graph_of_adiff_diff_evaluates_over_columns():
    # --hessian is then: build diff.hessian(graph), evaluate its outputs;
    # f = x^2 * w + sin(w): fx = 2xw, fw = x^2 + cos(w), fxx = 2w, fxw = 2x, fww = -sin(w)
    from autodiff_cli.diff import hessian
    graph = hessian(parse("x^2 * w + sin(w)"))
    xs, ws = np.array([0.5, -2.0, 3.0]), np.array([1.5, 0.0, -0.25])
    found = evaluate_outputs(graph, {"x": xs, "w": ws})
    expected = {(): xs ** 2 * ws + np.sin(ws), ("x",): 2 * xs * ws, ("w",): xs ** 2 + np.cos(ws),
                ("x", "x"): 2 * ws, ("x", "w"): 2 * xs, ("w", "w"): -np.sin(ws)}
    assert set(found) == set(expected)
    for key, want in expected.items():
        np.testing.assert_allclose(found[key], want, rtol=1e-14, atol=1e-15, err_msg=str(key))
    assert Vectorized(graph, gradient=False).columns == ["value", "grad_x", "grad_w", "hess_x_x",
                                                          "hess_x_w", "hess_w_w"]


def test_a_statement_the_output_does_not_use_still_warns_as_in_eval():
    assert_agrees("0÷x\n0\n", [{"x": 0.0}, {"x": 1.0}])
    assert_agrees("a = log(x)\nb = x*2\nb", [{"x": -1.0}, {"x": 0.0}, {"x": 3.0}])
