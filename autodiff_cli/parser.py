"""Program text to graph, in one pass.

Lark's LALR parser calls the builder below as it reduces each rule (an
inline transformer): no parse tree is built and nothing recurses, so a
100,000-deep chain parses like a flat sum.  Lark's own errors become
AdiffError here, with the position and what was expected in words.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from typing import Iterable, Optional, Union

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .errors import AdiffError, shorten
from .graph import CONST, VAR, Graph
from .ops import CONSTANTS, FUNCTIONS, OPS

_OPERATORS = {"ADD": "add", "SUB": "sub", "MUL": "mul", "DIV": "div", "POW": "pow"}
# other spellings of a function, read as the function itself (one op table entry each):
# NumPy's and SciPy's names, so that their code pastes as it is
ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
           "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "power": "pow",
           "absolute": "abs", "fabs": "abs", "maximum": "max", "minimum": "min", "expit": "sigmoid"}
# what turns a function's name into another function's: arc·sin, sin·h, erf·c, exp·2, log·1p
_PREFIXES = ("a", "ar", "arc")
_SUFFIXES = ("h", "c", "2", "10", "1p", "m1", "p1")
# well-known functions that adiff does not have, and how to write them
_WRITE_AS = {"sec": "1/cos(x)", "csc": "1/sin(x)", "cot": "1/tan(x)", "sech": "1/cosh(x)",
             "csch": "1/sinh(x)", "coth": "1/tanh(x)", "erfc": "1 - erf(x)", "exp2": "2^x",
             "sinc": "sin(x)/x", "square": "x^2", "reciprocal": "1/x", "logit": "log(x/(1 - x))",
             "logaddexp": "log(exp(a) + exp(b))", "xlogy": "x*log(y)", "deg2rad": "x*pi/180",
             "rad2deg": "x*180/pi", "radians": "x*pi/180", "degrees": "x*180/pi",
             **{f"{arc}{f}": f"{inverse}(1/x)" for arc in ("a", "arc", "ar")
                for f, inverse in (("sec", "acos"), ("csc", "asin"), ("cot", "atan"), ("sech", "acosh"),
                                   ("csch", "asinh"), ("coth", "atanh"))}}
# functions of two arguments that take any number from two, folded left into binary nodes
_VARIADIC = {"max", "min"}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")


class Literal:
    """A number not yet in the graph.

    Kept aside so that `-2` is the constant -2 and `x = 2` declares an input
    with a default, without leaving unused constant nodes behind.
    """
    __slots__ = ("value", "text")

    def __init__(self, value: float, text: str):
        self.value = value
        self.text = text


class Named(int):
    """A node id read from a bare name (`R`): an output listed as `R` is named R."""

    def __new__(cls, node: int, token: Token):
        value = super().__new__(cls, node)
        value.name, value.token = str(token), token
        return value


Value = Union[int, Literal]  # a node id, or a literal


class Function:
    """A user's function, `NAME(P1, ...) = EXPR`, as a small graph of its own
    (its template): the parameters and the names from outside (the program's
    inputs and earlier named values) are its var nodes.  A call copies the
    template into the caller's graph through Graph.add, in list order (no
    recursion), so a call shares nodes exactly as the written-out expression
    would."""
    __slots__ = ("name", "params", "template", "externals", "output", "calls", "token", "live", "used")

    def __init__(self, name: str, params: list[str], token: Token):
        self.name, self.params, self.token = name, params, token
        self.template = Graph()
        # template var node -> ("param", position) | ("input", name) | ("node", id in the program)
        self.externals: dict[int, tuple[str, object]] = {}
        for k, param in enumerate(params):
            self.externals[self.template.input(f"param:{k}")] = ("param", k)
        self.output: Optional[int] = None
        self.calls = 0
        self.live = bytearray()   # the template's nodes the body's value needs
        self.used: list[bool] = []  # per parameter: whether the body uses it

    def finish(self, output: int) -> None:
        """The body is read: which of its nodes a call copies (those its value
        needs), and which parameters it uses."""
        self.output = output
        nodes = self.template.nodes
        live = self.live = bytearray(len(nodes))
        live[output] = 1
        for i in range(output, -1, -1):
            if live[i]:
                for j in nodes[i].inputs:
                    live[j] = 1
        self.used = [bool(live[self.template.inputs[f"param:{k}"]]) for k in range(len(self.params))]


class Outputs(list):
    """The last statement's list of outputs: (name, node) pairs."""


