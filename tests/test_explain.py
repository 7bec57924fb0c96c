"""adiff explain: the article's trace reproduced, forks, names, formulas, long programs.

Expected numbers come from the article (the seed example), from hand
calculus, or from central differences: never from adiff's own output.
"""

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_cli
from autodiff_cli.formula import formula_graph
from autodiff_cli.ops import OPS, OUTPUT, PLACEHOLDERS

from numeric import central_difference, close

SEED = "(x*w+b-y)^2"
POINT = ["--x", "2", "--w", "3", "--b", "1", "--y", "5"]
STATEMENTS = "p = x*w; a = p + b; d = a - y; L = d^2"

# the article's backward trace: (input whose gradient the line gives, its value), in its order
ARTICLE_TRACE = [("d", 4), ("a", 4), ("y", -4), ("p", 4), ("b", 4), ("x", 12), ("w", 8)]
ARTICLE_GRADIENT = {"x": 12, "w": 8, "b": 4, "y": -4}


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def to_float(text: str) -> float:
    text = text.strip().replace("−", "-")
    return {"NaN": math.nan, "∞": math.inf, "-∞": -math.inf}.get(text, None) or float(text)


def section(out: str, title: str) -> list[str]:
    """The lines of one section of the text format."""
    lines = out.split("\n")
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def backward_edges(out: str) -> list[tuple[str, str, float]]:
    """(output, input, final number) of each ∂L/∂u line of the backward pass."""
    found = []
    for line in section(out, "Backward pass"):
        m = re.match(r"\s+∂(\S+)/∂(\S+) \+?= .* = (\S+?)(?:\s{3}\(.*\))?$", line)
        if m and " · " in line:
            found.append((m.group(1), m.group(2), to_float(m.group(3))))
    return found


# ---- the seed example in every format -----------------------------------------

def test_seed_text_reproduces_the_article_trace(run_cli):
    code, out, err = run_cli("explain", SEED, *POINT)
    assert code == 0, err
    assert [(u, v) for _, u, v in backward_edges(out)] == ARTICLE_TRACE
    # the lines, verbatim
    assert "  p = x · w = 2 · 3 = 6" in out
    assert "  ∂L/∂L = 1" in out
    # the local derivative at the output's step is written over the operation (issue 10)
    assert "∂L/∂d = ∂L/∂L · ∂(d²)/∂d = 1 · 2d = 1 · (2 · 2) = 4" in out
    assert "∂L/∂L · ∂L/∂d" not in out
    assert "∂L/∂y = ∂L/∂d · ∂d/∂y = 4 · (−1) = −4" in out
    assert "∂L/∂x = ∂L/∂p · ∂p/∂x = 4 · w = 4 · 3 = 12" in out
    assert "∂L/∂w = ∂L/∂p · ∂p/∂w = 4 · x = 4 · 2 = 8" in out


def test_seed_forward_pass_names_each_intermediate_before_use(run_cli):
    _, out, _ = run_cli("explain", SEED, *POINT)
    forward = [line.strip() for line in section(out, "Forward pass")]
    assert forward == ["x = 2", "w = 3", "p = x · w = 2 · 3 = 6", "b = 1", "a = p + b = 6 + 1 = 7",
                       "y = 5", "d = a − y = 7 − 5 = 2", "L = d² = 2² = 4"]


def test_seed_gradient_summary(run_cli):
    _, out, _ = run_cli("explain", SEED, *POINT)
    summary = dict(re.match(r"\s+∂L/∂(\w+) = (\S+)", line).groups() for line in section(out, "Gradient"))
    assert {k: to_float(v) for k, v in summary.items()} == ARTICLE_GRADIENT


def test_statement_program_reads_like_the_expression(run_cli):
    _, expression, _ = run_cli("explain", SEED, *POINT)
    code, statements, err = run_cli("explain", STATEMENTS, *POINT)
    assert code == 0, err
    assert statements == expression
    _, out, _ = run_cli("explain", STATEMENTS, *POINT, "--format", "json")
    generated = {step["name"]: step["generated"] for step in strict_json(out)["forward"]}
    assert generated == {"x": False, "w": False, "p": False, "b": False, "a": False,
                         "y": False, "d": False, "L": False}


