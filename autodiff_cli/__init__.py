"""adiff: reverse-mode automatic differentiation that shows its work.

The core is usable without the command line:

    >>> import autodiff_cli
    >>> trace = autodiff_cli.evaluate("(x*w+b-y)^2", x=2, w=3, b=1, y=5)
    >>> trace.value, trace.gradient()
    (4.0, {'x': 12.0, 'w': 8.0, 'b': 4.0, 'y': -4.0})

`evaluate` returns a Trace: the graph (`trace.graph.nodes`, each with an op,
inputs and label), every node's value (`trace.values`) and gradient
(`trace.grads`), and warnings.  It raises AdiffError for bad input, bad
values included: a binding that is not a number (an int, a float, or text
that reads as one, "2.5", "nan", "-inf"), a `wrt` that is not a name or a
list of names, an `order` or `max_nodes` that is not a whole number of 1 or
more.
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

    values = _values(bindings, named)
    return run(parse(_text(program), values, max_nodes=_whole("max_nodes", max_nodes)), values)


# ---- the values a caller passes, checked here, at the edge ----------------------------------

def _bad(message: str, hint: str) -> AdiffError:
    return AdiffError("usage", message, hint=hint)


def _shown(value) -> str:
    from .errors import shorten
    return shorten(repr(value), 40)


def _text(program) -> str:
    if not isinstance(program, str):
        raise _bad(f"the program must be text (a str), not {type(program).__name__}",
                   'for example evaluate("x*w + b", x=2, w=3, b=1)')
    return program


def _values(bindings, named) -> dict:
    """The bindings as floats: numbers, or text that reads as a number."""
    import math
    import numbers
    from collections.abc import Mapping

    if bindings is not None and not isinstance(bindings, Mapping):
        raise _bad(f"bindings must be a mapping of names to numbers, not {type(bindings).__name__}",
                   'for example {"x": 2, "w": 3}')
    values = {}
    for name, value in {**(bindings or {}), **named}.items():
        if not isinstance(name, str):
            raise _bad(f"a binding's name must be text, not {_shown(name)}", 'for example {"x": 2}')
        if isinstance(value, str):
            from .bindings import parse_value
            try:
                values[name] = parse_value(name, value)
            except AdiffError:
                raise AdiffError("binding", f"{_shown(name)[1:-1]} = {_shown(value)} is not a number",
                                 hint="a value is a number, or text such as '2.5', '-1e-3', 'nan' "
                                      "or 'inf'") from None
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise AdiffError("binding", f"{_shown(name)[1:-1]} = {_shown(value)} is not a number",
                             hint="a value is one number, an int or a float")
        try:
            values[name] = float(value)
        except OverflowError:   # an int past the doubles: as the command line reads 1e400
            values[name] = math.inf if value > 0 else -math.inf
    return values


def _whole(name: str, value, default=None):
    """order or max_nodes: None (the default) or a whole number of 1 or more."""
    import numbers
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise _bad(f"{name} must be a whole number, 1 or more, not {_shown(value)}",
                   "for example " + ("order=2" if name == "order" else "max_nodes=100000"))
    return int(value)


def _wrt(wrt):
    """None, a name, "x,y", or a list of names."""
    if wrt is None:
        return None
    if isinstance(wrt, str):
        return [name.strip() for name in wrt.split(",") if name.strip()]
    try:
        names = list(wrt)
    except TypeError:
        names = None
    if names is None or not all(isinstance(name, str) for name in names):
        raise _bad(f"wrt must be an input's name or a list of names, not {_shown(wrt)}",
                   'for example wrt="x" or wrt=["x", "w"]')
    return names


def _graph(program, max_nodes):
    from .graph import Graph
    from .parser import parse
    if isinstance(program, Graph):
        return program
    return parse(_text(program), max_nodes=_whole("max_nodes", max_nodes))


def differentiate(program, wrt=None, order=1, *, max_nodes=None):
    """The symbolic derivative of `program` (text, or a parsed Graph) as a new
    graph: outputs[()] is the value, outputs[("x",) * order] the order-th
    derivative with respect to each input x in `wrt` (default: every input).
    Print it with autodiff_cli.printing.render(graph, "text"|"adiff"|"latex"|
    "python"|"c"|"json"); evaluate it with autodiff_cli.evaluator.forward."""
    from .diff import differentiate as run
    return run(_graph(program, max_nodes), _wrt(wrt), _whole("order", order, 1))


def hessian(program, wrt=None, *, max_nodes=None):
    """The value, first derivatives (u,) and second partials (u, v), each
    pair once, as one graph (see differentiate)."""
    from .diff import hessian as run
    return run(_graph(program, max_nodes), _wrt(wrt))


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
    return compile_for_columns(_text(program), bindings=_values(bindings, {}), wrt=_wrt(wrt),
                               max_nodes=_whole("max_nodes", max_nodes))
