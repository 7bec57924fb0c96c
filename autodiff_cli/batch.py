"""adiff batch: a table of points in, a table of values and gradients out.

Streamed: rows are read, computed (vectorized.py) and written a chunk at a
time, so memory stays flat whatever the input's size and the first rows
come out before the last are read.  Formats: CSV and JSONL (read in chunks
of lines, each parsed by Polars), Parquet (read by Polars a chunk at a
time, and written by a Polars sink fed a chunk at a time).  Why these
libraries: see pyproject.toml.

Everything here is imported only when `batch` runs: NumPy and Polars never
slow down the other commands.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

from .errors import AdiffError, ExitCode, listed, shorten
from .graph import Graph

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
              ".parquet": "parquet", ".pq": "parquet"}
CHUNK_ROWS = 131_072   # measured: at 10^6 rows, reading and writing overlap best near this


def format_of(path: Optional[str], given: Optional[str], what: str) -> str:
    if given is not None:
        if given not in FORMATS:
            raise AdiffError("usage", f"--{what}-format {given}: choose csv, jsonl or parquet")
        return given
    if path is None or path == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    raise AdiffError("usage", f"cannot tell the format of {path} from its extension",
                     hint=f"name it .csv, .jsonl or .parquet, or give --{what}-format")


# ---- reading ------------------------------------------------------------------------


@dataclass
class Chunk:
    frame: object            # a polars DataFrame: the input's columns for these rows
    first_row: int           # 1-based number of the chunk's first data row
    progress: int = 0        # bytes (or rows, for Parquet) consumed so far


class Reader:
    """The input, a chunk of rows at a time, with the numeric columns checked."""

    def __init__(self, source: str, fmt: str, chunk_rows: int, numeric: Sequence[str]):
        self.source = source
        self.fmt = fmt
        self.chunk_rows = chunk_rows
        self.numeric = list(numeric)   # the columns that must hold numbers (the inputs present)
        self.columns: list[str] = []
        self.repeated: list[str] = []     # header names given more than once
        self._total: Optional[int] = None   # bytes or rows, for the progress bar
        self.where = "standard input" if source == "-" else source
        self._open()

    def _open(self) -> None:
        try:
            if self.fmt == "parquet":   # by Polars, which reads the file's footer here
                import polars as pl
                handle = io.BytesIO(sys.stdin.buffer.read()) if self.source == "-" else self.source
                self._parquet = pl.scan_parquet(handle)
                self.columns = self._parquet.collect_schema().names()
                return
            self._stream = sys.stdin.buffer if self.source == "-" else open(self.source, "rb")
            if self.source != "-":
                self._total = os.fstat(self._stream.fileno()).st_size
        except FileNotFoundError:
            raise AdiffError("file", f"cannot read {self.where}: no such file") from None
        except OSError as error:
            raise AdiffError("file", f"cannot read {self.where}: {error.strerror or error}") from None
        except Exception as error:  # a Parquet file that is not one
            raise AdiffError("data", f"cannot read {self.where} as Parquet: {error}") from None
        self._consumed = 0
        if self.fmt == "csv":
            header = self._stream.readline()
            self._consumed += len(header)
            self._header = header if header.strip() else b""
            self._line = 2
            if self._header:
                import polars as pl
                self.columns = pl.read_csv(io.BytesIO(self._header), infer_schema=False).columns
                # a name given twice, which Polars renames (x, x_duplicated_0): which one is meant?
                import collections
                import csv
                names = next(csv.reader([self._header.decode("utf-8", "replace")]), [])
                self.repeated = [name for name, count in collections.Counter(names).items() if count > 1]
        else:
            self._line = 1

    @property
    def total(self) -> Optional[int]:
        """The input's size in bytes (rows, for Parquet: counted only when a progress bar asks)."""
        if self._total is None and self.fmt == "parquet":
            import polars as pl
            self._total = self._parquet.select(pl.len()).collect().item()
        return self._total

    def set_numeric(self, numeric: Sequence[str]) -> None:
        self.numeric = [c for c in numeric if c in self.columns or self.fmt == "jsonl"]

    def _blocks(self) -> Iterator[bytes]:
        """Blocks of whole lines, about chunk_rows of them.

        Read as bytes and cut at the last newline, each block copied once:
        no Python work per line, and no scan for blank lines (Polars' parse
        shows them: see _parsed).
        """
        stream = self._stream
        carry = stream.read(65_536)
        eof = len(carry) < 65_536
        per_line = len(carry) / max(1, carry.count(b"\n")) if carry else 1
        size = max(64, int(per_line * self.chunk_rows))
        while carry or not eof:
            want = max(size - len(carry), 1)
            piece = b"" if eof else stream.read(want)
            eof = eof or len(piece) < want
            cut = piece.rfind(b"\n") + 1
            if cut == 0 and not eof:   # a line longer than a block: read on
                carry += piece
                size *= 2
                continue
            if cut == 0:               # the end: the last line, even without its newline
                data, carry = carry + piece, b""
                if data and not data.endswith(b"\n"):
                    data += b"\n"
            else:
                data, carry = b"".join((carry, memoryview(piece)[:cut])), piece[cut:]
            self._consumed += len(data)
            if data:
                yield data

    def chunks(self) -> Iterator[Chunk]:
        row = 1
        if self.fmt == "parquet":
            read = 0
            for frame in self._parquet.collect_batches(chunk_size=self.chunk_rows):
                self._check_parquet(frame, row)
                read += frame.height
                yield Chunk(frame, row, read)
                row += frame.height
            return
        if self.fmt == "csv" and not self._header:
            return
        line = self._line
        for data in self._blocks():
            frame, lines = self._parsed(data, line)
            line += lines
            if frame is not None:
                yield Chunk(frame, row, self._consumed)
                row += frame.height

    def _parsed(self, data: bytes, first: int):
        """The block's rows, and how many lines the block has.

        A CSV block without a quote has a line per row (a blank line is a row
        of nulls to Polars), so its lines need no counting; a JSONL block, or
        one with quotes, counts them.  Blank lines are dropped: Polars reads
        them as rows of nulls in CSV and skips them in JSONL, so a block's rows
        differ from its lines only when it has some (or a fault), and only
        then are its lines looked at one by one."""
        parse = self._parse_csv if self.fmt == "csv" else self._parse_jsonl
        if self.fmt == "csv" and b'"' not in data:
            frame = parse(data, None, first_try=True)
            if frame is not None:
                return frame, frame.height
        count = data.count(b"\n")
        numbers = range(first, first + count)
        frame = parse(data, numbers, first_try=True)
        if frame is not None:
            return frame, count
        lines = data.splitlines(keepends=True)
        kept = [(text, number) for text, number in zip(lines, numbers) if text.strip()]
        if not kept:
            return None, count
        data, numbers = b"".join(text for text, _ in kept), [number for _, number in kept]
        return parse(data, numbers, first_try=False), count

    # CSV: the numeric columns as Float64, the rest as text (kept as written)
    def _parse_csv(self, lines: bytes, numbers: Optional[Sequence[int]], first_try: bool):
        """numbers: each line's number, or None when the caller takes a row per line."""
        import polars as pl
        data = self._header + lines
        schema = {name: pl.Float64 for name in self.numeric}
        try:
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False, schema_overrides=schema)
        except Exception:
            frame = None
        good = (frame is not None and (numbers is None or frame.height == len(numbers))
                and not any(frame[c].null_count() for c in self.numeric))
        # with no numeric column a blank line's row of nulls looks good: see the lines first
        if good and (self.numeric or not first_try):
            return frame
        if first_try:
            return None
        self._find_bad_cell(lines, numbers)

    def _find_bad_cell(self, lines: bytes, numbers: Sequence[int]) -> None:
        """The first cell that is not a number, named by line, column and text."""
        import polars as pl
        try:
            text = pl.read_csv(io.BytesIO(self._header + lines), infer_schema=False)
        except Exception as error:
            self._find_ragged_line(lines, numbers)
            raise AdiffError("data", f"{self.where}: not a CSV table here (lines {numbers[0]}-"
                             f"{numbers[-1]}): {' '.join(str(error).split())[:200]}") from None
        if text.height != len(numbers):
            raise AdiffError("data", f"{self.where}: a quoted field spans lines near line {numbers[0]}; "
                             "adiff batch reads one row per line")
        self._find_ragged_line(lines, numbers)   # a short row, which Polars fills with empty cells
        self._first_bad(text, numbers)

    def _find_ragged_line(self, lines: bytes, numbers: Sequence[int]) -> None:
        """The first line whose cells are more or fewer than the header's columns."""
        import csv

        def width(line: bytes) -> int:
            return len(next(csv.reader([line.decode("utf-8", "replace").rstrip("\r\n")]), []))

        columns = width(self._header)
        for line, number in zip(lines.splitlines(), numbers):
            cells = width(line)
            if cells != columns:
                raise AdiffError("data", f"{self.where}, line {number}: {cells} cell{'s' * (cells != 1)} "
                                 f"where the header has {columns} column{'s' * (columns != 1)}",
                                 hint="every row needs one cell for each column of the header")

    def _first_bad(self, text, numbers: Optional[Sequence[int]], first_row: int = 1) -> None:
        import polars as pl
        best = None
        for name in self.numeric:
            if name not in text.columns:
                continue
            column = text[name]
            if column.dtype == pl.String:
                parsed = _to_float(column)
            else:
                parsed = column.cast(pl.Float64, strict=False)
            bad = parsed.is_null()
            if bad.any():
                index = int(bad.arg_max())
                if best is None or index < best[0]:
                    best = (index, name, column[index])
        if best is None:
            raise AdiffError("data", f"{self.where}: cannot read the rows near line "
                             f"{numbers[0] if numbers else first_row}")
        index, name, cell = best
        where = f"line {numbers[index]}" if numbers else f"row {first_row + index}"
        shown = "an empty cell" if cell is None or cell == "" else f"'{str(cell)[:40]}'"
        raise AdiffError("data", f"{self.where}, {where}, column {name}: {shown} is not a number",
                         hint="cells of the program's inputs must be decimal numbers (or nan, inf, -inf)")

    # JSONL: one object per line; numbers, or NaN/Infinity spelled as strings as eval --json writes them
    def _parse_jsonl(self, lines: bytes, numbers: Sequence[int], first_try: bool):
        import polars as pl
        try:
            frame = self._unnested(pl.read_ndjson(io.BytesIO(lines)))
        except Exception:
            if first_try:
                return None
            frame = self._jsonl_slowly(lines, numbers)
        if frame.height != len(numbers):   # blank lines, which Polars skips
            if first_try:
                return None
            raise AdiffError("data", f"{self.where}: cannot read the lines {numbers[0]}-{numbers[-1]} "
                             "as one JSON object each")
        for name in self.numeric:
            if name not in frame.columns:
                continue
            column = frame[name]
            if column.dtype == pl.Float64:
                continue
            if column.dtype.is_numeric():
                converted = column.cast(pl.Float64)
            elif column.dtype == pl.String:
                converted = _to_float(column)
            else:
                converted = None
            if converted is None or converted.null_count():
                self._first_bad(frame, numbers)
            frame = frame.with_columns(converted.alias(name))
        return frame

    def _jsonl_slowly(self, lines: bytes, numbers: Sequence[int]):
        import polars as pl
        rows = []
        for text, number in zip(lines.splitlines(), numbers):
            try:
                row = json.loads(text)
            except ValueError as error:
                raise AdiffError("data", f"{self.where}, line {number}: not a JSON object ({error.msg})") from None
            if not isinstance(row, dict):
                raise AdiffError("data", f"{self.where}, line {number}: not a JSON object")
            rows.append(self._flat(row))
        names = list(dict.fromkeys(k for row in rows for k in row))
        columns = {}
        for name in names:
            cells = [row.get(name) for row in rows]
            if name in self.numeric:
                values = []
                for index, cell in enumerate(cells):
                    value = _json_number(cell)
                    if value is None:
                        shown = "no value" if cell is None else f"'{json.dumps(cell)[:40]}'"
                        raise AdiffError("data", f"{self.where}, line {numbers[index]}, column {name}: "
                                         f"{shown} is not a number",
                                         hint="give numbers, or \"NaN\", \"Infinity\", \"-Infinity\"")
                    values.append(value)
                columns[name] = pl.Series(name, values, dtype=pl.Float64)
            else:
                columns[name] = pl.Series(name, [json.dumps(c) if isinstance(c, (dict, list)) else c
                                                 for c in cells], strict=False)
        return pl.DataFrame(columns)

    # batch's and eval --json's own lines, read back: {"keep": {...}, "inputs": {...}, "value": ...,
    # "gradient": {...}, "hessian": {...}} give the columns keep's and inputs' names, value,
    # grad_NAME and hess_U_V (the first of a name wins: an input named value is the input)
    _NESTED = {"keep": "{}", "inputs": "{}", "gradient": "grad_{}", "hessian": "hess_{}_{}"}

    def _nested(self, name: str) -> Optional[str]:
        return self._NESTED.get(name) if name not in self.numeric else None

    def _unnested(self, frame):
        import polars as pl
        if not any(isinstance(dtype, pl.Struct) and self._nested(name) for name, dtype in frame.schema.items()):
            return frame
        columns = {}
        for name, dtype in sorted(frame.schema.items(), key=lambda item: self._nested(item[0]) is None):
            form = self._nested(name) if isinstance(dtype, pl.Struct) else None
            if form is None:
                columns.setdefault(name, pl.col(name))
                continue
            for field_ in dtype.fields:
                cell = pl.col(name).struct.field(field_.name)
                if name == "hessian" and isinstance(field_.dtype, pl.Struct):
                    for inner in field_.dtype.fields:
                        column = form.format(field_.name, inner.name)
                        columns.setdefault(column, cell.struct.field(inner.name).alias(column))
                elif name != "hessian":
                    column = form.format(field_.name)
                    columns.setdefault(column, cell.alias(column))
        return frame.select(list(columns.values()))

    def _flat(self, row: dict) -> dict:
        if not any(isinstance(value, dict) and self._nested(name) for name, value in row.items()):
            return row
        flat: dict = {}
        for name, value in sorted(row.items(), key=lambda item: self._nested(item[0]) is None):
            form = self._nested(name) if isinstance(value, dict) else None
            if form is None:
                flat.setdefault(name, value)
                continue
            for key, cell in value.items():
                if name == "hessian" and isinstance(cell, dict):
                    for inner, entry in cell.items():
                        flat.setdefault(form.format(key, inner), entry)
                elif name != "hessian":
                    flat.setdefault(form.format(key), cell)
        return flat

    def _check_parquet(self, frame, first_row: int) -> None:
        import polars as pl
        for name in self.numeric:
            column = frame[name]
            if not column.dtype.is_numeric() or column.null_count():
                self._first_bad(frame, None, first_row)
            if column.dtype != pl.Float64:
                frame.replace_column(frame.get_column_index(name), column.cast(pl.Float64))

    def close(self) -> None:
        stream = getattr(self, "_stream", None)
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()