def test_the_user_names_the_output(run_cli):
    _, out, _ = run_cli("explain", "z = x*w + b; loss = (z - y)^2", *POINT)
    assert "∂loss/∂loss = 1" in out
    assert [(u, v) for _, u, v in backward_edges(out)][-2:] == [("x", 12), ("w", 8)]
    assert all(top == "loss" for top, _, _ in backward_edges(out))


def test_seed_markdown(run_cli):
    code, out, err = run_cli("explain", SEED, *POINT, "--format", "markdown")
    assert code == 0, err
    assert out.index("### Forward pass") < out.index("### Backward pass") < out.index("### Gradient")
    assert "- `p = x · w = 2 · 3 = 6`" in out
    edges = re.findall(r"`∂L/∂(\w+) = ∂L/∂\w+ · .* = (\S+)`", out)
    assert [(u, to_float(v)) for u, v in edges] == ARTICLE_TRACE
    assert out.count("`") % 2 == 0


def test_seed_latex(run_cli):
    code, out, err = run_cli("explain", SEED, *POINT, "--format", "latex")
    assert code == 0, err
    assert out.count(r"\begin{align*}") == out.count(r"\end{align*}") == 3
    assert out.count("{") == out.count("}")
    assert r"\frac{\partial L}{\partial d} &= \frac{\partial L}{\partial L} \cdot " \
           r"\frac{\partial \left(d^{2}\right)}{\partial d} = 1 \cdot 2d = 1 \cdot \left(2 \cdot 2\right) = 4" in out
    assert r"p &= x \cdot w = 2 \cdot 3 = 6" in out
    edges = re.findall(r"\\frac\{\\partial L\}\{\\partial (\w+)\} &= \\frac.* = (-?\d+)", out)
    assert [(u, float(v)) for u, v in edges] == ARTICLE_TRACE
    # an \intertext follows a \\ and takes none itself
    rows = [line.strip() for line in out.splitlines()]
    for before, line in zip(rows, rows[1:]):
        if line.startswith(r"\intertext"):
            assert before.endswith("\\\\"), before
    assert not any(r.startswith(r"\intertext") and r.endswith("\\\\") for r in rows)


def test_seed_json(run_cli):
    code, out, err = run_cli("explain", SEED, *POINT, "--format", "json")
    assert code == 0, err
    doc = strict_json(out)
    assert doc["output"] == {"node": 8, "name": "L", "value": 4}
    edges = [s for s in doc["backward"] if s["kind"] == "edge"]
    assert [(s["input_name"], s["contribution"]) for s in edges] == ARTICLE_TRACE
    assert doc["backward"][0] == {"kind": "seed", "node": 8, "name": "L", "gradient": 1,
                                  "text": "∂L/∂L = 1"}
    assert [(s["name"], s["formula"], s["local"]) for s in edges] == [
        ("L", "2d", 4), ("d", "1", 1), ("d", "−1", -1), ("a", "1", 1), ("a", "1", 1),
        ("p", "w", 3), ("p", "x", 2)]
    assert edges[0]["formula_latex"] == "2d"
    assert doc["gradient"] == ARTICLE_GRADIENT
    assert doc["omitted"] == {"forward": 0, "backward": 0, "gradient": 0}
    ops = [s["op"] for s in doc["forward"] if s["kind"] == "operation"]
    assert ops == ["mul", "add", "sub", "pow"]


def test_unknown_format_is_bad_input(run_cli):
    code, _, err = run_cli("explain", SEED, *POINT, "--format", "pdf")
    assert code == 2
    assert "unknown format" in err


def test_unbound_input_is_bad_input(run_cli):
    code, _, err = run_cli("explain", SEED, "--x", "2")
    assert code == 2
    assert "no value for inputs w, b, y" in err


# ---- forks --------------------------------------------------------------------

