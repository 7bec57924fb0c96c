"""adiff against PyTorch: random programs at points that include zeros,
ties, negative bases and domain edges, values and gradients compared in
float64.  PyTorch is the independent reference for the conventions at the
edges (kinks, masks, NaN, infinities).  Skipped where torch is not installed
(it is not a test dependency: `pip install torch` to run it).
"""

import math
import random
import warnings

import pytest

import autodiff_cli

torch = pytest.importorskip("torch")
T = torch
warnings.filterwarnings("ignore", module="torch")

U = {"sin": T.sin, "cos": T.cos, "tan": T.tan, "asin": T.asin, "acos": T.acos, "atan": T.atan,
     "sinh": T.sinh, "cosh": T.cosh, "tanh": T.tanh, "exp": T.exp, "log": T.log, "log2": T.log2,
     "log10": T.log10, "sqrt": T.sqrt, "abs": T.abs, "sigmoid": T.sigmoid, "relu": T.relu,
     "softplus": torch.nn.functional.softplus, "sign": T.sign}
B = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
     "^": lambda a, b: T.pow(a, b), "max": T.maximum, "min": T.minimum, "atan2": T.atan2}
NAMES = ["x", "y", "z"]

def gen(rng, depth):
    if depth == 0 or rng.random() < 0.25:
        r = rng.random()
        if r < 0.7: return ("v", rng.choice(NAMES))
        return ("c", rng.choice([0.0, 1.0, 2.0, 0.5, 3.0, -1.0]))
    if rng.random() < 0.45:
        return ("u", rng.choice(list(U)), gen(rng, depth - 1))
    return ("b", rng.choice(list(B)), gen(rng, depth - 1), gen(rng, depth - 1))

def text(e):
    k = e[0]
    if k == "v": return e[1]
    if k == "c": return repr(e[1]) if e[1] >= 0 else f"({e[1]!r})"
    if k == "u": return f"{e[1]}({text(e[2])})"
    if e[1] in ("max", "min", "atan2"): return f"{e[1]}({text(e[2])}, {text(e[3])})"
    return f"({text(e[2])} {e[1]} {text(e[3])})"

def tv(e, env):
    k = e[0]
    if k == "v": return env[e[1]]
    if k == "c": return T.tensor(e[1], dtype=T.float64)
    if k == "u": return U[e[1]](tv(e[2], env))
    return B[e[1]](tv(e[2], env), tv(e[3], env))

def same(a, b):
    if a is None: return True
    if math.isnan(a) and math.isnan(b): return True
    if math.isinf(a) or math.isinf(b): return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)



POINTS = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 0.3, -0.7]


@pytest.mark.parametrize("seed", range(4))
def test_random_programs_match_pytorch(seed):
    rng = random.Random(seed)
    compared, mismatches = 0, []
    for _ in range(500):
        e = gen(rng, 4)
        program = text(e)
        point = {v: rng.choice(POINTS) for v in NAMES}
        trace = autodiff_cli.evaluate(program, point)
        env = {v: T.tensor(point[v], dtype=T.float64, requires_grad=True) for v in NAMES}
        out = tv(e, env)
        used = [v for v in NAMES if v in trace.graph.inputs]
        if not out.requires_grad:
            continue
        grads = T.autograd.grad(out, [env[v] for v in used], allow_unused=True)
        reference = {v: 0.0 if g is None else g.item() for v, g in zip(used, grads)}
        mine = trace.gradient()
        compared += 1
        if not (same(trace.value, out.item()) and all(same(mine[v], reference[v]) for v in used)):
            mismatches.append((program, point, trace.value, mine, out.item(), reference))
    assert compared > 300
    assert mismatches == []
