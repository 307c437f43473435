"""The database: site/data/transcripts.db, built with sqlite-utils and brought up to date
after each publish, one interview at a time (see pipeline.search for its tables)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pipeline.files import atomic_path
from pipeline.model import PARAGRAPH_SECONDS, Post, Segment, Transcript, paragraphs
from pipeline.project import Project

if TYPE_CHECKING:  # imported when a database is written, not for every search
    import sqlite_utils

log = logging.getLogger(__name__)

DATABASE = Path("data") / "transcripts.db"  # inside site/, so readers can download it
SCHEMA_VERSION = 1  # stored as PRAGMA user_version; a different one means rebuild from scratch
FTS_COLUMNS = {"interviews": ["title", "guests", "interviewer", "tags", "intro"],
               "turns": ["text"], "chapters": ["title"]}


def database_path(project: Project) -> Path:
    return project.site / DATABASE


@dataclass
class Stats:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in asdict(self).items())


def build(path: Path, posts: Iterable[Post], base_url: str, keep: Iterable[str] = ()) -> Stats:
    """Bring the database at `path` up to date with `posts`; interviews in `keep` (say, ones
    that failed this time) keep their rows, every other interview not in `posts` is removed."""
    stats, seen = Stats(), set()
    known = _known_keys(path)
    with contextlib.ExitStack() as stack:
        db = None

        def writer() -> "sqlite_utils.Database":
            nonlocal db
            if db is None:  # first change: work on a copy, renamed over the old file at the end
                db = _open_copy(path, stack.enter_context(atomic_path(path)), fresh=known is None)
                stack.callback(db.close)
            return db

        for post in posts:
            slug, key = post.card.slug, _key(post, base_url)
            seen.add(slug)
            if known and known.get(slug) == key:
                stats.unchanged += 1
                continue
            if known and slug in known:
                _delete(writer(), slug)
                stats.updated += 1
            else:
                stats.added += 1
            _insert(writer(), post, base_url, key)
        for slug in set(known or {}) - seen - set(keep):
            _delete(writer(), slug)
            stats.removed += 1
        if known is None:
            writer()  # even an empty archive gets a database with its tables
        if db is not None and known is None:
            for table in FTS_COLUMNS:  # a fresh build: merge each index into one b-tree
                db[table].optimize()
    if db is not None:
        path.chmod(0o644)  # a download for everyone, not a private temporary file
    return stats


def _known_keys(path: Path) -> dict[str, str] | None:
    """slug -> content key of each interview in the database; None when it must be rebuilt."""
    if not path.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                log.info("search: %s has an older layout; rebuilding it", path)
                return None
            # A damaged file can still answer this query: check its pages before trusting it
            # (about 10 ms for 50 hours of interviews).
            if (problem := conn.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise sqlite3.DatabaseError(problem)
            return dict(conn.execute("SELECT slug, source_hash FROM interviews"))
    except sqlite3.DatabaseError as e:
        log.warning("search: %s is unreadable (%s); rebuilding it", path, e)
        return None


def _open_copy(path: Path, tmp: Path, fresh: bool) -> "sqlite_utils.Database":
    import sqlite_utils

    if not fresh:
        shutil.copyfile(path, tmp)
    else:
        tmp.unlink()
    db = sqlite_utils.Database(tmp)
    # A private temporary copy: no journal needed, the rename is what makes it safe.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    if fresh:
        _create_tables(db)
    return db


def _create_tables(db: "sqlite_utils.Database") -> None:
    db["interviews"].create({
        "slug": str, "title": str, "date": str, "year": int, "interviewer": str, "guests": str,
        "tags": str, "intro": str, "duration": float, "turns": int, "url": str, "source_hash": str,
    }, pk="slug")
    db["turns"].create({
        "id": int, "slug": str, "title": str, "date": str, "speaker": str, "guests": str,
        "start": float, "end": float, "text": str, "url": str, "word_starts": str,
    }, pk="id", foreign_keys=[("slug", "interviews", "slug")])
    db["chapters"].create({
        "id": int, "slug": str, "title": str, "start": float, "end": float, "url": str,
    }, pk="id", foreign_keys=[("slug", "interviews", "slug")])
    for table, columns in FTS_COLUMNS.items():
        db[table].enable_fts(columns, tokenize="porter", create_triggers=True)
    db["turns"].create_index(["slug", "start"])
    db["turns"].create_index(["date"])
    db["chapters"].create_index(["slug", "start"])
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _delete(db: "sqlite_utils.Database", slug: str) -> None:
    for table in ("turns", "chapters", "interviews"):
        db[table].delete_where("slug = ?", [slug])


def _insert(db: "sqlite_utils.Database", post: Post, base_url: str, key: str) -> None:
    card, page = post.card, _page_url(base_url, post.card.slug)
    rows = list(_turn_rows(post.transcript))
    db["interviews"].insert({
        "slug": card.slug, "title": card.title, "date": card.date.isoformat(), "year": card.date.year,
        "interviewer": card.interviewer or None, "guests": list(card.guests), "tags": list(card.tags),
        "intro": card.intro, "duration": round(post.transcript.duration, 2), "turns": len(rows),
        "url": page, "source_hash": key,
    })
    common = {"slug": card.slug, "title": card.title, "date": card.date.isoformat(),
              "guests": list(card.guests)}
    db["turns"].insert_all(({**common, **row, "url": f"{page}?t={int(row['start'])}"} for row in rows),
                           batch_size=500)
    db["chapters"].insert_all(({"slug": card.slug, **ch, "url": f"{page}?t={int(ch['start'])}"}
                               for ch in _chapters(post)), batch_size=500)


def _page_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/{slug}/"


def _turn_rows(transcript: Transcript) -> Iterable[dict]:
    """The turns readers see on the page (same grouping, same start times as the page's
    anchors), each with the start time of every word of its text."""
    segments, i = transcript.segments, 0
    page_turns = paragraphs(transcript)
    for n, turn in enumerate(page_turns):
        following = page_turns[n + 1].start if n + 1 < len(page_turns) else float("inf")
        starts = []
        while i < len(segments) and (segments[i].start < following or not starts):
            starts += _word_starts(segments[i])
            i += 1
        starts = _resample(starts, len(turn.text.split()), turn.start, turn.end)
        yield {"speaker": turn.speaker, "start": round(turn.start, 2), "end": round(turn.end, 2),
               "text": turn.text, "word_starts": json.dumps([round(s, 1) for s in starts])}


def _word_starts(seg: Segment) -> list[float]:
    """When each whitespace-separated token of the segment's text is spoken."""
    tokens = seg.text.split()
    words = [w.start for w in seg.words if w.word.strip()]
    if len(words) == len(tokens) or not tokens:
        return words
    return _resample(words, len(tokens), seg.start, seg.end)


def _resample(starts: list[float], count: int, begin: float, end: float) -> list[float]:
    """Stretch `starts` to `count` values (the text was edited, or has no word times)."""
    if len(starts) == count:
        return starts
    if not starts:
        return [begin + (end - begin) * k / max(count, 1) for k in range(count)]
    last = len(starts) - 1
    return [starts[round(k * last / max(count - 1, 1))] for k in range(count)]


def _chapters(post: Post) -> list[dict]:
    """The chapters as rows."""
    return [{"title": c.title, "start": round(c.start, 2), "end": round(c.end, 2)}
            for c in post.chapters]


def _key(post: Post, base_url: str) -> str:
    """What an interview's rows are made from: the card, the transcript and the chapters."""
    card = post.card
    data = [SCHEMA_VERSION, PARAGRAPH_SECONDS, base_url, card.title, card.date.isoformat(), card.interviewer,
            list(card.guests), list(card.tags), card.intro, post.transcript.duration,
            [(s.start, s.end, s.speaker, s.text) for s in post.transcript.segments], _chapters(post)]
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()
