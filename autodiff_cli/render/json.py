"""The JSON document: strict JSON, with NaN and infinities as strings.

The document is written as it is made, one node per line, so a graph of a
million nodes never exists twice in memory (as dicts, then as one string).
"""

from __future__ import annotations

import json
import math
from typing import Iterable, Iterator, Optional, TextIO

from ..errors import AdiffError
from ..evaluator import Trace, edges
from ..graph import Graph

SCHEMA = 1


def number(x: Optional[float]):
    """A float as JSON allows it: NaN and ±Infinity become strings (protobuf's JSON mapping)."""
    if x is None or math.isfinite(x):
        return x
    return "NaN" if x != x else "Infinity" if x > 0 else "-Infinity"


def _nodes(graph: Graph, trace: Optional[Trace]) -> Iterator[dict]:
    jacobian = trace.jacobian if trace else None
    for node in graph.nodes:
        item = {"id": node.id, "op": node.op, "label": node.label, "inputs": list(node.inputs)}
        if node.call is not None:
            item["call"] = node.call
        item["value"] = number(trace.values[node.id]) if trace else None
        if jacobian is None:
            item["grad"] = number(trace.grads[node.id]) if trace else None
        else:   # a pass's value per output (reverse mode) or per input (forward mode)
            key = "grads" if jacobian.mode == "reverse" else "tangents"
            item[key] = {name: number(column[node.id]) for name, column in jacobian.columns.items()}
        yield item


def document(trace: Trace, program: str, wrt: Optional[Iterable[str]] = None) -> dict:
    """The eval document; its "nodes" is an iterator, consumed by `write`.

    A program of one output has "value" and "gradient"; one of several has
    "values" and "jacobian" (rows the outputs, columns the --wrt inputs)."""
    graph = trace.graph
    doc = {
        "schema": SCHEMA,
        "program": program,
        "inputs": {name: number(value) for name, value in trace.inputs.items()},
    }
    jacobian = trace.jacobian
    if graph.results:
        doc["values"] = {name: number(trace.values[node]) for name, node in graph.results.items()}
        doc["jacobian"] = {name: {x: number(g) for x, g in row.items()}
                           for name, row in jacobian.rows.items()}
    else:
        doc["value"] = number(trace.value)
        doc["gradient"] = {name: number(g) for name, g in trace.gradient(wrt).items()}
    if jacobian is not None:
        doc["mode"] = jacobian.mode
    if graph.results:
        doc["outputs"] = dict(graph.results)
    else:
        doc["output"] = graph.output
    doc["nodes"] = _nodes(graph, trace)
    doc["warnings"] = [w.to_json() for w in trace.warnings]
    return doc


def graph_document(graph: Graph, trace: Optional[Trace], program: str) -> dict:
    """Nodes and edges; with a trace, values, gradients, and each edge's local
    partial (with its text, as the pictures label the edge: ∂#2/∂x = 3) and its
    contribution to its input's gradient."""
    from .figure import partial_text
    return {
        "schema": SCHEMA,
        "program": program,
        "evaluated": trace is not None,
        "inputs": {name: number(trace.inputs[name]) if trace else None for name in graph.inputs},
        "value": number(trace.value) if trace else None,
        "output": graph.output,
        "nodes": _nodes(graph, trace),
        "edges": ({"from": e.source, "to": e.target, "position": e.position,
                   "partial": number(e.partial), "contribution": number(e.contribution),
                   "text": partial_text(graph, e)}
                  for e in edges(trace)) if trace else
                 ({"from": j, "to": node.id, "position": k, "partial": None, "contribution": None,
                   "text": ""}
                  for node in graph.nodes for k, j in enumerate(node.inputs)),
        "warnings": [w.to_json() for w in trace.warnings] if trace else [],
    }


def error_document(error: AdiffError) -> dict:
    return {"schema": SCHEMA, "error": error.to_json()}


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def write(doc: dict, file: TextIO) -> None:
    """Indented at the top level, one line per item of a list (or iterator)."""
    for position, (key, value) in enumerate(doc.items()):
        file.write(("{\n" if position == 0 else ",\n") + f"  {_dump(key)}: ")
        if isinstance(value, (list, Iterator)):
            empty = True
            for item in value:
                file.write(("[\n    " if empty else ",\n    ") + _dump(item))
                empty = False
            file.write("[]" if empty else "\n  ]")
        else:
            file.write(_dump(value))
    file.write("\n}\n")
