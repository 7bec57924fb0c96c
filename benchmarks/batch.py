"""adiff batch, measured: end to end against the I/O floor, NumPy by hand and JAX.

Run with the Python that has adiff installed with its batch extra:

    python benchmarks/batch.py                 # a few minutes
    python benchmarks/batch.py --quick         # 10^5 rows instead of 10^6, no 10^7 run
    python benchmarks/batch.py --peers .venv-peers/bin/python   # also JAX (jax[cpu], pandas there)

JAX and pandas are peers to compare with, never adiff's dependencies: give
the Python of another environment that has them with --peers.

It prints figures and ratios, never pass/fail: on a shared machine the
absolute times move with the load, so read the ratios, each against a
yardstick measured in the same run.
  1. the seed example (x*w+b-y)^2 on N rows, CSV in and CSV out:
     adiff (the command, start-up included; and batch.run in process) against
     (a) the floor: Polars reading the same file and writing a CSV of the same
     shape (9 columns), no arithmetic, also as a command (a fresh Python that
     imports Polars), so that each adiff figure has a floor measured alike; also
     on a one-row file (the fixed cost); (b) a hand-written NumPy script (Polars
     read, the gradient by hand, Polars write); (c) JAX: pandas.read_csv,
     jit(vmap(value_and_grad)), DataFrame.to_csv.  Targets: adiff within 1.3x
     of (a), faster than (c) end to end.
     The arithmetic alone, ns a point: adiff's vectorised evaluator, NumPy by
     hand (whole arrays, and in blocks of 65,536), JAX's compiled call (after
     its first call).  Target: adiff within 1.5x of JAX.
  2. a program of 10^4 nodes on 10^5 rows, and the 10^5-term sin(i*x + w)
     program on 10^3 rows: ns per node per row, and peak memory.
  3. 10^6 and 10^7 rows streamed from a CSV file: peak memory (target < 500 MB,
     the same for both).
  4. Parquet and JSONL in and out at N rows, beside their floors (as commands).
Commands take turns, 7 runs each; medians, bests and the children's CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SEED = "(x*w+b-y)^2"


def adiff_command() -> list[str]:
    script = Path(sys.executable).parent / "adiff"
    return [str(script)] if script.exists() else [sys.executable, "-m", "autodiff_cli"]


def timed(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def child(command: list[str], **options) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of a child process.

    The peak is the child's own VmHWM, read from /proc while it runs: the
    rusage figure of a child started by vfork counts the parent's memory too.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, **options)
    peak_kb = 0
    status_file = f"/proc/{process.pid}/status"
    while process.poll() is None:
        try:
            with open(status_file) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return elapsed, peak_kb / 1024


def make_points(path: Path, rows: int, seed: int = 0, digits: int | None = None) -> None:
    import numpy as np
    import polars as pl
    rng = np.random.default_rng(seed)
    columns = {name: rng.normal(size=rows) for name in "xwby"}
    if digits is not None:
        columns = {k: np.round(v, digits) for k, v in columns.items()}
    frame = pl.DataFrame(columns)
    if path.suffix == ".csv":
        frame.write_csv(path)
    elif path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_ndjson(path)


# ---- 1. the seed example ------------------------------------------------------------

def output_shaped(rows: int):
    """Nine columns of random doubles, the output's shape, made before the clock starts."""
    import numpy as np
    import polars as pl
    rng = np.random.default_rng(2)
    return pl.DataFrame({f"c{k}": rng.normal(size=rows) for k in range(9)})


def floor_csv(source: Path, target: Path, shaped) -> None:
    import polars as pl
    pl.read_csv(source)
    shaped.write_csv(target)


# the floor as a command: Python starts, imports Polars, reads the file and
# writes nine columns of the same doubles (the input's, full precision), no
# arithmetic, in the output's format (by its extension)
FLOOR_SCRIPT = textwrap.dedent("""
    import sys
    import polars as pl
    source, target = sys.argv[1], sys.argv[2]
    read = {"csv": pl.read_csv, "jsonl": pl.read_ndjson, "parquet": pl.read_parquet}
    frame = read[source.rsplit(".", 1)[1]](source)
    names = ["x", "w", "b", "y", "x", "w", "b", "y", "x"]
    out = frame.select([pl.col(n).alias(f"c{k}") for k, n in enumerate(names)])
    getattr(out, "write_" + {"jsonl": "ndjson"}.get(target.rsplit(".", 1)[1], target.rsplit(".", 1)[1]))(target)
""")


