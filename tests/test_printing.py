"""The printers and `adiff diff`: every format gives the numbers adiff eval gives.

Generated code is run for real: the Python module imported from a file, the
C compiled by the system's cc and called through ctypes, the adiff program
and the JSON expressions read back by adiff's parser.  Each is compared with
the derivative graph evaluated by adiff (bit for bit: the same operations in
the same order) and the derivative with eval's gradient and with finite
differences (independent numbers)."""

from __future__ import annotations

import ctypes
import importlib.util
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import test_fuzz as fuzz
from autodiff_cli import AdiffError
from autodiff_cli.derive import derivative
from autodiff_cli.evaluator import bind, evaluate, forward
from autodiff_cli.parser import parse
from autodiff_cli.printing import FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
SEED = "(x*w+b-y)^2"
SEED_POINT = {"x": 2.0, "w": 3.0, "b": 1.0, "y": 5.0}
CC = shutil.which("cc") or ("/usr/bin/cc" if Path("/usr/bin/cc").exists() else None)
# -fno-builtin: with constant arguments GCC computes pow() itself, correctly rounded
# (MPFR), where the C library's pow() and Python's math.pow() may be 1 ulp off; the
# generated code must agree with adiff as it runs, through the C library
C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-fno-builtin"]


def compiler() -> str:
    if CC is None:
        pytest.fail("no C compiler: these tests need cc (apt-get install gcc)")
    return CC


def same(a: float, b: float) -> bool:
    return (a != a and b != b) or a == b


def graph_values(graph, point) -> dict:
    inputs, _ = bind(graph, {n: point[n] for n in graph.inputs})
    values, _ = forward(graph, inputs, [])
    return {key: values[node] for key, node in graph.outputs.items()}


# ---- running each format ------------------------------------------------------------

_modules = 0


def run_python(source: str, tmp_path: Path, point: dict, names: list[str]):
    global _modules
    _modules += 1
    path = tmp_path / f"generated_{_modules}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.value_and_grad(*(point[n] for n in names))


def build_c(source: str, tmp_path: Path) -> ctypes.CDLL:
    global _modules
    _modules += 1
    c = tmp_path / f"generated_{_modules}.c"
    so = tmp_path / f"generated_{_modules}.so"
    c.write_text(source, encoding="utf-8")
    done = subprocess.run([compiler(), *C_FLAGS, "-shared", "-fPIC", str(c), "-o", str(so), "-lm"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + "\n" + source
    return ctypes.CDLL(str(so))


def run_c(library, point: dict, names: list[str], count: int, name="adiff_value_and_grad"):
    function = getattr(library, name)
    function.restype = ctypes.c_double
    function.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double)]
    inputs = (ctypes.c_double * max(1, len(names)))(*(point[n] for n in names))
    grad = (ctypes.c_double * max(1, count))()
    value = function(inputs, grad)
    return value, list(grad)[:count]


def adiff_statements(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split(" = ", 1)) for line in text.splitlines() if line and not line.startswith("#")]


