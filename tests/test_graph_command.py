"""adiff graph: DOT, Mermaid, tree and JSON pictures of the computational graph."""

import json
import re
import shutil
import subprocess

import pytest

from numeric import central_difference, close

SEED = "(x*w+b-y)^2"
POINT = ["--x", "2", "--w", "3", "--b", "1", "--y", "5"]
STEPS = "p = x*w; a = p + b; d = a - y; L = d^2"


def dot_structure(text):
    shapes = dict(re.findall(r"^\s+(\w+) \[shape=(\w+)", text, re.M))
    labels = dict(re.findall(r'^\s+(\w+) \[shape=\w+, fillcolor="[^"]*", label="([^"]*)"', text, re.M))
    arrows = re.findall(r"^\s+(\w+) -> (\w+)(?: \[label=\"([^\"]*)\"\])?;", text, re.M)
    return shapes, labels, arrows


def test_dot_has_ellipses_for_values_and_boxes_for_operations(run_cli):
    code, out, err = run_cli("graph", SEED, *POINT)
    assert code == 0, err
    assert out.startswith("digraph adiff {") and out.rstrip().endswith("}")
    shapes, labels, arrows = dot_structure(out)
    assert sorted(k for k, s in shapes.items() if s == "ellipse") == [f"v{i}" for i in range(9)]
    assert sorted(k for k, s in shapes.items() if s == "box") == ["op2", "op4", "op6", "op8"]
    # value → operation → result, in the direction of computation
    edges = {(a, b) for a, b, _ in arrows}
    assert {("v0", "op2"), ("v1", "op2"), ("op2", "v2"), ("v2", "op4"), ("op8", "v8")} <= edges
    # values and gradients from the article, local partials on the edges
    assert labels["v0"] == "x = 2\\ngrad 12" and labels["v5"] == "y = 5\\ngrad -4"
    assert labels["v8"] == "#8 = 4\\ngrad 1"
    partials = {(a, b): p for a, b, p in arrows}
    # each edge says what its number is: the operation's result's partial by this input
    assert partials[("v0", "op2")] == "∂#2/∂x = 3" and partials[("v5", "op6")] == "∂#6/∂y = -1"
    assert partials[("v6", "op8")] == "∂#8/∂#6 = 4"
    assert partials[("v7", "op8")] == ""   # the constant 2 takes no gradient


def test_edge_labels_name_the_partial_and_match_finite_differences(run_cli):
    """Every edge's text in DOT, Mermaid and JSON: ∂(result)/∂(input) = the local partial,
    the number checked against a central difference of the operation alone."""
    from autodiff_cli.ops import OPS
    program = "q = sin(x*w) + x/w; r = q^2 - exp(w)"
    bindings = ["--x", "0.7", "--w", "1.3"]
    doc = json.loads(run_cli("graph", program, *bindings, "--format", "json")[1])
    _, dot_text, _ = run_cli("graph", program, *bindings)
    _, mermaid_text, _ = run_cli("graph", program, *bindings, "--format", "mermaid")
    nodes = {n["id"]: n for n in doc["nodes"]}
    name = {i: n["label"] or f"#{i}" for i, n in nodes.items()}
    checked = 0
    for edge in doc["edges"]:
        if edge["partial"] is None:
            assert edge["text"] == ""
            continue
        source, target = edge["from"], edge["to"]
        symbol, _, value = edge["text"].partition(" = ")
        assert symbol == f"∂{name[target]}/∂{name[source]}", edge
        args = [nodes[j]["value"] for j in nodes[target]["inputs"]]

        def along(v):
            moved = list(args)
            moved[edge["position"]] = v
            return OPS[nodes[target]["op"]].forward(*moved)
        assert abs(float(value) - central_difference(along, args[edge["position"]])) <= \
            1e-5 * max(1, abs(float(value))), edge
        assert f'v{source} -> op{target} [label="{edge["text"]}"];' in dot_text
        assert f'v{source} -->|"{edge["text"].replace("#", "#35;")}"| op{target}' in mermaid_text
        checked += 1
    assert checked == 11


def test_dot_without_bindings_draws_the_structure(run_cli):
    code, out, _ = run_cli("graph", SEED)
    assert code == 0
    shapes, labels, arrows = dot_structure(out)
    assert labels["v0"] == "x" and len(shapes) == 13
    assert all(not p for _, _, p in arrows)


def test_named_nodes_and_shared_subexpressions_are_drawn_once(run_cli):
    _, out, _ = run_cli("graph", STEPS, *POINT)
    _, labels, _ = dot_structure(out)
    assert {labels[f"v{i}"].split(" =")[0] for i in (2, 4, 6, 8)} == {"p", "a", "d", "L"}
    _, out, _ = run_cli("graph", "(x+y)*(x+y)")
    shapes, _, arrows = dot_structure(out)
    assert sum(1 for s in shapes.values() if s == "box") == 2
    assert arrows.count(("v2", "op3", "")) == 2     # one node, two edges


