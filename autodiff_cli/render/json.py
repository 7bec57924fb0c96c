"""The JSON document: strict JSON, with NaN and infinities as strings."""

from __future__ import annotations

import json
import math
from typing import Iterable, Optional

from ..errors import AdiffError
from ..evaluator import Trace

SCHEMA = 1


def number(x: Optional[float]):
    """A float as JSON allows it: NaN and ±Infinity become strings (protobuf's JSON mapping)."""
    if x is None or math.isfinite(x):
        return x
    return "NaN" if x != x else "Infinity" if x > 0 else "-Infinity"


def document(trace: Trace, program: str, wrt: Optional[Iterable[str]] = None) -> dict:
    graph = trace.graph
    return {
        "schema": SCHEMA,
        "program": program,
        "inputs": {name: number(value) for name, value in trace.inputs.items()},
        "value": number(trace.value),
        "gradient": {name: number(g) for name, g in trace.gradient(wrt).items()},
        "output": graph.output,
        "nodes": [{"id": node.id, "op": node.op, "label": node.label, "inputs": list(node.inputs),
                   "value": number(trace.values[node.id]), "grad": number(trace.grads[node.id])}
                  for node in graph.nodes],
        "warnings": [w.to_json() for w in trace.warnings],
    }


def error_document(error: AdiffError) -> dict:
    return {"schema": SCHEMA, "error": error.to_json()}


def dumps(doc: dict) -> str:
    """Indented at the top, one line per node: readable, and fast on big graphs
    (json's C encoder only runs without indent)."""
    def dump(value) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    fields = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            value = "[\n    " + ",\n    ".join(map(dump, value)) + "\n  ]"
        else:
            value = dump(value)
        fields.append(f"  {dump(key)}: {value}")
    return "{\n" + ",\n".join(fields) + "\n}"