_HEAD = re.compile(r"([^\s(]+)[ \t]*\([ \t]*|([^\s,()]+)[ \t]*[,)]")


@v_args(inline=True)
class _Builder(Transformer):
    """Lark calls these methods by rule name as it parses; they build the graph."""

    def reset(self, graph: Graph, bound: Iterable[str], source: Optional[str] = None) -> None:
        self.graph = graph
        self.source = source
        self.bound = set(bound)
        self.scope: dict[str, int] = {}    # names assigned so far -> node
        self.first_use: dict[str, Token] = {}
        self.functions: dict[str, Function] = {}
        self.function: Optional[Function] = None   # the function whose body is being read
        self.program = graph                       # the graph outside any body
        self.unused: list[int] = []                # arguments of parameters a body never uses

    def _node(self, value: Value) -> int:
        if isinstance(value, Literal):
            return self.graph.constant(value.value, value.text)
        return int(value)

    def number(self, token: Token) -> Literal:
        return Literal(float(token), str(token))

    def name(self, token: Token) -> int:
        name = str(token)
        function = self.function
        if function is not None and name in function.params:
            return Named(function.template.inputs[f"param:{function.params.index(name)}"], token)
        if name in self.functions:
            raise AdiffError("function_as_value", f"'{shorten(name)}' is a function: call it as "
                             f"{shorten(name)}(...)", line=token.line, column=token.column)
        node = self.scope.get(name)
        if node is not None:
            return Named(self._external("node", node), token)
        if name in CONSTANTS and name not in self.bound:
            return Named(self.graph.constant(CONSTANTS[name], name), token)
        self.first_use.setdefault(name, token)
        return Named(self._external("input", name), token)

    def _external(self, kind: str, key) -> int:
        """A name from outside the body being read (an input, or an earlier
        named value): in the program, its node; in a body, a var node of the template."""
        function = self.function
        if function is None:
            return key if kind == "node" else self.graph.input(key)
        node = function.template.input(f"{kind}:{key}")
        function.externals[node] = (kind, key)
        return node

    def head(self, token: Token) -> Token:
        """`f(a, b) =`: the parameters are known before the body is read."""
        text = str(token)
        parts = [(m.start(), m.group(1) or m.group(2)) for m in _HEAD.finditer(text)]
        (_, name), params = parts[0], parts[1:]

        def fail(kind: str, message: str, offset: int = 0, hint: Optional[str] = None):
            raise AdiffError(kind, message, line=token.line, column=token.column + offset, hint=hint)

        shown = shorten(name)
        if name in self.functions:
            first = self.functions[name].token
            fail("redefined", f"function '{shown}' is defined twice",
                 hint=f"it is first defined on line {first.line}")
        if (name in OPS and OPS[name].callable) or name in ALIASES:
            fail("builtin", f"'{shown}' is a built-in function: give your function another name")
        if name in CONSTANTS and name not in self.bound:
            fail("builtin", f"'{shown}' is a constant: give your function another name")
        if name in self.scope:
            fail("function_as_value", f"'{shown}' is already a value: a name is either a value or a function")
        if name in self.graph.inputs or name in self.bound or name in self.first_use:
            fail("function_as_value", f"'{shown}' is already an input: a name is either an input or a function")
        seen: set[str] = set()
        for offset, param in params:
            if param in seen:
                fail("parameter", f"parameter '{shorten(param)}' is listed twice", offset)
            if param in self.functions:
                fail("function_as_value", f"parameter '{shorten(param)}' is a function: "
                     "a name is either a value or a function", offset)
            seen.add(param)
        self.function = Function(name, [p for _, p in params], token)
        self.graph = self.function.template
        return token

    def define(self, _head: Token, body: Value) -> Function:
        function = self.function
        function.finish(self._node(body))
        self.functions[function.name] = function
        self.function, self.graph = None, self.program
        return function

    def outputs(self, *items: Value) -> Outputs:
        result = Outputs()
        names = set()
        for k, item in enumerate(items, 1):
            name = item.name if isinstance(item, Named) else f"out{k}"
            if name in names:
                where = {"line": item.token.line, "column": item.token.column} if isinstance(item, Named) else {}
                raise AdiffError("output_twice", f"output '{shorten(name)}' is listed twice", **where)
            names.add(name)
            node = self._node(item)
            if not isinstance(item, Named):
                self.graph.name(node, name)
            result.append((name, node))
        return result

    def assign(self, target: Token, value: Value) -> int:
        name = str(target)
        if name in self.functions:
            raise AdiffError("function_as_value", f"'{shorten(name)}' is a function: "
                             "a name is either a value or a function",
                             line=target.line, column=target.column)
        if (isinstance(value, Literal) and name not in self.scope
                and name not in self.graph.inputs):
            # `name = number`, first sight of name: an input with a default
            node = self.graph.input(name)
            self.graph.defaults[name] = value.value
        else:
            node = self._node(value)
            self.graph.name(node, name)
        self.scope[name] = node
        return node

    def binary(self, left: Value, operator: Token, right: Value) -> int:
        return self.graph.add(_OPERATORS[operator.type], (self._node(left), self._node(right)))

    def negate(self, _sign: Token, value: Value) -> Value:
        if isinstance(value, Literal):
            text = value.text[1:] if value.text.startswith("-") else "-" + value.text
            return Literal(-value.value, text)
        return self.graph.add("neg", (int(value),))

    def positive(self, _sign: Token, value: Value) -> Value:
        return value if isinstance(value, Literal) else int(value)

    def superscript(self, base: Value, token: Token) -> int:
        text = str(token).translate(_SUPERSCRIPTS)
        return self.graph.add("pow", (self._node(base), self.graph.constant(float(text), text)))

    def call(self, function: Token, *arguments: Optional[Value]) -> int:
        name = ALIASES.get(str(function), str(function))
        args = [a for a in arguments if a is not None]
        if name in self.functions:
            return self._call(self.functions[name], args, function)
        op = OPS.get(name)
        if self.function is not None and name == self.function.name:
            raise AdiffError("recursion", f"'{shorten(name)}' cannot call itself: a body calls only "
                             "functions defined before it", line=function.line, column=function.column)
        if op is None or not op.callable:
            later = _defined_later(self.source, function)
            if later:
                raise AdiffError("call_before_definition", f"'{shorten(name)}' is called before "
                                 f"its definition (on line {later})", line=function.line,
                                 column=function.column, hint="define a function before its first call")
            raise AdiffError("unknown_function", f"unknown function '{shorten(name)}'",
                             line=function.line, column=function.column,
                             hint=self._function_hint(name))
        if name in _VARIADIC and len(args) >= 2:
            # max(a, b, c) is max(max(a, b), c): binary nodes, one op table entry
            node = self._node(args[0])
            for argument in args[1:]:
                node = self.graph.add(name, (node, self._node(argument)))
            return node
        if len(args) != op.arity:
            plural = "s" if op.arity != 1 else ""
            wanted = "two or more arguments" if name in _VARIADIC else f"{op.arity} argument{plural}"
            raise AdiffError("arity", f"{name} takes {wanted}, got {len(args)}",
                             line=function.line, column=function.column)
        return self.graph.add(name, tuple(self._node(a) for a in args))

    def _call(self, function: Function, args: list[Value], token: Token) -> int:
        """A call of a user's function, inlined: the template's nodes copied in
        list order through Graph.add, the parameters replaced by the arguments."""
        if len(args) != len(function.params):
            wanted = len(function.params)
            raise AdiffError("arity", f"{shorten(function.name)} takes {wanted} argument"
                             f"{'s' if wanted != 1 else ''}, got {len(args)}",
                             line=token.line, column=token.column,
                             hint=f"it is defined as {shorten(function.name)}({', '.join(function.params)})")
        graph = self.graph
        arguments = [self._node(a) for a in args]
        where = None
        if self.function is None:   # a call in the program (a call in a body is made when the body is)
            function.calls += 1
            where = f"{function.name} call {function.calls}"
        if self.function is None:   # an argument the body never uses: its nodes may go at the end
            self.unused += [a for a, used in zip(arguments, function.used) if not used]
        ids: list[int] = []
        live = function.live
        for node in function.template.nodes:
            if not live[node.id]:
                ids.append(-1)   # not needed by the body's value: not copied
            elif node.op == VAR:
                kind, key = function.externals[node.id]
                ids.append(arguments[key] if kind == "param" else self._external(kind, key))
            elif node.op == CONST:
                ids.append(graph.constant(node.constant, node.label))
            else:
                size = len(graph.nodes)
                made = graph.add(node.op, tuple(ids[j] for j in node.inputs))
                if len(graph.nodes) > size:
                    graph.nodes[made].call = where if where is not None else node.call
                ids.append(made)
        return ids[function.output]

    def _function_hint(self, name: str) -> str:
        known = [*FUNCTIONS, *ALIASES]
        if name.lower() in known:
            return f"did you mean '{name.lower()}'? function names are lower case"
        if name.lower() in _WRITE_AS:
            return f"adiff has no {name.lower()}: write {_WRITE_AS[name.lower()]}"
        import difflib
        close = [c for c in difflib.get_close_matches(name, known, n=3) if not _another_function(name.lower(), c)]
        close.sort(key=lambda c: sorted(c) != sorted(name))   # swapped letters first: tahn is tanh
        if close:
            return f"did you mean '{close[0]}'?"
        if name in self.scope or name in self.bound or name in self.first_use:
            return f"adiff has no implicit multiplication: write {shorten(name)}*(...)"
        return _wrap("functions: " + ", ".join(FUNCTIONS))

    def start(self, *statements: Value) -> Optional[Value]:
        return statements[-1] if statements else None


