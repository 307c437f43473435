"""Search: the researchers' SQLite database, `pipeline search`, and the site's search page.

site/data/transcripts.db (built with sqlite-utils, so `datasette` or `sqlite-utils search`
open it with no configuration) holds three tables, each with an FTS5 index (porter stemming):

  interviews  one row per interview: slug, title, date, year, interviewer, guests, tags, intro, url
  turns       one row per speaker turn: slug, title, date, speaker, guests, start, end, text, url,
              and word_starts (when each word of `text` is spoken, so a hit has its exact moment)
  chapters    one row per chapter: slug, title, start, end, url

It is rebuilt incrementally after each publish (an interview whose card, transcript and
chapters did not change is left as it is) and replaced atomically. After it, Pagefind indexes
the rendered pages for the site's own search page (site/search/).
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from pipeline.errors import PipelineError
from pipeline.export import clock
from pipeline.cache import package_version
from pipeline.files import atomic_path, write_text
from pipeline.model import Segment, Transcript, turns

if TYPE_CHECKING:
    import sqlite_utils

    from pipeline.config import Site
    from pipeline.project import Project
    from pipeline.publish import Post

log = logging.getLogger(__name__)

DATABASE = Path("data") / "transcripts.db"  # inside site/, so readers can download it
SCHEMA_VERSION = 1  # stored as PRAGMA user_version; a different one means rebuild from scratch
FTS_COLUMNS = {"interviews": ["title", "guests", "interviewer", "tags", "intro"],
               "turns": ["text"], "chapters": ["title"]}
OPEN, CLOSE = "\x02", "\x03"  # highlight() markers: characters a transcript never holds
PAGEFIND_DIR = "pagefind"
SYNTAX_HELP = ('Search for words (library), "exact phrases" ("plain words"), prefixes (blog*), '
               'and combine them with AND, OR, NOT (press NOT lawyers) or NEAR(plain words, 5).')


class SearchError(PipelineError):
    """The search database is missing or unreadable, or a query cannot be understood."""


def database_path(project: "Project") -> Path:
    return project.site / DATABASE


def publish(project: "Project", site: "Site", posts: list["Post"], keep: Iterable[str] = ()) -> "Stats":
    """The search stage: update the database, write the search page, index the site."""
    started = time.monotonic()
    stats = build(database_path(project), posts, site.base_url, keep)
    render_page(project, site)
    indexed = index_site(project.site)
    log.info("search: database %s (%s) in %.1f s; site index %s", database_path(project), stats,
             time.monotonic() - started, "rebuilt" if indexed else "unchanged")
    return stats


# --- Building the database -------------------------------------------------------------------

@dataclass
class Stats:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in asdict(self).items())


def build(path: Path, posts: Iterable["Post"], base_url: str, keep: Iterable[str] = ()) -> Stats:
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


def _insert(db: "sqlite_utils.Database", post: "Post", base_url: str, key: str) -> None:
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
    from pipeline.render import PARAGRAPH_SECONDS  # here: searching needs no jinja2 to start


    segments, i = transcript.segments, 0
    page_turns = turns(transcript, max_length=PARAGRAPH_SECONDS)
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


def _chapters(post: "Post") -> list[dict]:
    """Chapters as rows, read as the page reads them (dicts or objects, seconds or clock times)."""
    from pipeline.render import chapter_list

    return [{"title": c["title"], "start": round(c["start"], 2), "end": round(c["end"], 2)}
            for c in chapter_list(post)]


def _key(post: "Post", base_url: str) -> str:
    """What an interview's rows are made from: the card, the transcript and the chapters."""
    from pipeline.render import PARAGRAPH_SECONDS

    card = post.card
    data = [SCHEMA_VERSION, PARAGRAPH_SECONDS, base_url, card.title, card.date.isoformat(), card.interviewer,
            list(card.guests), list(card.tags), card.intro, post.transcript.duration,
            [(s.start, s.end, s.speaker, s.text) for s in post.transcript.segments], _chapters(post)]
    return hashlib.sha256(json.dumps(data, default=str).encode()).hexdigest()


