"""adiff explain --format html: one self-contained page that steps through
the forward and backward passes on the drawn graph.

The page is data plus a small player.  Python does all the work: it lays
the figure out (render/layout.py: Graphviz's dot when installed, else a
layered layout of adiff's own), draws it as inline SVG, and turns the
explanation into a list of steps, each with its line of text taken from
explain's own JSON document (so the page says exactly what `adiff explain`
prints) and the numbers it reveals, both as shown (6 digits) and at full
precision for `data-value` / `data-grad`.  page.js only replays the steps
up to the current one; page.css styles light and dark.  Nothing is fetched:
a Content-Security-Policy forbids every request, so the page works offline
and from file://.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Callable, Optional

from ..evaluator import Trace
from ..explain import Explanation, explain
from ..graph import CONST
from .explain import document, number_text, text as explain_text
from .figure import figure
from .json import number as json_number
from .layout import Placement, Shape, layout

MAX_PAGE_NODES = 200     # beyond this a drawing is a hairball; the page says so instead
FONT = 14.0              # px, monospace: 0.6 em a character
CHAR = 0.6 * FONT
LINE = 17.0

CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "img-src 'none'; connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _full(x: Optional[float]) -> Optional[str]:
    """A number as the JSON output writes it: 4.0, 0.1, -0.9640275800758169, "NaN"."""
    if x is None:
        return None
    value = json_number(x)
    return value if isinstance(value, str) else json.dumps(value)


def _shown(x: Optional[float]) -> str:
    return "" if x is None else number_text(x)


def too_large(trace: Trace) -> bool:
    return len(trace.graph.nodes) > MAX_PAGE_NODES


def page(trace: Trace, program: str, warnings=(), engine: str = "auto",
         note: Optional[Callable[[str], None]] = None, forward_mode: Optional[list] = None) -> str:
    """The whole page.  A program of more than MAX_PAGE_NODES nodes gets a
    page that says why it shows no graph (the caller warns on stderr).
    `note` hears why the layout is not Graphviz's when it could have been."""
    if too_large(trace):
        return _too_large_page(trace, program)
    explanation = explain(trace, max_steps=0)
    return _page(explanation, program, warnings, engine, note, forward_mode)


# ---- the steps ------------------------------------------------------------------

def steps(explanation: Explanation, program: str, warnings=()) -> list[dict]:
    """Start, one step per forward line, per backward line, and the gradient."""
    x = explanation
    graph = x.graph
    doc = document(x, program, warnings)
    out: list[dict] = [{"kind": "start", "section": "Start",
                        "text": "Nothing is computed yet. Next (→ or Space) starts the forward pass."}]
    defined: dict[int, str] = {}
    for item in doc["forward"]:
        node = item["node"]
        value = x.trace.values[node]
        if "expression" in item:
            defined[node] = f"{item['name']} = {item['expression']}"
        out.append({"kind": "forward", "section": "Forward pass", "text": item["text"], "node": node,
                    "inputs": item.get("inputs", []), "value": [_full(value), _shown(value)]})

    so_far: dict[int, list[float]] = {}
    for item in doc["backward"]:
        kind = item["kind"]
        step = {"kind": kind, "section": "Backward pass", "text": item["text"]}
        if kind == "seed":
            node = item["node"]
            step.update(node=node, grad=[_full(1.0), _shown(1.0)],
                        detail=[f"The output {x.output} changes one for one with itself: the seed is 1."])
        elif kind == "edge":
            z, u, k = item["node"], item["input"], item["position"]
            upstream, local, contribution = (float(item[key]) for key in ("upstream", "local", "contribution"))
            names = x.names
            top, below = x.output, names[u] if names[u] is not None else graph.nodes[u].label
            factor = _shown(local) if local >= 0 or local != local else f"({_shown(local)})"
            step.update(node=u, edge=[z, k], context=f"at {defined.get(z, names[z])}",
                        contribution=_shown(contribution),
                        product=f"{_shown(upstream)} × {factor} = {_shown(contribution)}")
            step["detail"] = [
                f"upstream ∂{top}/∂{names[z]} = {_shown(upstream)}",
                f"× local {item['local_symbol']} = "
                + " = ".join(dict.fromkeys((item["formula"], item["substituted"], _shown(local)))),
                f"= contribution {_shown(contribution)} to ∂{top}/∂{below}"]
            if item["fork"]:
                parts = so_far.setdefault(u, [])
                parts.append(contribution)
                step["partial"] = _running(parts) + " + …"
                step["detail"].append(f"∂{top}/∂{below} so far: {_running(parts)} + … "
                                      "(the sum follows the last path)")
            else:
                step["grad"] = [_full(x.trace.grads[u]), _shown(x.trace.grads[u])]
        elif kind == "sum":
            u = item["node"]
            grad = x.trace.grads[u]
            step.update(node=u, grad=[_full(grad), _shown(grad)],
                        via=[[p["via"], p["position"]] for p in item["parts"]],
                        detail=[f"{len(item['parts'])} paths meet at {item['name']}: "
                                "its gradient is the sum of their contributions"])
        else:   # omitted: not produced with max_steps=0, kept for safety
            step["kind"] = "note"
        out.append(step)

    # the gradient as explain's text ends: its lines after the "Gradient" heading
    lines = explain_text(x).rstrip("\n").split("\n")
    if "Gradient" in lines:
        gradient_lines = [line.strip() for line in lines[lines.index("Gradient") + 1:]]
    else:   # the text changed its headings: say the same from the numbers
        gradient_lines = [f"∂{x.output}/∂{name} = {_shown(value)}" for name, value in doc["gradient"].items()]
    grads = {}
    for input_name, node in graph.inputs.items():
        grads[node] = [_full(x.trace.grads[node]), _shown(x.trace.grads[node])]
    out.append({"kind": "gradient", "section": "Gradient", "text": "\n".join(gradient_lines),
                "grads": grads})
    return out


