"""Search: the database built from real transcripts, `pipeline search`, the site's search page.

One module-wide project publishes the bundled sample (148 s, two espeak voices, true turn times
in truth.json) and a short second interview with another date, guest and tags, through the
real pipeline: Whisper, render, the SQLite database and Pagefind. An editor then corrects both
transcripts to the words said, so the searches do not depend on what tiny.en hears on this
CPU; the times found are still the recogniser's.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import shutil
import threading
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from sqlite_utils.cli import cli as sqlite_utils_cli

from bench import wer
from conftest import SAMPLE, add_interview
from pipeline.build import load_post, publish
from pipeline.model import Chapter
from pipeline.project import Project
from pipeline.search import database, query
from pipeline.site.serve import make_server
from pipeline.timecode import stamp

SLUG = "council-leader-blogging"
OTHER = "weekly-writing"
TRUTH = json.loads((SAMPLE / "truth.json").read_text())["turns"]
BASE = "http://localhost:8000/"  # the default site.base_url
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


def truth_turn(phrase: str) -> dict:
    return next(t for t in TRUTH if phrase.lower() in t["text"].lower())


def as_corrected(turns: list[dict]) -> str:
    """transcript.txt as an editor who checked every word against the recording writes it."""
    return "\n\n".join(f"[{stamp(t['start'])}] {t['speaker']}: {t['text']}" for t in turns) + "\n"


@pytest.fixture(scope="module")
def archive(tmp_path_factory, short_speech) -> Path:
    """A published project: the sample interview and a short one, transcribed once."""
    root = tmp_path_factory.mktemp("archive")
    folder = root / "media" / SLUG
    folder.mkdir(parents=True)
    for name in ("interview.yaml", "interview.mp4"):
        shutil.copyfile(SAMPLE / name, folder / name)
    add_interview(root, OTHER, short_speech["mp4"], title="Writing every week", date="2024-05-02",
                  guests=["Ada Price"], tags=["writing"])
    report = publish(Project(root))
    assert not report.failed, report.failed
    # The editor corrects both transcripts: the words searched for are then the words said,
    # on any machine (tiny.en's words vary a little between CPUs), while every time still
    # comes from the recogniser's word timings and the voices from the speakers stage's split.
    other = [dict(t, speaker={"Daniel Hughes": "Daniel Hughes", "Helen Ward": "Ada Price"}[t["speaker"]])
             for t in short_speech["truth"]["turns"]]
    for slug, turns in ((SLUG, TRUTH), (OTHER, other)):
        (root / "transcripts" / slug / "transcript.txt").write_text(as_corrected(turns), encoding="utf-8")
    report = publish(Project(root))
    assert not report.failed, report.failed
    return root


@pytest.fixture(scope="module")
def db_path(archive) -> Path:
    return archive / "site" / "data" / "transcripts.db"


@pytest.fixture
def cli_search(archive, run_cli):
    """`pipeline -C ARCHIVE search ...`; tracebacks are not caught, so they fail the test."""
    return functools.partial(run_cli, archive, "search")


def hits_json(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- The database, as an outside tool sees it ------------------------------------------------

def test_database_opens_with_sqlite_utils(db_path, archive):
    db = sqlite_utils.Database(db_path)
    assert {"interviews", "turns", "chapters"} <= set(db.table_names())
    assert db["turns"].detect_fts() == "turns_fts"
    assert db["interviews"].detect_fts() == "interviews_fts"
    assert db["chapters"].detect_fts() == "chapters_fts"
    assert "porter" in db["turns_fts"].schema

    interviews = {row["slug"]: row for row in db["interviews"].rows}
    assert set(interviews) == {SLUG, OTHER}
    sample = interviews[SLUG]
    assert sample["date"] == "2026-11-20" and sample["year"] == 2026
    assert json.loads(sample["guests"]) == ["Helen Ward"]
    assert json.loads(sample["tags"]) == ["local government", "blogging", "leadership"]
    assert sample["url"] == f"{BASE}{SLUG}/"

    turns = list(db["turns"].rows_where("slug = ?", [SLUG], order_by="start"))
    transcript = json.loads((archive / "transcripts" / SLUG / "transcript.json").read_text())
    assert " ".join(t["text"] for t in turns) == " ".join(s["text"] for s in transcript["segments"])
    for turn in turns:
        assert turn["title"] == sample["title"] and turn["date"] == "2026-11-20"
        assert turn["speaker"] in ("Daniel Hughes", "Helen Ward")
        assert turn["url"] == f"{BASE}{SLUG}/?t={int(turn['start'])}"
        starts = json.loads(turn["word_starts"])
        assert len(starts) == len(turn["text"].split())
        assert turn["start"] - 0.1 <= starts[0] and starts == sorted(starts) and starts[-1] <= turn["end"]

    # The FTS index finds stemmed words through sqlite-utils' own search, as datasette would.
    found = list(db["turns"].search("blogging"))
    assert found and all("blog" in row["text"].lower() for row in found)
    result = CliRunner().invoke(sqlite_utils_cli, ["search", str(db_path), "turns", "library", "--csv"])
    assert result.exit_code == 0, result.output
    assert "main library" in result.output


def test_second_publish_leaves_the_database_alone(archive, db_path):
    before = db_path.stat()
    report = publish(Project(archive))
    assert not report.failed
    after = db_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_incremental_build_updates_only_what_changed(archive, db_path, tmp_path):
    path = tmp_path / "transcripts.db"
    shutil.copyfile(db_path, path)
    project = Project(archive)
    posts = {slug: load_post(project, project.media / slug) for slug in (SLUG, OTHER)}

    assert database.build(path, posts.values(), BASE) == database.Stats(unchanged=2)

    renamed = dataclasses.replace(posts[OTHER], card=dataclasses.replace(posts[OTHER].card, title="Renamed"))
    stats = database.build(path, [posts[SLUG], renamed], BASE)
    assert stats == database.Stats(updated=1, unchanged=1)
    db = sqlite_utils.Database(path)
    assert {r["title"] for r in db["turns"].rows_where("slug = ?", [OTHER])} == {"Renamed"}
    assert db["turns"].count == sqlite_utils.Database(db_path)["turns"].count

    # An interview that failed this time keeps its rows; one whose card is gone loses them.
    assert database.build(path, [posts[SLUG]], BASE, keep=[OTHER]) == database.Stats(unchanged=1)
    assert database.build(path, [posts[SLUG]], BASE) == database.Stats(removed=1, unchanged=1)
    db = sqlite_utils.Database(path)
    assert [r["slug"] for r in db["interviews"].rows] == [SLUG]
    assert {r["slug"] for r in db["turns"].rows} == {SLUG}


def test_chapters_are_rows_and_name_each_hit(archive, tmp_path):
    project = Project(archive)
    post = load_post(project, project.media / SLUG)
    library, meetings = (truth_turn(p)["start"] for p in ("main library", "meetings got shorter"))
    split = (library + meetings) / 2
    post.chapters = [Chapter(0.0, split, "Why blog"), Chapter(split, post.transcript.duration,
                                                              "Risks and results")]
    path = tmp_path / "chapters.db"
    database.build(path, [post], BASE)
    rows = list(sqlite_utils.Database(path)["chapters"].rows_where(order_by="start"))
    assert [(r["title"], r["start"], r["url"]) for r in rows] == [
        ("Why blog", 0.0, f"{BASE}{SLUG}/?t=0"),
        ("Risks and results", round(split, 2), f"{BASE}{SLUG}/?t={int(split)}")]
    assert [r["title"] for r in sqlite_utils.Database(path)["chapters"].search("risk")] == ["Risks and results"]
    assert query.search(path, '"main library"').hits[0].chapter == "Why blog"
    assert query.search(path, '"meetings got shorter"').hits[0].chapter == "Risks and results"


# --- Relevance: the right moment, the right speaker ------------------------------------------

PHRASES = ["people trust what they can see", "Many leaders worry about the press",
           "Other managers started writing too", "meetings got shorter", "Start small and start now"]


@pytest.mark.parametrize("phrase", PHRASES)
def test_phrase_is_found_at_the_moment_it_was_said(cli_search, phrase):
    hits = hits_json(cli_search(f'"{phrase}"', "--slug", SLUG, "--format", "json"))
    truth = truth_turn(phrase)
    assert hits and hits[0]["slug"] == SLUG, hits
    assert wer.words(hits[0]["match"]) == wer.words(phrase)
    assert abs(hits[0]["time"] - truth["start"]) <= 2.0, (hits[0]["time"], truth)
    assert hits[0]["speaker"] == truth["speaker"]
    assert hits[0]["url"] == f"{BASE}{SLUG}/?t={int(hits[0]['time'])}"


def test_speaker_filter_with_labelled_turns(archive, tmp_path, run_cli):
    """The names in the editor's transcript reach the turns: the filter finds the right voice."""
    path = archive / "site" / "data" / "transcripts.db"

    for phrase in PHRASES:
        truth = truth_turn(phrase)
        result = run_cli(archive, "search", f'"{phrase}"', "--db", str(path), "--speaker",
                         truth["speaker"].split()[0].lower(), "--format", "json")
        hit = hits_json(result)[0]
        assert hit["speaker"] == truth["speaker"]
        assert abs(hit["time"] - truth["start"]) <= 2.0
        assert hit["start"] <= hit["time"] <= hit["end"]
        other = next(t["speaker"] for t in TRUTH if t["speaker"] != truth["speaker"])
        assert hits_json(run_cli(archive, "search", f'"{phrase}"', "--db", str(path),
                                 "--speaker", other, "--format", "json")) == []