def read_back_adiff(text: str, point: dict) -> dict[str, float]:
    """Each statement's value: the program up to that statement, evaluated by adiff."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    values = {}
    for k, line in enumerate(lines):
        graph = parse("\n".join(lines[: k + 1]))
        used = {n: point[n] for n in graph.inputs if n in point}
        inputs, _ = bind(graph, used)
        vals, _ = forward(graph, inputs, [])
        values[line.split(" = ", 1)[0]] = vals[graph.output]
    return values


def read_back_json(doc: dict, point: dict) -> dict[str, float]:
    prefix = [f"{d['name']} = {d['expr']}" for d in doc["definitions"]]
    result = {}
    for name, expr in doc["derivatives"].items():
        graph = parse("\n".join(prefix + [expr]))
        used = {n: point[n] for n in graph.inputs if n in point}
        inputs, _ = bind(graph, used)
        vals, _ = forward(graph, inputs, [])
        result[name] = vals[graph.output]
    return result


# ---- the seed example ---------------------------------------------------------------

@pytest.mark.parametrize("format, suffix", [("text", "txt"), ("latex", "tex"), ("python", "py"), ("c", "c")])
def test_seed_example_matches_its_golden_file(format, suffix):
    expected = (GOLDEN / f"seed.{suffix}").read_text(encoding="utf-8")
    assert render(derivative(SEED), format, program=SEED) == expected


def test_seed_example_reads_as_in_the_article():
    # the simplifier orders a product's factors as it likes: 2·d·w or 2·w·d
    text = render(derivative(SEED), "text")
    assert text.splitlines()[0] == "t1 = x·w + b − y"
    assert text.splitlines()[1] in ("∂f/∂x = 2·t1·w", "∂f/∂x = 2·w·t1")
    assert render(derivative(SEED, wrt=["x"]), "text") in ("∂f/∂x = 2·(x·w + b − y)·w\n",
                                                           "∂f/∂x = 2·w·(x·w + b − y)\n")
    named = render(derivative("d = x*w + b - y; L = d^2"), "text")
    assert named.splitlines()[0] == "d = x·w + b − y"
    assert named.splitlines()[1] in ("∂L/∂x = 2·d·w", "∂L/∂x = 2·w·d")


def test_seed_hessian_at_the_articles_point():
    graph = derivative(SEED, hessian=True)
    values = graph_values(graph, SEED_POINT)
    assert values[("x", "x")] == 18 and values[("x", "w")] == 16 and values[("w", "w")] == 8
    # and by finite differences of the gradient, independently of the symbolic pass
    h = 1e-5
    for u, v, expected in (("x", "x", 18), ("x", "w", 16), ("w", "w", 8)):
        up = evaluate(parse(SEED), {**SEED_POINT, v: SEED_POINT[v] + h}).gradient([u])[u]
        down = evaluate(parse(SEED), {**SEED_POINT, v: SEED_POINT[v] - h}).gradient([u])[u]
        assert math.isclose((up - down) / (2 * h), expected, rel_tol=1e-6)


# ---- every format agrees with adiff on generated programs ------------------------------

POINTS = [fuzz.POINT, {"x": -0.4, "y": 1.7, "w": 0.9, "θ": -2.2, "a": 0.6, "b": 1.1},
          {"x": 3.3, "y": 0.15, "w": -1.6, "θ": 1.25, "a": -0.8, "b": 2.4}]


@settings(max_examples=fuzz.scaled(0.2), suppress_health_check=list(HealthCheck), deadline=None)
@given(fuzz.smooth_candidates, st.sampled_from(POINTS), st.booleans())
def test_every_format_agrees_with_adiff_on_generated_programs(tmp_path_factory, text, point, inline):
    try:
        program = parse(text, point)
        used = {n: point[n] for n in program.inputs if n in point}
        assume(len(used) == len(program.inputs))
        trace = evaluate(program, used)
        graph = derivative(program, gradient=True)
    except AdiffError:
        assume(False)
    tmp = tmp_path_factory.mktemp("generated")
    expected = graph_values(graph, used)
    names = list(program.inputs)
    wrt = [k[0] for k in graph.outputs if len(k) == 1]
    note(f"program {text!r} at {used}")
    # python, run
    source = render(graph, "python", program=text, inline=inline)
    note(source)
    _module, (value, grad) = run_python(source, tmp, used, names)
    assert same(value, expected[()])
    assert all(same(g, expected[(n,)]) for g, n in zip(grad, wrt))
    # C, compiled and called
    library = build_c(render(graph, "c", program=text, inline=inline), tmp)
    value, grad = run_c(library, used, names, len(wrt))
    assert same(value, expected[()])
    assert all(same(g, expected[(n,)]) for g, n in zip(grad, wrt))
    # adiff, read back
    adiff_text = render(graph, "adiff", program=text, inline=inline)
    back = read_back_adiff(adiff_text, used)
    for key in graph.outputs:
        if key:
            name = next(n for n, _ in adiff_statements(adiff_text) if n.endswith("_d" + key[0])
                        or n.endswith("_d" + _py(key[0])))
            assert same(back[name], expected[key]), (name, adiff_text)
    # JSON, re-parsed
    doc = json.loads(render(graph, "json", program=text, inline=inline))
    back = read_back_json(doc, used)
    assert all(same(back[n], expected[(n,)]) for n in wrt)
    # and the derivative is eval's gradient, at smooth points
    if not trace.warnings and all(map(math.isfinite, trace.values)):
        noise = 8 * sys.float_info.epsilon * sum(abs(v * g) for v, g in zip(trace.values, trace.grads)
                                                 if g is not None)
        for n in wrt:
            g = trace.gradient([n])[n]
            # known difference, left to the symbolic pass: d/db a^b at a = 0 is
            # a^b·log(a) = 0·(-inf) = NaN symbolically, where eval's mask gives 0
            if math.isfinite(g) and math.isfinite(expected[(n,)]):
                assert abs(expected[(n,)] - g) <= 1e-7 * abs(g) + 1e-9 + 1e3 * noise, (n, g, expected[(n,)])


def _py(name: str) -> str:
    from autodiff_cli.printing.base import ascii_identifier
    return ascii_identifier(name)


@settings(max_examples=fuzz.scaled(0.1), suppress_health_check=list(HealthCheck), deadline=None)
@given(fuzz.smooth_candidates, st.sampled_from(POINTS))
def test_second_derivatives_match_finite_differences_of_the_gradient(text, point):
    try:
        program = parse(text, point)
        used = {n: point[n] for n in program.inputs if n in point}
        assume(used and len(used) == len(program.inputs))
        trace = evaluate(program, used)
        graph = derivative(program, hessian=True)
    except AdiffError:
        assume(False)
    assume(not trace.warnings and all(map(math.isfinite, trace.values)))
    values = graph_values(graph, used)
    for (u, v), second in ((k, x) for k, x in values.items() if len(k) == 2):
        assume(math.isfinite(second))   # 0^x: see the known difference above
        h = 1e-5 * max(1.0, abs(used[v]))
        up = evaluate(program, {**used, v: used[v] + h})
        down = evaluate(program, {**used, v: used[v] - h})
        assume(not up.warnings and not down.warnings)
        fd = (up.gradient([u])[u] - down.gradient([u])[u]) / (2 * h)
        wide = (evaluate(program, {**used, v: used[v] + 2 * h}).gradient([u])[u]
                - evaluate(program, {**used, v: used[v] - 2 * h}).gradient([u])[u]) / (4 * h)
        assume(math.isfinite(fd) and abs(fd - wide) <= 1e-4 * abs(fd) + 1e-6)
        note(f"d2/d{u}d{v}: symbolic {second!r}, finite difference {fd!r}")
        assert abs(second - fd) <= 1e-4 * max(abs(fd), abs(second)) + 1e-5


# ---- the edges: generated code keeps adiff eval's conventions ---------------------------

EDGES = [
    ("x/y", {"x": 1.0, "y": 0.0}), ("x/y", {"x": 0.0, "y": 0.0}), ("x/y", {"x": -1.0, "y": -0.0}),
    ("x^y", {"x": 0.0, "y": -1.0}), ("x^y", {"x": -8.0, "y": 1 / 3}), ("x^y", {"x": 0.0, "y": 0.0}),
    ("x^y", {"x": 10.0, "y": 400.0}), ("x^y", {"x": -10.0, "y": 401.0}),
    ("log(x) + log2(x) + log10(x)", {"x": 0.0}), ("log(x)", {"x": -1.0}), ("sqrt(x)", {"x": -1.0}),
    ("sqrt(x)", {"x": 0.0}), ("exp(x)", {"x": 710.0}), ("sinh(x) + cosh(x)", {"x": -800.0}),
    ("sin(x) + cos(x) + tan(x)", {"x": math.inf}), ("asin(x) + acos(x)", {"x": 2.0}),
    ("relu(x) + abs(x) + sign(x) + step(x)", {"x": 0.0}), ("max(x, y) + min(x, y)", {"x": 1.0, "y": 1.0}),
    ("max(x, y) * min(y, x)", {"x": math.nan, "y": 1.0}), ("sigmoid(x) + softplus(x)", {"x": -800.0}),
    ("sigmoid(x) * softplus(x)", {"x": math.nan}), ("atan2(y, x) + atan(x) + tanh(x)", {"x": 0.0, "y": 0.0}),
    ("1e300 * x * x", {"x": 1e10}), ("x * pi + e", {"x": 1.0}),
]


@pytest.mark.parametrize("program, point", EDGES)
def test_generated_code_keeps_the_edge_conventions(tmp_path, program, point):
    graph = derivative(program)
    expected = graph_values(graph, point)
    names = list(graph.inputs)
    _module, (value, grad) = run_python(render(graph, "python"), tmp_path, point, names)
    assert same(value, expected[()]) and all(same(g, expected[(n,)]) for g, n in zip(grad, names))
    library = build_c(render(graph, "c"), tmp_path)
    value, grad = run_c(library, point, names, len(names))
    assert same(value, expected[()]) and all(same(g, expected[(n,)]) for g, n in zip(grad, names))
    # and the value is adiff eval's own
    assert same(value, evaluate(parse(program), point).value)


# ---- generated code is clean ------------------------------------------------------------

EVERY_FUNCTION = ("sin(x)*cos(w) + tan(x) + asin(x/9) + acos(x/9) + atan(w) + sinh(x) + cosh(w)"
                  " + tanh(x) + exp(w) + log(x) + log2(w) + log10(x) + sqrt(w) + abs(x) + sign(x)"
                  " + step(w) + sigmoid(x) + relu(w) + softplus(x) + max(x, w) + min(x, w)"
                  " + atan2(x, w) + x^w + x/w - pi*e")


@pytest.mark.parametrize("options", [{}, {"hessian": True}, {"order": 3}])
def test_generated_python_compiles_and_passes_pyflakes(tmp_path, options):
    from pyflakes.api import check
    from pyflakes.reporter import Reporter
    import io
    graph = derivative(EVERY_FUNCTION, gradient=True, **options)
    source = render(graph, "python", program=EVERY_FUNCTION, hessian=options.get("hessian"))
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "py_compile", str(path)], check=True)
    out, err = io.StringIO(), io.StringIO()
    assert check(source, str(path), Reporter(out, err)) == 0, out.getvalue() + err.getvalue()
    assert re.findall(r"^(?:import|from) .*", source, re.M) == ["import math"]


@pytest.mark.parametrize("options", [{}, {"hessian": True}, {"order": 3}])
def test_generated_c_compiles_with_every_warning_an_error(tmp_path, options):
    graph = derivative(EVERY_FUNCTION, gradient=True, **options)
    source = render(graph, "c", program=EVERY_FUNCTION, hessian=options.get("hessian"))
    assert re.findall(r"^#include .*", source, re.M) == ["#include <math.h>"]
    path = tmp_path / "f.c"
    path.write_text(source)
    done = subprocess.run([compiler(), *C_FLAGS, "-c", str(path), "-o", str(tmp_path / "f.o")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_c_hessian_and_a_renamed_function(tmp_path):
    graph = derivative(SEED, hessian=True)
    library = build_c(render(graph, "c", name="seed_loss"), tmp_path)
    value, grad = run_c(library, SEED_POINT, list(SEED_POINT), 4, name="seed_loss")
    assert value == 4 and grad == [12, 8, 4, -4]
    function = library.seed_loss_hessian
    inputs = (ctypes.c_double * 4)(*SEED_POINT.values())
    hess = (ctypes.c_double * 16)()
    function(inputs, hess)
    assert hess[0] == 18 and hess[1] == hess[4] == 16 and hess[5] == 8


def test_python_hessian_and_higher_orders(tmp_path):
    module, (value, grad) = run_python(render(derivative(SEED, hessian=True), "python", hessian=True),
                                       tmp_path, SEED_POINT, list(SEED_POINT))
    assert value == 4 and grad == (12, 8, 4, -4)
    rows = module.hessian(*SEED_POINT.values())
    assert rows[0][0] == 18 and rows[0][1] == rows[1][0] == 16 and rows[1][1] == 8
    module, _ = run_python(render(derivative("log(1+x)", order=6, gradient=True), "python"),
                           tmp_path, {"x": 0.3}, ["x"])
    (sixth,) = module.derivatives(0.3)
    assert math.isclose(sixth, -120 / 1.3 ** 6, rel_tol=1e-12)   # d6/dx6 log(1+x) = -5!/(1+x)^6


# ---- LaTeX --------------------------------------------------------------------------

def test_latex_is_balanced_and_compiles(tmp_path):
    latex = render(derivative(EVERY_FUNCTION, hessian=True), "latex")
    # Greek names become commands, and w1 beside w₁ stays valid (w_{1}, w_{1}')
    latex += render(derivative("sin(θ*w1)*w₁ + λ₂^2 + Θ"), "latex")
    assert latex.count("{") == latex.count("}")
    assert latex.count(r"\left") == latex.count(r"\right")
    assert set(re.findall(r"\\[A-Za-z]+", latex)) <= {
        r"\begin", r"\end", r"\frac", r"\partial", r"\cdot", r"\left", r"\right", r"\sin", r"\cos",
        r"\tan", r"\arcsin", r"\arccos", r"\arctan", r"\sinh", r"\cosh", r"\tanh", r"\exp", r"\log",
        r"\sqrt", r"\operatorname", r"\max", r"\min", r"\pi", r"\mathit", r"\times", r"\theta",
        r"\lambda", r"\Theta"}
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        return   # the checks above stand in; CI installs texlive-latex-base
    blocks = latex.replace("\\end{aligned}\n", "\\end{aligned}\n\\]\n\\[\n")
    document = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\\[\n"
                + blocks.rstrip().removesuffix("\\[") + "\n\\end{document}\n")
    (tmp_path / "d.tex").write_text(document)
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


# LaTeX's Greek letters, written out here (pi is the constant, printed \pi already)
GREEK_WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi rho sigma "
               "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
               "Omega").split()
# every Unicode Greek letter (U+0391 to U+03C9, U+03A2 is unassigned), the symbol variants,
# and other non-ASCII letters a name may hold
UNICODE_NAMES = [chr(c) for c in range(0x391, 0x3CA) if c != 0x3A2 and chr(c) != "π"] + [
    "ϑ", "ϕ", "ϖ", "ϵ", "ϱ", "Δt", "café", "ℏ", "ℓ", "中", "𝑥", "Ωₘₐₓ", "ǎ"]


def latex_compiles(tmp_path, blocks: list[str], math_blocks: bool = True) -> None:
    """pdflatex, with amsmath and nothing else: no Unicode set-up at all."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base)")
    body = "\n".join(f"\\[\n{b}\\]" if math_blocks else b for b in blocks)
    (tmp_path / "d.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath}\n"
                                    "\\begin{document}\n" + body + "\n\\end{document}\n")
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def latex_partial_names(program: str) -> list[str]:
    r"""The names under \partial in diff's LaTeX of a program: how it spells each input."""
    latex = render(derivative(program), "latex")
    return re.findall(r"\\frac\{\\partial f\}\{\\partial (.*?)\} &=", latex)


