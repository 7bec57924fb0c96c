"""adiff batch: tables of points in, values and gradients out.

Numbers are checked against formulas written here (the seed example's
gradient by hand), never against adiff's own output; row-by-row agreement
with `adiff eval` is tests/test_vectorized.py's.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support import ADIFF, ROOT, cli, interruptible, run

SEED = "(x*w+b-y)^2"


def seed_expected(x, w, b, y):
    d = x * w + b - y
    return {"value": d * d, "grad_x": 2 * d * w, "grad_w": 2 * d * x, "grad_b": 2 * d, "grad_y": -2 * d}


def points(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=n), "w": rng.normal(size=n), "y": rng.normal(size=n)}


def write_csv(path: Path, columns: dict) -> Path:
    names = list(columns)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for row in zip(*columns.values()):
            writer.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row])
    return path


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_in_csv_out_gives_the_seed_gradients_and_reads_back_to_the_same_doubles(tmp_path):
    data = points()
    source = write_csv(tmp_path / "in.csv", data)
    out = run("batch", SEED, str(source), "--b", "1")
    assert out.exit_code == 0, out.stderr
    rows = read_csv(out.stdout)
    assert list(rows[0]) == ["x", "w", "b", "y", "value", "grad_x", "grad_w", "grad_b", "grad_y"]
    assert len(rows) == 50
    for i, row in enumerate(rows):
        x, w, y = data["x"][i], data["w"][i], data["y"][i]
        assert float(row["x"]) == x and float(row["b"]) == 1.0
        for name, want in seed_expected(x, w, 1.0, y).items():
            assert float(row[name]) == pytest.approx(want, rel=1e-12, abs=1e-15), (i, name)


def test_every_format_in_and_out_gives_the_same_numbers(tmp_path):
    data = points(30, seed=3)
    write_csv(tmp_path / "in.csv", data)
    pq.write_table(pa.table(data), tmp_path / "in.parquet")
    with open(tmp_path / "in.jsonl", "w") as f:
        for row in zip(*data.values()):
            f.write(json.dumps(dict(zip(data, row))) + "\n")
    results = {}
    for source in ("in.csv", "in.jsonl", "in.parquet"):
        for target in ("out.csv", "out.jsonl", "out.parquet"):
            out = run("batch", SEED, source, "-o", target, "--b", "1", cwd=tmp_path)
            assert out.exit_code == 0, (source, target, out.stderr)
            results[source, target] = _read_values(tmp_path / target)
    first = next(iter(results.values()))
    for key, value in results.items():
        assert value == first, key
    for i, value in enumerate(first):
        assert value == pytest.approx(seed_expected(data["x"][i], data["w"][i], 1.0, data["y"][i])["value"])


def _read_values(path: Path) -> list[float]:
    if path.suffix == ".csv":
        return [float(r["value"]) for r in read_csv(path.read_text())]
    if path.suffix == ".parquet":
        return pq.read_table(path).column("value").to_pylist()
    return [json.loads(line)["value"] for line in path.read_text().splitlines()]


def test_jsonl_output_is_like_eval_json_with_kept_columns_and_special_numbers(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,x\nfirst,0\nsecond,-1\nthird,4\n")
    out = run("batch", "log(x)", str(source), "--keep", "id", "--out-format", "jsonl")
    assert out.exit_code == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[0] == {"keep": {"id": "first"}, "inputs": {"x": 0.0}, "value": "-Infinity",
                        "gradient": {"x": "Infinity"}}
    assert lines[1]["value"] == "NaN"
    assert lines[2]["value"] == math.log(4) and lines[2]["gradient"]["x"] == 0.25


def test_csv_writes_nan_and_infinities_as_nan_inf_and_minus_inf(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x\n0\n-1\n-0.0\n")
    out = run("batch", "1/x + log(x)*0", str(source), "--quiet")
    assert out.exit_code == 0, out.stderr
    rows = read_csv(out.stdout)
    assert [r["value"] for r in rows] == ["nan", "nan", "nan"] or rows  # log(0)*0 is NaN
    out = run("batch", "1/x", str(source), "--quiet")
    assert [r["value"] for r in read_csv(out.stdout)] == ["inf", "-1.0", "-inf"]
    assert [r["x"] for r in read_csv(out.stdout)] == ["0.0", "-1.0", "-0.0"]


def test_columns_bindings_defaults_and_wrt(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x,unused\n2,a\n3,b\n")
    # w from a binding, b from the program's default, y from a binding; only grad_w
    out = run("batch", "b = 1\n(x*w+b-y)^2", str(source), "--w", "3", "--y", "5", "--wrt", "w")
    assert out.exit_code == 0, out.stderr
    rows = read_csv(out.stdout)
    assert list(rows[0]) == ["b", "x", "w", "y", "value", "grad_w"]  # the program's inputs, in order
    assert [float(r["value"]) for r in rows] == [4.0, 25.0]
    assert [float(r["grad_w"]) for r in rows] == [8.0, 30.0]
    assert [r["b"] for r in rows] == ["1.0", "1.0"]


def test_a_missing_input_is_named_with_the_columns_there(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x,z\n1,2\n")
    out = run("batch", SEED, str(source))
    assert out.exit_code == 2
    assert "no column, binding or default for inputs w, b, y" in out.stderr
    assert "the columns are: x, z" in out.stderr


def test_keep_carries_columns_through_as_written(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,label,x\n007,a b,1\n008,,2\n")
    out = run("batch", "x^2", str(source), "--keep", "id,label")
    assert out.exit_code == 0, out.stderr
    rows = read_csv(out.stdout)
    assert [(r["id"], r["label"]) for r in rows] == [("007", "a b"), ("008", "")]
    assert list(rows[0]) == ["id", "label", "x", "value", "grad_x"]
    bad = run("batch", "x^2", str(source), "--keep", "nope")
    assert bad.exit_code == 2 and "--keep: no column nope" in bad.stderr


def test_warnings_are_aggregated_with_counts_and_first_row(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x\n" + "\n".join(["-1", "2", "-3", "0", "-5"] * 200) + "\n")
    out = run("batch", "log(x) + abs(x)", str(source))
    assert out.exit_code == 0
    warnings = [line for line in out.stderr.splitlines() if line.startswith("adiff: warning:")]
    assert "adiff: warning: node 1 (log(x)) is NaN in 600 rows (first: row 1): log of a negative number" in warnings
    assert any("abs is not differentiable in 200 rows (first: row 4, at 0)" in w for w in warnings)
    assert len(warnings) < 10
    quiet = run("batch", "log(x)", str(source), "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_strict_makes_a_warning_a_failure_and_leaves_no_file(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x\n1\n-1\n")
    out = run("batch", "log(x)", str(source), "--strict", "-o", str(tmp_path / "out.csv"))
    assert out.exit_code == 1
    assert "log of a negative number" in out.stderr
    assert not (tmp_path / "out.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_json_summary_has_counts_timings_and_warnings(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x\n1\n-1\n-2\n")
    summary = tmp_path / "summary.json"
    out = run("batch", "sqrt(x)", str(source), "-o", str(tmp_path / "o.csv"), "--json-summary", str(summary))
    assert out.exit_code == 0, out.stderr
    doc = json.loads(summary.read_text())
    assert doc["rows"] == 3 and doc["columns"] == ["x", "value", "grad_x"]
    assert set(doc["seconds"]) >= {"read", "compute", "write", "total"}
    assert doc["warnings"][0]["rows"] == 2 and doc["warnings"][0]["first_row"] == 2


@pytest.mark.parametrize("cell, shown", [("abc", "'abc'"), ("", "an empty cell"), ("1,5", "'1,5'")])
def test_a_bad_cell_names_its_line_column_and_text(tmp_path, cell, shown):
    source = tmp_path / "in.csv"
    quoted = f'"{cell}"' if "," in cell else cell
    source.write_text(f"x,w\n1,2\n3,{quoted}\n")
    out = run("batch", "x*w", str(source), "-o", str(tmp_path / "out.csv"))
    assert out.exit_code == 2
    assert f"line 3, column w: {shown} is not a number" in " ".join(out.stderr.split())
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_bad_cell_in_jsonl_and_parquet(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"x": 1}\n{"x": "NaN"}\n{"x": "two"}\n')
    out = run("batch", "x*2", "in.jsonl", cwd=tmp_path)
    assert out.exit_code == 2 and "line 3, column x: 'two' is not a number" in out.stderr
    pq.write_table(pa.table({"x": pa.array([1.0, None, 2.0])}), tmp_path / "in.parquet")
    out = run("batch", "x*2", "in.parquet", cwd=tmp_path)
    assert out.exit_code == 2 and "row 2, column x: an empty cell is not a number" in out.stderr


def _csv_lines(rng, rows: int, quoted: bool) -> list[str]:
    """Data lines x,w[,label] with blank lines, CRLF blanks and spaces among them."""
    lines = []
    for k in range(rows):
        label = f',"row {k}, ""quoted"""' if quoted else ""
        lines.append(f"{rng.normal()!r},{rng.normal()!r}{label}\n")
        if rng.random() < 0.2:
            lines.append(str(rng.choice(["\n", "\r\n", "   \n", "\t\n"])))
    return lines