# --- The command line: formats, filters, queries ---------------------------------------------

def test_table_format(cli_search):
    result = cli_search("main library", "--context", "4")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[:3] == ["TITLE", "TIME", "SPEAKER"]
    assert row.startswith("Why council leaders")
    assert "[main] library" in row or "[main library]" in row
    assert "0:4" in row  # said at about 42 s
    assert "1 hit(s)" in result.stderr


def test_json_format(cli_search):
    hits = hits_json(cli_search('"plain words"', "--format", "json"))
    assert {h["slug"] for h in hits} == {SLUG, OTHER}
    for hit in hits:
        assert {"slug", "title", "date", "speaker", "start", "end", "time", "text", "url",
                "before", "match", "after", "chapter"} <= set(hit)
        assert hit["match"].lower() == "plain words"
        assert hit["url"].startswith(f"{BASE}{hit['slug']}/?t=")
        assert hit["start"] <= hit["time"] <= hit["end"]


def test_csv_format(cli_search):
    result = cli_search('"plain words"', "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["slug"] for r in rows} == {SLUG, OTHER}
    assert all(r["url"].startswith(BASE) and float(r["time"]) >= 0 for r in rows)


def test_context_and_limit(cli_search):
    hits = hits_json(cli_search("week", "--format", "json", "--context", "2", "--limit", "1"))
    assert len(hits) == 1
    assert len(hits[0]["before"].split()) <= 2 and len(hits[0]["after"].split()) <= 2
    assert hits[0]["match"].lower().startswith("week")
    assert hits_json(cli_search("week", "--format", "json", "-c", "0"))[0]["before"] == ""


@pytest.mark.parametrize("option, value, slugs", [
    ("--slug", OTHER, {OTHER}),
    ("--guest", "ada", {OTHER}),
    ("--guest", "Helen Ward", {SLUG}),
    ("--tag", "BLOGGING", {SLUG}),
    ("--tag", "writing", {OTHER}),
    ("--tag", "blog", set()),  # tags match whole
    ("--from", "2025", {SLUG}),
    ("--from", "2026-11-21", set()),
    ("--to", "2024-05", {OTHER}),
    ("--to", "2024-05-01", set()),
    ("--speaker", "Helen", {SLUG}),  # turns labelled by the speakers stage
    ("--speaker", "ada price", {OTHER}),
    ("--speaker", "Daniel", set()),  # the interviewer never says it
])
def test_filters(cli_search, option, value, slugs):
    hits = hits_json(cli_search('"plain words"', option, value, "--format", "json"))
    assert {h["slug"] for h in hits} == slugs


def test_ties_rank_newest_first(archive, tmp_path):
    project = Project(archive)
    post = load_post(project, project.media / SLUG)
    older = dataclasses.replace(post, card=dataclasses.replace(post.card, slug="older", date=post.card.date.replace(year=2020)))
    path = tmp_path / "ties.db"
    database.build(path, [older, post], BASE)
    hits = query.search(path, "library").hits
    assert [h.slug for h in hits] == [SLUG, "older"]


@pytest.mark.parametrize("query, found", [
    ("blog*", True),  # prefix
    ("blogging", True),  # stemmed: finds "blogs"
    ("library OR xylophone", True),
    ("library AND xylophone", False),
    ("library NOT xylophone", True),
    ("library NOT library", False),
    ("NEAR(library Sundays, 3)", True),
    ("library NEAR Sundays", True),  # infix NEAR, as other tools write it
    ("NEAR(library lawyers, 2)", False),
])
def test_query_syntax(cli_search, query, found):
    hits = hits_json(cli_search(query, "--slug", SLUG, "--format", "json"))
    assert bool(hits) == found, hits


@pytest.mark.parametrize("query", ['"main library', 'library AND', "bin,lorry", "plain-words",
                                   "library)", "(library", "speaker:main library", "OR library"])
def test_stray_quotes_and_operators_are_escaped(cli_search, query):
    result = cli_search(query, "--format", "json")
    assert result.exit_code == 0, result.output
    assert "Note:" in result.stderr and "read as" in result.stderr
    assert json.loads(result.stdout), "the words of the query still find something"


@pytest.mark.parametrize("query, message", [
    ('"', "Nothing to search for"), ("*", "Nothing to search for"), ("AND", "Nothing to search for"),
    ("NOT library", "NOT needs words on both sides"),
])
def test_queries_that_cannot_be_read_are_explained(cli_search, query, message):
    result = cli_search(query)
    assert result.exit_code == 1
    assert message in result.stderr and "exact phrases" in result.stderr
    assert "Traceback" not in result.output


def test_missing_or_broken_database_and_bad_dates(cli_search, tmp_path):
    result = cli_search("library", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 1 and "No search database" in result.stderr
    broken = tmp_path / "broken.db"
    broken.write_text("not a database")
    result = cli_search("library", "--db", str(broken))
    assert result.exit_code == 1 and "not a transcripts database" in result.stderr
    result = cli_search("library", "--from", "2024-13")
    assert result.exit_code == 2 and "--from" in result.stderr


# --- The site's search page, in a real browser -----------------------------------------------

@pytest.fixture(scope="module")
def server(archive):
    """The built site over HTTP on 127.0.0.1, with byte ranges so the player can seek
    (Pagefind cannot load from file://)."""
    httpd = make_server(archive / "site", "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--mute-audio"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


def test_search_page_finds_a_phrase_and_opens_the_moment(server, page):
    phrase = "Many leaders worry about the press"
    page.goto(server)
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_selector("form.search[data-ready]")
    assert page.get_by_role("search").count() == 1
    page.get_by_label("Words or a phrase").focus()
    page.keyboard.type(phrase)
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    status.filter(has_text="1 interview matches").wait_for()
    moment = page.locator(".moments a").first
    assert "worry" in moment.inner_text()
    moment.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{SLUG}/?t=*")
    seconds = int(page.url.split("?t=")[1].split("#")[0])
    assert abs(seconds - truth_turn(phrase)["start"]) <= 3.0, page.url
    turn = page.locator(f"#{page.url.split('#')[1]}")
    assert "worry about the press" in turn.inner_text()
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {seconds}) < 0.5")


def test_search_page_filters(server, page):
    page.goto(server + "search/?q=plain+words")
    page.get_by_role("status").filter(has_text="2 interviews match").wait_for()
    guests = page.get_by_role("group", name="Guest")
    assert guests.get_by_role("checkbox").count() == 2
    guests.get_by_label("Ada Price").check()
    page.get_by_role("status").filter(has_text="1 interview matches").wait_for()
    assert page.locator(".search-result h2").all_inner_texts() == ["Writing every week"]
    page.get_by_role("group", name="Year").get_by_label("2026").check()
    page.get_by_role("status").filter(has_text="No interviews match").wait_for()


@pytest.mark.parametrize("scheme, width", [("light", 1280), ("dark", 320)])
def test_search_page_meets_wcag(server, browser, scheme, width):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(color_scheme=scheme, viewport={"width": width, "height": 900})
    page.goto(server + "search/?q=press")
    page.locator(".moments a").first.wait_for()
    page.get_by_role("group", name="Tag").get_by_label("blogging").focus()  # focus styles too
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # reflow
    page.close()


# --- One stemmer: chapters and quotes agree with the database's search -------------------------

STEM_WORDS = ("colonies colony writing write wrote hives hive blogging blogs blogger neighbours "
              "decisions deciding libraries library running councils generously").split()


def test_stems_are_the_database_tokenizers(tmp_path):
    """sentences.stem gives the very terms SQLite's FTS5 porter tokenizer indexes, so a word
    chapters and quotes count as one is one word for search too."""
    import sqlite3

    from pipeline.stages.sentences import content_words, stem

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize=porter)")
    conn.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(t, row)")
    for word in STEM_WORDS:
        conn.execute("DELETE FROM t")
        conn.execute("INSERT INTO t VALUES (?)", (word,))
        (term,), = conn.execute("SELECT term FROM terms").fetchall()
        assert stem(word) == term, word
    for a, b in (("colonies", "colony"), ("writing", "write"), ("hives", "hive"), ("blogs", "blogging")):
        assert content_words(a) == content_words(b), (a, b)
