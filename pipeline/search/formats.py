"""Hits as researchers take them away: JSON, CSV, or a table aligned as a concordance."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from dataclasses import fields
from typing import Callable

from pipeline.search.query import Hit
from pipeline.timecode import clock


def as_json(hits: list[Hit]) -> str:
    return json.dumps([h.to_dict() for h in hits], indent=1, ensure_ascii=False) + "\n"


def as_csv(hits: list[Hit]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(Hit)], lineterminator="\n")
    writer.writeheader()
    writer.writerows(h.to_dict() for h in hits)
    return out.getvalue()


def as_table(hits: list[Hit], width: int = 100,
             highlight: Callable[[str], str] = lambda s: f"[{s}]") -> str:
    """The hits of each interview under its slug, date and whole title (wrapped to `width`),
    in the order of each interview's best hit; each hit a line with its time, speaker and the
    match in context, aligned as a concordance (KWIC)."""
    if not hits:
        return ""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.slug, []).append(hit)
    speakers = [_shorten(h.speaker or "-", 20) for h in hits]
    times = [clock(h.time) for h in hits]
    sw, mw = max(map(len, speakers)), max(map(len, times))
    room = max(width - sw - mw - 6, 30)
    match_w = min(max(len(h.match) for h in hits), room // 3)
    side = (room - match_w - 2) // 2
    before_w = min(max(len(h.before) for h in hits), side)
    by_hit = {id(h): (s, t) for h, s, t in zip(hits, speakers, times)}
    lines = []
    for slug, found in groups.items():
        heading = f"{slug} · {found[0].date} · {found[0].title}"
        lines += textwrap.wrap(heading, max(width, 20), subsequent_indent="    ", break_on_hyphens=False)
        for hit in found:
            speaker, moment = by_hit[id(hit)]
            before = _shorten(hit.before, before_w, left=True)
            after = _shorten(hit.after, room - before_w - len(hit.match) - 2)
            lines.append(f"  {moment:>{mw}}  {speaker:<{sw}}  {before:>{before_w}} {highlight(hit.match)}"
                         f"{'' if _glued(hit.after) else ' '}{after}".rstrip())
    return "\n".join(lines) + "\n"


def _glued(after: str) -> bool:
    """Punctuation right after the match ('words.') is printed without a space."""
    return bool(after) and not after[0].isalnum() and after[0] not in "(\"'"


def _shorten(text: str, width: int, left: bool = False) -> str:
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return "…" + text[len(text) - width + 1:] if left else text[:width - 1] + "…"
