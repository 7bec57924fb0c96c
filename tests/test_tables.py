"""The shipped parse tables (grammar/adiff.tables.json): up to date with the
grammar, used, equivalent to compiling the grammar, and never required."""

from __future__ import annotations

import json

import pytest
from lark import Lark

from autodiff_cli import parser, tables
from autodiff_cli.parser import _data_file, _grammar_text, parse
from support import ROOT

PROGRAMS = [
    "(x*w+b-y)^2", "x = 2; w = 3\np = x*w\nL = p^2", "-x^-2^3", "x² + y⁻¹", "max(x, y, z)",
    "sin(x)*exp(-t)", "f = 1\n\n# comment\nf * f", "2^-x", "a ** b ** c", "x·w − b ÷ y",
    "atan2(y, x) + pow(x, 3)",
]


def _normal(value):
    """What JSON keeps of a value: tuples as lists (the loader unpacks both alike)."""
    return json.loads(json.dumps(value))


def _canonical(document: dict) -> dict:
    """The tables with Lark's arbitrary numbering taken out.

    Lark numbers the LALR states and the tokens differently from run to run
    (hash order): states are renumbered here in the order a walk from the
    start state meets them, tokens are replaced by their names."""
    data, memo = tables.restore(document)
    table = data["parser"]["parser"]
    names = table["tokens"]
    states = {state: {names[token]: action for token, action in actions.items()}
              for state, actions in table["states"].items()}
    start = table["start_states"]["start"]
    number = {start: 0}
    queue = [start]
    for state in queue:
        for token in sorted(states[state]):
            kind, target = states[state][token]
            if kind == 0 and target not in number:
                number[target] = len(number)
                queue.append(target)
    assert len(number) == len(states)
    automaton = [None] * len(states)
    for state, actions in states.items():
        automaton[number[state]] = {token: [kind, number[target] if kind == 0 else target]
                                    for token, (kind, target) in sorted(actions.items())}
    rest = {**data, "parser": {**data["parser"], "parser": None}}
    return {"memo": _normal(memo), "rest": _normal(rest), "automaton": automaton,
            "end": number[table["end_states"]["start"]]}


def test_the_shipped_tables_are_those_of_the_grammar():
    """Fails when grammar/adiff.lark changed without `python scripts/make_parse_tables.py`."""
    shipped = json.loads((ROOT / "grammar" / tables.FILE_NAME).read_text("utf-8"))
    grammar = (ROOT / "grammar" / "adiff.lark").read_text("utf-8")
    assert shipped["grammar"] == grammar, "run: python scripts/make_parse_tables.py"
    fresh = json.loads(tables.serialize(grammar))
    assert _canonical(shipped) == _canonical(fresh), "run: python scripts/make_parse_tables.py"


def test_the_comparison_sees_a_changed_table():
    shipped = json.loads((ROOT / "grammar" / tables.FILE_NAME).read_text("utf-8"))
    damaged = json.loads(json.dumps(shipped))
    actions = next(iter(damaged["data"]["parser"]["parser"]["states"].values()))
    actions.pop(next(iter(actions)))
    assert _canonical(damaged) != _canonical(shipped)


def test_integer_keys_are_restored():
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    grammar = _grammar_text()
    data, memo = Lark(grammar, **tables.OPTIONS).memo_serialize([TerminalDef, Rule])
    restored_data, restored_memo = tables.restore(_normal({"data": data, "memo": memo}))
    assert all(isinstance(k, int) for k in restored_memo)
    assert _normal(restored_memo) == _normal(memo)
    table, expected = restored_data["parser"]["parser"], data["parser"]["parser"]
    assert table["tokens"] == expected["tokens"]
    assert list(table["states"]) == list(expected["states"])
    assert {s: {t: list(a) for t, a in actions.items()} for s, actions in table["states"].items()} == \
        {s: {t: list(a) for t, a in actions.items()} for s, actions in expected["states"].items()}


def test_the_parser_is_built_from_the_tables():
    loaded = parser._from_tables(_grammar_text())
    assert loaded is not None, "the shipped tables were not used"


def _graph_of(program):
    graph = parse(program)
    return [(n.op, n.inputs, n.label) for n in graph.nodes], graph.output


@pytest.fixture
def compiled_parser(monkeypatch):
    """parser.py with the tables unavailable: it compiles the grammar."""
    monkeypatch.setattr(parser, "_parser", None)
    monkeypatch.setattr(parser, "_from_tables", lambda grammar: None)
    yield
    parser._parser = None


def test_tables_and_the_compiled_grammar_agree(monkeypatch):
    monkeypatch.setattr(parser, "_parser", None)
    from_tables = [_graph_of(p) for p in PROGRAMS]
    errors_from_tables = [_error_of(p) for p in ("(x*", "x +* y", "f(,)", "x y", "2 3")]
    monkeypatch.setattr(parser, "_parser", None)
    monkeypatch.setattr(parser, "_from_tables", lambda grammar: None)
    assert [_graph_of(p) for p in PROGRAMS] == from_tables
    assert [_error_of(p) for p in ("(x*", "x +* y", "f(,)", "x y", "2 3")] == errors_from_tables
    parser._parser = None


def _error_of(program):
    from autodiff_cli import AdiffError
    with pytest.raises(AdiffError) as caught:
        parse(program)
    return str(caught.value)


@pytest.mark.parametrize("damage", ["", "{", '{"format": 1}', "[]", "null"])
def test_unreadable_tables_fall_back_to_compiling(monkeypatch, damage):
    real = parser._data_file
    monkeypatch.setattr(parser, "_parser", None)
    monkeypatch.setattr(parser, "_data_file",
                        lambda name: damage if name == tables.FILE_NAME else real(name))
    assert parser._from_tables(_grammar_text()) is None
    assert parse("(x*w+b-y)^2").output == 8
    parser._parser = None


def test_tables_of_another_grammar_are_not_used():
    text = _data_file(tables.FILE_NAME)
    assert tables.load(text, _grammar_text() + "\n// changed\n", None) is None


def test_tables_from_an_unread_lark_version_are_not_used():
    document = json.loads(_data_file(tables.FILE_NAME))
    document["lark"] = "9.0.0"
    assert tables.load(json.dumps(document), _grammar_text(), None) is None


def test_the_shipped_tables_are_plain_json():
    text = (ROOT / "grammar" / tables.FILE_NAME).read_text("utf-8")
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard constant {name}"))
