"""Functions (`NAME(P1, ...) = EXPR`), several outputs (`R, H`), and forward
mode: checked against the written-out program, central finite differences,
one single-output run per output, and each other."""

from __future__ import annotations

import json
import math
import random
import sys

import pytest

from autodiff_cli import AdiffError
from autodiff_cli.evaluator import evaluate
from autodiff_cli.parser import parse
from support import cli

EPS = sys.float_info.epsilon
UNARY = ["sin", "cos", "tanh", "exp", "atan", "sigmoid"]


# ---- random programs, written with functions and written out ------------------------

class Program:
    """A random program as trees: functions f1..fk (each may call earlier
    ones, use a free input y, and name parameters like the inputs: x
    shadows the input x), then several outputs calling them."""

    def __init__(self, seed: int, outputs: int = 3):
        self.rng = random.Random(seed)
        self.functions: list[tuple[str, list[str], tuple]] = []
        for k in range(self.rng.randint(1, 4)):
            params = self.rng.sample(["x", "a", "b", "c"], self.rng.randint(1, 3))
            body = self._tree(params, 3)   # a parameter may go unused: its argument then costs nothing
            self.functions.append((f"f{k + 1}", params, body))
        # outputs are expressions (two bare names alike would be one output listed twice)
        self.outputs = [("+", self._tree(["x", "y", "z"], 3), (str(k),)) for k in range(outputs)]

    def _tree(self, names, depth, calls=True):
        rng = self.rng
        if depth == 0 or rng.random() < 0.2:
            return (rng.choice(names + ["y", "0.5", "3"]),)
        kind = rng.random()
        if calls and self.functions and kind < 0.35:
            name, params, _ = rng.choice(self.functions)
            return ("call", name, *[self._tree(names, depth - 1) for _ in params])
        if kind < 0.55:
            return (rng.choice(UNARY), self._tree(names, depth - 1))
        return (rng.choice("+-*"), self._tree(names, depth - 1), self._tree(names, depth - 1))

    def _text(self, tree, inline: bool, env=None) -> str:
        env = env or {}
        head = tree[0]
        if len(tree) == 1:
            return env.get(head, head)
        if head == "call":
            args = [self._text(t, inline, env) for t in tree[2:]]
            if not inline:
                return f"{tree[1]}({', '.join(args)})"
            _, params, body = next(f for f in self.functions if f[0] == tree[1])
            return "(" + self._text(body, True, {p: f"({a})" for p, a in zip(params, args)}) + ")"
        if head in UNARY:
            return f"{head}({self._text(tree[1], inline, env)})"
        return f"({self._text(tree[1], inline, env)} {head} {self._text(tree[2], inline, env)})"

    def with_functions(self) -> str:
        lines = [f"{name}({', '.join(params)}) = {self._text(body, False)}"
                 for name, params, body in self.functions]
        return "\n".join(lines + [", ".join(self._text(t, False) for t in self.outputs)])

    def written_out(self) -> str:
        return ", ".join(self._text(t, True) for t in self.outputs)


POINT = {"x": 0.37, "y": -0.81, "z": 1.3}


def _bound(graph):
    return {name: POINT[name] for name in graph.inputs}


@pytest.mark.parametrize("seed", range(60))
def test_functions_match_the_written_out_program(seed):
    program = Program(seed)
    text, flat = program.with_functions(), program.written_out()
    graph, expected = parse(text), parse(flat)
    # inlining through Graph.add shares nodes exactly as the written-out text does
    assert len(graph.nodes) == len(expected.nodes), text
    assert set(graph.inputs) == set(expected.inputs)
    a, b = evaluate(graph, _bound(graph)), evaluate(expected, _bound(expected))
    for name in graph.results:
        assert a.values[graph.results[name]] == pytest.approx(b.values[expected.results[name]], rel=1e-14, abs=1e-300)
        for x in graph.inputs:
            assert a.jacobian.rows[name][x] == pytest.approx(b.jacobian.rows[name][x], rel=1e-12, abs=1e-14)


def _scale(trace, name):
    """The size of the terms summed into a derivative: rounding is relative to these."""
    column = trace.jacobian.columns[name] if trace.jacobian.mode == "reverse" else None
    values = trace.values
    if column is None:
        return max(abs(v) for v in values)
    return max([abs(v * g) for v, g in zip(values, column) if g is not None] + [1.0])


