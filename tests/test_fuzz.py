"""Fuzzing: whatever text arrives, adiff answers with a result or its own error.

Three sources of input: programs generated from adiff's own grammar
(hypothesis.extra.lark.from_lark), those programs mutated, and arbitrary text.
Through the Python API and the command, the only outcomes are a Trace or an
AdiffError (exit 0, 1 or 2).  Programs from the grammar that evaluate to
finite numbers at a smooth point also check the gradients against central
finite differences: this guards the op table and the reverse pass.

Default run: a few seconds per test.  The long campaign:

    ADIFF_FUZZ=long pytest tests/test_fuzz.py --hypothesis-show-statistics
"""

from __future__ import annotations

import math
import sys

from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

import autodiff_cli
from autodiff_cli import AdiffError
try:  # main renamed the module evaluate.py to evaluator.py
    from autodiff_cli.evaluator import evaluate as evaluate_graph
except ImportError:
    from autodiff_cli.evaluate import evaluate as evaluate_graph
from autodiff_cli.ops import OPS
from autodiff_cli.parser import _grammar_text, parse
from support import assert_promised, cli, run

VARIABLES = ["x", "y", "w", "θ"]
POINT = {"x": 0.7, "y": -1.3, "w": 2.1, "θ": 0.3}
ONE_ARGUMENT = sorted(name for name, op in OPS.items() if op.callable and op.arity == 1)
TWO_ARGUMENTS = sorted(name for name, op in OPS.items() if op.callable and op.arity == 2)

NUMBERS = st.sampled_from(["0", "1", "2", "3", "0.5", ".5", "3.", "1e-3", "2.5E+1", "10", "0.25"])
SEPARATORS = st.sampled_from(["\n", ";", " ; ", "\n# note\n", "\r\n"])
SPACE = st.sampled_from([" ", "\t", "  "])
SUPERSCRIPTS = st.sampled_from(["²", "³", "⁻¹", "¹", "⁰"])

# ---- programs from the grammar itself -------------------------------------------

_grammar = Lark(_grammar_text(), parser="lalr", start=["start", "sum"])

# Names for a generated program: its inputs, constants, functions (right or
# wrong arity: errors are outcomes too), and a near-miss.
_any_name = st.sampled_from(VARIABLES + ["pi", "e", "sinn", "a_1"] + ONE_ARGUMENT + TWO_ARGUMENTS)

# Ignored tokens: from_lark puts them between any two tokens; a comment there
# would swallow the rest of its line, so comments come from SEPARATORS instead.
_common = {"NAME": _any_name, "NUMBER": NUMBERS, "WS": SPACE, "COMMENT": SPACE,
           "SUPERSCRIPT": SUPERSCRIPTS}
programs = from_lark(_grammar, start="start", explicit={**_common, "_SEP": SEPARATORS})
expressions = from_lark(_grammar, start="sum", explicit=_common)
generated = st.one_of(programs, expressions).filter(lambda text: len(text.encode()) < 1024)


def _typed_grammar() -> str:
    """The grammar with calls split by arity and names split into variables
    and functions, so that generated programs mostly evaluate: the finite
    difference check needs values, not errors.  Everything else is the real
    grammar, so a change there reaches this test."""
    text = _grammar_text()
    call = '| NAME "(" [sum ("," sum)*] ")" -> call'
    name = "| NAME                   -> name"
    assert call in text and name in text, "the call or name rule changed: update _typed_grammar"
    text = text.replace(call, '| FUNC1 "(" sum ")" -> call\n     | FUNC2 "(" sum "," sum ")" -> call')
    text = text.replace(name, "| VARIABLE -> name")
    return text + '\nFUNC1: "f1"\nFUNC2: "f2"\nVARIABLE: "v"\n'


_typed = Lark(_typed_grammar(), parser="lalr", start=["start", "sum"])
_typed_common = {"FUNC1": st.sampled_from(ONE_ARGUMENT), "FUNC2": st.sampled_from(TWO_ARGUMENTS),
                 "VARIABLE": st.sampled_from(VARIABLES + ["x", "y", "pi", "e", "a", "b"]),
                 "NUMBER": NUMBERS, "WS": SPACE, "COMMENT": SPACE, "SUPERSCRIPT": SUPERSCRIPTS}