def in_turns(commands: dict, repeat: int, outputs: list) -> dict:
    """Each command run `repeat` times, the commands taking turns (a change in
    the machine's load touches each alike), each writing a new file: the wall
    times of every run, and the CPU times (user + system) of the child."""
    walls: dict = {name: [] for name in commands}
    cpus: dict = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            for output in outputs:
                output.unlink(missing_ok=True)
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(usage.ru_utime + usage.ru_stime)
            if status != 0:
                raise SystemExit(f"failed ({status}): {' '.join(map(str, command))}")
    return {"wall": walls, "cpu": cpus}


def median(values: list) -> float:
    import statistics
    return statistics.median(values)


def hand_numpy_csv(source: Path, target: Path) -> None:
    import polars as pl
    frame = pl.read_csv(source)
    x, w, b, y = (frame[name].to_numpy() for name in "xwby")
    d = x * w + b - y
    g = 2 * d
    pl.DataFrame({"x": x, "w": w, "b": b, "y": y, "value": d * d, "grad_x": g * w, "grad_w": g * x,
                  "grad_b": g, "grad_y": -g}).write_csv(target)


JAX_SCRIPT = textwrap.dedent("""
    import json, sys, time
    start = time.perf_counter()
    import jax, jax.numpy as jnp, numpy as np, pandas as pd
    jax.config.update("jax_enable_x64", True)
    source, target = sys.argv[1], sys.argv[2]
    def f(x, w, b, y):
        return (x * w + b - y) ** 2
    step = jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(0, 1, 2, 3))))
    t0 = time.perf_counter()
    frame = pd.read_csv(source)
    t1 = time.perf_counter()
    cols = [frame[n].to_numpy() for n in "xwby"]
    value, grads = step(*cols)
    value = np.asarray(value); grads = [np.asarray(g) for g in grads]
    t2 = time.perf_counter()
    out = pd.DataFrame({"x": cols[0], "w": cols[1], "b": cols[2], "y": cols[3], "value": value,
                        **{f"grad_{n}": g for n, g in zip("xwby", grads)}})
    out.to_csv(target, index=False)
    t3 = time.perf_counter()
    # the compiled call alone, after the first: best of 5
    best = float("inf")
    for _ in range(5):
        s = time.perf_counter()
        value, grads = step(*cols)
        value.block_until_ready(); [g.block_until_ready() for g in grads]
        best = min(best, time.perf_counter() - s)
    print(json.dumps({"end_to_end": t3 - start, "read": t1 - t0, "first_call": t2 - t1, "write": t3 - t2,
                      "compiled_ns": best / len(frame) * 1e9, "version": jax.__version__}))
""")


