"""Write grammar/adiff.tables.json, Lark's parse tables for grammar/adiff.lark.

Run after every change to the grammar (tests/test_tables.py fails until you do):

    python scripts/make_parse_tables.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autodiff_cli.tables import FILE_NAME, serialize  # noqa: E402


def main() -> None:
    grammar = (ROOT / "grammar" / "adiff.lark").read_text("utf-8")
    target = ROOT / "grammar" / FILE_NAME
    target.write_text(serialize(grammar), encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
