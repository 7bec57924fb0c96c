"""adiff: reverse-mode automatic differentiation that shows its work.

The core is usable without the command line:

    >>> import autodiff_cli
    >>> trace = autodiff_cli.evaluate("(x*w+b-y)^2", x=2, w=3, b=1, y=5)
    >>> trace.value, trace.gradient()
    (4.0, {'x': 12.0, 'w': 8.0, 'b': 4.0, 'y': -4.0})

`evaluate` returns a Trace: the graph (`trace.graph.nodes`, each with an op,
inputs and label), every node's value (`trace.values`) and gradient
(`trace.grads`), and warnings.  It raises AdiffError for bad input.
"""

from __future__ import annotations

from .errors import AdiffError, ExitCode

__version__ = "0.1.0"
__all__ = ["evaluate", "differentiate", "hessian", "vectorize", "AdiffError", "ExitCode",
           "__version__"]


def evaluate(program: str, bindings=None, *, max_nodes=None, **named):
    """Parse `program`, bind its inputs (a mapping, keywords, or both) and run
    the forward and reverse passes.  Returns a Trace."""
    from .evaluator import evaluate as run
    from .parser import parse

    values = {**(bindings or {}), **named}
    return run(parse(program, values, max_nodes=max_nodes), values)


def _graph(program, max_nodes):
    from .graph import Graph
    from .parser import parse
    return program if isinstance(program, Graph) else parse(program, max_nodes=max_nodes)


def differentiate(program, wrt=None, order=1, *, max_nodes=None):
    """The symbolic derivative of `program` (text, or a parsed Graph) as a new
    graph: outputs[()] is the value, outputs[("x",) * order] the order-th
    derivative with respect to each input x in `wrt` (default: every input).
    Print it with autodiff_cli.printing.render(graph, "text"|"adiff"|"latex"|
    "python"|"c"|"json"); evaluate it with autodiff_cli.evaluator.forward."""
    from .diff import differentiate as run
    return run(_graph(program, max_nodes), wrt, order)


def hessian(program, wrt=None, *, max_nodes=None):
    """The value, first derivatives (u,) and second partials (u, v), each
    pair once, as one graph (see differentiate)."""
    from .diff import hessian as run
    return run(_graph(program, max_nodes), wrt)


def main(args=None) -> None:
    """The `adiff` command: eval's and batch's plain calls without Typer (quick.py),
    everything else through the full command line.  Ctrl-C is caught here
    too, while the modules are still loading, so it never shows a traceback."""
    import sys
    args = sys.argv[1:] if args is None else list(args)
    try:
        from .quick import quick
        if quick(args):
            return
        from .cli import run
        run(args)
    except KeyboardInterrupt:
        print("adiff: interrupted", file=sys.stderr)
        sys.exit(int(ExitCode.INTERRUPTED))


def vectorize(program: str, *, bindings=None, wrt=None, max_nodes=None):
    """Compile `program` once for columns of points (NumPy arrays).

    Call the result on a mapping of columns (a dict of arrays, a pandas
    DataFrame, an Arrow record batch) to get {"value": ..., "grad_x": ...}:

        >>> f = autodiff_cli.vectorize("(x*w+b-y)^2", bindings={"b": 1})
        >>> f({"x": [2.0, 1.0], "w": [3.0, 3.0], "y": [5.0, 5.0]})["grad_x"]
        array([12., -6.])
    """
    from .vectorized import vectorize as compile_for_columns
    return compile_for_columns(program, bindings=bindings, wrt=wrt, max_nodes=max_nodes)