# --- Searching -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    speaker: str | None = None  # part of the speaker's name, any case
    guest: str | None = None  # part of a guest's name, any case
    tag: str | None = None  # a whole tag, any case
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None  # YYYY-MM-DD, inclusive
    slug: str | None = None


@dataclass
class Hit:
    """One matching moment: the turn it is in, and the match with words either side."""

    slug: str
    title: str
    date: str
    speaker: str | None
    time: float  # when the first matching word is spoken
    start: float  # the turn
    end: float
    chapter: str | None
    before: str
    match: str
    after: str
    text: str
    url: str  # opens the post at `time`

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Results:
    query: str  # the FTS5 query that was run
    hits: list[Hit] = field(default_factory=list)
    note: str | None = None  # how the query was changed to make sense of it


def search(path: Path, query: str, filters: Filters = Filters(), limit: int = 20,
           context: int = 8) -> Results:
    """Hits for an FTS5 query, best first (bm25; ties newest first), `context` words either side."""
    query = " ".join(query.split())
    if not re.search(r"\w", query):
        raise SearchError(f"Nothing to search for in {query!r}. {SYNTAX_HELP}")
    conn = _connect(path)
    try:
        fts, note = _near(query), None
        try:
            rows = _run(conn, fts, filters, limit)
        except sqlite3.OperationalError as e:
            if not _is_query_error(e):
                raise
            fts = _escape(query)
            note = f"{query!r} is not a valid search ({e}), so it was read as: {fts}"
            try:
                rows = _run(conn, fts, filters, limit)
            except sqlite3.OperationalError:
                raise SearchError(f"Cannot understand the search {query!r} ({e}). {SYNTAX_HELP}") from None
        hits = [_hit(conn, row, context) for row in rows]
    except sqlite3.DatabaseError as e:
        raise SearchError(f"{path} is not a transcripts database this version can read ({e}). "
                          "Rebuild it with `pipeline publish`.") from None
    finally:
        conn.close()
    return Results(fts, hits, note)


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise SearchError(f"No search database at {path}. Run `pipeline publish` to build it, "
                          "or give one with --db.")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _run(conn: sqlite3.Connection, fts: str, filters: Filters, limit: int) -> list[sqlite3.Row]:
    where, params = ["turns_fts MATCH :query"], {"query": fts, "limit": limit}
    if filters.speaker:
        where.append(r"t.speaker LIKE :speaker ESCAPE '\'")
        params["speaker"] = _like(filters.speaker)
    if filters.guest:
        where.append(r"EXISTS (SELECT 1 FROM json_each(t.guests) WHERE value LIKE :guest ESCAPE '\')")
        params["guest"] = _like(filters.guest)
    if filters.tag:
        where.append("EXISTS (SELECT 1 FROM interviews i, json_each(i.tags) j "
                     "WHERE i.slug = t.slug AND j.value = :tag COLLATE NOCASE)")
        params["tag"] = filters.tag.strip()
    for name, test in (("date_from", "t.date >= :date_from"), ("date_to", "t.date <= :date_to"),
                       ("slug", "t.slug = :slug")):
        if getattr(filters, name):
            where.append(test)
            params[name] = getattr(filters, name)
    sql = (f"SELECT t.slug, t.title, t.date, t.speaker, t.start, t.\"end\", t.text, t.url, "
           f"t.word_starts, highlight(turns_fts, 0, char(2), char(3)) AS marked "
           f"FROM turns_fts JOIN turns t ON t.id = turns_fts.rowid WHERE {' AND '.join(where)} "
           f"ORDER BY turns_fts.rank, t.date DESC, t.slug, t.start LIMIT :limit")
    return conn.execute(sql, params).fetchall()