@pytest.mark.parametrize("name, expected", [
    ("m_0", "m_{0}"), ("m₀", "m_{0}"), ("x2", "x_{2}"), ("w12", "w_{12}"), ("x_max", r"x_{\mathit{max}}"),
    ("x_i_j", "x_{i,j}"), ("v2_a", "v_{2,a}"), ("rate", r"\mathit{rate}"), ("rate_2", r"\mathit{rate}_{2}"),
    ("theta", r"\theta"), ("theta_1", r"\theta_{1}"), ("omega0", r"\omega_{0}"), ("θ₁", r"\theta_{1}"),
    ("sigma_x", r"\sigma_{x}"), ("x_theta", r"x_{\theta}"), ("Omega_max", r"\Omega_{\mathit{max}}"),
    ("thetas", r"\mathit{thetas}"), ("Δt", r"\mathit{\Delta t}")])
def test_latex_names_read_as_written_by_hand(name, expected):
    assert latex_partial_names(f"3*{name}*y") == [expected, "y"]


@pytest.mark.parametrize("word", GREEK_WORDS)
def test_latex_greek_names_are_their_letters_also_with_subscripts(word):
    assert latex_partial_names(f"{word}*{word}_1 + {word}0*y") == [
        "\\" + word, f"\\{word}_{{1}}", f"\\{word}_{{0}}", "y"]


