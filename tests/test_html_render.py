"""adiff explain --format html without a browser: the command, the layouts, the limits."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
from html.parser import HTMLParser

import pytest

from autodiff_cli import evaluate
from autodiff_cli.render import html as page_module
from autodiff_cli.render.layout import crossed_ranks, layered, layout

SEED = ("(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.nodes: dict[str, dict] = {}
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-node" in attrs:
            self.nodes[attrs["data-node"]] = attrs
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def parse_page(text: str) -> _Collect:
    collected = _Collect()
    collected.feed(text)
    return collected


def test_html_page_goes_to_stdout_with_a_node_element_per_node(run_cli):
    code, out, err = run_cli("explain", *SEED, "--format", "html")
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    page = parse_page(out)
    assert sorted(page.nodes, key=int) == [str(i) for i in range(9)]
    # before the first step only the constant 2 has a value; nothing has a gradient
    assert {k for k, a in page.nodes.items() if "data-value" in a} == {"7"}
    assert not any("data-grad" in a for a in page.nodes.values())
    assert '<html lang="en" data-step="0">' in out


def test_steps_carry_explains_lines_and_full_precision_numbers(run_cli):
    _, out, _ = run_cli("explain", "tanh(a*b)", "--a", "1", "--b", "-2", "--format", "html")
    steps = json.loads(re.search(r'<script type="application/json" id="adiff-steps">(.*?)</script>',
                                 out, re.S).group(1))
    _, text, _ = run_cli("explain", "tanh(a*b)", "--a", "1", "--b", "-2")
    lines = [line.strip() for line in text.splitlines()
             if line.startswith("  ") and not line.strip().startswith("at ")]
    shown = [s["text"] for s in steps if s["kind"] in ("forward", "seed", "edge", "sum")]
    gradient = steps[-1]["text"].split("\n")
    assert shown + gradient == lines
    value = next(s for s in steps if s["kind"] == "forward" and s["node"] == 3)["value"]
    assert float(value[0]) == math.tanh(-2.0) and value[1] == "−0.964028"


def test_output_file_is_written_and_stdout_stays_empty(run_cli, tmp_path):
    target = tmp_path / "seed.html"
    code, out, err = run_cli("explain", *SEED, "--format", "html", "-o", str(target))
    assert code == 0 and out == ""
    assert f"wrote {target}" in err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_output_file_works_for_the_other_formats_too(run_cli, tmp_path):
    target = tmp_path / "seed.json"
    code, out, _ = run_cli("explain", *SEED, "--format", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["gradient"] == {"x": 12, "w": 8, "b": 4, "y": -4}


def test_unwritable_output_file_is_one_clear_error(run_cli, tmp_path):
    code, out, err = run_cli("explain", *SEED, "--format", "html", "-o", str(tmp_path / "no" / "p.html"))
    assert code == 1 and out == ""
    assert err.startswith("adiff: error: cannot write") and "Traceback" not in err


def test_too_large_program_gives_a_warning_and_a_page_that_says_so(run_cli):
    program = "+".join(f"x*{i}" for i in range(1, 120))
    code, out, err = run_cli("explain", program, "--x", "1", "--format", "html")
    assert code == 0
    assert "more than a page can draw" in err and "(200)" in err
    assert "Too large to draw" in out and "<svg" not in out
    assert "default-src 'none'" in out


def test_program_text_cannot_break_out_of_the_page(run_cli):
    program = "x*2 # </script><img src=x onerror=alert(1)> & <!--"
    code, out, _ = run_cli("explain", program, "--x", "1", "--format", "html")
    assert code == 0
    assert "<img" not in out and "<!--" not in out
    assert out.count("</script>") == 2     # the steps' JSON and the player, each closed once


def test_non_finite_values_appear_as_in_json(run_cli):
    code, out, err = run_cli("explain", "log(x)", "--x", "0", "--format", "html")
    assert code == 0, err
    steps = json.loads(re.search(r'id="adiff-steps">(.*?)</script>', out, re.S).group(1))
    forward = [s for s in steps if s["kind"] == "forward"]
    assert forward[-1]["value"] == ["-Infinity", "−∞"]


# ---- layouts -------------------------------------------------------------------------

def _figure_of(program: str, **point):
    """The shapes and edges the page lays out, through the page's own drawing code."""
    captured = {}

    def capture(shapes, edges, engine):
        captured["shapes"], captured["edges"] = shapes, edges
        return layered(shapes, edges)

    original = page_module.layout
    page_module.layout = capture
    try:
        page_module.page(evaluate(program, **point), program)
    finally:
        page_module.layout = original
    return captured["shapes"], captured["edges"]


PROGRAMS = [("(x*w+b-y)^2", dict(x=2, w=3, b=1, y=5)), ("(x+y)*(x+y)", dict(x=1, y=2)),
            ("x*x", dict(x=3)), ("sin(x)*exp(-x) + x^3 - 2", dict(x=0.5)), ("x", dict(x=1)),
            ("3", {})]


