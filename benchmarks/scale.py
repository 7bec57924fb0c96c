"""Time and peak memory of adiff against program size (issue 4, section 3).

    python benchmarks/scale.py            # 10^4, 10^5 and 10^6 nodes
    python benchmarks/scale.py 1e4 3e5    # chosen sizes
    python benchmarks/scale.py --json-output   # also time writing the JSON document

Each size runs in a fresh subprocess so that its peak resident memory
(getrusage ru_maxrss) is its own.  The program is a sum of terms
`sin(x*i+w)`: five nodes a term (the constant i, x*i, +w, sin, and the
running sum), so its cost grows with the node count alone.  "bytes/node"
is (peak RSS - RSS after start-up and building the parser) / nodes: the
graph, the values and gradients, and the parser's transient state.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from autodiff_cli.parser import parse, _lark
try:
    from autodiff_cli.evaluator import evaluate
except ImportError:  # before the module's rename
    from autodiff_cli.evaluate import evaluate
_lark()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t1 = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8").read()
graph = parse(text, {"x": 0.5, "w": 0.1})
t2 = time.perf_counter()
trace = evaluate(graph, {"x": 0.5, "w": 0.1})
t3 = time.perf_counter()
out = 0.0
if sys.argv[2] == "1":
    import os
    from autodiff_cli.render import json as render_json
    with open(os.devnull, "w") as sink:
        if hasattr(render_json, "write"):  # main's streaming writer
            render_json.write(render_json.document(trace, sys.argv[1]), sink)
        else:
            sink.write(render_json.dumps(render_json.document(trace, sys.argv[1])))
t4 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"nodes": len(graph.nodes), "startup": t1 - t0, "parse": t2 - t1,
                  "evaluate": t3 - t2, "json": t4 - t3, "base_kb": base, "peak_kb": peak,
                  "value": trace.value}))
"""


def program(nodes: int) -> str:
    terms = max(1, nodes // 5)
    return "+".join(f"sin(x*{i}+w)" for i in range(1, terms + 1))


def measure(nodes: int, with_json: bool) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".adiff", delete=False, encoding="utf-8") as f:
        f.write(program(nodes))
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, f.name, "1" if with_json else "0"],
                              capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    return json.loads(done.stdout)


def main(argv: list[str]) -> None:
    with_json = "--json-output" in argv
    sizes = [int(float(a)) for a in argv if not a.startswith("--")] or [10**4, 10**5, 10**6]
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}, "
          f"{os.cpu_count()} CPUs; {platform.processor() or 'cpu unknown'}")
    header = f"{'nodes':>9} {'parse s':>8} {'eval s':>8} {'json s':>7} {'total s':>8} {'peak MB':>8} {'bytes/node':>10}"
    print(header)
    for size in sizes:
        r = measure(size, with_json)
        total = r["parse"] + r["evaluate"] + r["json"]
        per_node = (r["peak_kb"] - r["base_kb"]) * 1024 / r["nodes"]
        print(f"{r['nodes']:>9} {r['parse']:>8.2f} {r['evaluate']:>8.2f} {r['json']:>7.2f} "
              f"{total:>8.2f} {r['peak_kb'] / 1024:>8.0f} {per_node:>10.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
