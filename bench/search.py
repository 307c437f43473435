"""Search benchmark: build the database for a synthetic archive and time queries against it.

The archive is generated, not spoken: interviews of 30 to 90 minutes at 150 words a minute,
an interviewer's short questions and a guest's longer answers, segments of Whisper's size with
word times, words drawn from a Zipf-distributed vocabulary (common English words first, then
made-up content words), chapters, guests, tags and dates. `run()` returns the numbers;
`python -m bench.search --hours 1000` prints them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

from bench.browser import chromium
from bench.machine import others_watched
from pipeline.config import Card, Site
from pipeline.model import Chapter, Segment, Transcript, Word
from pipeline.project import Project
from pipeline.search import database, site_index
from pipeline.search.page import render_page
from pipeline.search.query import COMMON_TURNS, Filters, search
from pipeline.site import render

WORDS_PER_SECOND = 2.5
GOAL_P95_MS = 50.0
COMMON = ("the of and to a in that is it you i was for on are we with as have be at this they "
          "but not what from by or all so one there had were can do about if my our which "
          "their more when will an would people how them time just think like very because "
          "know out up some then has said than other into been now only could year also new "
          "who should these its first well way make back much need most work where going "
          "get really things council money public local years those over many even right").split()
SYLLABLES = ("ba be bi bo bu ca ce co cu da de di do du fa fe fi fo ga ge go ha he hi ho la "
             "le li lo lu ma me mi mo mu na ne ni no pa pe pi po ra re ri ro ru sa se si so "
             "ta te ti to tu va ve vi vo wa we wi ya yo za ze").split()
TAGS = ("housing transport education health planning budget climate libraries policing "
        "elections culture sport parks waste recycling social-care digital open-data "
        "transparency leadership blogging youth ageing economy tourism water energy "
        "heritage science arts media law farming fishing rail roads schools").split()


@dataclass
class Archive:
    """The generated interviews, made on demand (a 1,000-hour archive does not fit in memory
    as objects), and samples of what was said, to query for."""

    hours: float
    seed: int = 1
    sample_turns: list[str] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)
    heard: dict[str, None] = field(default_factory=dict)  # guests of the interviews made so far
    tagged: dict[str, None] = field(default_factory=dict)  # and their tags
    seconds: float = 0.0
    words: int = 0
    turns: int = 0
    interviews: int = 0

    def __post_init__(self):
        rng = random.Random(self.seed)
        made_up = sorted({"".join(rng.choices(SYLLABLES, k=rng.choice((2, 2, 3, 3, 4))))
                          for _ in range(40000)} - set(COMMON))
        self.vocabulary = list(COMMON) + made_up[:30000]
        # Zipf's law: the k-th word is said about 1/k as often as the first.
        self.cum_weights = list(itertools.accumulate(1 / (k + 1) for k in range(len(self.vocabulary))))
        people = [f"{a.capitalize()} {b.capitalize()}" for a, b in
                  zip(rng.sample(made_up, 400), rng.sample(made_up, 400))]
        self.guests, self.interviewers = people[:360], people[360:]

    def __iter__(self) -> Iterator[SimpleNamespace]:
        rng = random.Random(self.seed + 1)
        total, n = 0.0, 0
        while total < self.hours * 3600:
            duration = min(rng.uniform(30, 90) * 60, self.hours * 3600 - total + 1)
            n += 1
            yield self._interview(rng, n, duration)
            total += duration

    def _interview(self, rng: random.Random, n: int, duration: float) -> SimpleNamespace:
        guests = rng.sample(self.guests, rng.choice((1, 1, 1, 2)))
        self.heard.update(dict.fromkeys(guests))
        interviewer = rng.choice(self.interviewers)
        segments, t = [], 0.0
        while t < duration:
            speaker = interviewer if len(segments) % 2 == 0 else rng.choice(guests)
            length = rng.uniform(4, 15) if speaker == interviewer else rng.uniform(15, 90)
            words = self._words(rng, int(length * WORDS_PER_SECOND) + 1)
            if rng.random() < 0.05:
                self.sample_turns.append(" ".join(words))
            for chunk in range(0, len(words), 25):  # Whisper's segments: up to ~10 s
                part = words[chunk:chunk + 25]
                timed = [Word(round(t + i / WORDS_PER_SECOND, 2), round(t + (i + 0.8) / WORDS_PER_SECOND, 2),
                              " " + w, 0.9) for i, w in enumerate(part)]
                segments.append(Segment(timed[0].start, timed[-1].end, " ".join(part), speaker, timed))
                t = timed[-1].end + 0.2
            t += 0.6
            self.turns += 1
        self.seconds += t
        self.words += sum(len(s.words) for s in segments)
        self.interviews += 1
        day = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randrange(12 * 365))
        chapters = [Chapter(round(t * k / 6, 1), round(t * (k + 1) / 6, 1),
                            " ".join(self._words(rng, 4)).capitalize()) for k in range(6)]
        card = Card(slug=f"interview-{n:05d}", folder=Path("synthetic"), title=" ".join(self._words(rng, 6)).capitalize(),
                    date=day, source="synthetic.mp4", interviewer=interviewer, guests=tuple(guests),
                    intro=" ".join(self._words(rng, 60)), tags=tuple(rng.sample(TAGS, 3)))
        self.tagged.update(dict.fromkeys(card.tags))
        return SimpleNamespace(card=card, chapters=chapters,
                               transcript=Transcript("en", t, "synthetic", "none", segments))

    def _words(self, rng: random.Random, count: int) -> list[str]:
        words = rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=count)
        # Sentences of about 15 words: a capital first, a full stop last.
        for i in range(0, count, 15):
            words[i] = words[i].capitalize()
            words[min(i + 14, count - 1)] += "."
        return words


class _Timed:
    """An iterator that remembers how long producing its items took (generation is not build)."""

    def __init__(self, items):
        self.items, self.seconds = iter(items), 0.0

    def __iter__(self):
        return self

    def __next__(self):
        started = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.seconds += time.perf_counter() - started


def run(workdir: Path, hours: float = 1000.0, queries: int = 100, seed: int = 1,
        browser_queries: int = 20) -> dict:
    """Build a database for `hours` of synthetic interviews in `workdir`; return the numbers."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "transcripts.db"
    path.unlink(missing_ok=True)
    archive = Archive(hours, seed)
    posts = _Timed(archive)
    started = time.perf_counter()
    stats = database.build(path, posts, "https://example.org/")
    build_seconds = time.perf_counter() - started - posts.seconds

    first = _Timed(itertools.islice(Archive(hours, seed), 50))
    started = time.perf_counter()
    again = database.build(path, first, "https://example.org/",
                         keep=[f"interview-{n:05d}" for n in range(1, stats.added + 1)])
    unchanged_seconds = time.perf_counter() - started - first.seconds

    rng = random.Random(seed + 2)
    sets = _queries(archive, rng, queries)
    for query, filters in sets["word"][:10]:  # warm the page cache, as a running site would be
        search(path, query, filters)
    latency = {name: _latencies(path, items) for name, items in sets.items()}
    site = site_search(workdir, path, sets, browser_queries) if browser_queries else None
    return {
        "hours": round(archive.seconds / 3600, 1), "interviews": archive.interviews,
        "turns": archive.turns, "turn_rows": _count(path, "turns"), "words": archive.words,
        "added": stats.added,
        "build_seconds": round(build_seconds, 1), "generate_seconds": round(posts.seconds, 1),
        "rebuild_50_unchanged_seconds": round(unchanged_seconds, 2), "rebuild_50_unchanged": again.unchanged,
        "size_mb": round(path.stat().st_size / 1e6, 1), "queries_per_kind": queries,
        "latency_ms": latency, "goal_p95_ms": GOAL_P95_MS, "common_turns": COMMON_TURNS,
        "site_index": site,
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def site_search(workdir: Path, db: Path, sets: dict[str, list], count: int) -> dict:
    """The site's search index for the database: its build (in a process of its own, for its
    peak memory), its size, and in Chromium the time from opening the search page at a query
    to its first results (cold: a fresh browser context, nothing cached) and for a second
    query typed on the same page (warm), with the bytes a cold query fetched."""
    site = workdir / "site"
    shutil.rmtree(site, ignore_errors=True)
    (site / "data").mkdir(parents=True)
    code = ("import sys, pathlib\nfrom pipeline.search import site_index\n"
            "site_index.build(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(db), str(site)], check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    build_seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = [p for p in (site / site_index.INDEX).rglob("*") if p.is_file()]
    project = Project(workdir)
    render_page(project, Site())
    render._copy_static(project)
    return {"build_seconds": round(build_seconds, 1), "build_peak_mb": round(peak_mb),
            "size_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1), "files": len(files),
            "largest_kb": round(max(p.stat().st_size for p in files) / 1e3),
            "meta_kb": round((site / site_index.INDEX / "meta.json.gz").stat().st_size / 1e3),
            "browser_queries_per_kind": count, "browser_ms": _in_chromium(site, sets, count)}


def _in_chromium(site: Path, sets: dict[str, list], count: int) -> dict:
    from urllib.parse import urlencode


    from pipeline.site.serve import make_server

    httpd = make_server(site, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/search/"
    names = {"speaker": "speaker", "guest": "guest", "tag": "tag", "date_from": "from", "date_to": "to"}
    done = "document.querySelector('form.search').dataset.state === 'done'"
    results = {}
    try:
        with chromium() as browser:
            for kind, items in sets.items():
                cold, warm, fetched = [], [], []
                for n, (query, filters) in enumerate(items[:count]):
                    params = {"q": query, **{names[k]: v for k, v in vars(filters).items() if v and k in names}}
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(url + "?" + urlencode(params))
                    page.wait_for_function(done, timeout=120_000)
                    cold.append(page.evaluate("performance.now()"))
                    fetched.append(page.evaluate(
                        "performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0)") / 1e3)
                    again, _ = items[(n + 1) % len(items)]
                    started = page.evaluate("""q => { const input = document.getElementById('search-query');
                        input.value = q; const t = performance.now();
                        document.querySelector('form.search').requestSubmit(); return t; }""", again)
                    page.wait_for_function(done, timeout=120_000)
                    warm.append(page.evaluate("performance.now()") - started)
                    context.close()
                results[kind] = {"cold_p50": _percentile(cold, 50), "cold_p95": _percentile(cold, 95),
                                 "warm_p50": _percentile(warm, 50), "warm_p95": _percentile(warm, 95),
                                 "kb_p50": _percentile(fetched, 50), "kb_max": round(max(fetched))}
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return results


def _count(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _queries(archive: Archive, rng: random.Random, count: int) -> dict[str, list]:
    """Queries of each kind, drawn from what was said (as a researcher's would be)."""
    texts = [t.split() for t in rng.sample(archive.sample_turns, min(len(archive.sample_turns), 2000))]
    common = set(COMMON)

    def content_word() -> str:
        while True:
            word = rng.choice(rng.choice(texts)).strip(".").lower()
            if word not in common:
                return word

    def phrase() -> str:
        words = rng.choice(texts)
        size = rng.choice((2, 3))
        start = rng.randrange(max(1, len(words) - size))
        return '"' + " ".join(w.strip(".") for w in words[start:start + size]) + '"'

    none, guests, tags = Filters(), list(archive.heard), list(archive.tagged)
    filters = [lambda: Filters(guest=rng.choice(guests)),
               lambda: Filters(tag=rng.choice(tags)),
               lambda: Filters(date_from=f"{rng.randrange(2015, 2026)}-01-01",
                                      date_to=f"{rng.randrange(2015, 2027)}-12-31"),
               lambda: Filters(speaker=rng.choice(guests).split()[0])]
    return {
        "word": [(content_word(), none) for _ in range(count)],
        "phrase": [(phrase(), none) for _ in range(count)],
        "filtered": [(content_word(), rng.choice(filters)()) for _ in range(count)],
        "common word": [(rng.choice(COMMON[:30]), none) for _ in range(max(count // 2, 5))],
        "common word, filtered": [(rng.choice(COMMON[:30]), rng.choice(filters)())
                                  for _ in range(max(count // 2, 5))],
    }


def _latencies(path: Path, items: list) -> dict:
    """Wall time, and CPU time: on a shared, loaded machine the CPU time is what an idle one
    would take (the database is in the page cache after the warm-up)."""
    wall, cpu, hits, watched = [], [], 0, {}
    with others_watched(watched):
        for query, filters in items:
            started, started_cpu = time.perf_counter(), time.process_time()
            hits += bool(search(path, query, filters, limit=20).hits)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return {"p50": _percentile(wall, 50), "p95": _percentile(wall, 95), "max": round(max(wall), 1),
            "cpu_p50": _percentile(cpu, 50), "cpu_p95": _percentile(cpu, 95),
            "with_hits": f"{hits}/{len(items)}", **watched}


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, -(-len(ordered) * percent // 100) - 1)], 1)


def report(result: dict) -> str:
    """The numbers as a short text report."""
    lines = [f"Search: {result['hours']} hours, {result['interviews']} interviews, "
             f"{result['turns']:,} speaker turns ({result['turn_rows']:,} rows: paragraphs of at most "
             f"40 s, as on the page), {result['words']:,} words (synthetic)",
             f"  database build   {result['build_seconds']} s (generating the text took "
             f"{result['generate_seconds']} s more)",
             f"  unchanged rebuild of 50 interviews  {result['rebuild_50_unchanged_seconds']} s",
             f"  database size    {result['size_mb']} MB",
             f"  query latency in ms ({result['queries_per_kind']} queries each, top 20 hits with context;"
             f" load average {result['load_average']}):",
             f"    {'':<26} {'wall p50':>9} {'p95':>7} {'max':>7}   {'cpu p50':>8} {'p95':>7}"]
    goal = result["goal_p95_ms"]
    for kind, n in result["latency_ms"].items():
        verdict = "  ok" if n["p95"] < goal else \
            "  ok on CPU time (the machine is busy)" if n["cpu_p95"] < goal else "  OVER GOAL"
        others = f"  others {n['others']:.2f} core{' BUSY' if n.get('busy') else ''}" if "others" in n else ""
        lines.append(f"    {kind:<26} {n['p50']:>9} {n['p95']:>7} {n['max']:>7}   {n['cpu_p50']:>8} "
                     f"{n['cpu_p95']:>7}  hits {n['with_hits']}{verdict}{others}")
    lines.append(f"  goal: p95 < {goal:.0f} ms for every kind (a query in more than "
                 f"{result['common_turns']:,} turns is listed newest first, not ranked)")
    if site := result.get("site_index"):
        lines += [f"  site search index: built in {site['build_seconds']} s (peak {site['build_peak_mb']} MB), "
                  f"{site['size_mb']} MB in {site['files']:,} files (largest {site['largest_kb']} kB, "
                  f"catalogue {site['meta_kb']} kB)",
                  f"  site search in Chromium, ms to the first results ({site['browser_queries_per_kind']} "
                  "queries each; cold: a first visit at ?q=, warm: the next query on that page):",
                  f"    {'':<26} {'cold p50':>9} {'p95':>7}   {'warm p50':>8} {'p95':>7}   {'kB p50':>7} {'max':>6}"]
        for kind, n in site["browser_ms"].items():
            lines.append(f"    {kind:<26} {n['cold_p50']:>9} {n['cold_p95']:>7}   {n['warm_p50']:>8} "
                         f"{n['warm_p95']:>7}   {n['kb_p50']:>7} {n['kb_max']:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1000.0, help="Size of the synthetic archive.")
    parser.add_argument("--queries", type=int, default=100, help="Queries of each kind.")
    parser.add_argument("--workdir", type=Path, default=Path(".bench/search"), help="Where the database goes.")
    parser.add_argument("--browser-queries", type=int, default=20,
                        help="Queries of each kind timed in Chromium on the site's search page (0: none).")
    args = parser.parse_args(argv)
    result = run(args.workdir, args.hours, args.queries, browser_queries=args.browser_queries)
    print(report(result))
    (args.workdir / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
