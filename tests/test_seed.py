"""The article's worked example, node by node: L = (x·w + b − y)² at x=2, w=3, b=1, y=5."""

import json

import autodiff_cli

SEED = "(x*w+b-y)^2"
POINT = ["--x", "2", "--w", "3", "--b", "1", "--y", "5"]

# (op, label, inputs, value, gradient), from the article, in topological order
ARTICLE = [
    ("var", "x", [], 2, 12),
    ("var", "w", [], 3, 8),
    ("mul", None, [0, 1], 6, 4),      # p = x·w
    ("var", "b", [], 1, 4),
    ("add", None, [2, 3], 7, 4),      # a = p + b
    ("var", "y", [], 5, -4),
    ("sub", None, [4, 5], 2, 4),      # d = a − y
    ("const", "2", [], 2, None),
    ("pow", None, [6, 7], 4, 1),      # L = d²
]


def test_seed_json_node_by_node(run_cli):
    code, out, err = run_cli("eval", SEED, *POINT, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == 1
    assert doc["program"] == SEED
    assert doc["inputs"] == {"x": 2, "w": 3, "b": 1, "y": 5}
    assert doc["value"] == 4
    assert doc["gradient"] == {"x": 12, "w": 8, "b": 4, "y": -4}
    assert doc["output"] == 8
    got = [(n["op"], n["label"], n["inputs"], n["value"], n["grad"]) for n in doc["nodes"]]
    assert got == ARTICLE
    assert [n["id"] for n in doc["nodes"]] == list(range(9))
    assert doc["warnings"] == []


def test_seed_table_rows(run_cli):
    code, out, err = run_cli("eval", SEED, *POINT)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    by_id = {row[0]: row for row in rows if row and row[0].isdigit()}
    assert len(by_id) == 9
    for i, (_, _, _, value, grad) in enumerate(ARTICLE):
        row = by_id[str(i)]
        if grad is None:
            assert row[-1] == str(value)
        else:
            assert row[-2:] == [str(value), str(grad)]
    assert by_id["2"][1:4] == ["x", "*", "w"]
    # the summary: the output value and the gradient with respect to each input
    text = out.replace(" ", "")
    for name, grad in [("x", 12), ("w", 8), ("b", 4), ("y", -4)]:
        assert f"∂output/∂{name}{grad}" in text


def test_seed_in_the_articles_notation(run_cli):
    code, out, _ = run_cli("eval", "(x⋅w+b−y)²", *POINT, "--json")
    assert code == 0
    assert json.loads(out)["gradient"] == {"x": 12, "w": 8, "b": 4, "y": -4}


def test_seed_through_the_python_api():
    trace = autodiff_cli.evaluate(SEED, x=2, w=3, b=1, y=5)
    assert trace.value == 4
    assert trace.gradient() == {"x": 12, "w": 8, "b": 4, "y": -4}
    assert [trace.grads[i] for i in range(9)] == [g for *_, g in ARTICLE]
