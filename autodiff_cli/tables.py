"""Lark's parse tables for grammar/adiff.lark, shipped as plain JSON data.

Compiling the grammar takes Lark about 20-40 ms at every start; rebuilding
the parser from its tables takes about 3 ms.  The tables are what Lark's own
serialization gives (`Lark.memo_serialize`, the data behind `Lark.save`),
written as JSON by `scripts/make_parse_tables.py` into
grammar/adiff.tables.json, and read back the way `Lark.load` reads them
(Lark.load accepts the data as a dict).  No pickle and no cache on disk:
the file is part of the package, like the grammar.

JSON has no integer keys and no tuples: the keys Lark numbers (the memo,
the token enumeration, the LALR states and their actions) are restored to
integers here.  The file holds the grammar's text too: tables made from
another grammar, or by a Lark whose table format was not read here, are not
used, and the caller compiles the grammar instead.  tests/test_tables.py
fails when the shipped file is out of date.
"""

from __future__ import annotations

import json
from typing import Any, Optional

FORMAT = 1
# Lark versions whose serialized tables were read and tested (pyproject pins lark to these)
LARK_VERSIONS = ("1.3.",)
FILE_NAME = "adiff.tables.json"
# options the loaded parser must be compiled with (parser.py compiles with the same)
OPTIONS = {"parser": "lalr", "lexer": "basic", "maybe_placeholders": True}


def _supported(version: str) -> bool:
    return version.startswith(LARK_VERSIONS)


def serialize(grammar: str) -> str:
    """The tables for `grammar` as JSON text (the generator's half)."""
    import lark
    from lark import Lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    parser = Lark(grammar, **OPTIONS)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    # options that only hold run-time objects are given again at load time
    data["options"] = {k: v for k, v in data["options"].items()
                       if k not in ("transformer", "postlex", "lexer_callbacks", "tree_class",
                                    "_plugins", "edit_terminals", "source_path")}
    document = {"format": FORMAT, "lark": lark.__version__, "grammar": grammar,
                "data": data, "memo": memo}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def restore(document: dict) -> tuple[dict, dict]:
    """(data, memo) as memo_serialize gave them: integer keys restored."""
    memo = {int(k): v for k, v in document["memo"].items()}
    data = document["data"]
    table = data["parser"]["parser"]
    table["tokens"] = {int(k): v for k, v in table["tokens"].items()}
    table["states"] = {int(state): {int(token): action for token, action in actions.items()}
                       for state, actions in table["states"].items()}
    return data, memo


def load(text: str, grammar: str, transformer: Any) -> Optional[Any]:
    """A Lark parser from the tables in `text`, or None when they are not
    for `grammar` or not in a format this Lark reads."""
    import lark
    from lark import Lark

    document = json.loads(text)
    if (document.get("format") != FORMAT or document.get("grammar") != grammar
            or not _supported(lark.__version__) or not _supported(document.get("lark", ""))):
        return None
    data, memo = restore(document)
    data["options"] = {**data["options"], "transformer": transformer}
    return Lark.load({"data": data, "memo": memo})
