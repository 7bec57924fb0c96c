"""adiff batch --engine dask: the same compiled program over a Dask dataframe.

One pure batch -> batch function (vectorized.Vectorized) is all Dask needs:
`map_partitions` calls it on each partition (a pandas DataFrame) on the
workers.  The input is a glob of CSV or Parquet files; the output a folder
of Parquet (or CSV) parts, one per partition.  Without --scheduler a local
cluster is started (and stopped); with one, adiff joins it.

Dask is an optional extra: pip install "adiff[dask]".
"""

from __future__ import annotations

import glob
import os
from typing import Mapping, Optional, Sequence

from .errors import AdiffError, ExitCode
from .graph import Graph

INSTALL_HINT = 'install it with: pip install "adiff[dask]"'


def _require_dask():
    try:
        import dask.dataframe as dd
        import distributed
    except ImportError as error:
        raise AdiffError("missing_extra", f"--engine dask needs Dask, which is not installed ({error.name})",
                         hint=INSTALL_HINT, exit_code=ExitCode.FAILURE) from None
    return dd, distributed


class PartitionFunction:
    """What each worker runs: a partition (pandas) in, the output columns out."""

    def __init__(self, graph: Graph, bindings: Mapping[str, float], wrt, keep: Sequence[str],
                 hessian: bool = False):
        from .vectorized import Vectorized
        self.program = Vectorized(graph, bindings=bindings, wrt=wrt)
        self.keep = list(keep)
        self.second = None      # the symbolic Hessian's graph, forward only, for --hessian
        self.columns = list(self.program.columns)
        if hessian:
            from .diff import hessian as hessian_graph
            self.second = Vectorized(hessian_graph(graph, self.program.wrt), bindings=bindings, gradient=False)
            self.columns += [name for name in self.second.columns if name.startswith("hess_")]

    def __call__(self, partition):
        import numpy as np
        import pandas as pd
        program = self.program
        columns = {name: partition[name].to_numpy(dtype=np.float64)
                   for name in program.inputs if name in partition.columns}
        values, rows = program.input_columns(columns, len(partition))
        out = {name: partition[name].to_numpy() for name in self.keep}
        for name in program.inputs:
            column = values[name]
            out[name] = column if isinstance(column, np.ndarray) else np.full(rows, column)
        out.update(program.run(values, rows))
        if self.second is not None:
            found = self.second.run(values, rows)
            out.update({name: found[name] for name in self.columns if name.startswith("hess_")})
        return pd.DataFrame(out, index=partition.index)


def run_dask(graph: Graph, pattern: str, target: Optional[str], *, bindings: Mapping[str, float] = {},
             wrt=None, keep: Sequence[str] = (), in_format: Optional[str] = None,
             out_format: Optional[str] = None, scheduler: Optional[str] = None, hessian: bool = False) -> int:
    """Compute every row of the files matching `pattern` into the folder `target`; the row count."""
    dd, distributed = _require_dask()
    if target is None or target == "-":
        raise AdiffError("usage", "--engine dask writes a folder of parts: give it with -o FOLDER")
    files = sorted(glob.glob(pattern))
    if not files:
        raise AdiffError("file", f"no file matches {pattern}")
    in_fmt = in_format or ("parquet" if files[0].lower().endswith((".parquet", ".pq")) else "csv")
    if in_fmt not in ("csv", "parquet"):
        raise AdiffError("usage", f"--engine dask reads CSV or Parquet, not {in_fmt}")
    out_fmt = out_format or _format_of_folder(target)
    if out_fmt not in ("csv", "parquet"):
        raise AdiffError("usage", f"--engine dask writes CSV or Parquet parts, not {out_fmt}")
    inputs = list(graph.inputs)
    dtypes = {name: "float64" for name in inputs}
    if in_fmt == "csv":
        frame = dd.read_csv(files, dtype={**{name: "object" for name in keep}, **dtypes})
    else:
        frame = dd.read_parquet(files)
    columns = list(frame.columns)
    from .batch import _check_columns
    function = PartitionFunction(graph, bindings, wrt, keep, hessian)
    _check_columns(columns, inputs, keep, function.program.columns, graph, bindings)
    import pandas as pd
    meta = {name: frame[name].dtype for name in keep}
    meta.update({name: "float64" for name in inputs + function.columns})
    result = frame.map_partitions(function, meta=pd.DataFrame({k: pd.Series(dtype=v) for k, v in meta.items()}))
    client = cluster = None
    try:
        if scheduler is not None:
            client = distributed.Client(scheduler)
        else:
            cluster = distributed.LocalCluster(n_workers=min(4, os.cpu_count() or 1), threads_per_worker=1,
                                               dashboard_address=None)
            client = distributed.Client(cluster)
        os.makedirs(target, exist_ok=True)
        if out_fmt == "parquet":
            result.to_parquet(target, write_index=False)
        else:
            result.to_csv(os.path.join(target, "part-*.csv"), index=False, na_rep="nan")
        return _count(target, out_fmt)
    except AdiffError:
        raise
    except OSError as error:
        raise AdiffError("dask", f"Dask: {error}", exit_code=ExitCode.FAILURE) from None
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _format_of_folder(target: str) -> str:
    """A folder named *.csv (with or without its trailing slash) gets CSV parts; any other, Parquet."""
    return "csv" if target.rstrip("/" + os.sep).lower().endswith(".csv") else "parquet"


def check_target(pattern: str, target: Optional[str]) -> None:
    """Refuse a folder of parts that holds input files: Dask writes its parts
    in place while it reads, so a part could replace a file not yet read."""
    if target is None or target == "-":
        return
    folder = os.path.realpath(target)
    for path in sorted(glob.glob(pattern)):
        found = os.path.realpath(path)
        if os.path.commonpath([folder, found]) == folder:
            from .errors import shorten
            raise AdiffError("usage", f"the output is the input: the folder -o {shorten(target, 60)} "
                             f"holds the input {shorten(path, 60)}",
                             hint="write the parts to another folder")


def _count(folder: str, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq
        return sum(pq.ParquetFile(path).metadata.num_rows for path in glob.glob(os.path.join(folder, "*.parquet")))
    rows = 0
    for path in glob.glob(os.path.join(folder, "*.csv")):
        with open(path, "rb") as f:
            rows += max(0, sum(1 for _ in f) - 1)
    return rows