smooth_candidates = st.one_of(
    from_lark(_typed, start="sum", explicit=_typed_common),
    from_lark(_typed, start="start", explicit={**_typed_common, "_SEP": SEPARATORS,
                                               "NAME": st.sampled_from(VARIABLES + ["a", "b"])}),
).filter(lambda text: len(text.encode()) < 1024)

# ---- mutations and arbitrary text --------------------------------------------------

_odd_characters = st.one_of(
    st.characters(),  # any code point but surrogates
    st.sampled_from(list("\x00\x1b\r\n\t\ufeff\u2212\u00d7\u22c5\u00b7\u2010\uff0b\u00b2\u207b"
                         "()=,;#^*/+-.eE0123456789")),
)


@st.composite
def mutated(draw) -> str:
    """A generated program with characters deleted, duplicated, swapped or inserted."""
    text = list(draw(generated))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if not text:
            kind = "insert"
        i = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "delete":
            del text[i]
        elif kind == "duplicate":
            text.insert(i, text[i])
        elif kind == "swap" and i + 1 < len(text):
            text[i], text[i + 1] = text[i + 1], text[i]
        else:
            text.insert(i, draw(_odd_characters))
    return "".join(text)


arbitrary = st.text(max_size=300)
any_input = st.one_of(generated, mutated(), arbitrary)


# ---- the API never fails in any other way -------------------------------------------

def scaled(fraction: float) -> int:
    """Examples for a test, as a share of the profile's max_examples: drawing
    from the grammar costs 0.1-0.2 s an example (Hypothesis's per-draw cost
    over a few hundred draws), arbitrary text almost nothing."""
    return max(5, int(settings.default.max_examples * fraction))


def check_api(text: str) -> None:
    """Through the Python API: a Trace or an AdiffError that renders, points
    inside the text and fits a screen; a graph in topological order."""
    try:
        graph = parse(text, POINT)
    except AdiffError as error:
        _check_error(error, text)
        return
    assert graph.output is not None and 0 <= graph.output < len(graph.nodes)
    for node in graph.nodes:
        assert all(i < node.id for i in node.inputs)
    try:
        trace = autodiff_cli.evaluate(text, POINT)
    except AdiffError as error:
        _check_error(error, text)
        return
    assert len(trace.values) == len(trace.grads) == len(graph.nodes)
    assert isinstance(trace.value, float)


def _check_error(error: AdiffError, text: str) -> None:
    assert error.exit_code in (1, 2)
    assert error.kind and error.message
    error.to_json()
    if error.line is not None:
        # lines end at LF, CRLF or a lone CR, as adiff counts them
        lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        assert 1 <= error.line <= len(lines)
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1
    message = str(error).split("\n")
    assert len(message) <= 24
    assert all(len(line) <= 100 for line in message), message


@settings(max_examples=scaled(0.3))
@given(generated)
def test_generated_programs_give_a_result_or_an_adiff_error(text):
    check_api(text)


@settings(max_examples=scaled(0.3))
@given(mutated())
def test_mutated_programs_give_a_result_or_an_adiff_error(text):
    check_api(text)


@given(arbitrary)
def test_arbitrary_text_gives_a_result_or_an_adiff_error(text):
    check_api(text)


@given(st.text(alphabet=st.sampled_from(list("xy()+-*/^,=;\n#. 0123456789e²−×")), max_size=200))
def test_text_of_the_languages_characters_gives_a_result_or_an_adiff_error(text):
    check_api(text)


# ---- and nor does the command ----------------------------------------------------------

_bindings = ["--x", "0.7", "--y=-1.3", "--w", "2.1", "--var", "θ=0.3"]


@settings(max_examples=scaled(0.3))
@given(any_input, st.booleans())
def test_the_command_gives_exit_0_1_or_2_and_no_traceback(text, as_json):
    options = [*_bindings, *(["--json"] if as_json else [])]
    # `--` keeps a program that starts with '-' from being read as an option
    outcome = cli("eval", *options, "--", text)
    assert_promised(outcome, as_json)