def seed_section(work: Path, rows: int, peers: str | None) -> dict:
    import numpy as np

    from autodiff_cli.parser import parse
    from autodiff_cli.vectorized import Vectorized

    source = work / "seed.csv"
    make_points(source, rows)
    found: dict = {"rows": rows}
    shaped = output_shaped(rows)
    from autodiff_cli import batch
    graph = parse(SEED)
    # in turns, best of 5 each: a change in the machine's load touches each alike
    commands = {"floor_command": [sys.executable, "-c", FLOOR_SCRIPT, str(source), str(work / "floor2.csv")],
                "adiff": [*adiff_command(), "batch", SEED, str(source), "-o", str(work / "adiff.csv"), "--quiet"],
                "python_start": [sys.executable, "-c", "pass"]}
    calls = {"floor": lambda: floor_csv(source, work / "floor.csv", shaped),
             "adiff_in_process": lambda: batch.run(graph, str(source), str(work / "adiff2.csv")),
             "hand_numpy": lambda: hand_numpy_csv(source, work / "hand.csv")}
    one = work / "one.csv"
    make_points(one, 1)
    commands.update({"floor_one_row": [sys.executable, "-c", FLOOR_SCRIPT, str(one), str(work / "floor1.csv")],
                     "adiff_one_row": [*adiff_command(), "batch", SEED, str(one), "-o", str(work / "adiff1.csv"),
                                       "--quiet"]})
    for name in calls:
        found[name] = float("inf")
    outputs = [work / name for name in ("floor.csv", "floor2.csv", "adiff.csv", "adiff2.csv", "hand.csv",
                                        "floor1.csv", "adiff1.csv")]
    # the commands: seven runs each in turns, medians (and bests)
    found["turns"] = in_turns(commands, 7, outputs)
    for name, times in found["turns"]["wall"].items():
        found[name] = median(times)
        found[name + "_best"] = min(times)
    for _ in range(5):
        for name, run in calls.items():
            for output in outputs:   # each writes a new file (writing over one: see the README)
                output.unlink(missing_ok=True)
            start = time.perf_counter()
            run()
            found[name] = min(found[name], time.perf_counter() - start)
    if peers:
        done = subprocess.run([peers, "-c", JAX_SCRIPT, str(source), str(work / "jax.csv")],
                              capture_output=True, text=True)
        if done.returncode == 0:
            found["jax"] = json.loads(done.stdout.strip().splitlines()[-1])
        else:
            print(f"  (JAX run failed: {done.stderr.strip().splitlines()[-1:]})")

    # the arithmetic alone
    n = rows
    rng = np.random.default_rng(1)
    columns = {name: rng.normal(size=n) for name in "xwby"}
    program = Vectorized(graph)
    found["adiff_ns"] = timed(lambda: program(columns), 5) / n * 1e9

    def hand(c):
        x, w, b, y = c["x"], c["w"], c["b"], c["y"]
        d = x * w + b - y
        g = 2 * d
        return d * d, g * w, g * x, g, -g

    def hand_blocks(c, size=65_536):
        out = [np.empty(n) for _ in range(5)]
        for start in range(0, n, size):
            for target, part in zip(out, hand({k: v[start:start + size] for k, v in c.items()})):
                target[start:start + size] = part
        return out

    found["hand_ns"] = timed(lambda: hand(columns), 5) / n * 1e9
    found["hand_blocks_ns"] = timed(lambda: hand_blocks(columns), 5) / n * 1e9
    if peers and "jax" in found:
        # JAX's compiled call and adiff's in turns, best of each: the ratio the target is about
        found["jax_turns_ns"] = found["adiff_turns_ns"] = float("inf")
        for _ in range(3):
            done = subprocess.run([peers, "-c", JAX_ARITHMETIC, str(n)], capture_output=True, text=True)
            if done.returncode == 0:
                found["jax_turns_ns"] = min(found["jax_turns_ns"], float(done.stdout.split()[-1]))
            found["adiff_turns_ns"] = min(found["adiff_turns_ns"], timed(lambda: program(columns), 5) / n * 1e9)
    return found


# JAX's compiled call alone on the same columns (the same seed), ns a point, best of 7
JAX_ARITHMETIC = textwrap.dedent("""
    import sys, time
    import jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    n = int(sys.argv[1])
    rng = np.random.default_rng(1)
    columns = [rng.normal(size=n) for _ in "xwby"]
    step = jax.jit(jax.vmap(jax.value_and_grad(lambda x, w, b, y: (x * w + b - y) ** 2, argnums=(0, 1, 2, 3))))
    jax.block_until_ready(step(*columns))
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        jax.block_until_ready(step(*columns))
        best = min(best, time.perf_counter() - start)
    print(best / n * 1e9)
""")