_SPELLINGS = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf", "+Infinity": "inf"}


def _to_float(column):
    import polars as pl
    return column.replace(_SPELLINGS).str.strip_chars().cast(pl.Float64, strict=False)


def _json_number(cell) -> Optional[float]:
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, (int, float)):
        return float(cell)
    if isinstance(cell, str):
        from .bindings import parse_value
        try:
            return parse_value("x", _SPELLINGS.get(cell, cell))
        except AdiffError:
            return None
    return None


# ---- writing ------------------------------------------------------------------------


class Writer:
    """The output, a chunk at a time; a file appears only when the run succeeds."""

    def __init__(self, target: Optional[str], fmt: str):
        self.target = target
        self.fmt = fmt
        self.temporary: Optional[str] = None
        self.rows = 0
        self._parquet = None
        self._header_done = False
        if target is None or target == "-":
            self.stream = sys.stdout.buffer
            return
        try:
            # a device or a pipe (/dev/null, a FIFO) is written to as it is:
            # replacing it would put a file in its place
            if os.path.exists(target) and not os.path.isfile(target):
                self.stream = open(target, "wb")
                return
            self._path = os.path.realpath(target)   # through a symbolic link to its file
            handle, self.temporary = tempfile.mkstemp(prefix=f".{os.path.basename(self._path)}.",
                                                      suffix=".part", dir=os.path.dirname(self._path))
            os.fchmod(handle, _mode_for(self._path))
        except OSError as error:
            raise AdiffError("file", f"cannot write {target}: {error.strerror or error}",
                             exit_code=ExitCode.FAILURE) from None
        self.stream = os.fdopen(handle, "wb")

    def write(self, frame, keep: Sequence[str], inputs: Sequence[str], gradients: Mapping[str, str],
              hessian: Mapping[str, Mapping[str, str]] = {}) -> None:
        """Write the columns of `frame` (kept, inputs, value, grad_*, hess_*) in that order;
        `hessian` names the column of each entry u, v of the (symmetric) matrix."""
        try:
            if self.fmt == "csv":
                self._csv(frame)
            elif self.fmt == "jsonl":
                self._jsonl(frame, keep, inputs, gradients, hessian)
            else:
                self._write_parquet(frame)
            if self.temporary is None:
                self.stream.flush()
        except OSError as error:
            self._cannot_write(error)
        self.rows += frame.height

    def _cannot_write(self, error: OSError):
        """Polars reports the file's errors as OSError with only a message."""
        message = str(error)
        if self.temporary is None and (error.errno == errno.EPIPE or f"(os error {errno.EPIPE})" in message):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe") from None   # the reader went away
        reason = error.strerror or message.split(" (os error ")[0]   # without Rust's errno
        raise AdiffError("file", f"cannot write {self.target or 'standard output'}: {reason}",
                         exit_code=ExitCode.FAILURE) from None

    def _csv(self, frame) -> None:
        import polars as pl
        # NaN as `nan` (Polars writes NaN): through the null value, which no number cell has;
        # a kept text cell that is empty stays empty
        floats = [name for name, dtype in frame.schema.items() if dtype in (pl.Float64, pl.Float32)]
        others = [name for name in frame.columns if name not in floats]
        frame = frame.with_columns([pl.col(c).fill_nan(None) for c in floats]
                                   + [pl.col(c).cast(pl.String).fill_null("") for c in others])
        frame.write_csv(self.stream, include_header=not self._header_done, null_value="nan")
        self._header_done = True

    def _jsonl(self, frame, keep: Sequence[str], inputs: Sequence[str], gradients: Mapping[str, str],
               hessian: Mapping[str, Mapping[str, str]]) -> None:
        """Lines like `eval --json`'s, written by Polars (formatting floats in a
        Python loop cost 20 times the rest of the run).  Polars writes NaN and
        infinities as null, so a chunk that has any is spelled out column by
        column, with "NaN", "Infinity" and "-Infinity" as eval writes them."""
        import numpy as np
        import polars as pl

        numbers = list(inputs) + ["value"] + list(gradients.values())
        numbers += sorted({column for row in hessian.values() for column in row.values()})
        finite = all(np.isfinite(frame[name].to_numpy()).all() for name in numbers)
        if finite:
            parts = []
            if keep:
                parts.append(pl.struct(list(keep)).alias("keep"))
            parts += [pl.struct(list(inputs)).alias("inputs") if inputs else pl.lit(None).alias("inputs"),
                      pl.col("value"),
                      pl.struct([pl.col(c).alias(n) for n, c in gradients.items()]).alias("gradient")
                      if gradients else pl.lit(None).alias("gradient")]
            if hessian:
                parts.append(pl.struct([pl.struct([pl.col(c).alias(v) for v, c in row.items()]).alias(u)
                                        for u, row in hessian.items()]).alias("hessian"))
            if inputs and gradients:
                frame.select(parts).write_ndjson(self.stream)
                return

        def key(name: str) -> str:
            return json.dumps(name, ensure_ascii=False) + ":"

        def number(name: str):
            column = pl.col(name)
            return (pl.when(column.is_nan()).then(pl.lit('"NaN"'))
                    .when(column == float("inf")).then(pl.lit('"Infinity"'))
                    .when(column == float("-inf")).then(pl.lit('"-Infinity"'))
                    .otherwise(column.cast(pl.String)))

        pieces = []
        if keep:
            pieces += [pl.lit('{"keep":'), pl.struct(list(keep)).struct.json_encode(), pl.lit(',"inputs":{')]
        else:
            pieces.append(pl.lit('{"inputs":{'))
        for k, name in enumerate(inputs):
            pieces += [pl.lit(("," if k else "") + key(name)), number(name)]
        pieces += [pl.lit('},"value":'), number("value"), pl.lit(',"gradient":{')]
        for k, (name, column) in enumerate(gradients.items()):
            pieces += [pl.lit(("," if k else "") + key(name)), number(column)]
        if hessian:
            pieces.append(pl.lit('},"hessian":{'))
            for k, (u, row) in enumerate(hessian.items()):
                pieces.append(pl.lit(("," if k else "") + key(u) + "{"))
                for m, (v, column) in enumerate(row.items()):
                    pieces += [pl.lit(("," if m else "") + key(v)), number(column)]
                pieces.append(pl.lit("}"))
        pieces.append(pl.lit("}}"))
        lines = frame.select(pl.concat_str(pieces).alias("line")).to_series()
        if len(lines):
            self.stream.write((lines.str.join("\n").item() + "\n").encode("utf-8"))

    def _write_parquet(self, frame) -> None:
        if self._parquet is None:
            # to the temporary file by its path: through a Python file object it was 3x slower
            self._parquet = _ParquetSink(self.temporary or self.stream, frame.schema)
        self._parquet.put(frame)

    def finish(self, empty_frame) -> None:
        """Close the output; with no rows at all, still the header (or an empty table)."""
        if self.rows == 0 and self.fmt != "jsonl":
            if self.fmt == "csv":
                self._csv(empty_frame)
            else:
                self._write_parquet(empty_frame)
        if self._parquet is not None:
            try:
                self._parquet.close()
            except OSError as error:
                self._cannot_write(error)
            self._parquet = None
        self.stream.flush()
        if self.temporary is not None:
            self.stream.close()
            os.replace(self.temporary, self._path)
            self.temporary = None
        elif self.stream is not sys.stdout.buffer:
            self.stream.close()

    def abandon(self) -> None:
        """A failed or interrupted run: remove the temporary file, leave the target as it was."""
        if self._parquet is not None:
            self._parquet.stop()
            self._parquet = None
        if self.temporary is not None:
            try:
                self.stream.close()
            except OSError:
                pass
            try:
                os.unlink(self.temporary)
            except OSError:
                pass
            self.temporary = None


