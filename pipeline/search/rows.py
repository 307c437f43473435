"""What researchers get of an interview, row by row: the interview, its turns (the page's
paragraphs, with their anchors, links and word times) and its chapters. The database, the
site's search index, `pipeline export` and `pipeline cite` all take their rows from here, so
they agree on every turn, time and link.

Every number is made a plain float before it is rounded: the stages may hand on numpy
floats, which round half to even (94.55 -> 94.6) where Python rounds the float's true value
(94.55 is 94.5499... -> 94.5), and the rows must not depend on whether the transcript came
from memory or from its JSON file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.links import anchors, moment_url, page_url
from pipeline.model import PARAGRAPH_SECONDS, Chapter, Segment, Transcript, Word, paragraphs

# Changing what a row holds changes every interview's key, so the next publish rewrites them.
ROWS_VERSION = 2


class PostLike(Protocol):
    """What the rows are made from (a Post, or the benchmark's generated interviews)."""

    card: object
    transcript: Transcript
    chapters: list[Chapter]


@dataclass
class PageTurn:
    """One paragraph of the page: who, when, what, its anchor, and its words."""

    speaker: str | None
    start: float
    end: float
    text: str
    anchor: str
    words: list[Word] = field(default_factory=list)  # the recogniser's words, with times
    word_starts: list[float] = field(default_factory=list)  # one per whitespace word of `text`


def page_turns(transcript: Transcript) -> list[PageTurn]:
    """The turns readers see on the page (same grouping, start times and anchors as the
    page), each with its words and the start time of every word of its text."""
    segments, i = transcript.segments, 0
    turns = paragraphs(transcript)
    result = []
    for n, (turn, name) in enumerate(zip(turns, anchors(t.start for t in turns))):
        following = turns[n + 1].start if n + 1 < len(turns) else float("inf")
        mine: list[Segment] = []
        while i < len(segments) and (segments[i].start < following or not mine):
            mine.append(segments[i])
            i += 1
        start, end = float(turn.start), float(turn.end)
        starts = [s for seg in mine for s in _token_starts(seg)]
        starts = _resample(starts, len(turn.text.split()), start, end)
        words = [Word(float(w.start), float(w.end), w.word, float(w.probability))
                 for seg in mine for w in seg.words]
        result.append(PageTurn(turn.speaker, start, end, turn.text, name, words, starts))
    return result


def _token_starts(seg: Segment) -> list[float]:
    """When each whitespace-separated token of the segment's text is spoken."""
    tokens = seg.text.split()
    words = [float(w.start) for w in seg.words if w.word.strip()]
    if len(words) == len(tokens) or not tokens:
        return words
    return _resample(words, len(tokens), float(seg.start), float(seg.end))


def _resample(starts: list[float], count: int, begin: float, end: float) -> list[float]:
    """Stretch `starts` to `count` values (the text was edited, or has no word times)."""
    if len(starts) == count:
        return starts
    if not starts:
        return [begin + (end - begin) * k / max(count, 1) for k in range(count)]
    last = len(starts) - 1
    return [starts[round(k * last / max(count - 1, 1))] for k in range(count)]


def interview_row(post: PostLike, base_url: str, turns: list[PageTurn]) -> dict:
    card = post.card
    speakers = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    return {
        "slug": card.slug, "title": card.title, "date": card.date.isoformat(), "year": card.date.year,
        "interviewer": card.interviewer or None, "guests": list(card.guests), "tags": list(card.tags),
        "speakers": speakers, "intro": card.intro, "duration": round(float(post.transcript.duration), 2),
        "turns": len(turns), "url": page_url(base_url, card.slug),
    }


def turn_rows(post: PostLike, base_url: str, turns: list[PageTurn]) -> list[dict]:
    """The turns as rows: each with its interview's title, date, guests and tags (so a turn
    row can be read, filtered and faceted on its own) and its permanent link."""
    card, page = post.card, page_url(base_url, post.card.slug)
    common = {"slug": card.slug, "title": card.title, "date": card.date.isoformat(),
              "guests": list(card.guests), "tags": list(card.tags)}
    return [{**common, "speaker": t.speaker, "start": round(t.start, 2), "end": round(t.end, 2),
             "anchor": t.anchor, "text": t.text, "url": moment_url(page, t.start, t.end, t.anchor),
             "word_starts": json.dumps([round(s, 1) for s in t.word_starts])} for t in turns]


def chapter_rows(post: PostLike, base_url: str) -> list[dict]:
    page = page_url(base_url, post.card.slug)
    return [{"slug": post.card.slug, "title": c.title, "start": round(float(c.start), 2),
             "end": round(float(c.end), 2), "url": moment_url(page, c.start)} for c in post.chapters]


def content_key(post: PostLike, base_url: str) -> str:
    """What an interview's rows are made from: the card, the whole transcript (every word's
    time too) and the chapters, and how rows are made."""
    card = post.card
    data = [ROWS_VERSION, PARAGRAPH_SECONDS, base_url, card.slug, card.title, card.date.isoformat(),
            card.interviewer, list(card.guests), list(card.tags), card.intro,
            post.transcript.digest(), [(float(c.start), float(c.end), c.title) for c in post.chapters]]
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()
