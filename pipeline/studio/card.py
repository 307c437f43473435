"""The card fields the studio saves: reviewed, speakers, chapters and quotes (pin, drop).

The card is the editor's file, often with comments (`pipeline new` explains every field in
one), so a save must change only the fields it sets. ruamel.yaml (round-trip) reads the card
and tells where each top-level field's lines are; only those lines are replaced, with the
field as ruamel.yaml writes it, so every other line, comment and blank line stays byte for
byte, in its order. A field the card does not have yet is added at the end. The result is
checked with the pipeline's own card loader before the file is replaced (atomically): a
change that would make the card invalid is refused with the card's own messages. A card that
changed on disk since the studio loaded it is not overwritten unless the editor says so.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import CARD_NAME, load_card
from pipeline.errors import CardError, PipelineError
from pipeline.files import atomic_path, read_editor_text, sha256_file, within
from pipeline.studio.document import BOM, Conflict

# The fields the studio may write, in the order the field table gives them.
FIELDS = ("speakers", "reviewed", "chapters", "quotes")
_writing = threading.Lock()


class CardRefused(PipelineError):
    """The change would make the card invalid: the card's own problems, listed."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: not saved, because the card would then have "
                         f"{len(problems)} problem(s):\n{lines}")


@dataclass
class Saved:
    version: str
    text: str


def version(folder: Path) -> str:
    """The card's hash, for telling whether it changed on disk since the studio loaded it."""
    path = folder / CARD_NAME
    within(path, folder, "the card")
    return sha256_file(path)


def save(folder: Path, changes: dict, loaded: str, force: bool = False) -> Saved | Conflict:
    """Set the given fields of the card in `folder`. `loaded` is the card's hash when the
    studio read it; a card changed since is left alone (a Conflict) unless `force`."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise CardRefused(folder / CARD_NAME, [f"the studio does not set '{k}'" for k in unknown])
    path = folder / CARD_NAME
    with _writing:
        within(path, folder, "the card")
        raw = path.read_bytes()
        text = read_editor_text(path)
        new = updated(text, changes)
        now = sha256_file(path)
        if now != loaded and not force:
            return Conflict(CARD_NAME, text, new, now)
        if new == text:
            return Saved(now, text)
        newline = "\r\n" if b"\r\n" in raw else "\n"
        data = ((BOM if raw.startswith(BOM.encode()) else "") + new.replace("\r\n", "\n").replace("\n", newline))
        with atomic_path(path) as tmp:
            tmp.write_bytes(data.encode("utf-8"))
            try:  # the pipeline's own checks, on the file as it would be
                load_card(folder, tmp)
            except CardError as e:
                raise CardRefused(path, e.problems) from None
        return Saved(sha256_file(path), new)


def updated(text: str, changes: dict) -> str:
    """The card's text with the given top-level fields set, every other line kept as it is."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML().load(text)
    except YAMLError as e:
        raise CardRefused(Path(CARD_NAME), [f"the card is not valid YAML ({e}); fix it in a text "
                                            "editor first"]) from None
    if not hasattr(data, "lc"):
        raise CardRefused(Path(CARD_NAME), ["the card must be a mapping of 'field: value' lines"])
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts = sorted((data.lc.key(k)[0], k) for k in data)
    indent = _sequence_indent(text)
    added = []
    # From the bottom up, so the line numbers above stay right.
    for key in sorted(changes, key=lambda k: -data.lc.key(k)[0] if k in data else 0):
        new = _field(key, changes[key], indent)
        if key not in data:
            added.append(new)
            continue
        first = data.lc.key(key)[0]
        following = [line for line, _ in starts if line > first]
        last = _last_line(lines, first, following[0] if following else len(lines))
        lines[first:last + 1] = [_keep_comment(lines[first], new, last == first)]
    return "".join(lines) + "".join(sorted(added, key=lambda f: FIELDS.index(f.split(":")[0])))


def _last_line(lines: list[str], first: int, stop: int) -> int:
    """The last line of the field starting at `first`: its value's indented lines (or a
    sequence at column 0), not the blank and comment lines before the next field."""
    last = first
    for n in range(first + 1, stop):
        if lines[n].strip() and (lines[n][0] in " \t" or lines[n].startswith("-")):
            last = n
    return last


def _keep_comment(old: str, new: str, one_line: bool) -> str:
    """Keep a comment at the end of a field's line (`reviewed: false  # ask Helen`)."""
    match = re.search(r"\s+#[^'\"]*$", old.rstrip("\r\n"))
    if one_line and match and "\n" not in new.rstrip("\n"):
        return new.rstrip("\n") + match[0] + "\n"
    return new


def _sequence_indent(text: str) -> int:
    """How the card indents a block sequence under its key ("guests:\\n  - Helen"): 2 or 0."""
    match = re.search(r"^[\w-]+:[ \t]*\r?\n([ \t]*)- ", text, re.MULTILINE)
    return len(match[1]) if match else 2


def _field(key: str, value, indent: int) -> str:
    """`key: value` as ruamel.yaml writes it: short values on the line, lists in blocks."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    yaml = YAML()
    yaml.width = 4096  # never fold a long quote or title over lines
    yaml.indent(mapping=2, sequence=indent + 2, offset=indent)
    if key == "chapters" and value:
        items = CommentedSeq()
        for chapter in value:
            item = CommentedMap(start=DoubleQuotedScalarString(chapter["start"]), title=chapter["title"])
            item.fa.set_flow_style()
            items.append(item)
        value = items
    elif key == "speakers" and isinstance(value, dict):
        value = CommentedMap(value)
        value.fa.set_flow_style()
    out = io.StringIO()
    yaml.dump({key: value}, out)
    return out.getvalue()