@pytest.mark.parametrize("chunk_rows", [1, 3, 64, 262_144])
@pytest.mark.parametrize("quoted", [False, True])
def test_blank_lines_are_skipped_and_lines_keep_their_numbers(tmp_path, chunk_rows, quoted):
    from autodiff_cli import batch
    from autodiff_cli.errors import AdiffError
    from autodiff_cli.parser import parse

    rng = np.random.default_rng(chunk_rows)
    header = "x,w,label\n" if quoted else "x,w\n"
    lines = ["\n"] + _csv_lines(rng, 200, quoted)
    keep = ["label"] if quoted else []
    (tmp_path / "in.csv").write_text(header + "".join(lines), newline="")
    batch.run(parse("x*w"), str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), chunk_rows=chunk_rows, keep=keep)
    rows = read_csv((tmp_path / "out.csv").read_text())
    data = [line for line in lines if line.strip()]
    assert len(rows) == len(data) == 200
    for row, line in zip(rows, data):
        x, w = (float(v) for v in line.split(",")[:2])
        assert float(row["value"]) == x * w and float(row["grad_x"]) == w
        if quoted:
            assert row["label"] == line.split(",", 2)[2].strip()[1:-1].replace('""', '"')
    # a bad cell after all that is named by its line in the file (the header is line 1)
    bad = len(lines) // 2
    lines[bad] = "1.5,oops" + (',"late"' if quoted else "") + "\n"
    (tmp_path / "in.csv").write_text(header + "".join(lines), newline="")
    with pytest.raises(AdiffError) as caught:
        batch.run(parse("x*w"), str(tmp_path / "in.csv"), str(tmp_path / "out2.csv"), chunk_rows=chunk_rows,
                  keep=keep)
    assert f"line {bad + 2}, column w: 'oops' is not a number" in caught.value.message


