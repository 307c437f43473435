"""The README's tables of card and site fields, written from the field tables.

    python -m pipeline.config.docs          # rewrite the tables in README.md
    python -m pipeline.config.docs --check  # exit 1 if README.md is out of date

Each table sits between `<!-- fields: NAME -->` and `<!-- end fields -->` in the README; a
test fails when one is out of date, so a setting cannot go undocumented.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pipeline.config.fields import Option, table
from pipeline.config.settings import Card, DownloadSettings, Site, TranscribeSettings

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"(<!-- fields: (\w+) -->\n).*?(<!-- end fields -->)", re.S)


def tables() -> dict[str, str]:
    """Markdown for each block: the card's fields, and site.yaml's (with transcribe.*)."""
    site = list(table(Site).values())
    rows = site + [_prefixed(row, "transcribe") for row in table(TranscribeSettings).values()]
    rows += [_prefixed(row, "download") for row in table(DownloadSettings).values()]
    return {"card": _markdown(list(table(Card).values())), "site": _markdown(rows)}


def _prefixed(row: Option, group: str) -> Option:
    from dataclasses import replace

    return replace(row, name=f"{group}.{row.name}")


def _markdown(rows: list[Option]) -> str:
    lines = ["| field | meaning | default |", "| --- | --- | --- |"]
    for row in rows:
        lines.append(f"| `{row.name}` | {row.help} | {_default(row)} |")
    return "\n".join(lines) + "\n"


def _default(row: Option) -> str:
    if row.required:
        return "required"
    value = row.yaml_default
    if value in ("", [], {}, None) or row.nested:
        return ""
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def render(text: str) -> str:
    """The README text with every table block rewritten."""
    made = tables()
    return _BLOCK.sub(lambda m: m[1] + made[m[2]] + m[3], text)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = README.read_text(encoding="utf-8")
    fresh = render(text)
    if "--check" in args:
        if fresh != text:
            print(f"{README}: the field tables are out of date; run python -m pipeline.config.docs",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
