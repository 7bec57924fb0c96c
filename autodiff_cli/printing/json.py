"""The answer as data: definitions and derivatives as adiff expressions.

{"schema": 1, "program", "inputs", "wrt", "order", "definitions": [{"name",
"expr"}], "derivatives": {"x": ...}}, with "hessian" for second partials and
"values"/"hessian_values" when the caller evaluated the graph."""

from __future__ import annotations

import json
from typing import Optional

from ..render.json import SCHEMA, number
from .adiff import AdiffPrinter
from .layout import function_groups, order_of


def document(graph, inline: bool = False, program: Optional[str] = None, values=None,
             hessian: Optional[bool] = None) -> dict:
    groups = {g.kind: g for g in function_groups(graph, hessian)}
    if "hessian" in groups:
        first = groups["value_and_grad"].keys[1:]
        order = 2
    elif "derivatives" in groups:
        first = groups["derivatives"].keys
        order = order_of(graph)
    else:
        first = groups["value_and_grad"].keys[1:]
        order = 1
    second = groups["hessian"].keys if "hessian" in groups else []
    keys = list(first) + list(second)
    printer = AdiffPrinter(graph, keys or [()], inline=inline)
    definitions, expressions = [], {}
    outputs = {printer.output_names[k]: k for k in keys}
    for name, text, node in printer.statements():
        if printer.defined[node] and printer.names[node] == name:
            definitions.append({"name": name, "expr": text})
            text = name
        if name in outputs:
            expressions[outputs[name]] = text
    wrt = [k[0] for k in first] if first else (groups["hessian"].wrt if second else [])
    doc = {"schema": SCHEMA, "program": program, "inputs": list(graph.inputs), "wrt": wrt,
           "order": order, "definitions": definitions,
           "derivatives": {k[0]: expressions[k] for k in first}}
    if second:
        hwrt = groups["hessian"].wrt
        from .layout import hessian_key
        doc["hessian"] = {u: {v: expressions[hessian_key(second, u, v)] for v in hwrt} for u in hwrt}
    if values is not None:
        doc["values"] = {k[0]: number(values[graph.outputs[k]]) for k in first}
        if second:
            doc["hessian_values"] = {u: {v: number(values[graph.outputs[hessian_key(second, u, v)]])
                                         for v in hwrt} for u in hwrt}
    return doc


def render_graph(graph, **options) -> str:
    return json.dumps(document(graph, **{k: options[k] for k in
                                         ("inline", "program", "values", "hessian") if k in options}),
                      ensure_ascii=False, indent=2) + "\n"
