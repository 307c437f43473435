"""Searching the database: FTS5 queries (made safe when they do not parse), filters by
speaker, guest, tag, date and interview, and each hit's exact moment and link.

Ranking: best matches first (FTS5's bm25), ties newest first. A query matched by more than
COMMON_TURNS turns (a very common word such as "the") is listed newest first instead: bm25
would have to score every one of those rows before showing the first (111 ms at 1,000 hours),
and a word in most turns tells them apart no better than their dates do. Row ids sort newest
interview first (see database.py), so that list is read straight off the index.
"""

from __future__ import annotations

import bisect
import datetime
import difflib
import json
import re
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.errors import SearchError
from pipeline.links import moment_url
from pipeline.search.database import SCHEMA_VERSION, day_ids
from pipeline.timecode import clock

OPEN, CLOSE = "\x02", "\x03"  # highlight() markers: characters a transcript never holds
SYNTAX_HELP = ('Search for words (library), "exact phrases" ("plain words"), prefixes (blog*), '
               'and combine them with AND, OR, NOT (press NOT lawyers) or NEAR(plain words, 5).')
COMMON_TURNS = 5000  # more matching turns than this: newest first (see the module's docstring)
WINDOW = 12  # words: a match's terms that close together are shown as one match
# What a database must hold for this version to search it.
COLUMNS = {"interviews": {"slug", "title", "date", "guests", "tags", "speakers", "first_id", "turns"},
           "turns": {"id", "slug", "title", "date", "speaker", "start", "end", "anchor", "text",
                     "url", "word_starts"},
           "chapters": {"slug", "title", "start"}, "turns_fts": {"text"}}


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
    url: str  # opens the post at `time`, scrolled to the turn

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Results:
    query: str  # the FTS5 query that was run
    hits: list[Hit] = field(default_factory=list)
    note: str | None = None  # how the query was changed to make sense of it
    newest_first: bool = False  # True: too common to rank, listed newest first


class UnknownFilter(SearchError):
    """A filter names a speaker, guest, tag or interview the database does not have."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


def search(path: Path, query: str, filters: Filters = Filters(), limit: int = 20,
           context: int = 8) -> Results:
    """Hits for an FTS5 query, best first (bm25; ties newest first), `context` words either side."""
    query = " ".join(query.split())
    if not re.search(r"\w", query):
        raise SearchError(f"Nothing to search for in {query!r}. {SYNTAX_HELP}")
    conn = _connect(path)
    try:
        check_layout(conn, path)
        fts, note = _near(query), None
        try:
            newest, rows = _run(conn, fts, filters, limit)
        except sqlite3.OperationalError as e:
            if not _is_query_error(e):
                raise
            fts = _escape(query)
            note = f"{query!r} is not a valid search ({e}), so it was read as: {fts}"
            try:
                newest, rows = _run(conn, fts, filters, limit)
            except sqlite3.OperationalError:
                raise SearchError(f"Cannot understand the search {query!r} ({e}). {SYNTAX_HELP}") from None
        hits = [_hit(conn, path, row, context) for row in rows]
        if not hits:
            check_filters(conn, filters)
    except sqlite3.DatabaseError as e:
        raise SearchError(f"{path} is not a transcripts database this version can read ({e}). "
                          "Rebuild it with `pipeline publish`, or download it again.") from None
    finally:
        conn.close()
    return Results(fts, hits, note, newest)


def connect(path: Path) -> sqlite3.Connection:
    """The database, read-only, checked to be one this version can read."""
    conn = _connect(path)
    try:
        check_layout(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise SearchError(f"No search database at {path}. Run `pipeline publish` to build it, "
                          "or give one with --db.")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def check_layout(conn: sqlite3.Connection, path: Path) -> None:
    """A clear error for a file that is not a transcripts database of this version."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        missing = [f"{table}.{column}" for table, columns in COLUMNS.items()
                   for column in sorted(columns - {r[1] for r in conn.execute(f"PRAGMA table_info({table})")})]
    except sqlite3.DatabaseError as e:
        raise SearchError(f"{path} is not a transcripts database ({e}). Rebuild it with "
                          "`pipeline publish`, or download it again.") from None
    if version != SCHEMA_VERSION or missing:
        what = f"it lacks {', '.join(missing[:4])}" if missing else f"its layout is version {version}"
        raise SearchError(f"{path} is not a transcripts database this version can read ({what}; "
                          f"this version reads layout {SCHEMA_VERSION}). Rebuild it with "
                          "`pipeline publish`, or download it again from the site.")