def test_fork_within_one_operation_shows_both_paths_and_their_sum(run_cli):
    code, out, err = run_cli("explain", "x*x", "--x", "3")
    assert code == 0, err
    # d(x²)/dx = 2x = 6, each path contributes x = 3
    assert "∂L/∂x += ∂L/∂L · ∂(x · x)/∂x = 1 · x = 1 · 3 = 3   (via x · x, left)" in out
    assert "∂L/∂x += ∂L/∂L · ∂(x · x)/∂x = 1 · x = 1 · 3 = 3   (via x · x, right)" in out
    assert "∂L/∂x = 3 (via x · x, left) + 3 (via x · x, right) = 6" in out


def test_fork_of_a_shared_subexpression(run_cli):
    code, out, err = run_cli("explain", "(x+y)*(x+y)", "--x", "1", "--y", "2", "--format", "json")
    assert code == 0, err
    doc = strict_json(out)
    sums = [s for s in doc["backward"] if s["kind"] == "sum"]
    assert len(sums) == 1
    # L = s², s = x + y = 3: each path gives s = 3, the total 2s = 6
    assert [p["contribution"] for p in sums[0]["parts"]] == [3, 3]
    assert sums[0]["gradient"] == 6
    assert sums[0]["text"] == "∂L/∂a = 3 (via a · a, left) + 3 (via a · a, right) = 6"
    assert doc["gradient"] == {"x": 6, "y": 6}


def test_fork_across_operations_sums_in_backward_order(run_cli):
    x = 0.7
    code, out, err = run_cli("explain", "sin(x)*x", "--x", str(x), "--format", "json")
    assert code == 0, err
    doc = strict_json(out)
    (total,) = [s for s in doc["backward"] if s["kind"] == "sum"]
    via = {doc_node["node"]: doc_node["name"] for doc_node in doc["forward"]}
    parts = {via[p["via"]] + str(p["position"]): p["contribution"] for p in total["parts"]}
    # d/dx (sin x · x) = sin x (through the product) + x cos x (through sin)
    assert close(parts["L1"], math.sin(x))
    assert close(parts["s0"], x * math.cos(x))
    assert close(total["gradient"], central_difference(lambda v: math.sin(v) * v, x))
    assert "(via sin(x))" in total["text"] and "(via s · x)" in total["text"]


def test_gradients_of_every_fork_sum_to_the_finite_difference(run_cli):
    program = "a = x*y; b = a + x; L = b*a + sin(b)"
    point = {"x": 0.4, "y": -1.2}
    code, out, err = run_cli("explain", program, "--x", "0.4", "--y", "-1.2", "--format", "json")
    assert code == 0, err
    doc = strict_json(out)

    def f(x, y):
        a = x * y
        b = a + x
        return b * a + math.sin(b)
    assert close(doc["gradient"]["x"], central_difference(lambda v: f(v, point["y"]), point["x"]))
    assert close(doc["gradient"]["y"], central_difference(lambda v: f(point["x"], v), point["y"]))
    for step in doc["backward"]:
        if step["kind"] == "sum":
            assert close(sum(p["contribution"] for p in step["parts"]), step["gradient"])
        if step["kind"] == "edge":
            assert close(step["upstream"] * step["local"], step["contribution"])


# ---- names --------------------------------------------------------------------

def test_generated_names_avoid_the_users_names(run_cli):
    code, out, err = run_cli("explain", "p*x + a*L + d", "--p", "2", "--x", "3", "--a", "4",
                             "--L", "5", "--d", "1", "--format", "json")
    assert code == 0, err
    names = [s["name"] for s in strict_json(out)["forward"]]
    assert len(names) == len(set(names))
    assert {"p", "x", "a", "L", "d"} <= set(names)


def test_reused_names_get_subscripts(run_cli):
    code, out, err = run_cli("explain", "a = x*2; a = a*a; a", "--x", "1.5")
    assert code == 0, err
    assert "a₁ = x · 2 = 1.5 · 2 = 3" in out
    assert "a₂ = a₁ · a₁ = 3 · 3 = 9" in out


# ---- formulas in the op table ------------------------------------------------

