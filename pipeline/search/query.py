"""Searching the database: FTS5 queries (made safe when they do not parse), filters by
speaker, guest, tag, date and interview, and each hit's exact moment and link."""

from __future__ import annotations

import datetime
import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.errors import SearchError

OPEN, CLOSE = "\x02", "\x03"  # highlight() markers: characters a transcript never holds
SYNTAX_HELP = ('Search for words (library), "exact phrases" ("plain words"), prefixes (blog*), '
               'and combine them with AND, OR, NOT (press NOT lawyers) or NEAR(plain words, 5).')


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