def _where(conn: sqlite3.Connection, filters: Filters) -> tuple[list[str], dict]:
    """SQL conditions for the filters, checked turn by turn, and their parameters; the dates
    and the interview are a range of row ids, which FTS5 seeks to directly."""
    where, params = [], {}
    if filters.speaker:
        where.append(r"t.speaker LIKE :speaker ESCAPE '\'")
        params["speaker"] = _like(filters.speaker)
    if filters.guest:
        where.append(r"EXISTS (SELECT 1 FROM json_each(t.guests) WHERE value LIKE :guest ESCAPE '\')")
        params["guest"] = _like(filters.guest)
    if filters.tag:
        where.append("EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = :tag COLLATE NOCASE)")
        params["tag"] = filters.tag.strip()
    low, high = _id_range(conn, filters)
    if (low, high) != ALL_IDS:
        where.append("turns_fts.rowid BETWEEN :low AND :high")
        params.update(low=low, high=high)
    return where, params


ALL_IDS = (0, (1 << 63) - 1)


def _id_range(conn: sqlite3.Connection, filters: Filters) -> tuple[int, int]:
    """The row ids (first, last) the date span and the interview allow; newer days have
    smaller ids."""
    low, high = ALL_IDS
    if filters.date_to:
        low = day_ids(datetime.date.fromisoformat(filters.date_to))[0]
    if filters.date_from:
        high = day_ids(datetime.date.fromisoformat(filters.date_from))[1] - 1
    if filters.slug:
        row = conn.execute("SELECT first_id, turns FROM interviews WHERE slug = ?", [filters.slug]).fetchone()
        first, count = row if row else (1, 0)
        low, high = max(low, first), min(high, first + count - 1)
    return low, high


def _interviews(conn: sqlite3.Connection, filters: Filters) -> list[tuple[int, int]]:
    """The row ids (first, last) of each interview the filters allow, newest first."""
    low, high = _id_range(conn, filters)
    sql = ("SELECT first_id, first_id + turns - 1 FROM interviews i WHERE turns > 0 "
           "AND first_id + turns - 1 >= :low AND first_id <= :high")
    params = {"low": low, "high": high}
    for name, column, test in (("speaker", "speakers", r"value LIKE :speaker ESCAPE '\'"),
                               ("guest", "guests", r"value LIKE :guest ESCAPE '\'"),
                               ("tag", "tags", "value = :tag COLLATE NOCASE")):
        if value := getattr(filters, name):
            sql += f" AND EXISTS (SELECT 1 FROM json_each(i.{column}) WHERE {test})"
            params[name] = value.strip() if name == "tag" else _like(value)
    return [tuple(r) for r in conn.execute(sql + " ORDER BY first_id", params)]


def _run(conn: sqlite3.Connection, fts: str, filters: Filters, limit: int) -> tuple[bool, list[sqlite3.Row]]:
    """(newest first?, the rows): best first, unless the query matches more than
    COMMON_TURNS turns of the whole archive; then newest first, read in row id order."""
    matched = conn.execute("SELECT count(*) FROM (SELECT 1 FROM turns_fts WHERE turns_fts MATCH :query "
                           "LIMIT :most)", {"query": fts, "most": COMMON_TURNS + 1}).fetchone()[0]
    where, params = _where(conn, filters)
    params.update(query=fts, limit=limit)
    if matched <= COMMON_TURNS:  # at most COMMON_TURNS rows to score
        return False, conn.execute(_select(where, "turns_fts.rank, turns_fts.rowid"), params).fetchall()
    if not (filters.speaker or filters.guest or filters.tag):
        return True, conn.execute(_select(where, "turns_fts.rowid"), params).fetchall()
    # Filters that leave some interviews: each one's ids in turn, newest first, so a filter
    # whose turns are all old does not make FTS5 walk past every newer match to reach them.
    speaker = where[:1] if filters.speaker else []
    rows: list[sqlite3.Row] = []
    for first, last in _interviews(conn, filters):
        sql = _select([*speaker, "turns_fts.rowid BETWEEN :first AND :last"], "turns_fts.rowid")
        rows += conn.execute(sql, {**params, "first": first, "last": last, "limit": limit - len(rows)})
        if len(rows) >= limit:
            break
    return True, rows