def _another_function(name: str, known: str) -> bool:
    """Whether name is known with function-name affixes around it, so another
    function (asinh is not sinh, erfc is not erf, arcsinh1p is not arcsin),
    not a misspelling of it (a doubled letter is one: asinhh is asinh)."""
    start = name.find(known)
    if start < 0 or name == known:
        return False
    before, after = name[:start], name[start + len(known):]
    if before not in ("", *_PREFIXES):
        return False
    if (before, after) in (("", known[-1]), (known[0], "")):
        return False
    while after:
        suffix = next((s for s in _SUFFIXES if after.startswith(s)), None)
        if suffix is None:
            return False
        after = after[len(suffix):]
    return True


def _defined_later(source: Optional[str], token: Token) -> Optional[int]:
    """The line where `name(...) =` defines the called name after this call, if it does."""
    if not source:
        return None
    name = re.escape(str(token))
    found = re.compile(rf"(?:^|[;\n])[ \t]*{name}[ \t]*\([^()\n;]*\)[ \t]*=").search(source, token.end_pos)
    return source.count("\n", 0, found.start() + 1) + 1 if found else None


def _wrap(text: str) -> str:
    """A long hint as lines that fit a terminal."""
    import textwrap
    return textwrap.fill(text, width=76, break_long_words=False, break_on_hyphens=False)


