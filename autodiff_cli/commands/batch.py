"""adiff batch: values and gradients for a table of points, streamed."""

from __future__ import annotations

import json as json_module
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import FILE, MAX_NODES, READS_A_PROGRAM, VAR, WRT, ProgramCommand, app, load
from ..edge import check_wrt, guarded, in_range, names_to_list, warn
from ..errors import AdiffError, ExitCode

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
    chunk_rows: int = typer.Option(262_144, "--chunk-rows", metavar="N", show_default=False,
                                   help="Rows read, computed and written at a time (default 262,144)."),
    engine: str = typer.Option("local", "--engine", metavar="local|dask",
                               help="local (the default) or dask: INPUT is then a glob of CSV or "
                                    "Parquet files and -o a folder of parts."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                            help="With --engine dask: join this Dask scheduler "
                                                 "(default: start a local cluster)."),
    var: List[str] = VAR,
    max_nodes: int = MAX_NODES,
) -> None:
    def body() -> None:
        in_range("--max-nodes", max_nodes, 1)
        in_range("--chunk-rows", chunk_rows, 1)
        if engine not in ("local", "dask"):
            raise AdiffError("usage", f"--engine {engine}: choose local or dask")
        text, points = program, source
        if file is not None and points is None:
            text, points = None, program   # with -f, the one word is the input
        if file is None and text == "-" or str(file) == "-":
            raise AdiffError("usage", "the program cannot come from standard input in adiff batch: "
                             "the points do", hint="give the program as text or with -f FILE")
        if points is None:
            if sys.stdin is None or sys.stdin.isatty():
                raise AdiffError("usage", "no points: give INPUT, a .csv, .jsonl or .parquet file, "
                                 "or pipe them to standard input",
                                 hint="for example: adiff batch \"x^2\" points.csv")
            points = "-"
        graph, bindings, shown = load(ctx, text, file, var, max_nodes)
        wanted = names_to_list(wrt)
        check_wrt(graph, wanted)
        kept = names_to_list(keep, "--keep") or []
        if engine == "dask":
            from ..batch_dask import run_dask
            started = time.perf_counter()
            rows = run_dask(graph, points, output, bindings=bindings, wrt=wanted, keep=kept,
                            in_format=in_format, out_format=out_format, scheduler=scheduler,
                            hessian=hessian)
            if not quiet:
                print(f"adiff: wrote {rows:,} rows to {output} in {time.perf_counter() - started:.1f} s",
                      file=sys.stderr)
            return
        from .. import batch

        progress = None if quiet or not sys.stderr.isatty() else _Progress()
        started = time.perf_counter()
        summary = None
        try:
            summary = batch.run(graph, points, output, bindings=bindings, wrt=wanted, keep=kept,
                                in_format=in_format, out_format=out_format, chunk_rows=chunk_rows,
                                strict=strict, progress=progress, hessian=hessian)
        except AdiffError as error:
            if json_summary is not None:
                _write_summary(json_summary, batch.Summary(), shown, points, output,
                               time.perf_counter() - started, error)
            raise
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(int(ExitCode.FAILURE)) from None
        finally:
            if progress is not None:
                progress.stop()
        total = time.perf_counter() - started
        if json_summary is not None:
            _write_summary(json_summary, summary, shown, points, output, total)
        if not quiet:
            warn(summary.warnings)

    guarded(False, body)


def _write_summary(path: Path, summary, program: str, source: str, target: Optional[str], total: float,
                   error: Optional[AdiffError] = None) -> None:
    try:
        path.write_text(json_module.dumps(summary.document(program, source, target, total, error), indent=2)
                        + "\n", encoding="utf-8")
    except OSError as failure:
        raise AdiffError("file", f"cannot write {path}: {failure.strerror or failure}",
                         exit_code=ExitCode.FAILURE) from None


class _Progress:
    """A progress bar on standard error, shown only once the work takes more than a moment."""

    DELAY = 0.5

    def __init__(self):
        self.started = time.perf_counter()
        self.bar = None
        self.task = None

    def __call__(self, rows: int, done: int, total: Optional[int]) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)
            self.bar = Progress(TextColumn("{task.fields[rows]} rows"), BarColumn(),
                                TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("batch", total=total, rows="0", rate="")
            self.bar.start()
        elapsed = max(1e-9, time.perf_counter() - self.started)
        self.bar.update(self.task, completed=done, rows=f"{rows:,}", rate=f"{rows / elapsed:,.0f}")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