def _check_placement(shapes, edges, placement):
    by_id = {s.id: s for s in shapes}
    assert set(placement.centres) == set(by_id)
    for s in shapes:    # inside the canvas
        cx, cy = placement.centres[s.id]
        assert s.width / 2 - 1 <= cx <= placement.width - s.width / 2 + 1
        assert s.height / 2 - 1 <= cy <= placement.height - s.height / 2 + 1
    for a in shapes:    # no two shapes overlap
        for b in shapes:
            if a.id < b.id:
                (ax, ay), (bx, by) = placement.centres[a.id], placement.centres[b.id]
                assert (abs(ax - bx) >= (a.width + b.width) / 2 - 1
                        or abs(ay - by) >= (a.height + b.height) / 2 - 1), (a.id, b.id)
    assert len(placement.paths) == len(edges)
    for (source, target), path in zip(edges, placement.paths):
        assert len(path) % 3 == 1 and len(path) >= 4
        # in the direction of computation: left to right
        assert placement.centres[source][0] < placement.centres[target][0]
        # from near the source's outline to near the target's
        for end, shape in ((path[0], by_id[source]), (path[-1], by_id[target])):
            cx, cy = placement.centres[shape.id]
            dx, dy = end[0] - cx, end[1] - cy
            if shape.ellipse:
                r = (dx / (shape.width / 2)) ** 2 + (dy / (shape.height / 2)) ** 2
                assert 0.8 <= r <= 1.3, (shape.id, r)
            else:
                assert abs(dx) <= shape.width / 2 + 8 and abs(dy) <= shape.height / 2 + 8


@pytest.mark.parametrize("program, point", PROGRAMS)
def test_layered_layout_places_shapes_apart_and_edges_left_to_right(program, point):
    shapes, edges = _figure_of(program, **point)
    placement = layered(shapes, edges)
    assert placement.engine == "layered"
    _check_placement(shapes, edges, placement)


@pytest.mark.parametrize("program, point", PROGRAMS)
def test_graphviz_layout_has_the_same_shape(program, point):
    if shutil.which("dot") is None:
        pytest.fail("Graphviz's dot is needed for this test: apt-get install graphviz", pytrace=False)
    shapes, edges = _figure_of(program, **point)
    placement = layout(shapes, edges, "dot")
    assert placement.engine == "graphviz"
    _check_placement(shapes, edges, placement)


def test_layered_layout_is_used_without_graphviz(monkeypatch, run_cli):
    monkeypatch.setenv("PATH", "")
    code, out, _ = run_cli("explain", *SEED, "--format", "html")
    assert code == 0 and 'data-layout="layered"' in out
    assert "laid out by adiff's layered layout" in out


def test_a_failing_dot_falls_back_to_the_layered_layout(tmp_path, monkeypatch, run_cli):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'dot: broken' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run_cli("explain", *SEED, "--format", "html")
    assert code == 0 and 'data-layout="layered"' in out
    assert "adiff: note: Graphviz's dot failed" in err


def test_graphs_dot_would_take_minutes_on_go_to_the_layered_layout():
    shapes, edges = _figure_of("*".join(["x"] * 60), x=1.01)
    assert crossed_ranks(shapes, edges) > 1000
    notes = []
    placement_engine = re.search(r'data-layout="(\w+)"', page_module.page(
        evaluate("*".join(["x"] * 60), x=1.01), "x*...", note=notes.append)).group(1)
    assert placement_engine == "layered"
    if shutil.which("dot"):
        assert notes and "Graphviz would take minutes" in notes[0]


def test_layered_layout_has_no_crossings_on_a_tree():
    program = "(a*b + c*d) * (e*f + g*h)"
    shapes, edges = _figure_of(program, **{k: 1.0 for k in "abcdefgh"})
    placement = layered(shapes, edges)
    # every edge between adjacent columns: count crossings of straight segments
    segments = [(placement.centres[s], placement.centres[t]) for s, t in edges]
    crossings = 0
    for i, ((a0, a1)) in enumerate(segments):
        for (b0, b1) in segments[i + 1:]:
            if a0[0] == b0[0] and a1[0] == b1[0] and (a0[1] - b0[1]) * (a1[1] - b1[1]) < 0:
                crossings += 1
    assert crossings == 0


def test_assets_ship_inside_the_package():
    from importlib import resources
    files = resources.files("autodiff_cli.render")
    assert "function" in files.joinpath("page.js").read_text(encoding="utf-8")
    assert "prefers-color-scheme: dark" in files.joinpath("page.css").read_text(encoding="utf-8")


def test_page_module_is_not_imported_at_startup():
    import subprocess
    import sys
    code = ("import sys, autodiff_cli.cli; "
            "print(any(m.endswith(('render.html', 'render.layout')) for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ})
    assert result.stdout.strip() == "False"
