"""The site's search index: site/search/index/, static files the search page reads in the
browser, one record per transcript turn, made from the database's own full-text index.

Why not Pagefind: with one Pagefind record per turn (so that filters and excerpts are the
turn's), 1,000 synthetic hours took 4.6 minutes and 7.3 GB to index (92 MB in 137,000 files),
and Chromium needed 141 s to answer "the" (2.2 s for "people"); its Python API also waits
0.1 s per record (136 s for 1,349). This index took 14.5 s and 80 MB for the same archive
(52.8 MB in 10,700 files), and Chromium shows the first results of any query in under 0.75 s
at p95 on a first visit, 0.25 s for the next query (`make bench`; load average 7-9 on the
shared 2-core machine). It is read a few small files at a time, and its terms are FTS5's own
(porter stems, from the fts5vocab table), so the page finds what `pipeline search` finds:

  meta.json.gz        the interviews (slug, title, date, guests, tags, speakers), where each
                      one's turns start, each turn's speaker, and the list of term shards
  terms/KEY.json.gz   the terms that start with KEY (two characters, hex-coded): for each,
                      how many turns hold it and, for rarer terms, its turns and positions
  postings/N.ids      the turns (varint deltas) and positions of a common term N, fetched
  postings/N.pos      only when a query needs it (positions only for phrases and NEAR)
  text/N.json.gz      turns N*32 to N*32+31: start, end, anchor, text, word times (tenths)

Turns are numbered in the database's row id order: newest interview first, each in time
order. Positions count tokens as FTS5 does, so a phrase is checked exactly in the browser.
Every file is written into a fresh folder that is then swapped in, and the index is rebuilt
only when the database's content changed.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

FORMAT = 1
INDEX = Path("search") / "index"
BLOCK = 32  # turns per text file (about 6 kB compressed)
INLINE = 256  # a term in at most this many turns keeps its postings in its shard


def build(db_path: Path, site: Path) -> bool:
    """Write site/search/index/ from the database; skipped when it is up to date. True if written."""
    target = site / INDEX
    for leftover in target.parent.glob(".index-*"):  # a publish killed while writing one
        shutil.rmtree(leftover, ignore_errors=True)
    with contextlib.closing(sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True)) as conn:
        key = _key(conn)
        stamp = target / "key.txt"
        if stamp.is_file() and stamp.read_text().strip() == key and (target / "meta.json.gz").is_file():
            return False
        fresh = Path(tempfile.mkdtemp(prefix=".index-", dir=target.parent if target.parent.is_dir()
                                      else _made(target.parent)))
        try:
            _write(conn, fresh)
            (fresh / "key.txt").write_text(key + "\n")
            _publishable(fresh)
            _swap(fresh, target)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
    return True


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(conn: sqlite3.Connection) -> str:
    """What the index is made from: every interview's content key, and this format."""
    digest = hashlib.sha256(f"{FORMAT} {BLOCK} {INLINE}".encode())
    for slug, key in conn.execute("SELECT slug, source_hash FROM interviews ORDER BY slug"):
        digest.update(f"{slug} {key}\n".encode())
    return digest.hexdigest()


def _write(conn: sqlite3.Connection, out: Path) -> None:
    for folder in ("terms", "postings", "text"):
        (out / folder).mkdir()
    ordinal = _texts(conn, out)
    interviews = []
    for slug, title, date, guests, tags, speakers, first_id, count in conn.execute(
            "SELECT slug, title, date, guests, tags, speakers, first_id, turns FROM interviews "
            "WHERE turns > 0 ORDER BY first_id"):
        names = json.loads(speakers)
        said_by = [names.index(s) if s in names else -1 for (s,) in conn.execute(
            "SELECT speaker FROM turns WHERE id BETWEEN ? AND ? ORDER BY id", (first_id, first_id + count - 1))]
        interviews.append({"slug": slug, "title": title, "date": date, "guests": json.loads(guests),
                           "tags": json.loads(tags), "speakers": names, "first": ordinal[first_id],
                           "count": count, "said_by": said_by})
    shards = _postings(conn, ordinal, out)
    _gzip_json(out / "meta.json.gz", {"format": FORMAT, "turns": len(ordinal), "block": BLOCK,
                                      "interviews": interviews, "shards": sorted(shards)})