@pytest.mark.parametrize("seed", range(60))
def test_forward_mode_agrees_with_reverse_mode_to_4_ulp(seed):
    graph = parse(Program(seed, outputs=4).with_functions())
    reverse = evaluate(graph, _bound(graph), "reverse")
    forward = evaluate(graph, _bound(graph), "forward")
    if not all(math.isfinite(v) for v in reverse.values):
        pytest.skip("an overflow: non-finite numbers differ by the order of the sums")
    assert reverse.jacobian.mode == "reverse" and forward.jacobian.mode == "forward"
    for name in graph.results:
        scale = _scale(reverse, name)
        for x in graph.inputs:
            r, f = reverse.jacobian.rows[name][x], forward.jacobian.rows[name][x]
            assert abs(r - f) <= 4 * EPS * max(abs(r), abs(f), scale), (name, x, r, f)


def _central(graph, bindings, node, x, h=1e-6):
    def at(delta):
        return evaluate(graph, {**bindings, x: bindings[x] + delta}).values[node]
    return (at(h) - at(-h)) / (2 * h)


@pytest.mark.parametrize("seed", range(15))
def test_jacobians_match_central_differences_and_single_output_runs(seed):
    program = Program(seed)
    text = program.with_functions()
    graph = parse(text)
    bindings = _bound(graph)
    trace = evaluate(graph, bindings)
    for k, (name, node) in enumerate(graph.results.items()):
        # one single-output run per output: the output alone, written out
        single = parse(program._text(program.outputs[k], True))
        alone = evaluate(single, _bound(single))
        for x in graph.inputs:
            entry = trace.jacobian.rows[name][x]
            assert entry == pytest.approx(alone.gradient([x])[x] if x in single.inputs else 0.0,
                                          rel=1e-12, abs=1e-14)
            assert entry == pytest.approx(_central(graph, bindings, node, x), rel=1e-6, abs=1e-7)


# ---- the projectile: published formulas -------------------------------------------

PROJECTILE = "R = v^2*sin(2*theta)/g\nH = v^2*sin(theta)^2/(2*g)\nR, H"
AT = {"v": 20.0, "theta": 0.6, "g": 9.81}


def _projectile_jacobian():
    v, t, g = AT["v"], AT["theta"], AT["g"]
    return {"R": {"v": 2 * v * math.sin(2 * t) / g, "theta": 2 * v * v * math.cos(2 * t) / g,
                  "g": -v * v * math.sin(2 * t) / g ** 2},
            "H": {"v": v * math.sin(t) ** 2 / g, "theta": v * v * math.sin(t) * math.cos(t) / g,
                  "g": -v * v * math.sin(t) ** 2 / (2 * g * g)}}


@pytest.mark.parametrize("mode", ["reverse", "forward", "auto"])
def test_eval_json_has_values_and_the_jacobian(mode):
    out = cli("eval", PROJECTILE, "--v", "20", "--theta", "0.6", "--g", "9.81", "--json", "--mode", mode)
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert "value" not in doc and "gradient" not in doc
    assert list(doc["values"]) == ["R", "H"]
    assert doc["values"]["R"] == pytest.approx(400 * math.sin(1.2) / 9.81, rel=1e-15)
    expected = _projectile_jacobian()
    assert list(doc["jacobian"]) == ["R", "H"]
    for name, row in expected.items():
        assert list(doc["jacobian"][name]) == ["v", "theta", "g"]
        for x, d in row.items():
            assert doc["jacobian"][name][x] == pytest.approx(d, rel=1e-13)
    # auto: 3 inputs, 2 outputs: two backward passes beat three tangent passes
    assert doc["mode"] == ("forward" if mode == "forward" else "reverse")


def test_auto_picks_forward_for_fewer_inputs_and_reverse_on_a_tie():
    doc = json.loads(cli("eval", "sin(x), cos(x), x^2", "--x", "1", "--json", "--mode", "auto").stdout)
    assert doc["mode"] == "forward"
    doc = json.loads(cli("eval", "x*y, x+y", "--x", "1", "--y", "2", "--json", "--mode", "auto").stdout)
    assert doc["mode"] == "reverse"


def test_eval_table_has_a_column_per_output_and_the_jacobian_matrix():
    out = cli("eval", PROJECTILE, "--v", "20", "--theta", "0.6", "--g", "9.81")
    assert out.exit_code == 0, out.stderr
    header = out.stdout.splitlines()[0].split()
    assert header[-2:] == ["∂R/∂·", "∂H/∂·"]
    assert "(output R)" in out.stdout and "(output H)" in out.stdout
    lines = out.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Jacobian"))
    assert lines[at].split()[1:] == ["∂/∂v", "∂/∂theta", "∂/∂g"]
    expected = _projectile_jacobian()
    for line, name in zip(lines[at + 1:at + 3], ["R", "H"]):
        cells = line.split()
        assert cells[0] == f"∂{name}"
        for cell, x in zip(cells[1:], ["v", "theta", "g"]):
            assert float(cell) == pytest.approx(expected[name][x], rel=1e-5)