_HERE = os.path.dirname(os.path.realpath(__file__))


def _data_file(name: str) -> str:
    """A file of the grammar folder: inside the installed package, or beside
    it in a source checkout or an editable install."""
    for folder in (_HERE, os.path.dirname(_HERE)):
        path = os.path.join(folder, "grammar", name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                return handle.read()
    # a package that is not plain files (a zip): importlib.resources reads it
    from importlib import resources
    return (resources.files("autodiff_cli") / "grammar" / name).read_text("utf-8")


def _grammar_text() -> str:
    return _data_file("adiff.lark")


_lock = threading.Lock()
_builder = _Builder()
_parser: Optional[Lark] = None


def _from_tables(grammar: str) -> Optional[Lark]:
    """The parser rebuilt from the shipped tables (about 3 ms), or None when
    they are missing, unreadable or not for this grammar and this Lark."""
    from . import tables
    try:
        return tables.load(_data_file(tables.FILE_NAME), grammar, _builder)
    except Exception:  # any fault in the tables: compiling the grammar is always right
        return None


def _lark() -> Lark:
    global _parser
    if _parser is None:
        grammar = _grammar_text()
        _parser = _from_tables(grammar) or _compile(grammar)
    return _parser


def _compile(grammar: str) -> Lark:
    """The parser from the grammar itself (about 20-40 ms): the fallback.

    Lark's basic lexer: the grammar's terminals never need the parser's
    state to be told apart, and one lexer starts faster than one per state."""
    from .tables import OPTIONS
    return Lark(grammar, transformer=_builder, **OPTIONS)


def parse(text: str, bound: Iterable[str] = (), max_nodes: Optional[int] = None) -> Graph:
    """Parse a program into a graph.

    `bound` names the inputs the caller will bind: a bound name shadows the
    constants pi and e.  Raises AdiffError for anything wrong with the text.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        # CRLF (Windows) and CR alone (old Mac) end lines too; as "\n" they
        # end statements and comments, and columns count as the editor does
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    graph = Graph(max_nodes=max_nodes, source=text)
    with _lock:
        _builder.reset(graph, bound, text)
        try:
            output = _lark().parse(text)
        except UnexpectedInput as error:
            raise _syntax_error(error, text) from None
        except AdiffError as error:
            error.source = text
            raise
        first_use = _builder.first_use
        unused, scope = _builder.unused, list(_builder.scope.values())
        _builder.reset(Graph(), ())  # let the graph go with the caller
    if isinstance(output, Function):
        raise AdiffError("empty", "the program defines a function but computes nothing",
                         hint=f"end it with an expression, such as {output.name}(...)")
    if output is None:
        raise AdiffError("empty", "the program is empty: nothing to evaluate",
                         hint='give an expression, such as "(x*w+b-y)^2"')
    if isinstance(output, Outputs):
        graph.results = dict(output)
        output = output[0][1]
    elif isinstance(output, Literal):
        output = graph.constant(output.value, output.text)
    graph.output = int(output)
    graph.outputs = {(): graph.output}
    graph.first_use = {name: (t.line, t.column) for name, t in first_use.items() if name in graph.inputs}
    if unused:
        graph = _without_unused_arguments(graph, unused, scope)
        graph.first_use = {name: place for name, place in graph.first_use.items() if name in graph.inputs}
    return graph


def _without_unused_arguments(graph: Graph, unused: list[int], scope: list[int]) -> Graph:
    """The graph without the nodes that only arguments a function never uses
    needed (`f(a, b) = 2*a` called as f(x, y*z): y*z, and y and z if nothing
    else uses them), so that a call costs what the written-out expression
    does.  Loops over the node list, in place, renumbering what is left."""
    nodes = graph.nodes
    count = len(nodes)
    suspect = bytearray(count)    # reached from an unused argument
    for i in unused:
        suspect[i] = 1
    for i in range(count - 1, -1, -1):
        if suspect[i]:
            for j in nodes[i].inputs:
                suspect[j] = 1
    live = bytearray(count)
    roots = [graph.output, *graph.results.values(), *scope,
             *(graph.inputs[name] for name in graph.defaults if name in graph.inputs)]
    for i in roots:
        live[i] = 1
    for n in nodes:
        if not suspect[n.id] or (n.label is not None and n.op not in (VAR, CONST)):
            live[n.id] = 1
    for i in range(count - 1, -1, -1):
        if live[i]:
            for j in nodes[i].inputs:
                live[j] = 1
    if all(live):
        return graph
    new_id = [-1] * count
    kept = []
    for n in nodes:
        if live[n.id]:
            new_id[n.id] = len(kept)
            n.id = len(kept)
            n.inputs = tuple(new_id[j] for j in n.inputs)
            kept.append(n)
    graph.nodes[:] = kept
    graph.inputs = {name: new_id[i] for name, i in graph.inputs.items() if live[i]}
    graph.defaults = {name: v for name, v in graph.defaults.items() if name in graph.inputs}
    graph.output = new_id[graph.output]
    graph.outputs = {(): graph.output}
    graph.results = {name: new_id[i] for name, i in graph.results.items()}
    graph._shared = {(CONST, repr(n.constant)) if n.op == CONST else (n.op, n.inputs): n.id
                     for n in kept if n.op != VAR}
    graph._counts = None
    return graph


# ---- syntax errors in words --------------------------------------------------

_OPERAND = ["a number", "a name", "'('"]
_WORDS = {"RPAR": "')'", "COMMA": "','", "_SEP": "a new line or ';'", "$END": "the end of the program"}
_OPERATOR_TERMINALS = {"ADD", "SUB", "MUL", "DIV", "POW", "SUPERSCRIPT"}


def _expected_words(expected: set[str]) -> str:
    words = []
    if expected & {"NUMBER", "NAME"}:
        words += _OPERAND
    if expected & _OPERATOR_TERMINALS - {"SUB", "ADD"} or not words and expected & {"SUB", "ADD"}:
        words.append("an operator")
    words += [_WORDS[t] for t in ("RPAR", "COMMA") if t in expected]
    if expected & {"_SEP", "$END"}:
        words.append("the end of the statement")
    if not words:
        return ""
    if len(words) == 1:
        return "expected " + words[0]
    return "expected " + ", ".join(words[:-1]) + " or " + words[-1]


def _open_parentheses(text: str, end: int) -> int:
    """How many '(' are still open before `end`, comments aside."""
    depth = 0
    for line in text[:end].split("\n"):
        line = line.partition("#")[0]
        depth += line.count("(") - line.count(")")
    return depth


def _in_context(expected: set[str], text: str, end: int) -> set[str]:
    """Lark's LALR tables merge states, so its expected set lists ')' and ','
    at the top level and the statement's end inside parentheses: keep what
    can follow here."""
    if _open_parentheses(text, end) > 0:
        return expected - {"_SEP", "$END"}
    return expected - {"RPAR", "COMMA"}


def _describe_character(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    if char.isprintable() and not char.isspace():
        return f"'{char}' ({code}{' ' + name if name else ''})"
    return f"{code}{' ' + name if name else ' (a control character)'}"


def _lookalike(char: str) -> Optional[str]:
    name = unicodedata.name(char, "")
    for words, operator in ((("MINUS", "DASH", "HYPHEN"), "-"), (("ASTERISK", "MULTIPLICATION", "DOT OPERATOR", "TIMES"), "*"),
                            (("DIVISION", "SLASH"), "/"), (("CIRCUMFLEX", "CARET"), "^"),
                            (("LEFT PARENTHESIS",), "("), (("RIGHT PARENTHESIS",), ")"),
                            (("PLUS",), "+"), (("EQUALS",), "="), (("COMMA",), ",")):
        if any(w in name for w in words):
            return f"did you mean '{operator}'?"
    return None


def _end_position(text: str) -> tuple[int, int]:
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1


_SUPERSCRIPT_CHARACTERS = set("⁰¹²³⁴⁵⁶⁷⁸⁹")


def _is_zero_before(text: str, end: int) -> bool:
    """Whether the number just before `end` is a lone 0 (0x10, 0b101; not 10x)."""
    before = text[:end]
    return before.endswith("0") and not (len(before) > 1 and (before[-2].isdigit() or before[-2] == "."))


def _ends_operand(text: str, end: int) -> bool:
    """Whether the text before `end` ends a number, a name, ')' or a power:
    what a following operand would multiply, were there implicit multiplication."""
    before = text[:end].rstrip(" \t")
    if not before:
        return False
    last = before[-1]
    return last == ")" or last.isalnum() or last in "._" or last in _SUPERSCRIPT_CHARACTERS


def _operand_before(text: str, end: int) -> str:
    """The operand that ends at `end`: a number, a name, or a parenthesis back to its '('."""
    i = len(text[:end].rstrip(" \t"))
    stop = i
    if text[i - 1] == ")":
        depth = 0
        while i > 0:
            i -= 1
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0 or text[i] == "\n":
                break
        return text[i:stop]
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "._" or text[i - 1] in _SUPERSCRIPT_CHARACTERS):
        i -= 1
    return text[i:stop]


def _operand_after(text: str, start: int) -> str:
    """The operand that starts at `start`: a name or number (with its call's
    parentheses), or a parenthesis up to its ')'."""
    i = start
    while i < len(text) and (text[i].isalnum() or text[i] in "._"):
        i += 1
    if i < len(text) and text[i] == "(":
        depth = 0
        while i < len(text) and text[i] != "\n":
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
    return text[start:i]


def _juxtaposed(text: str, token: Token) -> str:
    """The hint for `2x`, `2(x+1)`, `(x+1)(x-1)`: adiff has no implicit multiplication."""
    after = text[token.end_pos:].lstrip(" \t")
    if token.type == "NAME" and after.startswith("=") and not after.startswith("=="):
        return "statements are separated by new lines or ';'"
    left = _operand_before(text, token.start_pos)
    right = _operand_after(text, token.start_pos)
    product = f"{left}*{right}"
    if len(product) > 40:
        product = "a*b"
    return f"adiff has no implicit multiplication: write {product}"


def _absolute_value(text: str, start: int) -> str:
    """The hint for |x|: abs(x), with the bars' contents when they are on one line."""
    end = text.find("|", start + 1)
    inside = text[start + 1:end].strip() if end > 0 and "\n" not in text[start:end] else ""
    if not inside or len(inside) > 40:
        inside = "x"
    return f"for an absolute value, write abs({inside})"