@pytest.mark.parametrize("chunk_rows", [1, 5, 262_144])
def test_blank_lines_in_jsonl_are_skipped_and_lines_keep_their_numbers(tmp_path, chunk_rows):
    from autodiff_cli import batch
    from autodiff_cli.errors import AdiffError
    from autodiff_cli.parser import parse

    rng = np.random.default_rng(7)
    lines = ["\n"]
    for k in range(60):
        lines.append(json.dumps({"x": float(rng.normal()), "id": k}) + "\n")
        if k % 7 == 3:
            lines.append("\n" if k % 2 else "  \r\n")
    (tmp_path / "in.jsonl").write_text("".join(lines), newline="")
    batch.run(parse("x^2"), str(tmp_path / "in.jsonl"), str(tmp_path / "out.csv"), chunk_rows=chunk_rows)
    rows = read_csv((tmp_path / "out.csv").read_text())
    data = [json.loads(line) for line in lines if line.strip()]
    assert [float(r["x"]) for r in rows] == [d["x"] for d in data]
    assert [float(r["value"]) for r in rows] == [d["x"] ** 2 for d in data]
    bad = 40
    lines[bad] = '{"x": "two"}\n'
    (tmp_path / "in.jsonl").write_text("".join(lines), newline="")
    with pytest.raises(AdiffError) as caught:
        batch.run(parse("x^2"), str(tmp_path / "in.jsonl"), str(tmp_path / "out2.csv"), chunk_rows=chunk_rows)
    assert f"line {bad + 1}, column x: 'two' is not a number" in caught.value.message


def test_a_last_line_without_its_newline_is_read(tmp_path):
    (tmp_path / "in.csv").write_bytes(b"x\n1\n\n2\n3")
    out = run("batch", "x*2", "in.csv", cwd=tmp_path)
    assert out.exit_code == 0, out.stderr
    assert [row["value"] for row in read_csv(out.stdout)] == ["2.0", "4.0", "6.0"]


