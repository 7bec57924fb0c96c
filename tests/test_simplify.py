"""Simplification while building (simplify.py), one table row per rule.

Each row builds an expression through the Simplifier and checks (1) the
node it gives is the node the expected expression gives, in the same graph,
(2) its operation count, and (3) that both agree numerically, with the raw
(unsimplified) expression evaluated by the evaluator, at a few points.
"""

from __future__ import annotations

import math

import pytest

from autodiff_cli.evaluator import evaluate, forward
from autodiff_cli.graph import CONST, VAR, Graph
from autodiff_cli.parser import parse
from autodiff_cli.simplify import Simplifier

POINTS = [{"x": 0.7, "y": -1.3, "w": 2.1}, {"x": 1.9, "y": 0.4, "w": -0.6}]


def build(text: str, simplifier: Simplifier) -> int:
    """The program's value rebuilt node by node through the simplifier."""
    graph = parse(text)
    target = simplifier.graph
    mapping = []
    for node in graph.nodes:
        if node.op == VAR:
            new = target.input(node.label)
        elif node.op == CONST:
            new = target.constant(node.constant, node.label)
        else:
            new = simplifier.add(node.op, [mapping[i] for i in node.inputs])
        mapping.append(new)
    return mapping[graph.output]


def operations(graph: Graph, node: int) -> int:
    live = {node}
    for i in range(node, -1, -1):
        if i in live:
            live.update(graph.nodes[i].inputs)
    return sum(1 for i in live if graph.nodes[i].inputs)


RULES = [
    # (rule, expression, the same in normal form, operations)
    ("constants fold", "2*3 + 1", "7", 0),
    ("a + 0", "x + 0", "x", 0),
    ("0 + a", "0 + x", "x", 0),
    ("a - 0", "x - 0", "x", 0),
    ("a * 1", "x * 1", "x", 0),
    ("a * 0 (not IEEE: inf*0 is NaN)", "sin(x) * 0", "0", 0),
    ("a / 1", "x / 1", "x", 0),
    ("a ^ 1", "x ^ 1", "x", 0),
    ("a ^ 0", "x ^ 0", "1", 0),
    ("1 ^ a", "1 ^ x", "1", 0),
    ("--a", "-(-x)", "x", 0),
    ("a - a", "sin(x) - sin(x)", "0", 0),
    ("a / a", "(x + y) / (x + y)", "1", 0),
    ("numeric coefficients fold", "2*(3*x)", "6*x", 1),
    ("a * a is a^2", "x * x", "x^2", 1),
    ("like terms merge", "2*sin(x) + 3*sin(x)", "5*sin(x)", 2),
    ("sums are flattened and ordered", "x + y + x", "2*x + y", 2),
    ("addition commutes", "y + x", "x + y", 1),
    ("multiplication commutes", "y * x", "x * y", 1),
    ("powers add", "(1+x)^-2 * (1+x)^-1", "1/(1+x)^3", 3),
    ("power of a power (integer)", "(x^2)^3", "x^6", 1),
    ("power of a product", "(2*x)^2", "4*x^2", 2),
    ("quotient as negative powers", "x / x^3", "1 / x^2", 2),
    ("negated difference", "-(x - y)", "y - x", 1),
    ("sqrt is a power 1/2", "sqrt(x)^2 * y", "x * y", 1),
    ("sqrt(a) · sqrt(a)", "sqrt(x) * sqrt(x)", "x", 0),
    ("max commutes", "max(y, x)", "max(x, y)", 1),
    ("max(a, a)", "max(x, x)", "x", 0),
    ("a function of numbers folds when exact", "cos(0) + step(2)", "2", 0),
    ("products of small sums multiply out", "(x + 1) * y", "x*y + y", 2),
    ("0 ^ y is 0 (for y > 0)", "0^(y^2 + 1) * 3 + x", "x", 0),
]


@pytest.mark.parametrize("rule, text, normal, count", RULES, ids=[r[0] for r in RULES])
def test_each_rule_gives_the_normal_form(rule, text, normal, count):
    simplifier = Simplifier(Graph())
    got = build(text, simplifier)
    assert got == build(normal, simplifier), rule
    assert operations(simplifier.graph, got) == count
    graph = simplifier.graph
    graph.output = got
    for point in POINTS:
        bound = {name: point[name] for name in graph.inputs}
        values, _ = forward(graph, bound, [])
        raw = evaluate(parse(text), bound).value
        assert math.isclose(values[got], raw, rel_tol=1e-12, abs_tol=1e-12), (rule, point)


UNCHANGED = [
    # what simplification does not do, on purpose
    ("named constants stay named", "2*pi", 1),
    ("functions of numbers stay when inexact", "log(2)", 1),
    ("division by zero stays (IEEE decides)", "1/0", 1),
    ("no function identities", "log(exp(x))", 2),
    ("(a^2)^0.5 is not a", "(x^2)^0.5", 2),
]


@pytest.mark.parametrize("rule, text, count", UNCHANGED, ids=[r[0] for r in UNCHANGED])
def test_what_is_left_alone(rule, text, count):
    simplifier = Simplifier(Graph())
    assert operations(simplifier.graph, build(text, simplifier)) == count


def test_grouping_takes_common_factors_out():
    simplifier = Simplifier(Graph(), expand=False, group=True)
    got = build("2*x*y + 2*x*w", simplifier)
    # 2·x·(y + w): one addition and two products, not five operations
    assert operations(simplifier.graph, got) == 3


def test_without_expansion_products_of_sums_stay_factored():
    simplifier = Simplifier(Graph(), expand=False)
    assert operations(simplifier.graph, build("(x + 1) * y", simplifier)) == 2
    assert simplifier.graph.nodes[build("(x + 1) * y", simplifier)].op == "mul"


def test_a_long_sum_is_built_in_linear_time_without_recursion():
    # 20,000 terms: forms larger than the limit are not merged further
    simplifier = Simplifier(Graph())
    node = simplifier.graph.input("x")
    result = node
    for i in range(20_000):
        result = simplifier.add("add", (result, simplifier.add("mul", (simplifier.number(i % 7 + 1), node))))
    values, _ = forward(simplifier.graph, {"x": 1.0}, [])
    assert values[result] == 1 + sum(i % 7 + 1 for i in range(20_000))