def test_labels_are_escaped(run_cli):
    code, out, _ = run_cli("graph", 'θ² + x', "--θ", "1", "--x", "2")
    assert code == 0 and "θ = 1" in out
    from autodiff_cli.render.dot import quote
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_accepts_the_dot_text(run_cli, tmp_path):
    for program in (SEED, STEPS, "(x+y)*(x+y)", "θ = 1; sin(θ)*2"):
        _, out, _ = run_cli("graph", program, *POINT)
        result = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "<svg" in result.stdout


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_to_svg(run_cli, tmp_path):
    target = tmp_path / "seed.svg"
    code, _, err = run_cli("graph", SEED, *POINT, "--render", str(target))
    assert code == 0, err
    assert "<svg" in target.read_text()


def test_render_without_graphviz_says_how_to_install_it(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = run_cli("graph", SEED, "--render", str(tmp_path / "g.svg"))
    assert code == 1
    assert "Graphviz" in err and "install" in err and "--format dot" in err
    assert "Traceback" not in err


def test_render_to_an_unknown_kind_of_file(run_cli, tmp_path):
    code, _, err = run_cli("graph", SEED, "--render", str(tmp_path / "g.txt"))
    assert code == 2 and ".svg, .png or .pdf" in err


def test_mermaid(run_cli):
    code, out, _ = run_cli("graph", "(x+y)*(x+y)", "--x", "1", "--y", "2", "--format", "mermaid")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert sum(1 for line in lines if re.match(r"\s+v\d+\(\[", line)) == 4
    assert sum(1 for line in lines if re.match(r"\s+op\d+\[", line)) == 2
    assert lines.count('  v2 -->|"∂#35;3/∂#35;2 = 3"| op3') == 2
    assert '#35;2 = 3' in out   # '#' escaped, as Mermaid's entity code


def test_tree_draws_shared_nodes_once(run_cli):
    code, out, _ = run_cli("graph", "(x+y)*(x+y)", "--format", "tree")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("#3 = #2 * #2")
    assert sum("#2 = x + y" in line for line in lines) == 1
    assert sum("(shown above)" in line for line in lines) == 1
    assert sum("x (input)" in line for line in lines) == 1


def test_tree_refers_to_a_repeated_input_too(run_cli):
    _, out, _ = run_cli("graph", "x*x", "--format", "tree")
    assert out.splitlines() == ["#1 = x * x", "├── x (input)", "└── x (shown above)"]


def test_partly_bound_inputs_draw_the_structure_and_say_why(run_cli):
    code, out, err = run_cli("graph", "x*w", "--x", "1", "--format", "tree")
    assert code == 0
    assert "value" not in out
    assert "structure only" in err and "no value for w" in err


def test_tree_of_the_seed_with_values(run_cli):
    _, out, _ = run_cli("graph", STEPS, *POINT, "--format", "tree")
    lines = out.splitlines()
    assert lines[0] == "L = d ^ 2   value 4, gradient 1"
    assert any(line.endswith("x (input)   value 2, gradient 12") for line in lines)


def test_json_edges_carry_partials_checked_by_finite_differences(run_cli):
    import autodiff_cli
    program = "q = sin(x*w) + x/w; q^2"
    code, out, _ = run_cli("graph", program, "--x", "0.7", "--w", "1.3", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["evaluated"] is True
    nodes = {n["id"]: n for n in doc["nodes"]}
    for edge in doc["edges"]:
        source, target = nodes[edge["from"]], nodes[edge["to"]]
        if source["op"] == "const":
            assert edge["partial"] is None
            continue
        # perturb the source's value by re-evaluating the target's op alone
        from autodiff_cli.ops import OPS
        args = [nodes[j]["value"] for j in target["inputs"]]

        def along(v):
            moved = list(args)
            moved[edge["position"]] = v
            return OPS[target["op"]].forward(*moved)
        assert close(edge["partial"], central_difference(along, args[edge["position"]]))
        assert close(edge["contribution"], target["grad"] * edge["partial"])
    # and the input gradients are what finite differences of the whole program say
    for name in ("x", "w"):
        point = {"x": 0.7, "w": 1.3}
        numeric = central_difference(lambda v: autodiff_cli.evaluate(program, {**point, name: v}).value,
                                     point[name])
        total = sum(e["contribution"] for e in doc["edges"] if nodes[e["from"]]["label"] == name)
        assert close(total, numeric)


def test_json_without_bindings(run_cli):
    code, out, _ = run_cli("graph", SEED, "--format", "json")
    doc = json.loads(out)
    assert doc["evaluated"] is False and doc["value"] is None
    assert len(doc["edges"]) == 8


def test_deep_and_large_graphs(run_cli):
    chain = "+".join(["x"] * 10_000)
    for fmt in ("dot", "mermaid", "tree", "json"):
        code, out, err = run_cli("graph", chain, "--x", "1", "--format", fmt)
        assert code == 0, (fmt, err)
    code, out, _ = run_cli("graph", chain, "--format", "tree")
    assert max(len(line) for line in out.splitlines()) <= 80   # indentation stops growing


def test_bad_format_and_bad_program(run_cli):
    code, _, err = run_cli("graph", SEED, "--format", "png")
    assert code == 2 and "dot, mermaid, tree or json" in err
    code, out, _ = run_cli("graph", "x +", "--format", "json")
    assert code == 2 and json.loads(out)["error"]["kind"] == "syntax"