FORMULA_POINTS = {
    1: [0.3, 0.55, 0.8, -0.45],
    2: [(1.3, 0.7), (0.4, 2.5), (2.2, 1.1)],
}
POSITIVE = {"log", "log2", "log10", "sqrt"}
ABOVE_ONE = {"acosh"}   # its domain: the points shifted by 1


def formula_cases():
    for name, op in OPS.items():
        for point in FORMULA_POINTS[op.arity]:
            point = point if isinstance(point, tuple) else (point,)
            if name in POSITIVE and point[0] <= 0:
                continue
            if name in ABOVE_ONE:
                point = (abs(point[0]) + 1,)
            for k in range(op.arity):
                yield name, k, point


def test_every_op_writes_its_partials_as_formulas():
    for name, op in OPS.items():
        assert len(op.formulas) == op.arity, name
        for k in range(op.arity):
            graph = formula_graph(name, k)     # parses with adiff's own grammar
            allowed = set(PLACEHOLDERS[op.arity]) | {OUTPUT}
            assert set(graph.inputs) <= allowed, (name, k, set(graph.inputs))


@pytest.mark.parametrize("name, k, point", list(formula_cases()), ids=str)
def test_formula_evaluated_by_adiff_matches_the_numeric_partial(name, k, point):
    op = OPS[name]
    out = op.forward(*point)
    bindings = dict(zip(PLACEHOLDERS[op.arity], point))
    bindings[OUTPUT] = out
    graph = formula_graph(name, k)
    used = {n: v for n, v in bindings.items() if n in graph.inputs}
    value = autodiff_cli.evaluate(op.formulas[k], used).value
    assert close(value, op.partials[k](*point, out)), (name, k, point)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(OPS)), st.floats(0.05, 0.95), st.floats(1.05, 3.0))
def test_formulas_match_numeric_partials_anywhere_smooth(name, u, v):
    op = OPS[name]
    point = (u + (name in ABOVE_ONE),) if op.arity == 1 else (v, u)   # a > b > 0: no ties, no kinks, in every domain
    out = op.forward(*point)
    bindings = dict(zip(PLACEHOLDERS[op.arity], point), **{OUTPUT: out})
    for k in range(op.arity):
        used = {n: x for n, x in bindings.items() if n in formula_graph(name, k).inputs}
        assert close(autodiff_cli.evaluate(op.formulas[k], used).value, op.partials[k](*point, out))


FUNCTIONS_AT = {"log": 1.7, "log2": 1.7, "log10": 1.7, "sqrt": 1.7, "acosh": 1.7}


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.callable))
def test_explain_shows_each_functions_local_derivative_as_the_finite_difference(run_cli, name):
    op = OPS[name]
    x = FUNCTIONS_AT.get(name, 0.6)
    if op.arity == 1:
        program, args = f"{name}(x)", ["--x", str(x)]
    else:
        program, args = f"{name}(x, 0.25)", ["--x", str(x)]
    code, out, err = run_cli("explain", program, *args, "--format", "json")
    assert code == 0, err
    (edge,) = [s for s in strict_json(out)["backward"] if s["kind"] == "edge"]
    f = (lambda v: op.forward(v)) if op.arity == 1 else (lambda v: op.forward(v, 0.25))
    assert close(edge["local"], central_difference(f, x)), (name, edge)
    assert edge["formula"], name


def test_constant_exponents_read_as_written_by_hand(run_cli):
    _, out, _ = run_cli("explain", "x^3 + y^1 + z^0.5", "--x", "2", "--y", "5", "--z", "4")
    assert "∂L/∂x = ∂L/∂r₁ · ∂r₁/∂x = 1 · 3x² = 1 · (3 · 2²) = 12" in out
    assert "= 1 · 1 = 1" in out                     # y¹: the partial is 1
    assert "(0.5 · z^(−0.5)) = 1 · (0.5 · 4^(−0.5)) = 0.25" in out


# ---- the local derivative with its numbers substituted (issue 20, item 8) -----------------