@settings(max_examples=scaled(0.15))
@given(st.one_of(generated, mutated(), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_the_command_reading_standard_input_gives_exit_0_1_or_2(text):
    outcome = cli("eval", "-", *_bindings, "--json", input=text.encode("utf-8", "surrogatepass"))
    assert_promised(outcome, as_json=True)


@settings(max_examples=scaled(0.5))
@given(st.binary(max_size=300))
def test_any_bytes_on_standard_input_give_exit_0_1_or_2(data):
    outcome = cli("eval", "-", *_bindings, "--json", input=data)
    assert_promised(outcome, as_json=True)


@settings(max_examples=5, suppress_health_check=list(HealthCheck))
@given(any_input)
def test_the_installed_command_as_a_subprocess(text):
    """A few real runs: the whole path, interpreter start-up included."""
    outcome = run("eval", "-", *_bindings, "--json", input=text.encode("utf-8", "surrogatepass"))
    assert_promised(outcome, as_json=True)


# ---- gradients agree with finite differences at smooth points ---------------------------

EPS = sys.float_info.epsilon


def _value(graph, bindings):
    trace = evaluate_graph(graph, bindings)
    return trace.value


@settings(max_examples=scaled(0.25),
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(smooth_candidates, st.sampled_from([
    POINT, {"x": -0.4, "y": 1.7, "w": 0.9, "θ": -2.2, "a": 0.6, "b": 1.1},
    {"x": 3.3, "y": 0.15, "w": -1.6, "θ": 1.25, "a": -0.8, "b": 2.4}]))
def test_gradients_match_central_finite_differences(text, point):
    try:
        graph = parse(text, point)
        used = {name: point[name] for name in graph.inputs if name in point}
        trace = evaluate_graph(graph, used)
    except AdiffError:
        assume(False)
    # a smooth, finite point: no kinks, nothing non-finite anywhere
    assume(not trace.warnings)
    event(f"checked: {len(used)} input(s)" if used else "no inputs")
    assume(all(math.isfinite(v) for v in trace.values))
    assume(all(g is None or math.isfinite(g) for g in trace.grads))
    assume(abs(trace.value) < 1e8)
    # rounding noise in the output: each node's relative error times its sensitivity
    noise = 8 * EPS * sum(abs(v * g) for v, g in zip(trace.values, trace.grads) if g is not None)
    note(f"program {text!r} at {used}, value {trace.value!r}")
    for name, x in used.items():
        h = 6e-6 * max(1.0, abs(x))

        def f(delta: float) -> float:
            return _value(graph, {**used, name: x + delta})

        plus, minus, plus2, minus2 = f(h), f(-h), f(2 * h), f(-2 * h)
        assume(all(math.isfinite(v) for v in (plus, minus, plus2, minus2)))
        fd = (plus - minus) / (2 * h)
        fd_wide = (plus2 - minus2) / (4 * h)
        floor = 1e-9 + noise / h
        # the finite difference itself is unreliable where the curvature is large
        # or a kink lies within reach: its two step sizes disagree
        assume(abs(fd - fd_wide) <= 1e-6 * abs(fd) + floor)
        gradient = trace.gradient([name])[name]
        note(f"d/d{name}: adiff {gradient!r}, finite difference {fd!r} (floor {floor:.3g})")
        assert abs(gradient - fd) <= 1e-5 * max(abs(gradient), abs(fd)) + floor


def test_the_finite_difference_check_sees_programs():
    """Guard against a generator that only ever yields skipped programs."""
    checked = []

    @settings(max_examples=40, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(smooth_candidates)
    def collect(text):
        try:
            graph = parse(text)
            point = {name: value for name, value in {**POINT, "a": 0.6, "b": 1.1}.items()
                     if name in graph.inputs}
            trace = evaluate_graph(graph, point)
        except AdiffError:
            return
        if point and not trace.warnings and all(map(math.isfinite, trace.values)):
            checked.append(text)

    collect()
    assert len(checked) >= 3, checked