def tangent_steps(explanation: Explanation, program: str, warnings, wrt: list[str]) -> list[dict]:
    """Forward mode: start and the forward pass, then per input of `wrt` a
    tangent pass (each node's tangent, drawn where the gradient is drawn in
    reverse mode), then the work of the two modes compared."""
    from ..explain import Omitted, Tangent, tangent_pass
    from .explain import _Lines, dotted, tangent_lines, work_lines
    x = explanation
    out = [step for step in steps(x, program, warnings) if step["kind"] in ("start", "forward")]
    lines = _Lines(x, latex=False)
    names = x.names
    for n, name in enumerate(wrt, 1):
        out.append({"kind": "tangents", "section": f"Forward mode, pass {n} of {len(wrt)}",
                    "text": f"Seed {dotted(name)} = 1 and every other input's tangent 0: each node's "
                            f"tangent is then its derivative ∂·/∂{name}."})
        passed, value = tangent_pass(x, name)
        for step, line in zip(passed, tangent_lines(lines, passed)):
            if isinstance(step, Omitted):
                continue
            node = x.graph.nodes[step.node]
            t = step.value if not isinstance(step, Tangent) else step.tangent
            item = {"kind": "tangent", "section": f"Forward mode, pass {n} of {len(wrt)}", "text": line,
                    "node": step.node, "tangent": [_full(t), _shown(t)],
                    "inputs": list(node.inputs)}
            if isinstance(step, Tangent):
                item["detail"] = [f"{dotted(names[j])} · ∂{names[step.node]}/∂{names[j]} = "
                                  f"{_shown(tj)} × {_shown(local)}" for j, _, local, tj in step.terms]
            out.append(item)
        out.append({"kind": "tangent", "section": f"Forward mode, pass {n} of {len(wrt)}",
                    "text": f"∂{x.output}/∂{name} = {dotted(x.output)} = {_shown(value)}",
                    "node": x.graph.output, "tangent": [_full(value), _shown(value)], "inputs": []})
    out.append({"kind": "note", "section": "The work", "text": "\n".join(work_lines(len(x.graph.inputs)))})
    return out


def _running(parts: list[float]) -> str:
    """3 + 3: the contributions received so far at a fork."""
    text = _shown(parts[0])
    for p in parts[1:]:
        text += f" − {_shown(-p)}" if p < 0 else f" + {_shown(p)}"
    return text


# ---- the drawing ------------------------------------------------------------------

def _text_width(lines: list[str]) -> float:
    return max((len(t) for t in lines), default=1) * CHAR


