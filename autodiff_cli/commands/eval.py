"""adiff eval: the value and gradient at a point, as a table or JSON.

Its work is point.py's, which also runs eval's usual calls without Typer."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import (DIGITS, FILE, JSON, MAX_NODES, OF, PROGRAM, READS_A_PROGRAM, VAR, WRT, _arguments,
                   _check_options, app)
from ..edge import guarded
from ..point import Options, prepare, report

HELP = """Evaluate PROGRAM and its gradient with respect to every input.

Bind inputs with --NAME VALUE (or --NAME=VALUE); --var NAME=VALUE binds a
name that clashes with one of adiff's options.  PROGRAM may be '-' to read
standard input, or use -f FILE.

\b
Examples:
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --json | jq .gradient
  adiff eval "sin(x)*exp(-t)" --x 0.5 --t=1 --wrt x
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --check
  adiff eval "(x*w+b-y)^2" --x 2 --w 3 --b 1 --y 5 --hessian --wrt x,w
  adiff eval "R = v^2*sin(2*t)/g; H = (v*sin(t))^2/(2*g); R, H" --v 10 --t 0.7 --g 9.81
  adiff eval "sin(x)*y, x+y" --x 1 --y 2 --mode forward --tangent x=1,y=0.5
  adiff eval -f samples/tanh_neuron.adiff --w1 0.3
  echo "tanh(a*b)" | adiff eval - --a 1 --b -2
"""


@app.command("eval", help=HELP, **READS_A_PROGRAM)
def eval_command(
    ctx: typer.Context,
    program: Optional[str] = PROGRAM,
    file: Optional[Path] = FILE,
    json: bool = JSON,
    wrt: List[str] = WRT,
    digits: int = DIGITS,
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on any warning."),
    check: bool = typer.Option(False, "--check",
                               help="Compare every gradient with a central finite difference; "
                                    "exit 1 if one disagrees."),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", metavar="TOL",
                                              help="The check's tolerance on the error, at least 0 "
                                                   "(default 1e-5); implies --check."),
    hessian: bool = typer.Option(False, "--hessian",
                                 help="Also the Hessian at the point (every second partial "
                                      "of the --wrt inputs), from the symbolic derivative."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    of: Optional[str] = OF,
    mode: str = typer.Option("reverse", "--mode", metavar="MODE", show_default=False,
                             help="reverse (one backward pass per output), forward (one tangent "
                                  "pass per input) or auto (the fewer passes); default reverse."),
    tangent: List[str] = typer.Option([], "--tangent", metavar="NAME=T,...", show_default=False,
                                      help="Also the Jacobian-vector product along these input "
                                           "tangents (the rest 0): one forward pass."),
    cotangent: List[str] = typer.Option([], "--cotangent", metavar="OUT=C,...", show_default=False,
                                        help="Also the vector-Jacobian product of these output "
                                             "cotangents (the rest 0): one backward pass."),
) -> None:
    options = Options(program=program, file=file, json=json, wrt=wrt, digits=digits, strict=strict,
                      check=check, tolerance=tolerance, hessian=hessian, var=var, max_nodes=max_nodes,
                      mode=mode, tangent=tangent, cotangent=cotangent, of=of)
    guarded(json, lambda: report(options, *prepare(_arguments(ctx), options,
                                                   partial(_check_options, ctx))))