def _syntax_error(error: UnexpectedInput, text: str) -> AdiffError:
    hint = None
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        message = f"unexpected character {_describe_character(char)}"
        expected = ""  # the lexer's allowed set is wider than what the parser wants here
        hint = _absolute_value(text, error.pos_in_stream) if char == "|" else _lookalike(char)
        line, column = error.line, error.column
    elif isinstance(error, UnexpectedToken) and error.token.type == "$END":
        message = "the program ends too soon"
        expected = _expected_words(_in_context(set(error.expected), text, len(text)))
        line, column = _end_position(text)
    elif isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "_SEP":
            what = "end of the line" if token.startswith("\n") else "';'"
        elif token.type == "NUMBER":
            what = f"number {shorten(token)}"
        elif token.type == "NAME":
            what = f"name '{shorten(token)}'"
        else:
            what = f"'{shorten(token)}'"
        message = f"unexpected {what}"
        expected = _expected_words(_in_context(set(error.expected), text, token.start_pos))
        line, column = token.line, token.column
        if token.type == "EQUAL":
            hint = "only a name can be assigned to: name = expression"
        elif set(error.expected) == {"$END"}:   # only the end may follow a list of outputs
            hint = "a list of outputs (R, H) must be the program's last statement"
        elif token.type == "NAME" and token[0] in "xXbBoO" and _is_zero_before(text, token.start_pos):
            try:
                hint = f"numbers are written in decimal: 0{token} is {int('0' + token, 0)}"
            except ValueError:
                hint = "numbers are written in decimal"
        elif token.type in ("NAME", "NUMBER", "LPAR") and _ends_operand(text, token.start_pos):
            hint = _juxtaposed(text, token)
    else:  # pragma: no cover - Lark's LALR parser raises only the above
        message, expected, line, column = str(error), "", None, None
    if expected:
        message += f": {expected}"
    return AdiffError("syntax", message, line=line, column=column, source=text, hint=hint)