class _ParquetSink:
    """A Parquet file written by Polars a frame at a time, without PyArrow
    (whose import and conversions cost more than the writing): Polars'
    sink pulls the frames, on a thread of its own, from a generator fed by
    put().  One frame waits at most; an error in writing is raised by the
    next put() or by close()."""

    _END = object()

    def __init__(self, target, schema):
        import queue
        import threading

        import polars as pl
        from polars.io.plugins import register_io_source

        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._error: Optional[BaseException] = None
        frames = register_io_source(lambda *_: self._frames(), schema=pl.Schema(schema))
        self._thread = threading.Thread(target=self._sink, args=(frames, target), name="adiff-batch-writer",
                                        daemon=True)
        self._thread.start()

    def _frames(self):
        while True:
            frame = self._queue.get()
            if frame is self._END:
                return
            yield frame

    def _sink(self, frames, target) -> None:
        try:
            # snappy: on doubles zstd saves next to nothing, at three times the time
            frames.sink_parquet(target, compression="snappy")
        except Exception as error:   # raised by the caller's next put() or close(), as the OSError it was
            import re
            found = re.search(r"\(os error (\d+)\)", str(error))
            if isinstance(error, OSError):
                self._error = error
            elif found:
                self._error = OSError(int(found[1]), os.strerror(int(found[1])))
            else:
                self._error = OSError(" ".join(str(error).split())[:200])

    def _hand(self, item) -> None:
        import queue
        while True:
            if self._error is not None:
                raise self._error
            if not self._thread.is_alive():
                raise OSError("the Parquet writer stopped")
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def put(self, frame) -> None:
        self._hand(frame)

    def close(self) -> None:
        self._hand(self._END)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Abandon the file: end the frames and wait for the sink, whatever it says."""
        import queue
        while self._thread.is_alive():
            try:
                self._queue.put_nowait(self._END)
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
            self._thread.join(timeout=0.05)


def _mode_for(path: str) -> int:
    """The permissions a file written at `path` should have: the old file's,
    or what `open` would give a new one (mkstemp's are private)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ---- the run ------------------------------------------------------------------------


@dataclass
class Summary:
    rows: int = 0            # rows read and computed
    written: int = 0         # rows in the output (none in a file that a failure left unmade)
    chunks: int = 0
    seconds: dict = field(default_factory=lambda: {"read": 0.0, "compute": 0.0, "write": 0.0})
    warnings: list = field(default_factory=list)
    columns: list = field(default_factory=list)

    def document(self, program: str, source: str, target: Optional[str], total: float,
                 error: Optional[AdiffError] = None) -> dict:
        return {"schema": 1, "program": program, "input": source, "output": target or "-",
                "rows": self.rows, "rows_written": self.written, "chunks": self.chunks, "columns": self.columns,
                "seconds": {**{k: round(v, 6) for k, v in self.seconds.items()}, "total": round(total, 6)},
                "rows_per_second": round(self.rows / total) if total > 0 else None,
                "warnings": [w.to_json() for w in self.warnings],
                "error": error.to_json() if error is not None else None}


def _several(graph: Graph, program, bindings, wrt, hessian: bool, out_fmt: str):
    """For a program of several outputs: (its program, value column, {input: gradient
    column}) per output, the first being `program`; None for one output.  A value
    column is named by its output (value_<name> where an input has that name)."""
    if not graph.results:
        return None
    if hessian or out_fmt == "jsonl":
        first = next(iter(graph.results))
        raise AdiffError("usage", f"the program has {len(graph.results)} outputs: "
                         + ("--hessian takes one" if hessian else "JSONL lines hold one (write csv or parquet)"),
                         hint=f"choose one with --of NAME, for example --of {shorten(first)}")
    from .vectorized import Vectorized
    result = []
    for k, name in enumerate(graph.results):
        one = program if k == 0 else Vectorized(graph.view(name), bindings=bindings, wrt=wrt)
        value = f"value_{name}" if name in graph.inputs else name
        result.append((one, value, {x: f"grad_{name}_{x}" for x in one.wrt}))
    return result


def run(graph: Graph, source: str, target: Optional[str], *, bindings: Mapping[str, float] = {},
        wrt: Optional[Sequence[str]] = None, keep: Sequence[str] = (), in_format: Optional[str] = None,
        out_format: Optional[str] = None, chunk_rows: int = CHUNK_ROWS, strict: bool = False,
        progress=None, hessian: bool = False, summary: Optional[Summary] = None) -> Summary:
    """Read `source`, compute every row, write `target` (standard output when None).
    `summary`, if given, is filled as the run goes: after a failure it says how far it got."""
    import polars as pl

    if chunk_rows < 1:
        raise AdiffError("usage", "--chunk-rows must be at least 1")
    in_fmt = format_of(source, in_format, "in")
    out_fmt = format_of(target, out_format, "out")
    inputs = list(graph.inputs)
    summary = Summary() if summary is None else summary
    reader = Reader(source, in_fmt, chunk_rows, inputs)
    clash = [name for name in reader.repeated if name in inputs or name in keep]
    if clash:
        reader.close()
        raise AdiffError("data", f"{reader.where}: the header names column {shorten(clash[0])} more than once",
                         hint="rename one of them: adiff cannot tell which one is meant")
    reader.set_numeric(inputs)
    chunks = Ahead(reader.chunks())   # reading starts now, while NumPy loads
    writer = program = None
    with _interrupted_once():   # a second Ctrl-C must not stop the cleanup
        try:
            import numpy as np

            from .vectorized import Vectorized

            program = Vectorized(graph, bindings=bindings, wrt=wrt)
            several = _several(graph, program, bindings, wrt, hessian, out_fmt)
            second = second_columns = None
            matrix: dict[str, dict[str, str]] = {}
            if hessian:
                # the symbolic Hessian, evaluated forward only (its warnings would repeat the program's)
                from .diff import hessian as hessian_graph
                second = Vectorized(hessian_graph(graph, program.wrt), bindings=bindings, gradient=False)
                second_columns = [name for name in second.columns if name.startswith("hess_")]
                for a, u in enumerate(program.wrt):
                    matrix[u] = {v: f"hess_{u}_{v}" if a <= b else f"hess_{v}_{u}"
                                 for b, v in enumerate(program.wrt)}
            # a JSONL file names its columns line by line; an empty file (no header) has no rows to check
            known = in_fmt != "jsonl" and bool(reader.columns)
            outputs = program.columns if several is None else [c for _, c, _ in several]
            _check_columns(reader.columns if known else None, inputs, keep, outputs, graph, bindings)
            gradients = {name: f"grad_{name}" for name in program.wrt}
            if several is None:
                names = list(keep) + inputs + ["value"] + list(gradients.values()) + (second_columns or [])
            else:
                names = list(keep) + inputs + [value for _, value, _ in several]
                names += [column for _, _, columns in several for column in columns.values()]
            summary.columns = names
            with _interrupts_held():   # a Ctrl-C now would leave a temporary file that nothing names
                writer = Writer(target, out_fmt)
            clock = time.perf_counter()
            for chunk in chunks:
                frame = chunk.frame
                if in_fmt == "jsonl":
                    _check_columns(frame.columns, inputs, keep, program.columns, graph, bindings, jsonl=True)
                now = time.perf_counter()
                summary.seconds["read"] += now - clock
                clock = now
                columns = {name: frame[name].to_numpy() for name in inputs if name in frame.columns}
                values, rows = program.input_columns(columns, frame.height)
                if several is None:
                    computed = program.run(values, rows, chunk.first_row)
                else:   # a value column per output, and its grad_<output>_<input> columns
                    computed = {}
                    for one, value, columns in several:
                        found = one.run(values, rows, chunk.first_row)
                        computed[value] = found["value"]
                        computed.update({column: found[f"grad_{x}"] for x, column in columns.items()})
                        if one is not program:
                            program.warnings.merge(one.warnings)
                            one.warnings = type(one.warnings)()
                summary.rows += rows
                summary.chunks += 1
                if strict and len(program.warnings):
                    program.check_strict()
                out = {name: frame[name] for name in keep}
                for name in inputs:
                    column = values[name]
                    out[name] = column if isinstance(column, np.ndarray) else np.full(rows, column)
                out.update(computed)
                if second is not None:
                    found = second.run(values, rows, chunk.first_row)
                    out.update({name: found[name] for name in second_columns})
                result = pl.DataFrame(out)
                now = time.perf_counter()
                summary.seconds["compute"] += now - clock
                clock = now
                writer.write(result, keep, inputs, gradients, matrix)
                now = time.perf_counter()
                summary.seconds["write"] += now - clock
                clock = now
                summary.written = writer.rows
                if progress is not None:
                    progress(summary.rows, chunk.progress, reader.total)
            empty = pl.DataFrame({name: pl.Series(name, [], dtype=pl.Float64 if name not in keep else pl.String)
                                  for name in names})
            writer.finish(empty)
        except BaseException:
            if writer is not None:
                if writer.temporary is not None:   # the file is not made: none of its rows are written
                    summary.written = 0
                writer.abandon()
            raise
        finally:
            chunks.close()
            reader.close()
            summary.warnings = list(program.warnings) if program is not None else []
    return summary


@contextlib.contextmanager
def _interrupted_once():
    """Ctrl-C stops the run once.  A second one (an impatient user; `timeout`,
    which signals twice) must not stop the cleanup that removes the
    temporary output file, so while the run is on, only the first SIGINT
    raises, whatever handler was there before (Python's own, the system's
    default, a library's), and that handler is put back afterwards.  Only in
    the main thread, where Python runs handlers; and a run started with
    SIGINT ignored (a background job of a script) keeps ignoring it, as
    Unix programs do."""
    import signal
    import threading

    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield
        return
    raised = []

    def once(signum, frame):
        if not raised:
            raised.append(signum)
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, once)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _interrupts_held():
    """SIGINT held back (delivered on leaving) while the output's temporary file is
    made and named, so that the cleanup always knows it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class Ahead:
    """The chunks, each read on a second thread while the one before is
    computed and written: Polars parses CSV and JSON without holding the GIL,
    so the two overlap (and the first chunks are read while NumPy loads).
    Two chunks wait at most (one queued, one read), so memory stays flat;
    an error in reading is raised where its chunk would have been; close()
    stops the thread."""

    _END = object()

    def __init__(self, chunks: Iterator[Chunk]):
        import queue
        import threading

        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(chunks,), name="adiff-batch-reader",
                                        daemon=True)
        self._thread.start()

    def _read(self, chunks: Iterator[Chunk]) -> None:
        import queue
        try:
            for chunk in chunks:
                while not self._stop.is_set():
                    try:
                        self._queue.put((chunk, None), timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._queue.put((self._END, None))
        except BaseException as error:   # handed to the caller, which raises it
            self._queue.put((None, error))

    def __iter__(self) -> Iterator[Chunk]:
        while True:
            chunk, error = self._queue.get()
            if error is not None:
                raise error
            if chunk is self._END:
                return
            yield chunk

    def close(self) -> None:
        import queue
        self._stop.set()
        while self._thread.is_alive():   # free a reader blocked on a full queue, then wait for it
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.05)


def _check_columns(columns: Optional[list], inputs: list, keep: Sequence[str], outputs: Sequence[str],
                   graph: Graph, bindings: Mapping[str, float], jsonl: bool = False) -> None:
    for name in keep:
        if name in inputs:
            raise AdiffError("usage", f"--keep {name}: {name} is an input of the program, "
                             "and inputs are in the output already")
        if name in outputs:
            raise AdiffError("usage", f"--keep {name}: the output has a column {name} of its own")
    if columns is None:
        return
    missing_keep = [name for name in keep if name not in columns]
    if missing_keep:
        raise AdiffError("usage", f"--keep: no column {', '.join(missing_keep)} in the input",
                         hint=f"the columns are: {listed(columns)}")
    both = [name for name in inputs if name in columns and name in bindings]
    if both:
        raise AdiffError("usage", f"input {both[0]} is both bound (--{both[0]}) and a column of the input",
                         hint=f"drop --{both[0]} to take the column, or rename the column")
    missing = [name for name in inputs if name not in columns and name not in bindings
               and name not in graph.defaults]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise AdiffError("unbound", f"no column, binding or default for input{plural} {', '.join(missing[:5])}"
                         + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
                         hint=f"the columns are: {listed(columns)}; "
                              f"or bind a constant with --{missing[0]} 1")


# ---- the command: run by commands/batch.py and, for plain calls, by quick.py ----------

@dataclass
class Options:
    """batch's options; the defaults are the command's (a test checks both agree)."""
    program: Optional[str] = None
    source: Optional[str] = None
    file: Optional[Path] = None
    output: Optional[str] = None
    in_format: Optional[str] = None
    out_format: Optional[str] = None
    wrt: list = field(default_factory=list)
    keep: list = field(default_factory=list)
    hessian: bool = False
    strict: bool = False
    json_summary: Optional[Path] = None
    quiet: bool = False
    chunk_rows: int = CHUNK_ROWS
    engine: str = "local"
    scheduler: Optional[str] = None
    var: list = field(default_factory=list)
    max_nodes: int = 5_000_000
    force: bool = False
    of: Optional[str] = None


# batch's options as quick.py reads them (see point.OPTIONS)
OPTIONS = {"-f": ("file", "path"), "--file": ("file", "path"), "-o": ("output", str), "--output": ("output", str),
           "--in-format": ("in_format", str), "--out-format": ("out_format", str), "--wrt": ("wrt", list),
           "--keep": ("keep", list), "--hessian": ("hessian", None), "--strict": ("strict", None),
           "--json-summary": ("json_summary", "path"), "--quiet": ("quiet", None), "-q": ("quiet", None),
           "--chunk-rows": ("chunk_rows", int), "--engine": ("engine", str), "--scheduler": ("scheduler", str),
           "--var": ("var", list), "--max-nodes": ("max_nodes", int),
           "--force": ("force", None), "--of": ("of", str)}
POSITIONALS = ("program", "source")


def plain(options: Options) -> bool:
    return True   # the program never comes from standard input here (prepare refuses it)


def as_json(options: Options) -> bool:
    return False


def prepare(arguments, options: Options, check_options):
    """Everything before a byte is read or written: the program, its
    bindings, and where the points come from.  Raises AdiffError."""
    from .edge import check_wrt, in_range, load, names_to_list

    in_range("--max-nodes", options.max_nodes, 1)
    in_range("--chunk-rows", options.chunk_rows, 1)
    if options.engine not in ("local", "dask"):
        raise AdiffError("usage", f"--engine {options.engine}: choose local or dask")
    text, points, file = options.program, options.source, options.file
    if file is not None and points is None:
        text, points = None, text   # with -f, the one word is the input
    if file is None and text == "-" or str(file) == "-":
        raise AdiffError("usage", "the program cannot come from standard input in adiff batch: "
                         "the points do", hint="give the program as text or with -f FILE")
    if points is None:
        if sys.stdin is None or sys.stdin.isatty():
            raise AdiffError("usage", "no points: give INPUT, a .csv, .jsonl or .parquet file, "
                             "or pipe them to standard input",
                             hint="for example: adiff batch \"x^2\" points.csv")
        points = "-"
    if options.engine == "dask":
        from .batch_dask import check_target
        check_target(points, options.output)
    else:
        _check_target(points, options.output, options.force)
    try:
        graph, bindings, shown = load(arguments, text, file, options.var, options.max_nodes, check_options,
                                     options.of)
    except AdiffError as error:
        if error.kind == "syntax" and file is None and _looks_like_points(text):
            raise AdiffError("usage", f"no program: {shorten(text, 60)} names a table of points, not a program",
                             hint='give the program before the points: adiff batch "x^2" points.csv') from None
        raise
    if graph.results and options.engine == "dask":
        raise AdiffError("usage", f"the program has {len(graph.results)} outputs: --engine dask takes one",
                         hint=f"choose it with --of NAME, for example --of {shorten(next(iter(graph.results)))}")
    wanted = names_to_list(options.wrt)
    check_wrt(graph, wanted)
    kept = names_to_list(options.keep, "--keep") or []
    return graph, bindings, shown, points, wanted, kept


def _looks_like_points(text: Optional[str]) -> bool:
    """Whether a program that does not parse is rather the name of a table (`adiff batch points.csv`)."""
    if not text or "\n" in text:
        return False
    return Path(text).suffix.lower() in EXTENSIONS or os.path.isfile(text)


def _check_target(source: str, target: Optional[str], force: bool) -> None:
    """Refuse an output that is the input, by any of its names (a link, another
    spelling): writing it would replace the points (or, on standard output,
    feed the run its own rows).  With --force, -o replaces the input once the
    run has succeeded, as it would any file (the input is read from the file
    it was when the run began)."""
    if target is not None and target != "-" and target.endswith(("/", os.sep)):
        raise AdiffError("usage", f"-o {shorten(target, 60)}: a folder; adiff batch writes one file",
                         hint="drop the trailing slash, or give --engine dask for a folder of parts")
    try:
        written = os.fstat(sys.stdout.fileno()) if target in (None, "-") else os.stat(target)
        read = os.fstat(sys.stdin.fileno()) if source == "-" else os.stat(source)
    except (OSError, ValueError, AttributeError):   # no such file yet; a stream with no file behind it
        return
    if not stat.S_ISREG(written.st_mode) or (written.st_dev, written.st_ino) != (read.st_dev, read.st_ino):
        return
    where = "standard input" if source == "-" else shorten(source, 60)
    if target in (None, "-"):
        raise AdiffError("usage", f"the output is the input: standard output is the file {where} is read from",
                         hint="write elsewhere, with -o FILE or to another file")
    if not force:
        raise AdiffError("usage", f"the output is the input: -o {shorten(target, 60)} would replace {where}",
                         hint="write elsewhere, or give --force to replace it once the run succeeds")


def report(options: Options, graph: Graph, bindings: Mapping[str, float], shown: str, points: str,
           wanted: Optional[list], kept: list) -> None:
    """Run the batch, with the progress bar, the summary file and the warnings."""
    from .edge import warn

    if options.engine == "dask":
        from .batch_dask import run_dask
        started = time.perf_counter()
        rows = run_dask(graph, points, options.output, bindings=bindings, wrt=wanted, keep=kept,
                        in_format=options.in_format, out_format=options.out_format,
                        scheduler=options.scheduler, hessian=options.hessian)
        if not options.quiet:
            print(f"adiff: wrote {rows:,} rows to {options.output} in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
        return
    progress = None if options.quiet or not sys.stderr.isatty() else _Progress()
    started = time.perf_counter()
    summary = Summary()
    try:
        run(graph, points, options.output, bindings=bindings, wrt=wanted, keep=kept,
            in_format=options.in_format, out_format=options.out_format, chunk_rows=options.chunk_rows,
            strict=options.strict, progress=progress, hessian=options.hessian, summary=summary)
    except AdiffError as error:
        if options.json_summary is not None:   # with what was read and computed before the error
            _write_summary(options.json_summary, summary, shown, points, options.output,
                           time.perf_counter() - started, error)
        raise
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(int(ExitCode.FAILURE)) from None
    finally:
        if progress is not None:
            progress.stop()
    total = time.perf_counter() - started
    if options.json_summary is not None:
        _write_summary(options.json_summary, summary, shown, points, options.output, total)
    if not options.quiet:
        warn(summary.warnings)


def _write_summary(path: Path, summary, program: str, source: str, target: Optional[str], total: float,
                   error: Optional[AdiffError] = None) -> None:
    try:
        path.write_text(json.dumps(summary.document(program, source, target, total, error), indent=2)
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


__all__ = ["run", "Summary", "FORMATS", "CHUNK_ROWS"]
