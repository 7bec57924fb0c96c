"""One error type for everything a user can get wrong, and the exit codes."""

from __future__ import annotations

import enum
from typing import Optional


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURE = 1      # a failed check, --strict with warnings, an internal error
    BAD_INPUT = 2    # anything wrong with what the user gave
    INTERRUPTED = 130


class AdiffError(Exception):
    """An error with a kind, a message, and where in the program text it is.

    `kind` is a short stable word for scripts ("syntax", "unbound", ...);
    `line` and `column` are 1-based; `source` is the program text, kept so
    that the message can show the line with a caret under the column.
    """

    def __init__(self, kind: str, message: str, *, line: Optional[int] = None,
                 column: Optional[int] = None, source: Optional[str] = None,
                 hint: Optional[str] = None, exit_code: ExitCode = ExitCode.BAD_INPUT):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        self.hint = hint
        self.exit_code = exit_code
        self.file: Optional[str] = None   # the -f FILE that `source` was read from, set at the edge

    def excerpt(self, width: int = 76) -> Optional[str]:
        """The offending line and a caret under the column, cut to `width`."""
        if self.source is None or self.line is None or self.column is None:
            return None
        lines = self.source.split("\n")
        if not 1 <= self.line <= len(lines):
            return None
        text = lines[self.line - 1].rstrip("\r")
        column = self.column - 1
        start = max(0, min(column - width // 2, len(text) - width))
        shown = text[start:start + width]
        # control characters and tabs would break the caret's alignment
        shown = "".join(c if c.isprintable() else " " for c in shown)
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + width < len(text) else ""
        caret = " " * (len(prefix) + column - start) + "^"
        return f"  {prefix}{shown}{suffix}\n  {caret}"

    def __str__(self) -> str:
        if self.line is None:
            where = ""
        elif self.file is not None:   # as compilers name a place: FILE:LINE:COLUMN
            where = f"{self.file}:{self.line}:{self.column}: "
        else:
            where = f"line {self.line}, column {self.column}: "
        first = f"{where}{self.message}"
        # an internal error stays one line (the issue asks for a one-line report)
        parts = [first if self.kind == "internal" else _fit(first)]
        excerpt = self.excerpt()
        if excerpt:
            parts.append(excerpt)
        if self.hint:
            parts.append(_fit(self.hint))
        return "\n".join(parts)

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message,
                **({"file": self.file} if self.file is not None else {}),
                "line": self.line, "column": self.column, "hint": self.hint}


def shorten(text: str, width: int = 24) -> str:
    """A name or token for a message: a 100,000-character name must not fill the screen."""
    return text if len(text) <= width else text[:width - 1] + "…"


def strict_failure(messages: list) -> "AdiffError":
    """--strict: the warnings (the first three) as one failure, exit 1."""
    shown = messages[:3] + ([f"and {len(messages) - 3} more warnings"] if len(messages) > 3 else [])
    return AdiffError("strict", "; ".join(shown), hint="--strict makes every warning a failure",
                      exit_code=ExitCode.FAILURE)


def listed(names, limit: int = 20) -> str:
    """Names for a message: a few, each short and printable (a file's header
    can be anything), or "none"."""
    shown = ["".join(c if c.isprintable() else "?" for c in shorten(str(name))) for name in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more if shown else "none"


def _fit(text: str, width: int = 86) -> str:
    """Lines of at most `width` characters where the text allows, so that
    with a prefix such as "adiff: error: " an error stays within 100 columns.

    Breaks between clauses (after ': ' or '; ') where it can: a path or a
    quoted name stays whole, and so does a phrase a script may look for.
    The position ("line 3, column 7:") stays with what follows.  Only a
    clause longer than a line (a character's long Unicode name, a long
    path) is broken inside, at spaces, and a word longer than a line is cut:
    every line is bounded, whatever the input.
    """
    if len(text) <= width:
        return text
    import re
    lines = []
    for paragraph in text.split("\n"):
        clauses = re.split(r"(?<=[:;]) ", paragraph)
        if len(clauses) > 1 and re.fullmatch(r"line \d+, column \d+:", clauses[0]):
            clauses[:2] = [clauses[0] + " " + clauses[1]]
        line = clauses[0]
        for clause in clauses[1:]:
            if len(line) + 1 + len(clause) <= width:
                line += " " + clause
            else:
                lines.append(line)
                line = "  " + clause
        lines.append(line)
    if any(len(line) > width for line in lines):
        import textwrap
        lines = [part for line in lines
                 for part in (textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False)
                              if len(line) > width else [line])]
    return "\n".join(lines)
