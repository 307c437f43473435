"""The database: site/data/transcripts.db, built with sqlite-utils and brought up to date
after each publish, one interview at a time (see pipeline.search for its tables).

The database is reproducible: the same interviews give the same rows, whatever order they
were published in and however often a publish was cut short. Row ids are not counters but
made from the interview's date, a hash of its slug and the turn's place in the interview,
so an interview's rows get the same ids every time; and they sort newest interview first,
each in time order, so "newest first" is a walk through FTS5's index in rowid order that
stops after the first page, and a date range is a range of rowids.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
import shutil
import sqlite3
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pipeline.files import atomic_path
from pipeline.project import Project
from pipeline.search.rows import PostLike, chapter_rows, content_key, interview_row, page_turns, turn_rows

if TYPE_CHECKING:  # imported when a database is written, not for every search
    import sqlite_utils

log = logging.getLogger(__name__)

DATABASE = Path("data") / "transcripts.db"  # inside site/, so readers can download it
SCHEMA_VERSION = 2  # stored as PRAGMA user_version; a different one means rebuild from scratch
FTS_COLUMNS = {"interviews": ["title", "guests", "interviewer", "tags", "intro"],
               "turns": ["text"], "chapters": ["title"]}

# A row id: days before ID_END (18 bits, so the newest interview has the smallest ids), a
# hash of the slug (25 bits), the row's place in its interview (20 bits: a million turns).
# Always below 2**63, SQLite's largest rowid.
ID_END = datetime.date(2400, 1, 1)
DAY_BITS, SLUG_BITS, ROW_BITS = 18, 25, 20
ROWS_PER_INTERVIEW = 1 << ROW_BITS


def database_path(project: Project) -> Path:
    return project.site / DATABASE


def id_base(slug: str, date: datetime.date) -> int:
    """The first row id of an interview (its turns and chapters count up from it)."""
    digest = int.from_bytes(hashlib.sha256(slug.encode("utf-8")).digest()[:4], "big")
    return day_ids(date)[0] | ((digest >> (32 - SLUG_BITS)) << ROW_BITS)


def day_ids(day: datetime.date) -> tuple[int, int]:
    """The row ids of every interview on `day`: the first, and one past the last."""
    days = min(max((ID_END - day).days, 0), (1 << DAY_BITS) - 1)
    return days << (SLUG_BITS + ROW_BITS), (days + 1) << (SLUG_BITS + ROW_BITS)


@dataclass
class Stats:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in asdict(self).items())


def build(path: Path, posts: Iterable[PostLike], base_url: str, keep: Iterable[str] = ()) -> Stats:
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
            slug, key = post.card.slug, content_key(post, base_url)
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


def _sqlite_utils():
    """sqlite-utils, imported without pandas: it imports pandas whenever it is installed (the
    test tools bring it), only to know pandas' column types, which nothing here stores; that
    cost every publish 0.15 s. A name set to None in sys.modules is not importable."""
    if "pandas" in sys.modules:
        import sqlite_utils
        return sqlite_utils
    sys.modules["pandas"] = None
    try:
        import sqlite_utils
        return sqlite_utils
    finally:
        del sys.modules["pandas"]


def _open_copy(path: Path, tmp: Path, fresh: bool) -> "sqlite_utils.Database":
    sqlite_utils = _sqlite_utils()
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
        "tags": str, "speakers": str, "intro": str, "duration": float, "turns": int,
        "first_id": int, "url": str, "source_hash": str,
    }, pk="slug")
    db["turns"].create({
        "id": int, "slug": str, "title": str, "date": str, "speaker": str, "guests": str,
        "tags": str, "start": float, "end": float, "anchor": str, "text": str, "url": str,
        "word_starts": str,
    }, pk="id", foreign_keys=[("slug", "interviews", "slug")])
    db["chapters"].create({
        "id": int, "slug": str, "title": str, "start": float, "end": float, "url": str,
    }, pk="id", foreign_keys=[("slug", "interviews", "slug")])
    for table, columns in FTS_COLUMNS.items():
        db[table].enable_fts(columns, tokenize="porter", create_triggers=True)
    db["turns"].create_index(["slug", "start"])
    db["turns"].create_index(["speaker"])
    db["turns"].create_index(["date"])
    db["chapters"].create_index(["slug", "start"])
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _delete(db: "sqlite_utils.Database", slug: str) -> None:
    for table in ("turns", "chapters", "interviews"):
        db[table].delete_where("slug = ?", [slug])


def _insert(db: "sqlite_utils.Database", post: PostLike, base_url: str, key: str) -> None:
    turns = page_turns(post.transcript)
    base = _free_base(db, post.card.slug, post.card.date)
    db["interviews"].insert({**interview_row(post, base_url, turns), "first_id": base, "source_hash": key})
    db["turns"].insert_all(({"id": base + n, **row} for n, row in enumerate(turn_rows(post, base_url, turns))),
                           batch_size=500)
    db["chapters"].insert_all(({"id": base + n, **row} for n, row in enumerate(chapter_rows(post, base_url))),
                              batch_size=500)


def _free_base(db: "sqlite_utils.Database", slug: str, date: datetime.date) -> int:
    """The interview's id_base, or (if another interview of the same day has the same slug
    hash, about one pair in 30 million) the next free block of that day."""
    base = id_base(slug, date)
    while db.execute("SELECT 1 FROM turns WHERE id >= ? AND id < ? UNION ALL "
                     "SELECT 1 FROM chapters WHERE id >= ? AND id < ? LIMIT 1",
                     [base, base + ROWS_PER_INTERVIEW] * 2).fetchone():
        base += ROWS_PER_INTERVIEW
    return base
