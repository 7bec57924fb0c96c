"""Each op's value and partials in ulps against mpmath at 50 digits, over a stress set.

    python benchmarks/accuracy.py                                # adiff only
    python benchmarks/accuracy.py --peers /path/to/peers/python  # with PyTorch and JAX

The stress set (saturation, tiny and huge arguments, near the domain's edges
and the kinks) and the mpmath references are tests/stress.py's, which
tests/test_accuracy.py checks.  Columns, each the largest error in ulps over
the op's stress points where the true value is a normal double:
  - eval: adiff's scalar path (autodiff_cli.evaluate: the forward and reverse passes);
  - batch: the array path (autodiff_cli.vectorize, what `adiff batch` runs);
  - diff: the symbolic derivative (`adiff diff`'s graph), evaluated;
  - PyTorch: float64 autograd on the CPU; JAX: jax.grad with x64 enabled.
A peer Python (a venv with torch, jax and mpmath) runs this file with --peer
and hands back its numbers as JSON; "—" is a function the peer does not have.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from stress import STRESS, normal, points, reference, ulps  # noqa: E402

ARITY = {name: len(points(name)[0]) for name in STRESS}
INFIX = {"add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "neg": "-x", "pow": "a ^ b"}


def names(name: str) -> tuple[str, ...]:
    return ("x",) if ARITY[name] == 1 else ("a", "b")


def program(name: str) -> str:
    return INFIX.get(name) or f"{name}({', '.join(names(name))})"


# ---- adiff ------------------------------------------------------------------

def adiff_numbers() -> dict[str, dict[str, list]]:
    """{"eval"|"batch"|"diff": {op: [(value, partial, ...) per stress point]}}"""
    import numpy as np

    import autodiff_cli
    from autodiff_cli.evaluator import forward
    from autodiff_cli.parser import parse

    found = {"eval": {}, "batch": {}, "diff": {}}
    for name in STRESS:
        text, inputs, pts = program(name), names(name), points(name)
        rows = []
        for p in pts:
            trace = autodiff_cli.evaluate(text, dict(zip(inputs, p)))
            gradient = trace.gradient()
            rows.append((trace.value,) + tuple(gradient[n] for n in inputs))
        found["eval"][name] = rows
        columns = autodiff_cli.vectorize(text)({n: np.array([p[k] for p in pts]) for k, n in enumerate(inputs)})
        found["batch"][name] = [tuple(float(columns[c][r]) for c in ["value"] + [f"grad_{n}" for n in inputs])
                                for r in range(len(pts))]
        graph = autodiff_cli.differentiate(parse(text), list(inputs))
        rows = []
        for p in pts:
            values, _ = forward(graph, dict(zip(inputs, p)), [])
            rows.append((values[graph.outputs[()]],) + tuple(values[graph.outputs[(n,)]] for n in inputs))
        found["diff"][name] = rows
    return found


# ---- peers (run inside the peers' Python) -------------------------------------

def peer_numbers() -> dict:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.special as jsp
    import torch
    import torch.nn.functional as F

    torch_ops = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "neg": lambda x: -x, "pow": torch.pow,
        "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin, "acos": torch.acos,
        "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh, "tanh": torch.tanh,
        "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "exp": torch.exp,
        "expm1": torch.expm1, "log": torch.log, "log2": torch.log2, "log10": torch.log10,
        "log1p": torch.log1p, "sqrt": torch.sqrt, "erf": torch.erf, "abs": torch.abs, "sign": torch.sign,
        "sigmoid": torch.sigmoid, "relu": torch.relu, "softplus": F.softplus, "max": torch.maximum,
        "min": torch.minimum, "atan2": torch.atan2, "hypot": torch.hypot,
    }
    jax_ops = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "neg": lambda x: -x, "pow": jnp.power,
        "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "asin": jnp.arcsin, "acos": jnp.arccos,
        "atan": jnp.arctan, "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh,
        "asinh": jnp.arcsinh, "acosh": jnp.arccosh, "atanh": jnp.arctanh, "exp": jnp.exp,
        "expm1": jnp.expm1, "log": jnp.log, "log2": jnp.log2, "log10": jnp.log10,
        "log1p": jnp.log1p, "sqrt": jnp.sqrt, "cbrt": jnp.cbrt, "erf": jsp.erf, "abs": jnp.abs,
        "sign": jnp.sign, "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "softplus": jax.nn.softplus,
        "max": jnp.maximum, "min": jnp.minimum, "atan2": jnp.arctan2, "hypot": jnp.hypot,
    }
    found = {"PyTorch": {}, "JAX": {}, "versions": {"torch": torch.__version__, "jax": jax.__version__}}
    for name in STRESS:
        pts = points(name)
        columns = [[p[k] for p in pts] for k in range(ARITY[name])]
        f = torch_ops.get(name)
        if f is not None:
            args = [torch.tensor(c, dtype=torch.float64, requires_grad=True) for c in columns]
            out = f(*args)
            out.sum().backward()
            grads = [a.grad if a.grad is not None else torch.zeros_like(a) for a in args]
            found["PyTorch"][name] = [(float(out[r]),) + tuple(float(g[r]) for g in grads)
                                      for r in range(len(pts))]
        g = jax_ops.get(name)
        if g is not None:
            args = [jnp.array(c, dtype=jnp.float64) for c in columns]
            out = g(*args)
            grads = jax.grad(lambda *a: jnp.sum(g(*a)), argnums=tuple(range(len(args))))(*args)
            found["JAX"][name] = [(float(out[r]),) + tuple(float(d[r]) for d in grads)
                                  for r in range(len(pts))]
    return found


# ---- the table ----------------------------------------------------------------

def worst(name: str, rows: list) -> list[float]:
    """The largest error in ulps of the value and of each partial, over the stress points."""
    errors = [0.0] * (ARITY[name] + 1)
    for point, got in zip(points(name), rows):
        for k, (g, t) in enumerate(zip(got, reference(name, point))):
            if normal(t):
                errors[k] = max(errors[k], ulps(g, t))
    return errors


def cell(u) -> str:
    if u is None:
        return "—"
    if u == math.inf:
        return "inf"
    return f"{u:.1f}" if u < 1000 else f"{u:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", metavar="PYTHON", help="a Python with torch, jax and mpmath")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        json.dump(peer_numbers(), sys.stdout)
        return
    found = adiff_numbers()
    versions = {}
    if args.peers:
        done = subprocess.run([args.peers, __file__, "--peer"], capture_output=True, text=True, check=True)
        peers = json.loads(done.stdout)
        versions = peers.pop("versions")
        found.update(peers)
    import mpmath
    import numpy
    columns = list(found)
    print(f"max error in ulps against mpmath {mpmath.__version__} at 50 digits, over tests/stress.py's points "
          f"where the true value is a normal double")
    print(f"machine: {platform.machine()}, {platform.system()}; Python {platform.python_version()}, "
          f"NumPy {numpy.__version__}" + "".join(f", {k} {v}" for k, v in versions.items()))
    print()
    print("| op | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    over = []
    for name in STRESS:
        what = ["value"] + [f"∂{n}" for n in names(name)]
        table = {c: worst(name, found[c][name]) if name in found[c] else None for c in columns}
        for k, label in enumerate(what):
            cells = [cell(None if table[c] is None else table[c][k]) for c in columns]
            print(f"| {name} {label} | " + " | ".join(cells) + " |")
            for c in ("eval", "batch"):
                if table[c][k] > 4:
                    over.append(f"{c}: {name} {label}")
    print()
    print("adiff's eval and batch over 4 ulp: " + (", ".join(over) if over else "none"))


if __name__ == "__main__":
    main()
