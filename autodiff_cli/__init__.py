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

# Import the submodule autodiff_cli.evaluate now, before the function of the
# same name is defined below: importing a submodule sets the package attribute
# of its name, so a lazy import would replace this function with the module
# (the second call to autodiff_cli.evaluate, or any call after
# `import autodiff_cli.evaluate`, would fail with "'module' object is not
# callable").  The module is then in sys.modules and is never set again.
from . import evaluate as _evaluate_module  # noqa: E402,F401

__version__ = "0.1.0"
__all__ = ["evaluate", "AdiffError", "ExitCode", "__version__"]


def evaluate(program: str, bindings=None, *, max_nodes=None, **named):
    """Parse `program`, bind its inputs (a mapping, keywords, or both) and run
    the forward and reverse passes.  Returns a Trace."""
    from .parser import parse

    run = _evaluate_module.evaluate

    values = {**(bindings or {}), **named}
    return run(parse(program, values, max_nodes=max_nodes), values)