def test_latex_names_stay_distinct_and_compile_without_unicode_set_up(tmp_path):
    words = [w + s for w in GREEK_WORDS for s in ("", "_1", "0", "_max")]
    odd = ["x_", "_x", "a__b", "m_0", "m₀", "x2", "x_2"]   # x_, _x, a__b: underscores escaped
    names = words + UNICODE_NAMES + odd
    latex = render(derivative(" + ".join(f"{n}*{i + 2}" for i, n in enumerate(names))), "latex")
    assert latex.isascii()
    spelled = re.findall(r"\\frac\{\\partial f\}\{\\partial (.*?)\} &=", latex)
    assert len(spelled) == len(names) == len(set(spelled))   # m_0 beside m₀: m_{0} and m_{0}'
    latex_compiles(tmp_path, [latex])


# ---- deep programs ----------------------------------------------------------------------

def test_a_chain_of_ten_thousand_statements_prints_in_every_format_and_compiles(tmp_path):
    """The printers on a deep graph: the chain itself, with outputs set by hand
    (the value, and a node 5,000 deep as if it were df/dx), so that this tests
    the printers' breaking of deep expressions whatever the simplifier makes."""
    program = "t = x\n" + "t = sin(t) + x\n" * 10_000
    graph = parse(program)
    graph.outputs = {(): graph.output, ("x",): graph.output // 2}
    outputs = {format: render(graph, format, program="chain") for format in FORMATS}
    path = tmp_path / "chain.py"
    path.write_text(outputs["python"])
    subprocess.run([sys.executable, "-m", "py_compile", str(path)], check=True)
    expected = graph_values(graph, {"x": 0.3})
    _module, (value, (grad,)) = run_python(outputs["python"], tmp_path, {"x": 0.3}, ["x"])
    assert value == expected[()] and grad == expected[("x",)]
    library = build_c(outputs["c"], tmp_path)
    assert run_c(library, {"x": 0.3}, ["x"], 1) == (expected[()], [expected[("x",)]])
    back = parse(outputs["adiff"])
    inputs, _ = bind(back, {"x": 0.3})
    assert forward(back, inputs, [])[0][back.output] == expected[("x",)]
    assert max(len(line) for line in outputs["text"].splitlines()) < 2000


# ---- the command ---------------------------------------------------------------------

def test_the_command_prints_and_evaluates(run_cli):
    code, out, err = run_cli("diff", SEED, "--x", "2", "--w", "3", "--b", "1", "--y", "5")
    assert code == 0, err
    assert {"∂f/∂x = 2·t1·w = 12", "∂f/∂x = 2·w·t1 = 12"} & set(out.splitlines())
    code, out, _ = run_cli("diff", SEED, "--hessian", "--json", "--x", "2", "--w", "3", "--b", "1", "--y", "5")
    doc = json.loads(out)
    assert doc["schema"] == 1 and doc["order"] == 2 and doc["wrt"] == ["x", "w", "b", "y"]
    assert doc["values"] == {"x": 12, "w": 8, "b": 4, "y": -4}
    assert doc["hessian_values"]["x"]["x"] == 18 and doc["hessian_values"]["w"]["x"] == 16
    code, out, _ = run_cli("diff", "log(1+x)", "--order", "6", "--x", "0.3", "--format", "json")
    assert math.isclose(json.loads(out)["values"]["x"], -120 / 1.3 ** 6, rel_tol=1e-12)


@pytest.mark.parametrize("args, message", [
    (["--wrt", "q"], "no input q"), (["--wrt", "ww"], "did you mean w?"),
    (["--order", "0"], "--order 0"), (["--order", "-2"], "--order -2"),
    (["--format", "fortran"], "unknown format"), (["--name", "f"], "--format c"),
])
def test_the_command_says_what_is_wrong(run_cli, args, message):
    code, out, err = run_cli("diff", SEED, *args)
    assert code == 2 and message in err and err.startswith("adiff: error: ")
    code, out, err = run_cli("diff", SEED, *args, "--json")
    assert code == 2 and "error" in json.loads(out)


def test_too_large_is_a_limit(run_cli):
    code, out, err = run_cli("diff", "exp(x*sin(x))/(1+x^2)", "--order", "8", "--max-nodes", "50")
    assert code == 1 and "adiff: error:" in err


def test_the_adiff_format_pipes_into_eval_and_diff():
    from support import run
    first = run("diff", SEED, "--wrt", "x", "--format", "adiff")
    assert first.exit_code == 0, first.stderr
    evaluated = run("eval", "-", "--x", "2", "--w", "3", "--b", "1", "--y", "5", "--json", input=first.stdout)
    assert json.loads(evaluated.stdout)["value"] == 12
    again = run("diff", "-", "--wrt", "x", input=first.stdout)
    assert again.exit_code == 0 and again.stdout.strip().endswith("= 2·w²"), again


def test_the_api_differentiate_and_render():
    import autodiff_cli
    graph = autodiff_cli.differentiate("sin(x)*x^3", wrt=["x"])
    assert set(graph.outputs) == {(), ("x",)}
    from autodiff_cli.printing import render as print_graph
    assert print_graph(graph, "text").startswith("∂f/∂x = ")


def test_order_two_is_not_a_hessian(run_cli):
    code, out, err = run_cli("diff", "x^3*w", "--order", "2", "--format", "python")
    assert code == 0, err
    assert "def derivatives(x, w):" in out and "def hessian" not in out
    code, out, err = run_cli("diff", "x^3*w", "--hessian", "--format", "python")
    assert "def hessian(x, w):" in out and "def derivatives" not in out
