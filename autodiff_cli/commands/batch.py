"""adiff batch: values and gradients for a table of points, streamed.

Its work is batch.py's, which quick.py also runs for batch's plain calls."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import List, Optional

import typer

from ..batch import CHUNK_ROWS, Options, prepare, report
from ..cli import (FILE, MAX_NODES, OF, READS_A_PROGRAM, VAR, WRT, ProgramCommand, _arguments, _check_options,
                   app)
from ..edge import guarded

HELP = """Evaluate PROGRAM and its gradient at every row of a table of points.

Each input of the program comes from the column of that name in INPUT (a
CSV, JSONL or Parquet file, or '-' for standard input); an input without
a column takes its binding (--NAME VALUE, the same in every row) or the
program's default.  The output has one row per input row, in order: the
--keep columns, the inputs, value, and grad_NAME for each --wrt input.
Rows are streamed in chunks: memory stays flat whatever the input's size.
With -o FILE, the file appears only when the run succeeds.

\b
Examples:
  adiff batch -f samples/projectile.adiff samples/projectile_points.csv
  adiff batch "(x*w+b-y)^2" points.csv -o out.csv --b 1 --keep id
  adiff batch "(x*w+b-y)^2" points.parquet -o out.jsonl --wrt w,b
  cat points.csv | adiff batch "sin(x)*y" - --out-format jsonl
  adiff batch "(x*w+b-y)^2" "parts/*.parquet" -o results/ --engine dask
"""


class BatchCommand(ProgramCommand):
    positionals = 2   # PROGRAM and INPUT


@app.command("batch", help=HELP, **{**READS_A_PROGRAM, "cls": BatchCommand})
def batch_command(
    ctx: typer.Context,
    program: Optional[str] = typer.Argument(None, show_default=False, metavar="PROGRAM",
                                            help="The expression or program (or use -f FILE)."),
    source: Optional[str] = typer.Argument(None, show_default=False, metavar="[INPUT]",
                                           help="The points: a .csv, .jsonl or .parquet file, "
                                                "or '-' for standard input (the default)."),
    file: Optional[Path] = FILE,
    output: Optional[str] = typer.Option(None, "-o", "--output", metavar="FILE",
                                         help="Write here (default: standard output); "
                                              "a folder with --engine dask."),
    in_format: Optional[str] = typer.Option(None, "--in-format", metavar="csv|jsonl|parquet",
                                            help="The input's format (default: from its extension; csv)."),
    out_format: Optional[str] = typer.Option(None, "--out-format", metavar="csv|jsonl|parquet",
                                             help="The output's format (default: from its extension; csv)."),
    wrt: List[str] = WRT,
    keep: List[str] = typer.Option([], "--keep", metavar="NAMES", show_default=False,
                                   help="Carry these columns of the input through to the output "
                                        "(comma-separated; repeatable)."),
    hessian: bool = typer.Option(False, "--hessian",
                                 help="Add hess_U_V, every second partial of the --wrt inputs (each pair once)."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on any warning."),
    json_summary: Optional[Path] = typer.Option(None, "--json-summary", metavar="FILE",
                                                help="Write counts, timings and warnings as JSON to FILE."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no warnings on standard error."),
    chunk_rows: int = typer.Option(CHUNK_ROWS, "--chunk-rows", metavar="N", show_default=False,
                                   help="Rows read, computed and written at a time (default 131,072)."),
    engine: str = typer.Option("local", "--engine", metavar="local|dask",
                               help="local (the default) or dask: INPUT is then a glob of CSV or "
                                    "Parquet files and -o a folder of parts."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                            help="With --engine dask: join this Dask scheduler "
                                                 "(default: start a local cluster)."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
    force: bool = typer.Option(False, "--force",
                               help="Write -o FILE even when it is the input (replaced once the run succeeds)."),
    of: Optional[str] = OF,
) -> None:
    options = Options(program=program, source=source, file=file, output=output, in_format=in_format,
                      out_format=out_format, wrt=wrt, keep=keep, hessian=hessian, strict=strict,
                      json_summary=json_summary, quiet=quiet, chunk_rows=chunk_rows, engine=engine,
                      scheduler=scheduler, var=var, max_nodes=max_nodes, force=force, of=of)
    guarded(False, lambda: report(options, *prepare(_arguments(ctx), options, partial(_check_options, ctx))))
