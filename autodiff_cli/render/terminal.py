"""What the terminal allows: colour or not, its width, and text's width in cells.

One rule for every output adiff styles (the table, the check, the tree):
NO_COLOR (set and not empty) turns colour off, whatever else is set;
FORCE_COLOR (set, not empty and not 0) turns it on, even into a pipe;
otherwise colour goes only to a terminal whose TERM is not `dumb`.
See https://no-color.org and https://force-color.org.

Small on purpose: importing Rich's console to ask the same questions cost
the table about a third of adiff's start-up.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Callable, TextIO

DEFAULT_WIDTH = 80

# SGR codes for the few styles adiff uses
STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def color_enabled(file: TextIO) -> bool:
    environ = os.environ
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def width(file: TextIO) -> int:
    """COLUMNS when it is set (as Rich and most tools read it), else the
    terminal's width, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(file.fileno()).columns or DEFAULT_WIDTH
    except (AttributeError, OSError, ValueError):
        return DEFAULT_WIDTH


def painter(file: TextIO) -> Callable[[str, str], str]:
    """paint(text, "bold cyan"): the text in that style, or as it is without colour."""
    if not color_enabled(file):
        return lambda text, style: text

    def paint(text: str, style: str) -> str:
        if not style or not text:
            return text
        codes = ";".join(STYLES[word] for word in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"
    return paint


def cell_len(text: str) -> int:
    """Terminal cells: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def fit(text: str, cells: int) -> str:
    """`text` padded to `cells`, or cut with an ellipsis to fit them."""
    length = cell_len(text)
    if length <= cells:
        return text + " " * (cells - length)
    kept, used = [], 0
    for char in text:
        w = cell_len(char)
        if used + w > cells - 1:
            break
        kept.append(char)
        used += w
    return "".join(kept) + "…" + " " * (cells - 1 - used)
