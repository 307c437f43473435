"""Hits as researchers take them away: JSON, CSV, or a table aligned as a concordance."""

from __future__ import annotations

import csv
import io
import json
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
    """Title, time, speaker and the match in context, aligned as a concordance (KWIC)."""
    if not hits:
        return ""
    titles = [_shorten(h.title, 24) for h in hits]
    speakers = [_shorten(h.speaker or "-", 16) for h in hits]
    times = [clock(h.time) for h in hits]
    tw, sw, mw = (max(len(x) for x in col + [head]) for col, head in
                  ((titles, "TITLE"), (speakers, "SPEAKER"), (times, "TIME")))
    room = max(width - tw - sw - mw - 6, 30)
    match_w = min(max(len(h.match) for h in hits), room // 3)
    side = (room - match_w - 2) // 2
    before_w = min(max(len(h.before) for h in hits), side)
    lines = [f"{'TITLE':<{tw}}  {'TIME':>{mw}}  {'SPEAKER':<{sw}}  IN CONTEXT"]
    for hit, title, moment, speaker in zip(hits, titles, times, speakers):
        before = _shorten(hit.before, before_w, left=True)
        after = _shorten(hit.after, room - before_w - len(hit.match) - 2)
        lines.append(f"{title:<{tw}}  {moment:>{mw}}  {speaker:<{sw}}  "
                     f"{before:>{before_w}} {highlight(hit.match)}"
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