def test_forward_mode_table_shows_each_nodes_tangent():
    out = cli("eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5",
              "--mode", "forward", "--wrt", "x")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[-1] == "∂·/∂x"
    # x*w: ∂/∂x = w = 3; the output (x*w+b-y)^2: 2·(xw+b−y)·w = 12
    assert lines[4].split()[-1] == "3"
    assert lines[10].split()[-1] == "12"
    assert "∂output/∂x  12" in out.stdout


def test_single_output_is_unchanged_by_the_new_options():
    seed = cli("eval", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5", "--json")
    doc = json.loads(seed.stdout)
    assert doc["value"] == 4 and doc["gradient"] == {"x": 12, "w": 8, "b": 4, "y": -4}
    assert "values" not in doc and "mode" not in doc and "grad" in doc["nodes"][0]


def test_tangent_and_cotangent_give_jvp_and_vjp():
    out = cli("eval", PROJECTILE, "--v", "20", "--theta", "0.6", "--g", "9.81", "--json",
              "--tangent", "v=1,theta=0.5", "--cotangent", "R=1,H=-1")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    J = _projectile_jacobian()
    assert doc["jvp"]["along"] == {"v": 1.0, "theta": 0.5}
    for name in ("R", "H"):
        assert doc["jvp"]["value"][name] == pytest.approx(J[name]["v"] + 0.5 * J[name]["theta"], rel=1e-13)
    for x in ("v", "theta", "g"):
        assert doc["vjp"]["value"][x] == pytest.approx(J["R"][x] - J["H"][x], rel=1e-12)
    table = cli("eval", PROJECTILE, "--v", "20", "--theta", "0.6", "--g", "9.81", "--tangent", "g=1")
    assert "JVP along g=1" in table.stdout


@pytest.mark.parametrize("words, message", [
    (["--tangent", "q=1"], "--tangent: the program has no input q"),
    (["--cotangent", "v=1"], "--cotangent: the program has no output v"),
    (["--tangent", "v"], "is not NAME=NUMBER"),
    (["--mode", "sideways"], "--mode sideways: give one of reverse, forward, auto"),
    (["--of", "Q"], "--of: the program has no output Q"),
])
def test_bad_modes_and_directions_are_usage_errors(words, message):
    out = cli("eval", PROJECTILE, "--v", "20", "--theta", "0.6", "--g", "9.81", *words)
    assert out.exit_code == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_of_keeps_one_output_and_hessian_is_per_output():
    out = cli("eval", PROJECTILE, "--v", "20", "--theta", "0.6", "--g", "9.81", "--of", "H", "--json")
    doc = json.loads(out.stdout)
    assert doc["value"] == pytest.approx(400 * math.sin(0.6) ** 2 / (2 * 9.81), rel=1e-15)
    assert set(doc["gradient"]) == {"v", "theta", "g"}
    out = cli("eval", "x^2*y, x*y^3", "--x", "2", "--y", "3", "--hessian", "--json", "--check")
    doc = json.loads(out.stdout)
    assert doc["hessian"]["out1"] == {"x": {"x": 6, "y": 4}, "y": {"x": 4, "y": 0}}
    assert doc["hessian"]["out2"] == {"x": {"x": 0, "y": 27}, "y": {"x": 27, "y": 36}}
    assert doc["check"]["out1"]["passed"] and doc["check"]["out2"]["passed"]


def test_outputs_may_be_inputs_or_constants_and_named_or_numbered():
    graph = parse("p = x*w\np, x, 2, pi, sin(x)")
    assert list(graph.results) == ["p", "x", "out3", "pi", "out5"]
    trace = evaluate(graph, {"x": 2, "w": 3})
    assert trace.jacobian.rows["x"] == {"x": 1.0, "w": 0.0}
    assert trace.jacobian.rows["out3"] == {"x": 0.0, "w": 0.0}
    assert trace.values[graph.results["pi"]] == math.pi
    forward = evaluate(graph, {"x": 2, "w": 3}, "forward")
    assert forward.jacobian.rows == trace.jacobian.rows


def test_minimize_names_the_outputs_and_says_of():
    out = cli("minimize", "x^2, (x-1)^2", "--x", "3")
    assert out.exit_code == 2
    assert "out1, out2" in out.stderr and "--of" in out.stderr
    out = cli("minimize", "x^2, (x-1)^2", "--x", "3", "--of", "out2", "--json")
    assert out.exit_code == 0
    assert json.loads(out.stdout)["inputs"]["x"] == pytest.approx(1, abs=1e-4)


# ---- the language's errors, each with a caret ---------------------------------------

@pytest.mark.parametrize("program, message, column", [
    ("sq(a) = a*a\nsq(1, 2)", "sq takes 1 argument, got 2", 1),
    ("sq(a) = a*a\nsq(b) = b", "function 'sq' is defined twice", 1),
    ("sin(a) = a\nsin(1)", "'sin' is a built-in function", 1),
    ("pi(a) = a\npi(1)", "'pi' is a constant", 1),
    ("x + 1\nx(a) = a\nx(1)", "'x' is already an input", 1),
    ("f(2)\nf(a) = a", "'f' is called before its definition (on line 2)", 1),
    ("f(a) = f(a)\nf(1)", "'f' cannot call itself", 8),
    ("p = 1\np(a) = a\np(1)", "'p' is already a value", 1),
    ("f(a) = a\nf + 1", "'f' is a function", 1),
    ("f(a) = a\nf = 2", "'f' is a function", 1),
    ("f(a, a) = a\nf(1, 2)", "parameter 'a' is listed twice", 6),
    ("x, y, x", "output 'x' is listed twice", 7),
    ("x, y\nz", "a list of outputs (R, H) must be the program's last statement", 1),
])
def test_language_errors_point_at_the_name(program, message, column):
    out = cli("eval", program)
    assert out.exit_code == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr
    caret = next(line for line in out.stderr.splitlines() if line.strip() == "^")
    assert caret.index("^") - 2 == column - 1   # the source line is indented by two spaces
    with pytest.raises(AdiffError):
        parse(program)


def test_parameters_shadow_inputs_and_named_values_and_bodies_see_earlier_ones():
    text = "k = 10\nscale(x) = k*x\nx2(x, k) = x*k\nscale(y) + x2(x, 2) + x"
    graph = parse(text)
    trace = evaluate(graph, {"x": 3, "y": 5})
    # 10*5 + 3*2 + 3
    assert trace.value == 59
    # k = 10 is an input with a default; the parameter k of x2 shadows it
    assert trace.gradient() == {"k": 5, "y": 10, "x": 3}


def test_labels_say_which_call_made_a_node():
    text = "neuron(x, w, b) = tanh(x*w + b)\nh = neuron(x1, w1, b1)\nneuron(h, w2, b2)"
    graph = parse(text)
    calls = [node.call for node in graph.nodes if node.op not in ("var", "const")]
    assert calls == ["neuron call 1"] * 3 + ["neuron call 2"] * 3
    out = cli("eval", text, "--x1", "1", "--w1", "0.5", "--b1", "0", "--w2", "2", "--b2", "0.1")
    assert "x1 * w1 [neuron call 1]" in out.stdout and "[neuron call 2]" in out.stdout
    doc = json.loads(cli("graph", text, "--format", "json").stdout)
    assert [n.get("call") for n in doc["nodes"]].count("neuron call 2") == 3


def test_many_calls_and_deeply_nested_definitions_do_not_recurse():
    # a function called 10^4 times
    calls = " + ".join(f"sq(x + {k})" for k in range(10_000))
    graph = parse("sq(a) = a*a\n" + calls)
    assert sum(node.op == "mul" for node in graph.nodes) == 10_000
    trace = evaluate(graph, {"x": 0.5})
    assert trace.gradient()["x"] == pytest.approx(sum(2 * (0.5 + k) for k in range(10_000)), rel=1e-12)
    # each function calls the one before: 2,000 levels, 10^5 nodes and more when called
    lines = ["g0(a) = a + 1"] + [f"g{k}(a) = g{k - 1}(a) * 1.0001" for k in range(1, 2000)]
    graph = parse("\n".join(lines) + "\n" + " + ".join(f"g1999(x*{k})" for k in range(1, 51)))
    assert len(graph.nodes) > 100_000
    trace = evaluate(graph, {"x": 1.0}, "forward")
    expected = sum(k for k in range(1, 51)) * 1.0001 ** 1999
    assert trace.gradient()["x"] == pytest.approx(expected, rel=1e-9)


# ---- diff with several outputs: every format run --------------------------------------

import ctypes  # noqa: E402
import importlib.util  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

BINDINGS = ["--v", "20", "--theta", "0.6", "--g", "9.81"]
SHARED = "f(a) = exp(a)*sin(a)\nq = f(x*y)\nq + x, q*y, f(y)"


def _diff(program, fmt, *words):
    out = cli("diff", program, "--format", fmt, *words)
    assert out.exit_code == 0, out.stderr
    return out.stdout


def test_diff_text_and_json_name_each_outputs_derivatives():
    text = _diff(PROJECTILE, "text", *BINDINGS)
    J = _projectile_jacobian()
    for name in ("R", "H"):
        for x in ("v", "theta", "g"):
            line = next(line for line in text.splitlines() if line.startswith(f"∂{name}/∂{x} = "))
            assert float(line.rsplit(" = ", 1)[1].replace("−", "-")) == pytest.approx(J[name][x], rel=1e-5)
    doc = json.loads(_diff(PROJECTILE, "json", *BINDINGS))
    assert doc["outputs"] == ["R", "H"] and doc["wrt"] == ["v", "theta", "g"]
    definitions = "\n".join(f"{d['name']} = {d['expr']}" for d in doc["definitions"])
    for name in ("R", "H"):
        for x in ("v", "theta", "g"):
            assert doc["jacobian_values"][name][x] == pytest.approx(J[name][x], rel=1e-13)
            # every expression reads back as adiff and evaluates to the Jacobian's entry
            graph = parse(definitions + "\n" + doc["derivatives"][name][x], bound=["g"])
            assert evaluate(graph, AT).value == pytest.approx(J[name][x], rel=1e-13)


def test_diff_adiff_reads_back():
    text = _diff(PROJECTILE, "adiff")
    J = _projectile_jacobian()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for name in ("R", "H"):
        for x in ("v", "theta", "g"):
            graph = parse(body + f"\nd{name}_d{x}", bound=["g"])
            assert evaluate(graph, AT).value == pytest.approx(J[name][x], rel=1e-13)


@pytest.mark.parametrize("program", [PROJECTILE, SHARED])
def test_diff_python_value_and_jacobian_runs(tmp_path, program):
    source = _diff(program, "python")
    path = tmp_path / "generated_jacobian.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    graph = parse(program, bound=["g"])
    point = {name: 0.3 + 0.4 * k for k, name in enumerate(graph.inputs)} if program == SHARED else AT
    values, rows = module.value_and_jacobian(*(point[n] for n in graph.inputs))
    trace = evaluate(graph, point)
    assert list(values) == pytest.approx([trace.values[n] for n in graph.results.values()], rel=1e-15)
    for row, name in zip(rows, graph.results):
        assert list(row) == pytest.approx([trace.jacobian.rows[name][x] for x in graph.inputs], rel=1e-13)


@pytest.mark.parametrize("program", [PROJECTILE, SHARED])
def test_diff_c_adiff_value_and_jacobian_compiles_and_runs(tmp_path, program):
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("no C compiler: these tests need cc")
    source = _diff(program, "c")
    assert "void adiff_value_and_jacobian(const double *in, double *values, double *jac)" in source
    assert "row-major" in source
    c, so = tmp_path / "j.c", tmp_path / "j.so"
    c.write_text(source, encoding="utf-8")
    done = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC",
                           str(c), "-o", str(so), "-lm"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + source
    function = ctypes.CDLL(str(so)).adiff_value_and_jacobian
    function.restype = None
    graph = parse(program, bound=["g"])
    point = {name: 0.3 + 0.4 * k for k, name in enumerate(graph.inputs)} if program == SHARED else AT
    n, m = len(graph.inputs), len(graph.results)
    inputs = (ctypes.c_double * n)(*(point[x] for x in graph.inputs))
    values, jac = (ctypes.c_double * m)(), (ctypes.c_double * (n * m))()
    function(inputs, values, jac)
    trace = evaluate(graph, point)
    assert list(values) == pytest.approx([trace.values[k] for k in graph.results.values()], rel=1e-15)
    expected = [trace.jacobian.rows[o][x] for o in graph.results for x in graph.inputs]
    assert list(jac) == pytest.approx(expected, rel=1e-13)


def test_diff_names_subexpressions_shared_across_outputs_once():
    text = _diff(SHARED, "adiff")
    statements = [line.split(" = ", 1)[1] for line in text.splitlines() if not line.startswith("#")]
    # exp(x*y) and sin(x*y) serve every output's derivatives; each is computed once
    assert sum(s.count("exp(") for s in statements) == 2     # exp(x * y) and exp(y), once each
    assert len(statements) == len(set(statements))


def test_diff_of_several_outputs_refuses_order_and_hessian_without_of():
    out = cli("diff", PROJECTILE, "--hessian")
    assert out.exit_code == 2 and "--of" in out.stderr
    out = cli("diff", PROJECTILE, "--hessian", "--of", "R")
    assert out.exit_code == 0 and "∂²R/∂v²" in out.stdout


# ---- batch: a value column per output, grad_<output>_<input> columns --------------------

def test_batch_writes_a_value_column_per_output_and_their_gradients(tmp_path):
    points = tmp_path / "points.csv"
    rows = [(20, 0.6, 9.81), (10, 0.3, 9.81), (35.5, 1.1, 3.7)]
    points.write_text("v,theta,g\n" + "".join(f"{v},{t},{g}\n" for v, t, g in rows))
    out = cli("batch", PROJECTILE, str(points))
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[0].split(",")
    assert header == ["v", "theta", "g", "R", "grad_R_v", "grad_R_theta", "grad_R_g",
                      "H", "grad_H_v", "grad_H_theta", "grad_H_g"]
    graph = parse(PROJECTILE, bound=["g"])
    for line, (v, t, g) in zip(lines[1:], rows):
        cells = dict(zip(header, map(float, line.split(","))))
        trace = evaluate(graph, {"v": v, "theta": t, "g": g})
        for name, node in graph.results.items():
            assert cells[name] == pytest.approx(trace.values[node], rel=1e-14)
            for x in ("v", "theta", "g"):
                assert cells[f"grad_{name}_{x}"] == pytest.approx(trace.jacobian.rows[name][x], rel=1e-12)


def test_batch_with_several_outputs_refuses_jsonl_and_hessian_without_of(tmp_path):
    points = tmp_path / "x.csv"
    points.write_text("x\n1\n2\n")
    out = cli("batch", "x, x^2", str(points), "--out-format", "jsonl")
    assert out.exit_code == 2 and "--of" in out.stderr
    out = cli("batch", "x, x^2", str(points), "--of", "out2", "--out-format", "jsonl")
    assert [json.loads(line)["value"] for line in out.stdout.splitlines()] == [1.0, 4.0]
    # an output named like an input: its value column is value_x
    out = cli("batch", "x, x^2", str(points))
    assert out.stdout.splitlines()[0] == "x,value_x,grad_x_x,out2,grad_out2_x"


# ---- plot: several outputs together, with a legend ----------------------------------------

def test_plot_draws_several_outputs_with_a_legend():
    out = cli("plot", "R = sin(x); H = cos(x)\nR, H", "--x", "0:1", "--points", "5", "--json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert list(doc["values"]) == ["R", "H"] and "value" not in doc
    for k, x in enumerate(doc["x"]):
        assert doc["values"]["R"][k] == pytest.approx(math.sin(x), rel=1e-15)
        assert doc["gradients"]["H"][k] == pytest.approx(-math.sin(x), rel=1e-15, abs=1e-300)
    out = cli("plot", "R = sin(x); H = cos(x)\nR, H", "--x", "0:1", "--ascii", "--width", "40",
              "--height", "10", env={"NO_COLOR": "1"})
    assert out.stdout.splitlines()[0] == "** R  oo H"
    out = cli("plot", "R = sin(x); H = cos(x)\nR, H", "--x", "0:1", "--of", "H", "--json")
    assert json.loads(out.stdout)["value"][0] == 1.0


# ---- the README shows real output ------------------------------------------------------------

def test_the_readmes_jacobian_and_forward_mode_examples_are_real():
    import re
    import shlex

    from support import ROOT
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## Several outputs, Jacobians and forward mode", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```\n\$ (adiff eval .*?)\n( #  node.*?)```", section, re.S)
    assert len(blocks) == 2
    for command, expected in blocks:
        # the program spans lines up to the closing quote; the options follow it
        words = shlex.split(command)
        outcome = cli(*words[1:], env={"NO_COLOR": "1", "COLUMNS": "100"})
        assert outcome.exit_code == 0, outcome.stderr
        assert outcome.stdout == expected


# ---- explain --mode forward ---------------------------------------------------------------

def test_explain_forward_mode_shows_tangents_in_dot_notation():
    out = cli("explain", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5", "--mode", "forward")
    assert out.exit_code == 0, out.stderr
    import unicodedata
    text = unicodedata.normalize("NFC", out.stdout)
    assert "Backward pass" not in text
    assert "  ṗ = ẋ · w + ẇ · x = 1 · 3 + 0 · 2 = 3" in text
    # the seed example's gradient, one tangent pass an input: 12, 8, 4, -4
    for x, g in (("x", "12"), ("w", "8"), ("b", "4"), ("y", "−4")):
        assert unicodedata.normalize("NFC", f"  ∂L/∂{x} = L\u0307 = {g}") in text
    assert "tangent pass 4 of 4" in text and "The work" in text
    assert "reverse mode: one backward pass gives all 4 gradients" in text
    assert "forward mode: 4 tangent passes" in text


def test_explain_forward_mode_agrees_with_finite_differences():
    program = "q = sin(x)*exp(y)\nq/(1 + x^2) + tanh(y*x)"
    point = {"x": 0.4, "y": -0.3}
    out = cli("explain", program, "--x", "0.4", "--y", "-0.3", "--mode", "forward", "--digits", "12",
              "--format", "markdown")
    assert out.exit_code == 0, out.stderr
    graph = parse(program)
    for x in ("x", "y"):
        line = next(line for line in out.stdout.splitlines() if line.startswith(f"- `∂L/∂{x} = "))
        shown = float(line.rsplit(" = ", 1)[1].rstrip("`").replace("−", "-"))
        assert shown == pytest.approx(_central(graph, point, graph.output, x), rel=1e-7)
    out = cli("explain", program, "--x", "0.4", "--y", "-0.3", "--mode", "forward", "--json")
    assert out.exit_code == 2 and "text, markdown or html" in out.stderr


def test_the_graph_and_explain_say_which_call_made_a_node():
    text = "neuron(x, w, b) = tanh(x*w + b)\nh = neuron(x, w1, b1)\nneuron(h, w2, b2)"
    words = ["--x", "0.5", "--w1", "2", "--b1", "0", "--w2", "-1", "--b2", "0.3"]
    out = cli("explain", text, *words)
    assert "  h = tanh(a₁) = tanh(1) = 0.761594 [neuron call 1]" in out.stdout
    assert "[neuron call 2]" in out.stdout
    dot = cli("graph", text, "--format", "dot").stdout
    assert dot.count("neuron call 1") == 3 and dot.count("neuron call 2") == 3


def test_the_readmes_forward_mode_explanation_is_real():
    from support import ROOT
    text = (ROOT / "README.md").read_text("utf-8")
    command = '$ adiff explain "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --mode forward --wrt x\n'
    expected = text.split(command, 1)[1].split("```", 1)[0]
    out = cli("explain", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5",
              "--mode", "forward", "--wrt", "x")
    assert out.stdout == expected


def test_the_html_page_steps_through_forward_mode_tangents(tmp_path):

    from autodiff_cli.evaluator import depends, tangents
    target = tmp_path / "forward.html"
    program = ["(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5"]
    out = cli("explain", *program, "--mode", "forward", "--format", "html", "-o", str(target))
    assert out.exit_code == 0, out.stderr
    graph = parse("(x*w+b-y)^2")
    trace = evaluate(graph, {"x": 2, "w": 3, "b": 1, "y": 5})
    expected = {x: tangents(graph, trace.values, depends(graph), {x: 1.0}, []) for x in graph.inputs}
    import re
    plan = json.loads(re.search(r'<script type="application/json" id="adiff-steps">(.*?)</script>',
                                 target.read_text("utf-8"), re.S).group(1))
    seeds = [s for s in plan if s["kind"] == "tangents"]
    assert len(seeds) == 4
    passes = iter(graph.inputs)
    seed = None
    for step in plan:
        if step["kind"] == "tangents":
            seed = next(passes)
        elif step["kind"] == "tangent":
            assert float(step["tangent"][0]) == expected[seed][step["node"]]
    assert plan[-1]["kind"] == "note" and "tangent passes" in plan[-1]["text"]


from test_html_page import browser  # noqa: E402,F401  (the fixture)


def test_the_html_page_shows_the_tangents_in_a_browser(tmp_path, browser):
    target = tmp_path / "forward.html"
    out = cli("explain", "(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5", "--mode", "forward",
              "--wrt", "x", "--format", "html", "-o", str(target))
    assert out.exit_code == 0, out.stderr
    from test_html_page import Watched
    watched = Watched(browser, target)
    try:
        page = watched.page
        page.keyboard.press("End")
        shown = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-node]')].map(
            g => [g.dataset.node, g.getAttribute('data-tangent')]))""")
        # at the last step, the tangent pass for x is complete: ∂node/∂x at each node
        assert float(shown["2"]) == 3 and float(shown["8"]) == 12 and float(shown["1"]) == 0
        assert not watched.errors
    finally:
        watched.close()


def test_forward_mode_warns_at_kinks_as_reverse_mode_does():
    reverse = cli("eval", "abs(x), relu(x)", "--x", "0")
    forward = cli("eval", "abs(x), relu(x)", "--x", "0", "--mode", "forward")
    assert "not differentiable" in reverse.stderr
    assert forward.stderr == reverse.stderr


# ---- an independent oracle: the complex step ----------------------------------------------

import cmath  # noqa: E402

_COMPLEX = {"sin": cmath.sin, "cos": cmath.cos, "tanh": cmath.tanh, "exp": cmath.exp,
            "atan": cmath.atan, "sigmoid": lambda z: 1 / (1 + cmath.exp(-z))}


def _complex_value(program: Program, tree, env):
    """The tree evaluated in complex arithmetic (cmath), functions inlined by hand:
    nothing of adiff's parser, graph or op table."""
    head = tree[0]
    if len(tree) == 1:
        return env[head] if head in env else complex(float(head))
    if head == "call":
        _, params, body = next(f for f in program.functions if f[0] == tree[1])
        args = [_complex_value(program, t, env) for t in tree[2:]]
        return _complex_value(program, body, {**{k: v for k, v in env.items() if k in POINT}, **dict(zip(params, args))})
    if head in _COMPLEX:
        return _COMPLEX[head](_complex_value(program, tree[1], env))
    a, b = _complex_value(program, tree[1], env), _complex_value(program, tree[2], env)
    return a + b if head == "+" else a - b if head == "-" else a * b


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobians_match_the_complex_step(seed, mode):
    """Random programs of several outputs calling random functions: every
    Jacobian entry against the complex-step derivative Im f(x + ih) / h,
    h = 1e-30, which has no subtraction and so no cancellation."""
    program = Program(seed, outputs=3)
    graph = parse(program.with_functions())
    trace = evaluate(graph, {name: POINT[name] for name in graph.inputs}, mode)
    if not all(math.isfinite(v) for v in trace.values):
        pytest.skip("an overflow")
    h = 1e-30
    for k, name in enumerate(graph.results):
        for x in POINT:
            env = {n: complex(v) for n, v in POINT.items()}
            env[x] += complex(0, h)
            expected = _complex_value(program, program.outputs[k], env).imag / h
            got = trace.jacobian.rows[name].get(x, 0.0) if x in graph.inputs else 0.0
            assert got == pytest.approx(expected, rel=1e-11, abs=1e-12), (name, x)