def _like(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _is_query_error(error: sqlite3.OperationalError) -> bool:
    message = str(error)
    return message.startswith(("fts5:", "unterminated string", "no such column",
                               "unknown special query", "malformed MATCH"))


def _hit(conn: sqlite3.Connection, row: sqlite3.Row, context: int) -> Hit:
    marked = row["marked"]
    before, match, after, index = _best_match(marked)
    starts = json.loads(row["word_starts"] or "[]")
    moment = starts[min(index, len(starts) - 1)] if starts else row["start"]
    # Rounded first, then kept inside the turn: a rounded time must not fall before its turn.
    moment = min(max(round(moment, 1), row["start"]), row["end"])
    chapter = conn.execute("SELECT title FROM chapters WHERE slug = ? AND start <= ? "
                           "ORDER BY start DESC LIMIT 1", (row["slug"], moment)).fetchone()
    return Hit(
        slug=row["slug"], title=row["title"], date=row["date"], speaker=row["speaker"],
        time=moment, start=row["start"], end=row["end"],
        chapter=chapter[0] if chapter else None,
        before=_words(before, -context), match=_plain(match), after=_words(after, context),
        text=row["text"], url=re.sub(r"\?t=\d+$", "", row["url"]) + f"?t={int(moment)}",
    )


def _best_match(marked: str, window: int = 8) -> tuple[str, str, str, int]:
    """Where the query's terms crowd together most (the first such place): the text before,
    the match, the text after, and the index of the match's first word."""
    spans = [(m.start(), m.end() - 1) for m in re.finditer(f"{OPEN}[^{CLOSE}]*{CLOSE}", marked)]
    if not spans:  # matched, but highlight() could not place it
        return "", "", marked, 0
    words = [len(marked[:s].split()) - (1 if s and not marked[s - 1].isspace() else 0) for s, _ in spans]
    best = max(range(len(spans)), key=lambda k: (sum(words[k] <= w < words[k] + window for w in words), -k))
    first, last = spans[best]
    return marked[:first], marked[first + 1:last], marked[last + 1:], words[best]


def _plain(text: str) -> str:
    return text.replace(OPEN, "").replace(CLOSE, "")


def _words(text: str, count: int) -> str:
    """The last (count < 0) or first `count` words of `text`."""
    words = _plain(text).split()
    return " ".join(words[count:] if count < 0 else words[:count])


# Infix NEAR, as FTS4 and other tools write it: `plain NEAR words`, `plain NEAR/5 words`.
_OPERAND = r'(?:"[^"]*"|[^\s()"]+)'
_INFIX_NEAR = re.compile(rf"({_OPERAND})\s+NEAR(?:/(\d+))?\s+({_OPERAND})")


def _near(query: str) -> str:
    """Rewrite infix NEAR into FTS5's NEAR(a b, N); FTS5 would read it as a plain word."""
    return _INFIX_NEAR.sub(lambda m: f"NEAR({m[1]} {m[3]}, {m[2] or 10})", query)


_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')
_OPERATORS = ("AND", "OR", "NOT")


def _escape(query: str) -> str:
    """A query FTS5 accepts: every word and phrase quoted (punctuation then just separates
    words), unbalanced quotes closed, operators kept only where they join two terms."""
    terms = []
    for token in _TOKEN.findall(query):
        if token in _OPERATORS:
            terms.append(token)
            continue
        prefix = token.endswith("*") and not token.startswith('"')
        token = re.sub(r"^[A-Za-z_]+:(?=\S)", "", token)  # a column filter: no such column here
        text = token.replace('"', " ").replace("*", " ").strip("() ")
        if re.search(r"\w", text):
            terms.append(f'"{" ".join(text.split())}"' + ("*" if prefix else ""))
    if terms and terms[0] == "NOT":
        raise SearchError(f"NOT needs words on both sides, as in 'press NOT lawyers': {query!r}. "
                          f"{SYNTAX_HELP}")
    result = []
    for n, term in enumerate(terms):
        is_operator = term in _OPERATORS
        joins = result and result[-1] not in _OPERATORS and n + 1 < len(terms) \
            and terms[n + 1] not in _OPERATORS
        if not is_operator or joins:
            result.append(term)
    if not result:
        raise SearchError(f"Nothing to search for in {query!r}. {SYNTAX_HELP}")
    return " ".join(result)


def date_bound(text: str, end: bool = False) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD as the first (or, with end, the last) day it covers."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text)
    if not match or (match[3] and not match[2]):
        raise ValueError(f"'{text}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(match[1]), int(match[2] or (12 if end else 1)), match[3]
    if not 1 <= month <= 12:
        raise ValueError(f"'{text}' has no month {month}")
    if day is None:
        last = (datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)).day
        day = last if end else 1
    try:
        return datetime.date(year, month, int(day)).isoformat()
    except ValueError as e:
        raise ValueError(f"'{text}' is not a date: {e}") from None


# --- Output formats --------------------------------------------------------------------------

def format_json(hits: list[Hit]) -> str:
    return json.dumps([h.to_dict() for h in hits], indent=1, ensure_ascii=False) + "\n"


def format_csv(hits: list[Hit]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f.name for f in fields(Hit)], lineterminator="\n")
    writer.writeheader()
    writer.writerows(h.to_dict() for h in hits)
    return out.getvalue()