def test_a_functions_local_derivative_shows_its_formula_then_its_numbers(run_cli):
    # at t = tanh(a): the op table's sech² (1/cosh(a)², which keeps its digits where
    # 1 − t² cancels), then 1/cosh(1)², then its value (upstream 3 from t·w)
    code, out, err = run_cli("explain", "t = tanh(a); L = t*w", "--a", "1", "--w", "3")
    assert code == 0, err
    sech2 = 1 / math.cosh(1) ** 2
    assert (f"∂L/∂a = ∂L/∂t · ∂t/∂a = 3 · (1/cosh(a)²) = 3 · (1/cosh(1)²) = 3 · {sech2:.6g}"
            f" = {3 * sech2:.6g}") in out


OPERATORS = {"add": "x + y", "sub": "x - y", "mul": "x*y", "div": "x/y", "pow": "x^y", "neg": "-x"}


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.callable or n in OPERATORS))
def test_every_local_derivative_substitutes_numbers_that_give_its_value(run_cli, name):
    """The substituted formula names no value of the program any more, and as adiff
    arithmetic it gives the finite-difference partial: the numbers are the right ones."""
    op = OPS[name]
    point = {"x": FUNCTIONS_AT.get(name, 0.6), "y": 1.3}
    program = OPERATORS.get(name) or (f"{name}(x)" if op.arity == 1 else f"{name}(x, y)")
    args = [a for n in ("x", "y") if n in program.replace("exp", "") for a in (f"--{n}", str(point[n]))]
    code, out, err = run_cli("explain", program, *args, "--format", "json", "--digits", "17")
    assert code == 0, err
    edges = [s for s in strict_json(out)["backward"] if s["kind"] == "edge"]
    assert edges, name
    for edge in edges:
        shown = edge["substituted"]
        assert not re.search(r"\b[xyL]\b", shown), (name, shown)
        assert shown in edge["text"], (name, edge["text"])
        variable = edge["input_name"]

        def f(v):
            at = dict(point, **{variable: v})
            return autodiff_cli.evaluate(program, {n: at[n] for n in ("x", "y") if f"--{n}" in args}).value
        value = autodiff_cli.evaluate(shown.replace("·", "*").replace("−", "-"), {}).value
        assert close(value, central_difference(f, point[variable])), (name, shown)


# ---- long programs, kinks, non-finite values -----------------------------------

def chain(length: int) -> str:
    """((x*1.0001 + 0.5)*1.0001 + 0.5)...: 2·length operations deep, gradient 1.0001^length."""
    return "(" * length + "x" + "*1.0001+0.5)" * length


def test_max_steps_cuts_each_section_and_says_what_was_left_out(run_cli):
    code, out, err = run_cli("explain", chain(50), "--x", "2", "--max-steps", "10")
    assert code == 0, err
    forward, backward = section(out, "Forward pass"), section(out, "Backward pass")
    assert len(forward) == 11 and "… 91 operations left out here" in forward[5]
    # 1 seed + 100 edges, 10 shown
    assert backward[-1].strip() == "… 91 more steps left out (--max-steps 0 shows all)"
    assert len([line for line in backward if "∂" in line]) == 10
    # the gradient is the chain's product however much is shown
    assert to_float(section(out, "Gradient")[0].split(" = ")[1]) == pytest.approx(1.0001 ** 50, rel=1e-5)


def test_max_steps_counts_add_up_in_json(run_cli):
    _, full, _ = run_cli("explain", chain(50), "--x", "2", "--format", "json", "--max-steps", "0")
    _, cut, _ = run_cli("explain", chain(50), "--x", "2", "--format", "json", "--max-steps", "10")
    full, cut = strict_json(full), strict_json(cut)
    assert full["omitted"] == {"forward": 0, "backward": 0, "gradient": 0}
    assert len(full["forward"]) == len([s for s in cut["forward"] if s["kind"] != "omitted"]) \
        + cut["omitted"]["forward"]
    assert len(full["backward"]) == len([s for s in cut["backward"] if s["kind"] != "omitted"]) \
        + cut["omitted"]["backward"]
    assert cut["backward"] == full["backward"][:10] + [{"kind": "omitted", "count": 91, "what": "steps"}]