# ---- forward against reverse on Hypothesis programs from the grammar ---------------------

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402

from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.lark import from_lark  # noqa: E402

from test_fuzz import POINT as FUZZ_POINT, _typed, _typed_common, scaled, smooth_candidates  # noqa: E402

_expressions = from_lark(_typed, start="sum", explicit=_typed_common).filter(lambda t: len(t) < 300)
# the grammar's expressions, made into functions (whose parameters x, y shadow the inputs)
# and several outputs that call them
composed = st.builds(
    lambda body, outputs: f"g(x, y) = {body}\n" + ", ".join(f"({e})" for e in outputs) + ", g(y, x*w), g(w, 2)",
    _expressions, st.lists(_expressions, min_size=1, max_size=3))


@settings(max_examples=scaled(0.15), deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(st.one_of(smooth_candidates, composed))
def test_forward_mode_agrees_with_reverse_mode_on_programs_from_the_grammar(text):
    """The grammar's programs (several outputs and functions included): the two
    modes' Jacobians agree to 4 ulp of the largest term summed into an entry."""
    point = {**FUZZ_POINT, "a": 0.6, "b": 1.1}
    try:
        graph = parse(text, point)
        used = {name: point[name] for name in graph.inputs if name in point}
        reverse = evaluate(graph, used, "reverse")
        forward = evaluate(graph, used, "forward")
    except AdiffError:
        assume(False)
    assume(all(math.isfinite(v) for v in reverse.values))
    # one output in reverse mode is today's trace, with no Jacobian of its own
    rows = reverse.jacobian.rows if reverse.jacobian else {"output": reverse.gradient()}
    columns = reverse.jacobian.columns if reverse.jacobian else {"output": reverse.grads}
    for name, (row, column) in zip(forward.jacobian.rows, zip(rows.values(), columns.values())):
        assume(all(g is None or math.isfinite(g) for g in column))
        scale = max([abs(v * g) for v, g in zip(reverse.values, column) if g is not None] + [1.0])
        for x in used:
            r, f = row[x], forward.jacobian.rows[name][x]
            assert abs(r - f) <= 4 * EPS * max(abs(r), abs(f), scale), (name, x, r, f)


@pytest.mark.parametrize("program, written_out", [
    ("f(a, b) = 2*a\nf(x, y*z)", "2*x"),
    ("f(a) = 2\nf(x)*w", "2*w"),
    ("f(a, b) = a\ng(c) = f(c, c*9)\ng(x) + g(y)", "x + y"),
    ("f(a, b) = a*3\nf(x, x*w) + x*w", "x*3 + x*w"),
])
def test_an_argument_the_body_never_uses_costs_nothing(program, written_out):
    graph, expected = parse(program), parse(written_out)
    assert len(graph.nodes) == len(expected.nodes)
    assert set(graph.inputs) == set(expected.inputs)   # y and z need no binding
    point = {"x": 0.3, "w": 1.7, "y": 2.0}
    a = evaluate(graph, {k: v for k, v in point.items() if k in graph.inputs})
    b = evaluate(expected, {k: v for k, v in point.items() if k in expected.inputs})
    assert a.value == b.value and a.gradient() == b.gradient()