def format_table(hits: list[Hit], width: int = 100,
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


# --- The site's search page and Pagefind -----------------------------------------------------

def render_page(project: "Project", site: "Site") -> None:
    """site/search/index.html: the search form, enhanced by Pagefind in the browser."""
    from pipeline.render import environment

    page = environment(project).get_template("search.html").render(
        site=site, root="../", database=DATABASE.as_posix())
    write_text(project.site / "search" / "index.html", page)


def index_site(folder: Path) -> bool:
    """Run Pagefind over the rendered pages; skipped when no page changed. True if it ran."""
    pages = sorted(p for p in folder.rglob("*.html")
                   if not any(part.startswith(".") or part == PAGEFIND_DIR
                              for part in p.relative_to(folder).parts))
    digest = hashlib.sha256(_pagefind_version().encode())
    for page in pages:
        digest.update(page.relative_to(folder).as_posix().encode() + b"\0" + page.read_bytes() + b"\0")
    stamp = folder / PAGEFIND_DIR / "pagefind-entry.json"
    stamp_key = folder / PAGEFIND_DIR / ".source-hash"
    if stamp.exists() and stamp_key.exists() and stamp_key.read_text().strip() == digest.hexdigest():
        return False
    _run_pagefind(folder)
    write_text(stamp_key, digest.hexdigest() + "\n")
    return True


def _pagefind() -> Path:
    try:
        from pagefind_bin import get_executable

        return get_executable()
    except (ImportError, FileNotFoundError) as e:
        raise SearchError(f"The Pagefind program is missing ({e}); reinstall the pipeline with "
                          "`pip install -e .` (it comes from the pagefind[bin] package).") from None


def _pagefind_version() -> str:
    return package_version("pagefind_bin")


def _run_pagefind(folder: Path) -> None:
    """Index into a fresh folder, then swap it in: readers never see half an index."""
    fresh = Path(tempfile.mkdtemp(prefix=".pagefind-", dir=folder))
    old = folder / f".{PAGEFIND_DIR}-old"
    try:
        proc = subprocess.run([str(_pagefind()), "--site", str(folder), "--output-path", str(fresh),
                               "--silent"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SearchError(f"Pagefind could not index {folder}: "
                              f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
        shutil.rmtree(old, ignore_errors=True)
        if (folder / PAGEFIND_DIR).exists():
            os.replace(folder / PAGEFIND_DIR, old)
        os.replace(fresh, folder / PAGEFIND_DIR)
        for path in (folder / PAGEFIND_DIR).rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (folder / PAGEFIND_DIR).chmod(0o755)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