def report_seed(found: dict) -> None:
    rows = found["rows"]
    print(f"1. seed example {SEED}, {rows:,} rows, CSV in and out (seconds)")
    print("   as commands (a fresh Python each time; 7 runs each in turns: median, best; CPU median):")
    cpu = found["turns"]["cpu"]

    def line(label: str, name: str, floor: str = "") -> None:
        text = (f"     {label:52} {found[name]:6.2f} {found[name + '_best']:6.2f}   cpu {median(cpu[name]):5.2f}")
        if floor:
            text += (f"   {found[name] / found[floor]:.2f}x the floor (best {found[name + '_best'] / found[floor + '_best']:.2f}x, "
                     f"cpu {median(cpu[name]) / median(cpu[floor]):.2f}x; target <= 1.3x)")
        print(text)

    line("floor: Python, import Polars, read, write 9 columns", "floor_command")
    line("adiff batch", "adiff", "floor_command")
    line("floor, one row", "floor_one_row")
    line("adiff batch, one row", "adiff_one_row", "floor_one_row")
    line("(python -c pass)", "python_start")
    print("   in process (imports done; best of 5):")
    print(f"     floor: Polars read + write of the same shape         {found['floor']:6.2f}")
    print(f"     adiff batch.run                                      {found['adiff_in_process']:6.2f}   "
          f"{found['adiff_in_process'] / found['floor']:.2f}x the floor (target <= 1.3x)")
    print(f"     NumPy by hand (Polars read, NumPy, Polars write)     {found['hand_numpy']:6.2f}   "
          f"adiff is {found['adiff_in_process'] / found['hand_numpy']:.2f}x")
    jax = found.get("jax")
    if jax:
        print(f"   JAX {jax['version']} (pandas read, jit(vmap(value_and_grad)), to_csv) {jax['end_to_end']:5.2f}"
              f"   adiff is {found['adiff'] / jax['end_to_end']:.2f}x (target < 1x)")
        print(f"       of which: read {jax['read']:.2f}, first call {jax['first_call']:.2f}, write {jax['write']:.2f}")
    else:
        print("   JAX: not measured (give --peers PYTHON with jax[cpu] and pandas)")
    print("   the arithmetic alone, ns a point (best of 5):")
    print(f"     adiff's vectorised evaluator   {found['adiff_ns']:6.1f}")
    print(f"     NumPy by hand, whole arrays    {found['hand_ns']:6.1f}   adiff is {found['adiff_ns'] / found['hand_ns']:.2f}x")
    print(f"     NumPy by hand, blocks of 65536 {found['hand_blocks_ns']:6.1f}")
    if jax:
        print(f"     JAX compiled call              {jax['compiled_ns']:6.1f}   adiff is "
              f"{found['adiff_ns'] / jax['compiled_ns']:.2f}x")
    if "jax_turns_ns" in found:
        print(f"     in turns, best of 3 x 5 each: adiff {found['adiff_turns_ns']:.1f}, JAX "
              f"{found['jax_turns_ns']:.1f}: adiff is {found['adiff_turns_ns'] / found['jax_turns_ns']:.2f}x "
              "(target <= 1.5x)")


# ---- 2. big programs ------------------------------------------------------------------

BIG = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from autodiff_cli.parser import parse
    from autodiff_cli.vectorized import Vectorized
    kind, rows = sys.argv[1], int(sys.argv[2])
    if kind == "chain":   # 10^4 nodes: 1,250 lines of 8 nodes, values and gradients stay finite
        lines = ["s = x"] + ["s = 0.5*tanh(s*w + x) + 0.25*sin(s*y)"] * 1250
        text = "\\n".join(lines)
    else:                 # the 10^5-term sum of sin(i*x + w)
        text = " + ".join(f"sin({i}*x + w)" for i in range(1, 100_001))
    graph = parse(text, max_nodes=10**7)
    rng = np.random.default_rng(0)
    columns = {name: rng.normal(size=rows) for name in graph.inputs}
    program = Vectorized(graph)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    program(columns)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"nodes": len(graph.nodes), "rows": rows, "seconds": elapsed,
                      "ns_per_node_row": elapsed / (len(graph.nodes) * rows) * 1e9,
                      "block_rows": program.block_rows, "peak_mb": peak / 1024, "before_mb": before / 1024}))
