"""adiff explain --format html, in a real browser: headless Chromium driven by Playwright.

The test opens each page from file://, steps through every step with the
keyboard, and at each step compares what the page shows (the current line,
each node's data-value / data-grad and the numbers drawn in it, the edge
being used and its contribution) with `adiff explain --format json` and with
`adiff graph --format json`, run as commands.  The final gradients are
checked against numbers computed here independently (the article's 12, 8,
4, −4; 2(x+y) for the fork; central finite differences of the two-layer
network written out in Python).  No console error, no request but the file.

Chromium is the system's (Debian: apt-get install chromium); Playwright's
own browser download is not needed.  Missing either fails with a message.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADIFF = [sys.executable, "-m", "autodiff_cli"]
SEED = ("(x*w+b-y)^2", "--x", "2", "--w", "3", "--b", "1", "--y", "5")
FORK = ("(x+y)*(x+y)", "--x", "1", "--y", "2")
TWO_LAYER = ("-f", str(ROOT / "samples" / "two_layer.adiff"))


def _chromium() -> str:
    for candidate in (os.environ.get("ADIFF_CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome", "google-chrome-stable"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    pytest.fail("the html page's tests need a Chromium: apt-get install chromium "
                "(or set ADIFF_CHROMIUM to a Chromium or Chrome executable)", pytrace=False)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the html page's tests need Playwright for Python: pip install playwright "
                    "(it is in the test extra: pip install -e '.[test]')", pytrace=False)
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def adiff(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([*ADIFF, *args], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def make_page(tmp_path: Path, program: tuple, hide_graphviz: bool = False) -> Path:
    target = tmp_path / ("layered.html" if hide_graphviz else "page.html")
    env = None
    if hide_graphviz:
        empty = tmp_path / "empty-path"
        empty.mkdir(exist_ok=True)
        env = {**os.environ, "PATH": str(empty)}
    adiff("explain", *program, "--format", "html", "-o", str(target), env=env)
    return target


def number(text: str) -> float:
    """A number as the page shows it (6 digits, − for minus)."""
    text = text.strip().replace("−", "-").replace("∞", "inf")
    return float(text)


def close(a: float, b: float, rel: float = 1e-5) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def full(value) -> float:
    """A JSON number, or one of its strings for NaN and infinities."""
    return float(value)


class Watched:
    """A page with its console errors and requests recorded."""

    def __init__(self, browser, path: Path, width: int = 1280, scheme: str = "light", height: int = 900):
        self.page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def state(self) -> dict:
        return self.page.evaluate("""() => {
            const nodes = {};
            document.querySelectorAll('[data-node]').forEach(g => {
                const text = c => { const t = g.querySelector('text.' + c); return t ? t.textContent : ''; };
                nodes[g.dataset.node] = {value: g.getAttribute('data-value'), grad: g.getAttribute('data-grad'),
                                         shownValue: text('val'), shownGrad: text('grad'),
                                         constant: g.classList.contains('const')};
            });
            const active = [...document.querySelectorAll('g.edge.input.active')].map(
                e => [+e.dataset.to, +e.dataset.position, document.getElementById('l' + e.id.slice(1)).textContent]);
            return {step: +document.documentElement.dataset.step, line: document.getElementById('line').textContent,
                    nodes, active};
        }""")

    def close(self):
        self.page.close()


def expected_steps(program: tuple) -> tuple[list[dict], dict, str]:
    doc = json.loads(adiff("explain", *program, "--format", "json", "--max-steps", "0").stdout)
    graph = json.loads(adiff("graph", *program, "--format", "json").stdout)
    text = adiff("explain", *program, "--max-steps", "0").stdout
    gradient_lines = text.split("\nGradient\n", 1)[1].rstrip("\n").split("\n")
    gradient_text = "\n".join(line.strip() for line in gradient_lines)
    steps = [{"kind": "start"}] + doc["forward"] + doc["backward"] + [
        {"kind": "gradient", "text": gradient_text, "gradient": doc["gradient"]}]
    return steps, graph, doc["output"]["name"]


def walk(watched: Watched, program: tuple, screenshot_at: str | None = None) -> dict:
    """Step through every step with the keyboard, checking each against the JSON.
    With ADIFF_SCREENSHOT=FILE.png, the page is photographed at the step whose
    line starts with `screenshot_at` (the README's picture)."""
    steps, graph, _ = expected_steps(program)
    nodes = {n["id"]: n for n in graph["nodes"]}
    inputs = {n["label"]: n["id"] for n in graph["nodes"] if n["op"] == "var"}
    values: dict[int, float] = {}
    grads: dict[int, float] = {}
    fork_parts: dict[int, list[float]] = {}
    keys = ["ArrowRight", " "]
    for k, step in enumerate(steps):
        if k:
            watched.page.keyboard.press(keys[k % 2])
        state = watched.state()
        assert state["step"] == k
        target = os.environ.get("ADIFF_SCREENSHOT")
        if target and screenshot_at and step.get("text", "").startswith(screenshot_at):
            watched.page.wait_for_timeout(500)    # let the colour transitions finish
            watched.page.screenshot(path=target)
        kind = step["kind"]
        if kind == "forward" or kind in ("input", "operation"):
            values[step["node"]] = full(step["value"])
        if kind in ("input", "operation"):
            assert state["line"] == step["text"]
        elif kind == "seed":
            assert state["line"] == step["text"]
            grads[step["node"]] = 1.0
        elif kind == "edge":
            assert state["line"] == step["text"]
            # the edge being used is highlighted, labelled with its contribution
            assert [a[:2] for a in state["active"]] == [[step["node"], step["position"]]], state["active"]
            # upstream × local = contribution, as numbers on the edge itself
            upstream, local, contribution = re.fullmatch(r"(.+) × \(?(.+?)\)? = (.+)",
                                                         state["active"][0][2]).groups()
            assert close(number(upstream), full(step["upstream"]))
            assert close(number(local), full(step["local"]))
            assert close(number(contribution), full(step["contribution"]))
            assert close(full(step["contribution"]), full(step["upstream"]) * full(step["local"]))
            if step["fork"]:
                fork_parts.setdefault(step["input"], []).append(full(step["contribution"]))
                shown = state["nodes"][str(step["input"])]["shownGrad"]
                assert shown.startswith("grad ") and shown.endswith("+ …"), shown
            else:
                grads[step["input"]] = full(step["contribution"])
        elif kind == "sum":
            assert state["line"] == step["text"]
            parts = fork_parts.pop(step["node"])
            assert len(parts) == len(step["parts"]) >= 2
            assert close(sum(parts), full(step["gradient"]))
            grads[step["node"]] = full(step["gradient"])
            for via, position in ((p["via"], p["position"]) for p in step["parts"]):
                assert [via, position] in [a[:2] for a in state["active"]]
        elif kind == "gradient":
            assert state["line"] == step["text"]
            for name, value in step["gradient"].items():
                grads[inputs[name]] = full(value)
        for node, shown in state["nodes"].items():
            node = int(node)
            if shown["constant"]:
                assert close(full(shown["value"]), full(nodes[node]["value"]))
                continue
            if node in values:
                assert shown["value"] is not None and close(full(shown["value"]), values[node], rel=0)
                assert close(number(shown["shownValue"].removeprefix("= ")), values[node])
            else:
                assert shown["value"] is None and shown["shownValue"] == "", (k, node, shown)
            if node in grads:
                assert shown["grad"] is not None and close(full(shown["grad"]), grads[node], rel=0)
                assert close(number(shown["shownGrad"].removeprefix("grad ")), grads[node])
                # and the evaluator's own gradient, from adiff graph --format json
                assert close(grads[node], full(nodes[node]["grad"]), rel=1e-12)
            else:
                assert shown["grad"] is None, (k, node, shown)
    # the keys that go back and jump
    last = len(steps) - 1
    for key, expected in (("End", last), ("ArrowLeft", last - 1), ("Home", 0), ("ArrowLeft", 0),
                          ("End", last), ("ArrowRight", last)):
        watched.page.keyboard.press(key)
        assert watched.state()["step"] == expected, key
    assert not fork_parts
    assert watched.errors == []
    assert watched.requests == [watched.url]
    return {name: grads[node] for name, node in inputs.items()}


def two_layer_gradient() -> dict[str, float]:
    """Central finite differences of the 2-2-1 network, written out here."""
    point = dict(x1=1.0, x2=-2.0, t=0.5, w11=0.1, w12=-0.3, w21=0.4, w22=0.2, b1=0.0, b2=0.1,
                 v1=0.7, v2=-0.5, c=0.05)

    def loss(p):
        h1 = math.tanh(p["w11"] * p["x1"] + p["w12"] * p["x2"] + p["b1"])
        h2 = math.tanh(p["w21"] * p["x1"] + p["w22"] * p["x2"] + p["b2"])
        return (p["v1"] * h1 + p["v2"] * h2 + p["c"] - p["t"]) ** 2

    result = {}
    for name, value in point.items():
        h = 6e-6 * max(1.0, abs(value))
        result[name] = (loss({**point, name: value + h}) - loss({**point, name: value - h})) / (2 * h)
    return result


# ---- the three programs of the issue, stepped through --------------------------------

def test_seed_page_steps_to_the_articles_gradients(browser, tmp_path):
    watched = Watched(browser, make_page(tmp_path, SEED), height=640)
    assert watched.page.get_attribute("#graph", "data-layout") == (
        "graphviz" if shutil.which("dot") else "layered")
    assert walk(watched, SEED, screenshot_at="∂L/∂y") == {"x": 12, "w": 8, "b": 4, "y": -4}
    final = watched.page.text_content("#line")
    assert final.split("\n") == ["∂L/∂x = 12", "∂L/∂w = 8", "∂L/∂b = 4", "∂L/∂y = −4"]
    watched.close()


def test_seed_page_without_graphviz_uses_adiffs_own_layout(browser, tmp_path):
    watched = Watched(browser, make_page(tmp_path, SEED, hide_graphviz=True))
    assert watched.page.get_attribute("#graph", "data-layout") == "layered"
    assert walk(watched, SEED) == {"x": 12, "w": 8, "b": 4, "y": -4}
    watched.close()


@pytest.mark.parametrize("hide_graphviz", [False, True], ids=["default", "layered"])
def test_fork_page_shows_the_sum_of_both_paths(browser, tmp_path, hide_graphviz):
    watched = Watched(browser, make_page(tmp_path, FORK, hide_graphviz))
    gradient = walk(watched, FORK)
    assert gradient == {"x": 2 * (1 + 2), "y": 2 * (1 + 2)}
    watched.close()


def test_two_layer_page_matches_finite_differences(browser, tmp_path):
    watched = Watched(browser, make_page(tmp_path, TWO_LAYER))
    gradient = walk(watched, TWO_LAYER)
    expected = two_layer_gradient()
    assert gradient.keys() == expected.keys()
    for name in expected:
        assert close(gradient[name], expected[name], rel=1e-5) or abs(gradient[name] - expected[name]) < 1e-9, name
    watched.close()


# ---- controls, sizes, colours ------------------------------------------------------------

def test_buttons_and_play_pause_work_from_the_keyboard_alone(browser, tmp_path):
    watched = Watched(browser, make_page(tmp_path, SEED))
    page = watched.page
    page.keyboard.press("Tab")       # the first control reached by Tab is a stepping button
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused in ("first", "prev", "play", "next", "last")
    page.focus("#next")
    page.keyboard.press("Enter")
    page.keyboard.press(" ")         # Space on a focused button presses it, once
    assert watched.state()["step"] == 2
    page.focus("#last")
    page.keyboard.press("Enter")
    last = watched.state()["step"]
    assert page.is_disabled("#next") and page.is_disabled("#last")
    page.focus("#first")
    page.keyboard.press("Enter")
    assert watched.state()["step"] == 0 and page.is_disabled("#prev")
    page.keyboard.press("p")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    page.wait_for_function("() => document.documentElement.dataset.step === '1'")   # it plays on
    page.keyboard.press("p")
    assert page.get_attribute("#play", "aria-pressed") == "false"
    paused_at = watched.state()["step"]
    page.keyboard.press("ArrowRight")
    assert watched.state()["step"] == paused_at + 1
    page.click("#steps li:nth-child(4) button")
    assert watched.state()["step"] == 3
    assert page.get_attribute("#steps li:nth-child(4)", "aria-current") == "step"
    assert last > 3 and watched.errors == []
    watched.close()


@pytest.mark.parametrize("width", [360, 1920])
def test_page_reads_at_phone_and_desktop_widths(browser, tmp_path, width):
    watched = Watched(browser, make_page(tmp_path, TWO_LAYER), width=width)
    page = watched.page
    sizes = page.evaluate("""() => {
        const svg = document.getElementById('graph').getBoundingClientRect();
        const panel = document.querySelector('.panel').getBoundingClientRect();
        const natural = +document.getElementById('graph').getAttribute('width');
        return {page: document.documentElement.scrollWidth, svgWidth: svg.width, natural,
                svgLeft: svg.left, panelLeft: panel.left, panelTop: panel.top, svgTop: svg.top,
                line: parseFloat(getComputedStyle(document.getElementById('line')).fontSize)};
    }""")
    assert sizes["page"] <= width, "the page itself must not scroll sideways"
    assert sizes["svgWidth"] >= 0.8 * sizes["natural"] - 1, "the graph's text stays legible"
    assert sizes["line"] >= 16
    if width >= 1024:
        assert sizes["panelLeft"] > sizes["svgLeft"], "graph and steps side by side"
    else:
        assert sizes["panelTop"] < sizes["svgTop"], "the current step comes first on a phone"
    # the current node is scrolled into view as the steps go on
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    visible = page.evaluate("""() => {
        const g = document.querySelector('g.value.active'), s = document.getElementById('scroller');
        const a = g.getBoundingClientRect(), b = s.getBoundingClientRect();
        const item = document.querySelector('#steps li[aria-current]').getBoundingClientRect();
        const list = document.getElementById('steps').getBoundingClientRect();
        return [a.right > b.left && a.left < b.right, item.top >= list.top - 1 && item.bottom <= list.bottom + 1];
    }""")
    assert visible == [True, True], "the current node and the current line are in view"
    watched.close()


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(css: str) -> tuple[float, float, float]:
    parts = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
    return parts[0], parts[1], parts[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(_rgb(a)), _luminance(_rgb(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_wcag_aa_in_both_schemes(browser, tmp_path, scheme):
    watched = Watched(browser, make_page(tmp_path, FORK), scheme=scheme)
    page = watched.page
    for _ in range(9):                # into the backward pass: used edges, an active node
        page.keyboard.press("ArrowRight")
    pairs = page.evaluate("""() => {
        const style = e => getComputedStyle(e);
        const bg = getComputedStyle(document.documentElement).backgroundColor;
        const out = [];
        const add = (what, fg, back) => out.push([what, fg, back]);
        add('body', style(document.body).color, bg);
        const panel = document.querySelector('.panel');
        for (const id of ['section', 'context', 'line', 'detail'])
            add(id, style(document.getElementById(id)).color, style(panel).backgroundColor);
        for (const b of document.querySelectorAll('.controls button'))
            add('button ' + b.id, style(b).color, style(b).backgroundColor);
        for (const g of document.querySelectorAll('#graph g.value, #graph g.op')) {
            const shape = g.querySelector('ellipse, rect');
            for (const t of g.querySelectorAll('text'))
                if (t.textContent) add('node ' + g.id, style(t).fill, style(shape).fill);
        }
        for (const t of document.querySelectorAll('#graph .edge-label'))
            if (t.textContent) add('edge label', style(t).fill, style(t).stroke);
        const current = document.querySelector('#steps li[aria-current] button');
        add('current step', style(current).color, style(current).backgroundColor);
        for (const k of document.querySelectorAll('.legend .key'))
            add('legend', style(k).color, style(k).backgroundColor);
        return [out, bg];
    }""")
    rows, background = pairs
    assert scheme == "light" and contrast(background, "rgb(255,255,255)") < 1.1 or \
        scheme == "dark" and contrast(background, "rgb(0,0,0)") < 2, background
    for what, fg, back in rows:
        if "rgba(0, 0, 0, 0)" in back:    # transparent: the page's background shows through
            back = background
        assert contrast(fg, back) >= 4.5, (scheme, what, fg, back)
    watched.close()


@pytest.mark.parametrize("program", [("3",), ("x", "--x", "2"), ("log(x)", "--x", "0"),
                                     ("x*x", "--x", "3")], ids=["constant", "input", "infinite", "square"])
def test_small_and_odd_programs_step_cleanly(browser, tmp_path, program):
    watched = Watched(browser, make_page(tmp_path, program))
    walk(watched, program)
    watched.close()


def test_page_asks_for_nothing_over_the_network(tmp_path):
    text = make_page(tmp_path, SEED).read_text(encoding="utf-8")
    assert "default-src 'none'" in text
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", text), "no external resource"
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text


# ---- at 1400×900: the current step in view, labels clear of nodes, a wide graph whole --------

def _step_through(watched: Watched, check) -> int:
    """Press → through every step, calling check(step) at each; returns the number of steps."""
    last = watched.page.evaluate("JSON.parse(document.getElementById('adiff-steps').textContent).length - 1")
    for k in range(last + 1):
        if k:
            watched.page.keyboard.press("ArrowRight")
        check(k)
    return last


def test_the_current_step_stays_above_the_fold_at_1400_by_900(browser, tmp_path):
    watched = Watched(browser, make_page(tmp_path, TWO_LAYER), width=1400, height=900)

    def check(k):
        where = watched.page.evaluate("""() => {
            const r = e => { const b = e.getBoundingClientRect(); return [b.top, b.bottom]; };
            return {line: r(document.getElementById('line')),
                    item: r(document.querySelector('#steps li[aria-current]')),
                    list: r(document.getElementById('steps')), height: window.innerHeight};
        }""")
        assert 0 <= where["line"][0] and where["line"][1] <= where["height"], (k, where)
        # the current item is in the list's view: whole, or from its top when it is the taller
        assert where["list"][0] - 1 <= where["item"][0] and (
            where["item"][1] <= where["list"][1] + 1 or where["item"][0] <= where["list"][0] + 1), (k, where)
        assert where["list"][1] <= where["height"], (k, where)   # the list ends above the fold
    assert _step_through(watched, check) > 50
    assert watched.errors == []
    watched.close()


LABELS_CLEAR = """() => {
    const boxes = [], problems = [];
    const rect = e => { const b = e.getBBox(); return {x: b.x, y: b.y, w: b.width, h: b.height}; };
    const meets = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    for (const label of document.querySelectorAll('#graph .edge-label')) {
        if (!label.textContent) continue;
        const box = rect(label);
        for (const r of document.querySelectorAll('#graph g.op rect'))
            if (meets(box, rect(r))) problems.push([label.textContent, 'box', r.parentNode.id]);
        for (const e of document.querySelectorAll('#graph g.value ellipse')) {
            const cx = +e.getAttribute('cx'), cy = +e.getAttribute('cy');
            const rx = +e.getAttribute('rx'), ry = +e.getAttribute('ry');
            const px = Math.max(box.x, Math.min(cx, box.x + box.w)), py = Math.max(box.y, Math.min(cy, box.y + box.h));
            if (((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 < 1) problems.push([label.textContent, 'node', e.parentNode.id]);
        }
        for (const other of boxes) if (meets(box, other)) problems.push([label.textContent, 'label']);
        boxes.push(box);
    }
    return problems;
}"""


@pytest.mark.parametrize("program", [SEED, FORK, TWO_LAYER], ids=["seed", "fork", "two-layer"])
@pytest.mark.parametrize("hide_graphviz", [False, True], ids=["default", "layered"])
def test_edge_labels_never_cover_a_node_or_each_other(browser, tmp_path, program, hide_graphviz):
    watched = Watched(browser, make_page(tmp_path, program, hide_graphviz), width=1400, height=900)

    def check(k):
        assert watched.page.evaluate(LABELS_CLEAR) == [], k
    _step_through(watched, check)
    assert watched.errors == []
    watched.close()


def test_a_wide_graph_can_be_fitted_zoomed_and_dragged(browser, tmp_path):
    watched = Watched(browser, make_page(tmp_path, TWO_LAYER), width=1400, height=900)
    page = watched.page
    geometry = """() => {
        const s = document.getElementById('scroller'), v = s.getBoundingClientRect();
        const inside = [...document.querySelectorAll('#graph g.value, #graph g.op')].every(g => {
            const b = g.getBoundingClientRect();
            return b.left >= v.left - 1 && b.right <= v.right + 1 && b.top >= v.top - 1 &&
                   b.bottom <= v.bottom + 1 && b.bottom <= window.innerHeight; });
        return {inside, width: document.getElementById('graph').getBoundingClientRect().width,
                left: s.scrollLeft, wider: s.scrollWidth > s.clientWidth + 1};
    }"""
    before = page.evaluate(geometry)
    assert before["wider"] and not before["inside"], "the two-layer network is wider than its frame"
    page.click("#fit")
    fitted = page.evaluate(geometry)
    assert fitted["inside"] and not fitted["wider"], "Fit shows every node at once"
    page.click("#zoom-in")
    larger = page.evaluate(geometry)
    assert larger["width"] == pytest.approx(fitted["width"] * 1.25, rel=0.02)
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.evaluate(geometry)["wider"]
    # drag the graph with the mouse: it moves under the pointer
    box = page.locator("#scroller").bounding_box()
    start = page.evaluate(geometry)["left"]
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 200, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert page.evaluate(geometry)["left"] == pytest.approx(start + 200, abs=2)
    page.keyboard.press("-")
    page.keyboard.press("f")
    assert page.evaluate(geometry)["inside"]
    assert watched.errors == []
    watched.close()
