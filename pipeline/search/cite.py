"""Citations of an exact moment: who said it, in which interview, on which site, when, the
time span and a permanent link, as plain text, BibTeX and CSL-JSON.

The post page and `pipeline cite` give the same text: the formats are written here once per
interview and speaker as templates whose only blanks are the times and the turn's anchor
(digits and "t-66.6", which need no escaping in any format). `pipeline cite` fills them in
Python; the page's cite.js fills the same templates for a turn or for the words a reader
selected.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from pipeline.links import page_url, seconds
from pipeline.search.rows import PageTurn, page_turns
from pipeline.timecode import clock

FORMATS = ("text", "bibtex", "csl-json")
# The blanks: start and end in whole seconds (rounded down and up), as clock times, the anchor.
BLANKS = ("t", "end", "from", "to", "anchor")
MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()


def blank(name: str) -> str:
    """A blank in a template: private-use characters that no format escapes or changes."""
    return f"\ue000{name}\ue001"


@dataclass(frozen=True)
class Span:
    """A cited stretch of one interview: the speaker of its first word, start and end."""

    speaker: str | None
    start: float
    end: float
    anchor: str

    def values(self) -> dict[str, str]:
        t, end = seconds(self.start, self.end)
        return {"t": str(t), "end": str(end), "from": clock(t), "to": clock(end), "anchor": self.anchor}


def templates(card, site, speakers=()) -> dict[str, dict[str, str]]:
    """Every format for each of the card's people and every other speaker in `speakers`
    ("" for a turn without a speaker): {speaker: {format: template}}."""
    names = dict.fromkeys(["", *card.guests, card.interviewer or "", *(s or "" for s in speakers)])
    return {name: {"text": _text(card, site, name), "bibtex": _bibtex(card, site, name),
                   "csl-json": _csl(card, site, name)} for name in names}


def page_data(card, site, speakers) -> dict:
    """What a post page's cite.js needs: the templates by speaker, and the link's."""
    return {"templates": templates(card, site, speakers), "link": _link(card, site),
            "blanks": {name: blank(name) for name in BLANKS}}


def fill(template: str, span: Span) -> str:
    for name, value in span.values().items():
        template = template.replace(blank(name), value)
    return template


def _link(card, site) -> str:
    return page_url(site.base_url, card.slug) + f"?t={blank('t')}&end={blank('end')}#{blank('anchor')}"


def _date(card) -> str:
    return f"{card.date.day} {card.date:%B %Y}"


def _text(card, site, speaker: str) -> str:
    """Helen Ward, interview by Daniel Hughes, “Title”, Site, 20 November 2026, 1:06–1:26, URL.
    Words of the interviewer (or anyone else) say whose interview it is instead."""
    others = [g for g in card.guests if g != speaker]
    if speaker in card.guests and card.interviewer:
        parts = [speaker, f"interview by {card.interviewer}", f"“{card.title}”"]
    elif speaker and others:
        parts = [speaker, f"in “{card.title}” (interview with {', '.join(others)})"]
    elif speaker:
        parts = [speaker, f"in “{card.title}”"]
    else:
        parts = [f"“{card.title}”"]
    return ", ".join([*parts, *_where(site), _date(card), f"{blank('from')}–{blank('to')}",
                      _link(card, site)]) + "."


def _where(site) -> list[str]:
    return [site.title] + ([site.author] if site.author and site.author != site.title else [])


_BIBTEX_SPECIAL = re.compile(r"[\\{}&%$#_^~]")
_BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                   "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    """Text safe inside a BibTeX field: LaTeX's special characters escaped."""
    return _BIBTEX_SPECIAL.sub(lambda m: _BIBTEX_ESCAPES.get(m[0], "\\" + m[0]), " ".join(str(text).split()))


def _bibtex(card, site, speaker: str) -> str:
    fields = []
    if speaker:
        fields.append(("author", f"{{{_tex(speaker)}}}"))
    fields.append(("title", f"{{{{{_tex(card.title)}}}}}"))  # double braces keep its capitals
    published = ([f"Interview by {_tex(card.interviewer)}"] if card.interviewer else []) + \
                [_tex(w) for w in _where(site)]
    fields += [("howpublished", "{" + ", ".join(published) + "}"), ("year", f"{{{card.date.year}}}"),
               ("month", MONTHS[card.date.month - 1]), ("date", f"{{{card.date.isoformat()}}}"),
               ("note", f"{{At {blank('from')}--{blank('to')}}}"), ("url", f"{{{_link(card, site)}}}")]
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{card.slug}-{blank('t')},\n{body}\n}}"


def _csl(card, site, speaker: str) -> str:
    item = {"id": f"{card.slug}-{blank('t')}", "type": "interview", "title": card.title}
    if speaker:
        item["author"] = [{"literal": speaker}]
    if card.interviewer:
        item["interviewer"] = [{"literal": card.interviewer}]
    item["container-title"] = site.title
    if site.author:
        item["publisher"] = site.author
    item["issued"] = {"date-parts": [[card.date.year, card.date.month, card.date.day]]}
    item["URL"] = _link(card, site)
    item["note"] = f"At {blank('from')}–{blank('to')}"
    return json.dumps([item], indent=2, ensure_ascii=False)


def span_at(turns: list[PageTurn], start: float, end: float | None = None) -> Span:
    """The turn said at `start` (the whole turn), or from `start` to `end` when given; its
    speaker is the one of the turn at `start`. A turn is at the time the page shows for it
    (whole seconds), so "1:06" is the turn the page lists at 1:06 even if it starts at 66.7 s."""
    turn = next((t for t in reversed(turns) if math.floor(t.start + 1e-6) <= start + 1e-6), turns[0])
    if end is None:
        return Span(turn.speaker, turn.start, turn.end, turn.anchor)
    return Span(turn.speaker, start, end, turn.anchor)


def cite(post, site, start: float, end: float | None = None) -> dict[str, str]:
    """The citation of a moment of a published post in every format, and its link."""
    turns = page_turns(post.transcript)
    span = span_at(turns, start, end)
    chosen = templates(post.card, site, [span.speaker])[span.speaker or ""]
    result = {name: fill(chosen[name], span) for name in FORMATS}
    result["link"] = fill(_link(post.card, site), span)
    return result