def test_a_ten_thousand_node_program_does_not_crash(run_cli):
    program = chain(5000)   # 10,002 nodes, 5,000 deep
    code, out, err = run_cli("explain", program, "--x", "2")
    assert code == 0, err
    # 100 forward lines, 100 chain-rule lines and their "at" headers, a few more
    assert len(out.splitlines()) < 330
    code, out, err = run_cli("explain", program, "--x", "2", "--format", "json", "--max-steps", "0")
    assert code == 0, err
    doc = strict_json(out)
    assert len([s for s in doc["backward"] if s["kind"] == "edge"]) == 10_000
    assert doc["gradient"]["x"] == pytest.approx(1.0001 ** 5000)


def test_a_wide_fork_keeps_its_sum_line_short(run_cli):
    code, out, err = run_cli("explain", "+".join(["x"] * 300), "--x", "1", "--max-steps", "0")
    assert code == 0, err
    (line,) = [line for line in out.splitlines() if line.strip().startswith("∂L/∂x = ")
               and "via" in line]
    assert "+ … (288 more paths) = 300" in line


def test_kinks_are_marked(run_cli):
    code, out, err = run_cli("explain", "abs(x) + y", "--x", "0", "--y", "1")
    assert code == 0
    assert "at a kink" in out
    assert "not differentiable" in err


def test_non_finite_values_are_explained_not_crashed_on(run_cli):
    code, out, err = run_cli("explain", "log(x)*y", "--x", "0", "--y", "0")
    assert code == 0, err
    assert "l = log(x) = log(0) = −∞" in out
    assert "∂L/∂x = NaN" in out
    code, out, err = run_cli("explain", "log(x)*y", "--x", "0", "--y", "0", "--format", "json")
    doc = strict_json(out)
    assert doc["gradient"] == {"x": "NaN", "y": "-Infinity"}


def test_a_program_without_inputs(run_cli):
    code, out, err = run_cli("explain", "2*3")
    assert code == 0, err
    assert "L = 2 · 3 = 6" in out
    assert "(the program has no inputs)" in out


def test_fork_in_latex_keeps_words_out_of_math(run_cli):
    code, out, err = run_cli("explain", "x*x", "--x", "3", "--format", "latex")
    assert code == 0, err
    assert r"\underbrace{3}_{\text{via }x \cdot x\text{, left}} + " \
           r"\underbrace{3}_{\text{via }x \cdot x\text{, right}} = 6" in out
    assert r"&\mathrel{+}= " in out


# ---- LaTeX names, shared with diff's printer (issue 20, item 7) ---------------------------

def test_explain_latex_spells_names_as_diff_does_and_compiles(run_cli, tmp_path):
    from test_printing import latex_compiles
    program = ("E = 0.5*m_0*v^2 + theta_1*omega0 + sigma*Δt + θ₂*x2 + café*ℏ + 中\n"
               "F = E*E + log2(E) + atan2(E, 2)")
    bindings = ["--m_0", "2", "--v", "3", "--theta_1", "0.5", "--omega0", "4", "--sigma", "1.5",
                "--Δt", "0.1", "--θ₂", "2", "--x2", "1", "--café", "1", "--ℏ", "1", "--中", "1"]
    code, out, err = run_cli("explain", program, *bindings, "--format", "latex")
    assert code == 0, err
    for spelled in ("m_{0} &= 2", r"\theta_{1} &= 0.5", r"\omega_{0} &= 4", r"\sigma &= 1.5",
                    r"\mathit{\Delta t} &= 0.1", r"\theta_{2} &= 2", "x_{2} &= 1",
                    r"\frac{\partial F}{\partial m_{0}} &="):
        assert spelled in out, spelled
    assert r"\mathit{m\_}" not in out and out.isascii()
    # a cut explanation too: its notes are text, not math
    code, short, err = run_cli("explain", program, *bindings, "--format", "latex", "--max-steps", "4")
    assert code == 0, err
    latex_compiles(tmp_path, [out, short], math_blocks=False)