def _drawing(x: Explanation, plan: list[dict], engine: str) -> tuple[str, Placement]:
    graph = x.graph
    fig = figure(graph)
    labels: dict[int, str] = {}
    longest: dict[int, list[str]] = {}
    for value in fig.values:
        node = graph.nodes[value.node]
        label = x.names[value.node] if x.names[value.node] is not None else node.label
        labels[value.node] = label
        longest[value.node] = [label]
    for step in plan:
        if "value" in step:
            longest[step["node"]].append("= " + step["value"][1])
        if "grad" in step:
            longest[step["node"]].append("grad " + step["grad"][1])
        if "partial" in step:
            longest[step["node"]].append("grad " + step["partial"])
        for node, grad in step.get("grads", {}).items():
            longest[node].append("grad " + grad[1])
        if "tangent" in step:
            longest[step["node"]].append("tangent " + step["tangent"][1])
    # a constant is drawn as written, with no steps of its own, unless it is the output
    constants = {n.id for n in graph.nodes if n.op == CONST and n.id != graph.output}
    for node in constants:
        longest[node] = [labels[node]]

    shapes: list[Shape] = []
    for value in fig.values:
        texts = longest[value.node]
        rows = 1 if value.node in constants else 3
        shapes.append(Shape(value.id, _text_width(texts) * 1.3 + 18, rows * LINE * 1.25 + 14, True))
    for box in fig.boxes:
        shapes.append(Shape(box.id, _text_width([box.text]) + 22, LINE + 14, False))
    arrows = [(a.source, a.target) for a in fig.arrows]
    placement = layout(shapes, arrows, engine)

    e = html.escape
    out = [f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {placement.width:.1f} '
           f'{placement.height:.1f}" width="{placement.width:.0f}" height="{placement.height:.0f}" '
           f'data-layout="{placement.engine}" role="img" aria-labelledby="graph-title" '
           f'style="--natural-width:{placement.width:.0f}px">',
           '<title id="graph-title">The computational graph: values as ellipses, operations as '
           'boxes, edges in the direction of computation</title>',
           '<defs>'
           '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path class="arrowhead" d="M0,0 L10,5 L0,10 z"/></marker>'
           '<marker id="arrow-used" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path class="arrowhead used" '
           'd="M0,0 L10,5 L0,10 z"/></marker>'
           '<marker id="arrow-active" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
           'markerHeight="6" orient="auto-start-reverse"><path class="arrowhead active" '
           'd="M0,0 L10,5 L0,10 z"/></marker></defs>',
           '<g class="edges">']
    # input arrows are numbered by (operation, position): x·x has two
    seen: dict[int, int] = {}
    for arrow, path in zip(fig.arrows, placement.paths):
        d = "M{:.1f},{:.1f}".format(*path[0]) + "".join(
            " C{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}".format(*path[i], *path[i + 1], *path[i + 2])
            for i in range(1, len(path) - 2, 3))
        if arrow.source.startswith("op"):
            node = int(arrow.target[1:])
            ident = f'id="r{node}" class="edge result" data-node-edge="{node}"'
        else:
            z = int(arrow.target[2:])
            k = seen.get(z, 0)
            seen[z] = k + 1
            ident = (f'id="e{z}-{k}" class="edge input" data-from="{arrow.source[1:]}" '
                     f'data-to="{z}" data-position="{k}"')
        out.append(f'<g {ident}><path d="{d}" marker-end="url(#arrow)"/></g>')
    out.append('</g><g class="nodes">')
    for box in fig.boxes:
        cx, cy = placement.centres[box.id]
        shape = next(s for s in shapes if s.id == box.id)
        out.append(f'<g id="{box.id}" class="op" data-op="{box.node}">'
                   f'<rect x="{cx - shape.width / 2:.1f}" y="{cy - shape.height / 2:.1f}" '
                   f'width="{shape.width:.1f}" height="{shape.height:.1f}" rx="4"/>'
                   f'<text x="{cx:.1f}" y="{cy:.1f}">{e(box.text)}</text></g>')
    by_id = {s.id: s for s in shapes}
    for value in fig.values:
        cx, cy = placement.centres[value.id]
        shape = by_id[value.id]
        node = graph.nodes[value.node]
        constant = value.node in constants
        attrs = f'id="{value.id}" class="value {value.kind}" data-node="{value.node}"'
        if constant:
            attrs += f' data-value="{e(_full(node.constant) or "")}"'
        out.append(f'<g {attrs}><ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{shape.width / 2:.1f}" '
                   f'ry="{shape.height / 2:.1f}"/>')
        if constant:
            out.append(f'<text class="name" x="{cx:.1f}" y="{cy:.1f}">{e(labels[value.node])}</text>')
        else:
            out.append(f'<text class="name" x="{cx:.1f}" y="{cy - LINE:.1f}">{e(labels[value.node])}</text>'
                       f'<text class="val" x="{cx:.1f}" y="{cy:.1f}"></text>'
                       f'<text class="grad" x="{cx:.1f}" y="{cy + LINE:.1f}"></text>')
        out.append("</g>")
    # the edges' numbers on top of everything, each beside its edge once placed
    out.append('</g><g class="labels" aria-hidden="true">')
    out += [f'<text class="edge-label" id="l{z}-{k}"></text>'
            for z, count in seen.items() for k in range(count)]
    out.append("</g></svg>")
    return "".join(out), placement


# ---- the page -----------------------------------------------------------------------