def _select(where: list[str], order: str) -> str:
    return ("SELECT t.slug, t.title, t.date, t.speaker, t.start, t.\"end\", t.text, t.url, t.anchor, "
            "t.word_starts, highlight(turns_fts, 0, char(2), char(3)) AS marked "
            "FROM turns_fts JOIN turns t ON t.id = turns_fts.rowid WHERE turns_fts MATCH :query"
            + "".join(f" AND {w}" for w in where) + f" ORDER BY {order} LIMIT :limit")


def _like(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _is_query_error(error: sqlite3.OperationalError) -> bool:
    message = str(error)
    return message.startswith(("fts5:", "unterminated string", "no such column",
                               "unknown special query", "malformed MATCH"))


def _hit(conn: sqlite3.Connection, path: Path, row: sqlite3.Row, context: int) -> Hit:
    before, match, after, index = best_match(row["marked"])
    starts = word_starts(path, row)
    moment = starts[min(index, len(starts) - 1)] if starts else row["start"]
    # Rounded first, then kept inside the turn: a rounded time must not fall before its turn.
    moment = min(max(round(moment, 1), row["start"]), row["end"])
    chapter = conn.execute("SELECT title FROM chapters WHERE slug = ? AND start <= ? "
                           "ORDER BY start DESC LIMIT 1", (row["slug"], moment)).fetchone()
    page = row["url"].split("?", 1)[0]
    return Hit(
        slug=row["slug"], title=row["title"], date=row["date"], speaker=row["speaker"],
        time=moment, start=row["start"], end=row["end"],
        chapter=chapter[0] if chapter else None,
        before=_words(before, -context), match=_plain(match), after=_words(after, context),
        text=row["text"], url=moment_url(page, moment, turn=row["anchor"]),
    )


def word_starts(path: Path, row: sqlite3.Row) -> list[float]:
    """The turn's word times, or a clear error when the file holds something else there."""
    try:
        starts = json.loads(row["word_starts"] or "[]")
        if not isinstance(starts, list) or not all(isinstance(s, (int, float)) for s in starts):
            raise ValueError("not a list of times")
    except ValueError as e:
        raise SearchError(f"{path} is damaged: the word times of the turn at {clock(row['start'])} "
                          f"in {row['slug']} are not a JSON list of seconds ({e}). Rebuild it with "
                          "`pipeline publish`, or download it again.") from None
    return starts


def best_match(marked: str, window: int = WINDOW) -> tuple[str, str, str, int]:
    """Where the query's terms crowd together most (the first such place): the text before,
    the match (from its first term to the last different term close by), the text after,
    and the index of the match's first word. Linear in the length of the text."""
    spans = [(m.start(), m.end()) for m in re.finditer(f"{OPEN}[^{CLOSE}]*{CLOSE}", marked)]
    if not spans:  # matched, but highlight() could not place it
        return "", "", marked, 0
    word_at = [m.start() for m in re.finditer(r"\S+", marked)]
    words = [max(bisect.bisect_right(word_at, s) - 1, 0) for s, _ in spans]
    best, best_count, j = 0, 0, 0
    for k in range(len(spans)):  # two pointers: spans k..j-1 start within `window` words
        j = max(j, k)
        while j < len(spans) and words[j] < words[k] + window:
            j += 1
        if j - k > best_count:
            best, best_count = k, j - k
    last, seen = best, {_plain(marked[slice(*spans[best])]).casefold()}
    for k in range(best + 1, best + best_count):
        term = _plain(marked[slice(*spans[k])]).casefold()
        if term in seen:
            break
        seen.add(term)
        last = k
    first_char, last_char = spans[best][0], spans[last][1]
    return marked[:first_char], marked[first_char:last_char], marked[last_char:], words[best]


def _plain(text: str) -> str:
    return text.replace(OPEN, "").replace(CLOSE, "")


def _words(text: str, count: int) -> str:
    """The last (count < 0) or first `count` words of `text`."""
    words = _plain(text).split()
    return " ".join(words[count:] if count < 0 else words[:count])


def check_filters(conn: sqlite3.Connection, filters: Filters) -> None:
    """Say so when a filter names no speaker, guest, tag or interview of the database, and
    suggest the nearest one that is there."""
    checks = (
        ("--speaker", "speaker", filters.speaker, "SELECT DISTINCT speaker FROM turns WHERE speaker IS NOT NULL", False),
        ("--guest", "guest", filters.guest, "SELECT DISTINCT j.value FROM interviews, json_each(interviews.guests) j", False),
        ("--tag", "tag", filters.tag, "SELECT DISTINCT j.value FROM interviews, json_each(interviews.tags) j", True),
        ("--slug", "interview", filters.slug, "SELECT slug FROM interviews", True),
    )
    for option, what, value, sql, whole in checks:
        if not value:
            continue
        known = sorted({str(r[0]) for r in conn.execute(sql)})
        wanted = value.strip().casefold()
        if any(wanted == k.casefold() if whole else wanted in k.casefold() for k in known):
            continue
        how = "" if whole else " (it matches part of a name, in any case)"
        raise UnknownFilter(option, f"no {what} in the database is {'' if whole else 'called '}"
                                    f"{value!r}{how}. {_suggest(value, known, what)}")


def _suggest(value: str, known: list[str], what: str) -> str:
    """'Did you mean ...?', or a few of the known values."""
    if not known:
        return f"The database has no {what} names at all."
    # Whole names and each word of them, so "hughs" finds "Daniel Hughes".
    candidates: dict[str, str] = {}
    for name in known:
        for part in [name, *re.split(r"[\s_-]+", name)]:
            candidates.setdefault(part.casefold(), name)
    close = difflib.get_close_matches(value.strip().casefold(), list(candidates), n=5, cutoff=0.6)
    names = list(dict.fromkeys(candidates[c] for c in close))[:3]
    if names:
        return "Did you mean " + " or ".join(repr(n) for n in names) + "?"
    shown = ", ".join(repr(k) for k in known[:8]) + (", ..." if len(known) > 8 else "")
    return f"Known {what}s: {shown}"


# Infix NEAR, as FTS4 and other tools write it: `plain NEAR words`, `plain NEAR/5 words`.
_PIECE = re.compile(r'"[^"]*"?|[()]|[^\s()"]+')
_NEAR = re.compile(r"NEAR(?:/(\d+))?")


def _near(query: str) -> str:
    """Rewrite infix NEAR (`a NEAR b`, `a NEAR/5 b NEAR c`) into FTS5's NEAR(a b c, N); FTS5
    would read it as a plain word. One pass over the query's pieces: linear in its length."""
    pieces = [(m.start(), m.end(), m[0]) for m in _PIECE.finditer(query)]
    out, copied, k = [], 0, 0
    while k < len(pieces):
        group, distance, last = [pieces[k][2]], None, k
        while (last + 2 < len(pieces) and _is_operand(pieces[last][2])
               and (m := _NEAR.fullmatch(pieces[last + 1][2])) and _is_operand(pieces[last + 2][2])):
            distance = max(distance or 0, int(m[1] or 10))
            group.append(pieces[last + 2][2])
            last += 2
        if distance is not None:
            out.append(query[copied:pieces[k][0]] + f"NEAR({' '.join(group)}, {distance})")
            copied = pieces[last][1]
        k = last + 1
    return "".join(out) + query[copied:]


def _is_operand(piece: str) -> bool:
    return piece not in ("(", ")", "AND", "OR", "NOT") and not _NEAR.fullmatch(piece)


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