def test_empty_input_gives_a_header(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x,w\n")
    out = run("batch", "x*w", str(source))
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == ["x,w,value,grad_x,grad_w"]
    out = run("batch", "x*w", str(source), "-o", str(tmp_path / "o.parquet"))
    assert out.exit_code == 0 and pq.read_table(tmp_path / "o.parquet").column_names[-1] == "grad_w"
    out = run("batch", "x*w", "-", input="")   # not even a header
    assert out.exit_code == 0 and out.stdout.splitlines() == ["x,w,value,grad_x,grad_w"]


def test_a_failed_run_leaves_the_old_output_file_as_it_was(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("the old results\n")
    source = tmp_path / "in.csv"
    source.write_text("x\n" + "1\n" * 1000 + "oops\n")
    out = run("batch", "x*2", str(source), "-o", str(target), "--chunk-rows", "100")
    assert out.exit_code == 2
    assert target.read_text() == "the old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_streaming_in_small_chunks_gives_the_same_output(tmp_path):
    data = points(1000, seed=5)
    source = write_csv(tmp_path / "in.csv", data)
    whole = run("batch", SEED, str(source), "--b", "1")
    chunked = run("batch", SEED, str(source), "--b", "1", "--chunk-rows", "7")
    assert whole.exit_code == chunked.exit_code == 0
    assert whole.stdout == chunked.stdout


def test_standard_input_and_the_program_from_a_file(tmp_path):
    out = run("batch", "-f", str(ROOT / "samples" / "projectile.adiff"), "-",
              input=(ROOT / "samples" / "projectile_points.csv").read_text())
    assert out.exit_code == 0, out.stderr
    rows = read_csv(out.stdout)
    r = rows[0]
    v, theta, g = float(r["v"]), float(r["θ"]), float(r["g"])
    assert float(r["value"]) == pytest.approx(v * v * math.sin(2 * theta) / g, rel=1e-14)
    assert float(r["grad_θ"]) == pytest.approx(2 * v * v * math.cos(2 * theta) / g, rel=1e-12)
    bad = run("batch", "-", "in.csv", cwd=tmp_path)
    assert bad.exit_code == 2 and "cannot come from standard input" in bad.stderr


@pytest.mark.parametrize("suffix", ["csv", "parquet"])   # Parquet: its writer's thread stopped too
def test_ctrl_c_exits_130_and_leaves_no_file(tmp_path, suffix):
    target = tmp_path / f"out.{suffix}"
    process = interruptible([*ADIFF, "batch", "x*2", "-", "-o", str(target), "--chunk-rows", "1"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write(b"x\n1\n2\n")
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".part") for p in tmp_path.iterdir()):  # running, waiting for rows
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def _press_ctrl_c_twice(monkeypatch):
    """Vectorized.run pressed Ctrl-C once (mid-run), Writer.abandon a second
    time (as the cleanup starts)."""
    from autodiff_cli import batch
    from autodiff_cli.vectorized import Vectorized

    def interrupted_run(self, *args, **kwargs):
        signal.raise_signal(signal.SIGINT)          # the first Ctrl-C, mid-run
        raise AssertionError("the first Ctrl-C did not stop the run")
    abandon = batch.Writer.abandon

    def abandon_pressed_again(self):
        signal.raise_signal(signal.SIGINT)          # the second, as the cleanup starts
        abandon(self)
    monkeypatch.setattr(Vectorized, "run", interrupted_run)
    monkeypatch.setattr(batch.Writer, "abandon", abandon_pressed_again)


@pytest.fixture
def sigint_handler():
    """Sets the SIGINT handler a test asks for, and puts back whatever the
    test run had (which may be anything: `pytest &` from a script starts
    with SIGINT ignored)."""
    before = signal.getsignal(signal.SIGINT)
    yield lambda handler: signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGINT, before)


def _library_handler(signum, frame):
    """A handler some library installed, which does not raise."""
    _library_handler.calls += 1


_library_handler.calls = 0


@pytest.mark.parametrize("handler", [signal.default_int_handler, _library_handler],
                         ids=["python's own", "a library's"])
def test_a_second_ctrl_c_does_not_stop_the_cleanup(tmp_path, monkeypatch, sigint_handler, handler):
    """The first Ctrl-C stops the run, whatever SIGINT handler was there; a
    second, arriving while the temporary file is being removed (`timeout`
    signals twice; people press twice), must not leave it behind; the handler
    that was there is put back."""
    from autodiff_cli import batch
    from autodiff_cli.parser import parse

    sigint_handler(handler)
    _press_ctrl_c_twice(monkeypatch)
    calls = _library_handler.calls
    write_csv(tmp_path / "in.csv", points(20))
    target = tmp_path / "out.csv"
    target.write_text("the old results\n")
    with pytest.raises(KeyboardInterrupt):
        batch.run(parse("x*w"), str(tmp_path / "in.csv"), str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]
    assert target.read_text() == "the old results\n"
    assert signal.getsignal(signal.SIGINT) is handler
    assert _library_handler.calls == calls           # the run's own handler took both


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(tmp_path, sigint_handler):
    """A background job of a script starts with SIGINT ignored; batch leaves
    it so, as Unix programs do, and finishes its run."""
    from autodiff_cli import batch
    from autodiff_cli.parser import parse

    sigint_handler(signal.SIG_IGN)
    write_csv(tmp_path / "in.csv", points(20))
    with batch._interrupted_once():
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        signal.raise_signal(signal.SIGINT)
    batch.run(parse("x*w"), str(tmp_path / "in.csv"), str(tmp_path / "out.csv"))
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 21
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_a_file_that_is_no_table_gets_a_short_printable_message(tmp_path):
    (tmp_path / "noise.csv").write_bytes(bytes(range(256)) * 8 + b"\n1\n")
    out = run("batch", "x*w", "noise.csv", cwd=tmp_path)
    assert out.exit_code == 2
    assert out.stderr.startswith("adiff: error: "), out.stderr
    assert all(c.isprintable() or c == "\n" for c in out.stderr), out.stderr
    assert len(out.stderr) < 600


def test_an_input_or_kept_column_named_twice_is_an_error(tmp_path):
    (tmp_path / "in.csv").write_text('x,"x",w,id,id\n1,2,3,a,b\n')
    for words in (["x*w"], ["w*2", "--keep", "id"]):
        out = run("batch", *words, "in.csv", cwd=tmp_path)
        assert out.exit_code == 2, out.stdout
        name = "x" if words[0] == "x*w" else "id"
        assert f"in.csv: the header names column {name} more than once" in out.stderr
    out = run("batch", "w*2", "in.csv", cwd=tmp_path)   # repeated, but neither input nor kept
    assert out.exit_code == 0 and read_csv(out.stdout)[0]["value"] == "6.0"


@pytest.mark.parametrize("out_format", ["csv", "parquet"])
def test_a_full_disk_is_a_clear_failure(tmp_path, out_format):
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full (Linux)")
    write_csv(tmp_path / "in.csv", points(10))
    out = run("batch", "x*w", str(tmp_path / "in.csv"), "-o", "/dev/full", "--out-format", out_format)
    assert out.exit_code == 1
    assert out.stderr.startswith("adiff: error: cannot write /dev/full: No space left on device\n"), out.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path):
    write_csv(tmp_path / "in.csv", points(50_000))
    process = subprocess.Popen([*ADIFF, "batch", "x*w", str(tmp_path / "in.csv")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"x,w,value")
    process.stdout.close()                           # `| head -1`
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 1, stderr
    assert b"Traceback" not in stderr and b"internal error" not in stderr, stderr


def test_a_pipe_or_device_as_output_is_written_to_never_replaced(tmp_path):
    """`-o /dev/null` or a named pipe: replacing it (as root) would put a file
    in its place.  A FIFO stands in for the device here."""
    import stat
    import threading

    write_csv(tmp_path / "in.csv", {"x": [1.5, 2.0], "w": [2.0, -1.0]})
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    out = run("batch", "x*w", "in.csv", "-o", "pipe.csv", cwd=tmp_path)
    reader.join(timeout=60)
    assert out.exit_code == 0, out.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [row["value"] for row in read_csv(received[0].decode())] == ["3.0", "-2.0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "pipe.csv"]


def test_the_output_keeps_a_link_and_has_the_permissions_a_new_or_old_file_would(tmp_path):
    write_csv(tmp_path / "in.csv", {"x": [1.0], "w": [2.0]})
    umask = os.umask(0o022)
    try:
        out = run("batch", "x*w", "in.csv", "-o", "new.csv", cwd=tmp_path)
        assert out.exit_code == 0, out.stderr
        assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644
        old = tmp_path / "old.csv"
        old.write_text("old\n")
        old.chmod(0o640)
        (tmp_path / "data").mkdir()
        real = tmp_path / "data" / "real.csv"
        real.write_text("old\n")
        (tmp_path / "link.csv").symlink_to(real)
        for target in ("old.csv", "link.csv"):
            assert run("batch", "x*w", "in.csv", "-o", target, cwd=tmp_path).exit_code == 0
        assert old.stat().st_mode & 0o777 == 0o640 and old.read_text().startswith("x,w,value")
        assert (tmp_path / "link.csv").is_symlink() and real.read_text().startswith("x,w,value")
    finally:
        os.umask(umask)


def test_dask_engine_on_a_local_cluster_matches_the_single_machine_output(tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is part of .[test]")
    data = points(3000, seed=7)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in range(3):
        write_csv(parts / f"p{k}.csv", {"id": [f"r{k}-{i}" for i in range(1000)],
                                        **{n: v[k * 1000:(k + 1) * 1000] for n, v in data.items()}})
    out = run("batch", SEED, str(parts / "*.csv"), "-o", str(tmp_path / "result"), "--engine", "dask",
              "--b", "1", "--keep", "id", "--hessian", "--wrt", "x,w,b,y", timeout=300)
    assert out.exit_code == 0, out.stderr
    files = sorted((tmp_path / "result").glob("*.parquet"))
    assert len(files) == 3
    table = pa.concat_tables([pq.read_table(f) for f in files])
    single = run("batch", SEED, str(parts / "p1.csv"), "--b", "1", "--keep", "id", "--hessian")
    single_rows = read_csv(single.stdout)
    by_id = {r: i for i, r in enumerate(table.column("id").to_pylist())}
    for row in single_rows:
        i = by_id[row["id"]]
        for name in ("value", "grad_x", "grad_w", "grad_b", "grad_y", "hess_x_x", "hess_x_w", "hess_w_y"):
            assert table.column(name)[i].as_py() == float(row[name]), (row["id"], name)
    assert table.num_rows == 3000


def test_dask_engine_without_dask_says_how_to_install_it(tmp_path):
    source = write_csv(tmp_path / "in.csv", {"x": [1.0]})
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('blocked for this test', name='distributed')\n")
    out = run("batch", "x", str(source), "-o", str(tmp_path / "r"), "--engine", "dask",
              env={"PYTHONPATH": str(blocker) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert out.exit_code == 1
    assert 'pip install "adiff[dask]"' in out.stderr


def test_batch_is_not_imported_by_other_commands():
    code = ("import sys; from autodiff_cli.cli import app; "
            "bad = [m for m in ('numpy', 'polars', 'pyarrow', 'autodiff_cli.vectorized') if m in sys.modules]; "
            "print(bad)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_in_process_help_lists_batch():
    out = cli("batch", "--help")
    assert out.exit_code == 0 and "--chunk-rows" in out.stdout


def test_the_progress_bar_draws_once_the_run_takes_a_moment(monkeypatch):
    from autodiff_cli.batch import _Progress
    progress = _Progress()
    progress(10, 100, 1000)          # too soon: nothing drawn
    assert progress.bar is None
    monkeypatch.setattr(_Progress, "DELAY", 0.0)
    progress(20, 200, 1000)
    assert progress.bar is not None
    task = progress.bar.tasks[0]
    assert task.completed == 200 and task.total == 1000 and task.fields["rows"] == "20"
    progress.stop()


def test_json_summary_records_a_failure(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("x\n1\nzz\n")
    summary = tmp_path / "s.json"
    out = run("batch", "x", str(source), "--json-summary", str(summary))
    assert out.exit_code == 2
    doc = json.loads(summary.read_text())
    assert doc["error"]["kind"] == "data" and "'zz' is not a number" in doc["error"]["message"]


def test_the_readme_shows_real_output():
    """The README's batch examples on the sample files, run again: the same output."""
    import re
    import shlex
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Tables of points: adiff batch"):text.index("### From Python, Dask")]
    compared = 0
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, _, expected = command.partition("\n")
            words = shlex.split(line.split("#")[0])
            files = [w for w in words if w.endswith((".csv", ".jsonl", ".parquet", ".adiff"))]
            # not those that pipe, or write files: a test leaves the checkout as it was
            if words[0] != "adiff" or "|" in line or "-o" in words or not all((ROOT / f).exists() for f in files):
                continue
            outcome = run(*words[1:], cwd=ROOT)
            assert outcome.stdout + outcome.stderr == expected, line
            compared += 1
    assert compared >= 1


def test_hessian_columns_match_the_hand_derived_hessian(tmp_path):
    # L = (x*w + b - y)^2: d2/dx2 = 2w^2, d2/dxdw = 2(2xw + b - y), d2/dw2 = 2x^2
    data = points(20, seed=3)
    source = write_csv(tmp_path / "in.csv", data)
    out = run("batch", SEED, str(source), "--b", "1", "--wrt", "x,w", "--hessian")
    assert out.exit_code == 0, out.stderr
    rows = read_csv(out.stdout)
    assert list(rows[0]) == ["x", "w", "b", "y", "value", "grad_x", "grad_w", "hess_x_x", "hess_x_w", "hess_w_w"]
    for row in rows:
        x, w, y = float(row["x"]), float(row["w"]), float(row["y"])
        assert float(row["hess_x_x"]) == pytest.approx(2 * w * w, rel=1e-12)
        assert float(row["hess_x_w"]) == pytest.approx(2 * (2 * x * w + 1 - y), rel=1e-12, abs=1e-12)
        assert float(row["hess_w_w"]) == pytest.approx(2 * x * x, rel=1e-12)


def test_hessian_in_jsonl_is_the_symmetric_matrix_with_non_finite_strings(tmp_path):
    source = write_csv(tmp_path / "in.csv", {"x": [2.0, 0.0], "w": [3.0, 3.0]})
    out = run("batch", "log(x)*w", str(source), "--hessian", "--out-format", "jsonl")
    assert out.exit_code == 0, out.stderr
    first, second = [json.loads(line) for line in out.stdout.splitlines()]
    # d2/dx2 = -w/x^2, d2/dxdw = 1/x, d2/dw2 = 0
    assert first["hessian"] == {"x": {"x": -0.75, "w": 0.5}, "w": {"x": 0.5, "w": 0.0}}
    assert second["hessian"]["x"] == {"x": "-Infinity", "w": "Infinity"}




# ---- issue 20: the output is the input; smaller ones -------------------------------------

def test_an_output_that_is_the_input_by_any_name_is_refused_and_the_input_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.csv"
    text = "id,x,w,note\na,1,2,hi\nb,3,4,yo\n"
    source.write_text(text)
    (tmp_path / "link.csv").symlink_to(source)
    os.link(source, tmp_path / "hard.csv")
    (tmp_path / "sub").mkdir()
    for given, target in (("in.csv", "in.csv"), ("in.csv", "link.csv"), ("in.csv", "hard.csv"),
                          ("./in.csv", "sub/../in.csv"), (str(source), "in.csv"), ("link.csv", "hard.csv")):
        out = cli("batch", "x*w", given, "-o", target)
        assert out.exit_code == 2, (given, target, out)
        assert " ".join(out.stderr.split()).startswith(f"adiff: error: the output is the input: -o {target} "
                                                       "would replace"), out.stderr
        assert "--force" in out.stderr
        assert source.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.csv", "in.csv", "link.csv", "sub"]
    # from standard input, and standard output appended to the input
    with open(source, "rb") as points_in:
        piped = subprocess.run([*ADIFF, "batch", "x*w", "-", "-o", "in.csv"], stdin=points_in,
                               capture_output=True, text=True)
    assert piped.returncode == 2 and "the output is the input" in piped.stderr
    with open(source, "ab") as appended:
        done = subprocess.run([*ADIFF, "batch", "x*w", "in.csv"], stdout=appended, stderr=subprocess.PIPE,
                              text=True)
    assert done.returncode == 2 and "standard output is the file in.csv is read from" in done.stderr
    assert source.read_text() == text


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_force_replaces_the_input_with_the_results_once_the_run_succeeds(tmp_path, monkeypatch, suffix):
    monkeypatch.chdir(tmp_path)
    data = points(300_000 if suffix == "csv" else 1000, seed=3)   # more than one chunk of CSV
    source = tmp_path / f"in.{suffix}"
    if suffix == "csv":
        write_csv(source, data)
    else:
        pq.write_table(pa.table(data), source, row_group_size=100)
    out = cli("batch", SEED, f"in.{suffix}", "-o", f"in.{suffix}", "--force", "--b", "1")
    assert out.exit_code == 0, out.stderr
    import polars as pl
    table = pl.read_csv(source) if suffix == "csv" else pl.read_parquet(source)
    assert table.height == len(data["x"])
    expected = seed_expected(data["x"], data["w"], 1.0, data["y"])
    for name, column in expected.items():
        assert np.array_equal(table[name].to_numpy(), column), name


def test_a_forgotten_program_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "points.csv", {"x": [1.0]})
    for words in (["points.csv"], ["points.csv", "out.csv"], ["missing.parquet"], ["data/points.jsonl"]):
        out = cli("batch", *words)
        assert out.exit_code == 2, (words, out)
        assert out.stderr.startswith(f"adiff: error: no program: {words[0]} names a table of points"), out.stderr
        assert "syntax" not in out.stderr and "unexpected" not in out.stderr
    out = cli("batch", "x^", "points.csv")   # a program that does not parse is a syntax error
    assert out.exit_code == 2 and "no program" not in out.stderr


@pytest.mark.parametrize("row, cells", [("3,4,5", 3), ("3", 1), ('"3",4,"a,b"', 3), ("", None)])
def test_a_ragged_row_is_named_by_its_line_in_adiffs_words(tmp_path, monkeypatch, row, cells):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text("x,w\n" + "1,2\n" * 80 + f"{row}\n" + "6,7\n")
    out = cli("batch", "x*w", "in.csv", "-o", "out.csv")
    if cells is None:   # a blank line is skipped, not ragged
        assert out.exit_code == 0, out.stderr
        return
    assert out.exit_code == 2
    assert out.stderr.startswith(f"adiff: error: in.csv, line 82: {cells} cell{'s' * (cells > 1)} "
                                 "where the header has 2 columns"), out.stderr
    assert "Schema" not in out.stderr and "truncate_ragged_lines" not in out.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("out_format", ["jsonl", "csv"])
def test_batch_reads_its_own_output_back(tmp_path, monkeypatch, out_format):
    monkeypatch.chdir(tmp_path)
    projectile = str(ROOT / "samples" / "projectile.adiff")
    first = cli("batch", "-f", projectile, str(ROOT / "samples" / "projectile_points.csv"), "--keep", "shot",
                "--wrt", "v,θ", "-o", f"first.{out_format}", "--hessian")
    assert first.exit_code == 0, first.stderr
    again = cli("batch", "-f", projectile, f"first.{out_format}", "--keep", "shot", "--wrt", "v,θ",
                "--hessian")
    assert again.exit_code == 0, again.stderr
    direct = cli("batch", "-f", projectile, str(ROOT / "samples" / "projectile_points.csv"), "--keep", "shot",
                 "--wrt", "v,θ", "--hessian")
    assert again.stdout == direct.stdout
    # with NaN and infinities spelled out, and the gradient carried through as grad_x
    (tmp_path / "x.csv").write_text("x\n1\n-1\n0\n4\n")
    assert cli("batch", "log(x)", "x.csv", "-o", "log.jsonl", "-q").exit_code == 0
    back = cli("batch", "exp(x)", "log.jsonl", "--keep", "value", "--out-format", "csv")
    assert back.exit_code == 2 and "--keep value: the output has a column value of its own" in back.stderr
    back = cli("batch", "sqrt(x)", "log.jsonl", "-q")
    assert back.exit_code == 0, back.stderr
    assert [row["x"] for row in read_csv(back.stdout)] == ["1.0", "-1.0", "0.0", "4.0"]
    assert [row["value"] for row in read_csv(back.stdout)] == ["1.0", "nan", "0.0", "2.0"]
    # eval --json's document is such a line too
    document = cli("eval", "x*w", "--x", "2", "--w", "3", "--json")
    (tmp_path / "e.jsonl").write_text(json.dumps(json.loads(document.stdout)) + "\n")
    back = cli("batch", "x*w+1", "e.jsonl")
    assert back.exit_code == 0, back.stderr
    assert read_csv(back.stdout) == [{"x": "2.0", "w": "3.0", "value": "7.0", "grad_x": "3.0", "grad_w": "2.0"}]


def test_json_summary_after_a_strict_failure_says_what_was_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text("x\n" + "1\n" * 250 + "-1\n" + "2\n" * 49)
    out = cli("batch", "log(x)", "in.csv", "--strict", "--chunk-rows", "100", "-o", "out.csv",
              "--json-summary", "s.json")
    assert out.exit_code == 1
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["error"]["kind"] == "strict"
    assert 251 <= doc["rows"] <= 300 and doc["chunks"] >= 1 and doc["rows_written"] == 0
    assert doc["warnings"][0]["first_row"] == 251 and doc["warnings"][0]["rows"] == 1
    assert not (tmp_path / "out.csv").exists()
    ok = cli("batch", "log(x)", "in.csv", "-q", "-o", "out.csv", "--json-summary", "s.json")
    assert ok.exit_code == 0
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["rows"] == doc["rows_written"] == 300 and doc["error"] is None


def test_a_local_output_with_a_trailing_slash_is_a_folder_and_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "in.csv", {"x": [1.0]})
    out = cli("batch", "x", "in.csv", "-o", "results.csv/")
    assert out.exit_code == 2 and "a folder; adiff batch writes one file" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_dask_writes_csv_parts_in_a_folder_named_csv_with_its_slash_never_over_its_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pytest.importorskip("distributed", reason="the dask extra is part of .[test]")
    (tmp_path / "parts").mkdir()
    write_csv(tmp_path / "parts" / "a.csv", {"x": [1.0, 3.0], "w": [2.0, 4.0]})
    for target in ("parts", "parts/", "./parts/sub/.."):
        out = cli("batch", "x*w", "parts/*.csv", "-o", target, "--engine", "dask")
        assert out.exit_code == 2 and "the output is the input: the folder" in out.stderr, out.stderr
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["a.csv"]
    out = run("batch", "x*w", "parts/*.csv", "-o", "results.csv/", "--engine", "dask", cwd=tmp_path, timeout=300)
    assert out.exit_code == 0, out.stderr
    files = sorted(p.name for p in (tmp_path / "results.csv").iterdir())
    assert files and all(name.endswith(".csv") for name in files), files
    rows = read_csv((tmp_path / "results.csv" / files[0]).read_text())
    assert [float(r["value"]) for r in rows] == [2.0, 12.0]


def test_parquet_in_and_out_streams_without_pyarrow(tmp_path):
    """Parquet is read and written by Polars a chunk at a time: PyArrow's import
    and its conversions cost more than the writing (issue 18, section 4)."""
    data = points(5000, seed=11)
    pq.write_table(pa.table(data), tmp_path / "in.parquet", row_group_size=1000)
    code = ("import sys\n"
            "from autodiff_cli import main\n"
            f"sys.argv = ['adiff', 'batch', {SEED!r}, 'in.parquet', '-o', 'out.parquet', '--b', '2', "
            "'--chunk-rows', '700']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('pyarrow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False"
    table = pq.read_table(tmp_path / "out.parquet")
    expected = seed_expected(data["x"], data["w"], 2.0, data["y"])
    assert table.num_rows == 5000
    for name, column in expected.items():
        assert np.array_equal(table.column(name).to_numpy(), column), name