""")


def big_section() -> list[dict]:
    found = []
    for kind, rows in (("chain", 100_000), ("sin", 1_000)):
        done = subprocess.run([sys.executable, "-c", BIG, kind, str(rows)], capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-500:])
            continue
        found.append({"kind": kind, **json.loads(done.stdout)})
    return found


def report_big(found: list[dict]) -> None:
    print("2. big programs (the compute alone, in a fresh process)")
    for f in found:
        what = "tanh chain" if f["kind"] == "chain" else "sum of sin(i*x + w)"
        print(f"   {what}: {f['nodes']:,} nodes x {f['rows']:,} rows: {f['seconds']:.2f} s, "
              f"{f['ns_per_node_row']:.2f} ns per node per row, blocks of {f['block_rows']:,} rows, "
              f"peak memory {f['peak_mb']:.0f} MB (of which {f['before_mb']:.0f} MB before the run: "
              f"Python, NumPy, the graph, the columns)")


# ---- 3. streaming ---------------------------------------------------------------------

def stream_section(work: Path, sizes: list[int]) -> list[dict]:
    found = []
    for rows in sizes:
        source = work / f"stream{rows}.csv"
        # made in another process: a child forked from a parent that holds
        # 10^7 rows would count the parent's memory in its own peak
        subprocess.run([sys.executable, __file__, "--make-points", str(source), str(rows)], check=True)
        with open(os.devnull, "wb") as sink:
            seconds, peak = child([*adiff_command(), "batch", SEED, str(source), "--quiet"], stdout=sink)
        found.append({"rows": rows, "seconds": seconds, "peak_mb": peak,
                      "file_mb": source.stat().st_size / 2 ** 20})
        source.unlink()
    return found


def report_stream(found: list[dict]) -> None:
    print("3. streamed from a CSV file to standard output (peak resident memory of the process)")
    for f in found:
        print(f"   {f['rows']:>12,} rows ({f['file_mb']:,.0f} MB of CSV): {f['seconds']:6.1f} s, "
              f"peak {f['peak_mb']:.0f} MB (target < 500 MB, independent of the rows)")


# ---- 4. JSONL and Parquet -------------------------------------------------------------

def formats_section(work: Path, rows: int) -> list[dict]:
    found = []
    for suffix in ("parquet", "jsonl"):
        source = work / f"seed.{suffix}"
        make_points(source, rows)
        outputs = [work / f"out.{suffix}", work / f"floor.{suffix}"]
        commands = {"floor": [sys.executable, "-c", FLOOR_SCRIPT, str(source), str(outputs[1])],
                    "adiff": [*adiff_command(), "batch", SEED, str(source), "-o", str(outputs[0]), "--quiet"]}
        turns = in_turns(commands, 7, outputs)
        found.append({"format": suffix, "rows": rows, "turns": turns,
                      **{name: median(times) for name, times in turns["wall"].items()},
                      **{name + "_best": min(times) for name, times in turns["wall"].items()},
                      **{name + "_cpu": median(times) for name, times in turns["cpu"].items()}})
    return found


def report_formats(found: list[dict]) -> None:
    print("4. other formats, in and out, as commands (7 runs each in turns: median, best; CPU median)")
    for f in found:
        print(f"   {f['format']:8} {f['rows']:,} rows: adiff {f['adiff']:.2f} s (best {f['adiff_best']:.2f}, "
              f"cpu {f['adiff_cpu']:.2f}); floor (Python, import Polars, read, write 9 columns) {f['floor']:.2f} s "
              f"(best {f['floor_best']:.2f}, cpu {f['floor_cpu']:.2f}): {f['adiff'] / f['floor']:.2f}x "
              f"(best {f['adiff_best'] / f['floor_best']:.2f}x, cpu {f['adiff_cpu'] / f['floor_cpu']:.2f}x; "
              f"target <= 1.3x for Parquet)")


def main() -> None:
    if sys.argv[1:2] == ["--make-points"]:
        make_points(Path(sys.argv[2]), int(sys.argv[3]), digits=6)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10^5 rows, no 10^7 run")
    parser.add_argument("--peers", metavar="PYTHON", help="a Python with jax[cpu] and pandas")
    parser.add_argument("--only", choices=["seed", "big", "stream", "formats"], action="append")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    options = parser.parse_args()
    rows = 100_000 if options.quick else 1_000_000
    parts = options.only or ["seed", "big", "stream", "formats"]
    # the commands run as an installed adiff does, from bytecode: where
    # PYTHONDONTWRITEBYTECODE is set, each run would compile adiff's modules again
    import compileall
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "autodiff_cli"), quiet=1)
    print(f"adiff batch benchmark: Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "(a shared machine: absolute times are noisy, ratios less so)")
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if "seed" in parts:
            results["seed"] = seed_section(work, rows, options.peers)
            report_seed(results["seed"])
        if "big" in parts:
            results["big"] = big_section()
            report_big(results["big"])
        if "stream" in parts:
            results["stream"] = stream_section(work, [rows] if options.quick else [1_000_000, 10_000_000])
            report_stream(results["stream"])
        if "formats" in parts:
            results["formats"] = formats_section(work, rows)
            report_formats(results["formats"])
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