def _script_json(data) -> str:
    """JSON inside <script>: no </script> or <!-- can end it early."""
    return (json.dumps(data, ensure_ascii=False, allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _shell(title: str, body: str, script: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="en" data-step="0">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="color-scheme" content="light dark">\n'
            f'<title>{html.escape(title)}</title>\n<style>\n{_asset("page.css")}</style>\n</head>\n'
            f'<body>\n{body}\n{script}</body>\n</html>\n')


def _short(program: str, limit: int = 80) -> str:
    one_line = " ".join(program.split())
    return one_line if len(one_line) <= limit else one_line[:limit - 1] + "…"


def _page(x: Explanation, program: str, warnings, engine: str, note, forward_mode=None) -> str:
    plan = (steps(x, program, warnings) if forward_mode is None
            else tangent_steps(x, program, warnings, forward_mode))
    svg, placement = _drawing(x, plan, engine)
    if placement.note and note is not None:
        note(placement.note)
    e = html.escape
    items = []
    for k, step in enumerate(plan):
        context = f'<span class="context">{e(step["context"])}</span>' if "context" in step else ""
        items.append(f'<li><button type="button" data-goto="{k}" tabindex="-1">{context}'
                     f'<span class="line">{e(step["text"])}</span></button></li>')
    warning_list = "".join(f"<li>{e(w.message)}</li>" for w in warnings)
    body = f"""<header>
<h1>adiff explain <code class="program">{e(_short(program))}</code></h1>
<p class="lead">The forward pass computes each value from left to right; the backward pass
sends the gradient ∂{e(x.output)}/∂· back along each edge: upstream gradient × local derivative,
summed where a value feeds several operations.</p>
{f'<ul class="warnings">{warning_list}</ul>' if warning_list else ''}
</header>
<main>
<div class="side">
<section class="panel" aria-label="Current step">
<p class="where"><span id="section">Start</span> · <span id="counter">step 0 of {len(plan) - 1}</span></p>
<div id="now" aria-live="polite" aria-atomic="true">
<p id="context"></p>
<p id="line"></p>
<ul id="detail"></ul>
</div>
<div class="controls" role="group" aria-label="Stepping">
<button type="button" id="first" aria-keyshortcuts="Home" title="First (Home)">« First</button>
<button type="button" id="prev" aria-keyshortcuts="ArrowLeft" title="Previous (←)">◀ Back</button>
<button type="button" id="play" aria-keyshortcuts="P" aria-pressed="false" title="Play or pause (P)">▶ Play</button>
<button type="button" id="next" aria-keyshortcuts="ArrowRight Space" title="Next (→ or Space)">Next ▶</button>
<button type="button" id="last" aria-keyshortcuts="End" title="Last (End)">Last »</button>
</div>
<p class="keys">Keys: → or Space next, ← back, Home first, End last, P play/pause; F fits the graph, + and − zoom.</p>
</section>
<section class="steps" aria-label="All steps">
<h2>All steps</h2>
<ol id="steps" start="0">{''.join(items)}</ol>
</section>
</div>
<section class="figure" aria-label="Graph">
<div id="scroller" tabindex="0" aria-label="The graph; scroll or drag to see all of it">{svg}</div>
<div class="zoom" role="group" aria-label="Graph size">
<button type="button" id="fit" aria-keyshortcuts="F" title="Fit the whole graph in view (F)">Fit</button>
<button type="button" id="zoom-out" aria-keyshortcuts="-" title="Smaller (−)" aria-label="Smaller">−</button>
<button type="button" id="zoom-in" aria-keyshortcuts="+" title="Larger (+)" aria-label="Larger">+</button>
<span class="keys">drag to move it</span>
</div>
<p class="legend"><span class="key input">input</span> <span class="key computed">value</span>
<span class="key output">output</span> <span class="key op">operation</span>
<span class="key active">current step</span>
<span class="edges-key">A number on an edge is what the gradient gains along it: upstream gradient × local derivative.</span></p>
</section>
</main>
<footer><p>Made by <code>adiff explain --format html</code>; laid out by {"Graphviz" if placement.engine == "graphviz" else "adiff's layered layout"}. Works offline.</p></footer>"""
    script = (f'<script type="application/json" id="adiff-steps">{_script_json(plan)}</script>\n'
              f'<script>\n{_asset("page.js")}</script>\n')
    return _shell(f"adiff explain: {_short(program, 60)}", body, script)


def _too_large_page(trace: Trace, program: str) -> str:
    count = len(trace.graph.nodes)
    body = f"""<header><h1>adiff explain <code class="program">{html.escape(_short(program))}</code></h1></header>
<main><section class="panel too-large" role="alert">
<h2>Too large to draw</h2>
<p>This program has {count:,} nodes; a page can show about {MAX_PAGE_NODES} before the
drawing becomes unreadable, so this page shows no graph.</p>
<p>The steps are still there as text: <code>adiff explain PROGRAM --max-steps 0</code>
prints every one, and <code>--format json</code> gives them as data.</p>
</section></main>"""
    return _shell(f"adiff explain: {_short(program, 60)}", body)


def too_large_message(trace: Trace) -> str:
    return (f"the program has {len(trace.graph.nodes):,} nodes, more than a page can draw "
            f"readably ({MAX_PAGE_NODES}); the page says so and shows no graph "
            "(adiff explain --format text shows the steps)")