def _texts(conn: sqlite3.Connection, out: Path) -> dict[int, int]:
    """The text files; returns row id -> turn number."""
    ordinal, block = {}, []
    rows = conn.execute("SELECT id, start, \"end\", anchor, text, word_starts FROM turns ORDER BY id")
    for n, (row_id, start, end, anchor, text, starts) in enumerate(rows):
        ordinal[row_id] = n
        tenths = [round(s * 10) for s in json.loads(starts or "[]")]
        block.append([start, end, anchor, text, [b - a for a, b in zip([0] + tenths, tenths)]])
        if len(block) == BLOCK:
            _gzip_json(out / "text" / f"{n // BLOCK}.json.gz", block)
            block = []
    if block:
        _gzip_json(out / "text" / f"{(len(ordinal) - 1) // BLOCK}.json.gz", block)
    return ordinal


def _postings(conn: sqlite3.Connection, ordinal: dict[int, int], out: Path) -> set[str]:
    """Every term's turns and positions, from FTS5's own index (fts5vocab 'instance' lists
    each term's every occurrence, term by term, turn by turn)."""
    conn.execute("CREATE VIRTUAL TABLE temp.turn_terms USING fts5vocab(main, 'turns_fts', 'instance')")
    shards: dict[str, dict[str, list]] = {}
    files = 0
    term, docs, positions = None, [], []

    def flush():
        nonlocal files
        if term is None:
            return
        ids, pos = _varints_delta(docs), _positions(positions)
        entry: list = [len(docs)]
        if len(docs) <= INLINE:
            entry += [base64.b64encode(ids).decode(), base64.b64encode(pos).decode()]
        else:
            (out / "postings" / f"{files}.ids").write_bytes(ids)
            (out / "postings" / f"{files}.pos").write_bytes(pos)
            entry.append(files)
            files += 1
        shards.setdefault(term[:2], {})[term] = entry

    last_doc = None
    for word, doc, offset in conn.execute("SELECT term, doc, offset FROM temp.turn_terms"):
        if word != term:
            if term is not None and word < term:
                raise RuntimeError("fts5vocab did not list the terms in order")
            flush()
            term, docs, positions, last_doc = word, [], [], None
        if doc != last_doc:
            docs.append(ordinal[doc])
            positions.append([])
            last_doc = doc
        positions[-1].append(offset)
    flush()
    for key, entries in shards.items():
        _gzip_json(out / "terms" / f"{shard_file(key)}.json.gz", entries)
    return set(shards)


def shard_file(key: str) -> str:
    """The name of a shard's file: its two characters, hex-coded UTF-8 (any script is safe)."""
    return key.encode("utf-8").hex()


def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _varints_delta(values: list[int]) -> bytes:
    out, last = bytearray(), 0
    for v in values:
        _varint(v - last, out)
        last = v
    return bytes(out)


def _positions(per_doc: list[list[int]]) -> bytes:
    """For each turn: how many positions, then the positions as deltas."""
    out = bytearray()
    for offsets in per_doc:
        _varint(len(offsets), out)
        last = 0
        for p in offsets:
            _varint(p - last, out)
            last = p
    return bytes(out)


def _gzip_json(path: Path, data) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))


def _publishable(folder: Path) -> None:
    """Readable by the web server like every other published file."""
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    folder.chmod(0o755)


def _swap(fresh: Path, target: Path) -> None:
    """Readers see the old index or the new one, never half of one."""
    old = target.with_name(f".{target.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
