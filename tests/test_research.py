"""Research tools on the session's archive (conftest.py): `pipeline cite` (its BibTeX read by
pybtex, its CSL-JSON formatted by citeproc-py), `pipeline export` (checked against the
database and the published transcripts), and Datasette opening the database with the
metadata beside it (Datasette's own test client)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import math
import sqlite3
from pathlib import Path

import pytest

from conftest import OTHER, SLUG, write_card
from pipeline.search import cite as citations
from pipeline.timecode import clock

BASE = "http://localhost:8000/"


@pytest.fixture(scope="module")
def db_path(archive) -> Path:
    return archive / "site" / "data" / "transcripts.db"


def turns(db: Path, slug: str = SLUG) -> list[dict]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM turns WHERE slug = ? ORDER BY id", [slug])]


def turn_with(db: Path, phrase: str) -> dict:
    return next(t for t in turns(db) if phrase in t["text"])


def cite(run_cli, archive, moment: str, fmt: str) -> str:
    result = run_cli(archive, "cite", SLUG, moment, "--format", fmt)
    assert result.exit_code == 0, result.output
    return result.stdout.rstrip("\n")


# --- pipeline cite ------------------------------------------------------------------------

def test_cite_a_turn_as_plain_text(run_cli, archive, db_path):
    turn = turn_with(db_path, "main library")
    t, end = int(turn["start"]), math.ceil(turn["end"])
    link = f"{BASE}{SLUG}/?t={t}&end={end}#{turn['anchor']}"
    assert cite(run_cli, archive, clock(turn["start"]), "link") == link
    assert cite(run_cli, archive, str(turn["start"] + 3), "link") == link  # any moment of the turn
    assert cite(run_cli, archive, clock(turn["start"]), "text") == (
        "Helen Ward, interview by Daniel Hughes, “Why council leaders should blog: an interview with "
        f"Helen Ward”, Interviews, 20 November 2026, {clock(t)}–{clock(end)}, {link}.")
    question = turn_with(db_path, "worry about the press")
    assert cite(run_cli, archive, clock(question["start"]), "text").startswith(
        "Daniel Hughes, in “Why council leaders should blog: an interview with Helen Ward” "
        "(interview with Helen Ward), Interviews, 20 November 2026, ")


def test_cite_a_span(run_cli, archive, db_path):
    turn = turn_with(db_path, "main library")
    t = int(turn["start"]) + 5
    link = cite(run_cli, archive, f"{clock(t)}-{clock(t + 4)}", "link")
    assert link == f"{BASE}{SLUG}/?t={t}&end={t + 4}#{turn['anchor']}"
    assert f"At {clock(t)}--{clock(t + 4)}" in cite(run_cli, archive, f"{t}–{t + 4}", "bibtex")


def test_bibtex_is_read_back_by_pybtex(run_cli, archive, db_path):
    from pybtex.database import parse_string

    turn = turn_with(db_path, "main library")
    entries = parse_string(cite(run_cli, archive, clock(turn["start"]), "bibtex"), "bibtex").entries
    (key, entry), = entries.items()
    assert key == f"{SLUG}-{int(turn['start'])}" and entry.type == "misc"
    assert str(entry.persons["author"][0]) == "Ward, Helen"
    assert entry.fields["title"] == "{Why council leaders should blog: an interview with Helen Ward}"
    assert entry.fields["year"] == "2026" and entry.fields["date"] == "2026-11-20"
    assert entry.fields["url"].endswith(f"#{turn['anchor']}")
    assert "Interview by Daniel Hughes" in entry.fields["howpublished"]


def test_csl_json_is_formatted_by_citeproc(run_cli, archive, db_path):
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON

    turn = turn_with(db_path, "main library")
    items = json.loads(cite(run_cli, archive, clock(turn["start"]), "csl-json"))
    assert items[0]["author"] == [{"literal": "Helen Ward"}] and items[0]["type"] == "interview"
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    bibliography.register(Citation([CitationItem(items[0]["id"])]))
    (formatted,) = [str(entry) for entry in bibliography.bibliography()]
    assert "Helen Ward" in formatted and "Why council leaders should blog" in formatted
    assert "2026" in formatted and items[0]["URL"] in formatted


def test_citations_escape_what_each_format_must(tmp_path):
    """A title with LaTeX's and JSON's special characters comes back whole from each format."""
    from pybtex.database import parse_string

    title = 'Cuts of 50% & more: {budgets}, "reserves" #2 ~ a_b \\ c'
    card = _card(tmp_path, title)
    site = _site()
    span = citations.Span("Ann O'Neil", 12.3, 20.1, "t-12.3")
    formats = {name: citations.fill(template, span)
               for name, template in citations.templates(card, site, ["Ann O'Neil"])["Ann O'Neil"].items()}
    assert json.loads(formats["csl-json"])[0]["title"] == title
    entry = next(iter(parse_string(formats["bibtex"], "bibtex").entries.values()))
    assert "\\%" in entry.fields["title"] and "\\&" in entry.fields["title"] and "\\#" in entry.fields["title"]
    assert title in formats["text"]


def _card(tmp_path: Path, title: str):
    from pipeline.config import load_card

    folder = write_card(tmp_path, "talk", "https://example.org/talk.mp4", title=title, date="2025-03-04",
                        interviewer="Bea Lee", guests=["Ann O'Neil"])
    return load_card(folder)


def _site():
    from pipeline.config import Site

    return Site(title="Archive & Co", base_url="https://example.org/a/")


def test_cite_mistakes_are_explained(run_cli, archive):
    for args, message in ((("council-leader", "1:00"), "Did you mean 'council-leader-blogging'?"),
                          ((SLUG, "9:00"), "after the end"), ((SLUG, "soon"), "is not a time"),
                          ((SLUG, "1:10-1:05"), "ends before it starts")):
        result = run_cli(archive, "cite", *args)
        assert result.exit_code == 2 and message in result.stderr, result.output
        assert "Traceback" not in result.output


# --- pipeline export ------------------------------------------------------------------------

def test_export_csv_has_every_turn_of_the_database(run_cli, archive, db_path):
    result = run_cli(archive, "export")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        expected = [dict(r) for r in conn.execute(
            "SELECT slug, title, date, speaker, start, \"end\", text, url FROM turns ORDER BY id")]
    assert [r["slug"] for r in rows][0] == SLUG  # newest first
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected):
        assert {k: row[k] for k in ("slug", "title", "date", "speaker", "text", "url")} == \
            {k: str(want[k]) for k in ("slug", "title", "date", "speaker", "text", "url")}
        assert float(row["start"]) == want["start"] and float(row["end"]) == want["end"]
    assert "exported 2 interview(s)" in result.stderr


def test_export_words_with_times_and_probabilities(run_cli, archive, tmp_path):
    out = tmp_path / "words.csv"
    result = run_cli(archive, "export", "--words", "--slug", OTHER, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # all of it went to the file
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    published = json.loads((archive / "transcripts" / OTHER / "transcript.json").read_text())
    words = [w for s in published["segments"] for w in s["words"] if w["word"].strip()]
    assert [r["word"] for r in rows] == [w["word"].strip() for w in words]
    assert [float(r["start"]) for r in rows] == [round(w["start"], 3) for w in words]
    assert all(0 <= float(r["probability"]) <= 1 for r in rows)
    assert {r["slug"] for r in rows} == {OTHER}
    for row in rows:
        assert float(row["turn_start"]) <= float(row["start"]) + 0.01
        assert row["url"].startswith(f"{BASE}{OTHER}/?t={math.floor(float(row['start']))}#t-")


def test_export_json_lines(run_cli, archive, db_path):
    result = run_cli(archive, "export", "--format", "jsonl", "--words")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["slug"], r["start"], r["url"]) for r in records] == \
        [(t["slug"], t["start"], t["url"]) for slug in (SLUG, OTHER) for t in turns(db_path, slug)]
    for record in records:  # the editor's words, each with its time
        assert [w["word"] for w in record["words"]] == record["text"].split(), record
        assert all(record["start"] - 0.5 <= w["start"] <= record["end"] + 0.5 for w in record["words"])


def test_export_mistakes(run_cli, archive, tmp_path):
    result = run_cli(archive, "export", "--slug", "no-such-talk")
    assert result.exit_code == 1 and "no interview card" in result.stderr
    empty = tmp_path / "empty"
    (empty / "media").mkdir(parents=True)
    result = run_cli(empty, "export")
    assert result.exit_code == 1 and "run `pipeline publish` first" in result.stderr


# --- Datasette -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def datasette(archive):
    from datasette.app import Datasette

    site = archive / "site" / "data"
    metadata = json.loads((site / "metadata.json").read_text())
    return Datasette([str(site / "transcripts.db")], metadata=metadata), metadata


def get(ds, path: str):
    async def fetch():
        return await ds.client.get(path)
    return asyncio.run(fetch())


def test_datasette_opens_the_database_with_its_metadata(datasette):
    ds, metadata = datasette
    response = get(ds, "/-/metadata.json")
    assert response.status_code == 200 and response.json() == metadata
    page = get(ds, "/transcripts/turns")
    assert page.status_code == 200
    assert "Speaker turns" in page.text and "One row per paragraph" in page.text
    facets = get(ds, "/transcripts/turns.json?_size=0").json()["facet_results"]
    assert {"speaker", "guests", "tags", "date"} <= set(facets)
    speakers = {v["value"]: v["count"] for v in facets["speaker"]["results"]}
    assert set(speakers) == {"Helen Ward", "Daniel Hughes", "Ada Price"}
    assert {v["value"] for v in facets["tags"]["results"]} >= {"blogging", "writing"}
    interviews = get(ds, "/transcripts/interviews.json?_size=0").json()["facet_results"]
    assert {"year", "guests", "tags"} <= set(interviews)


def test_datasette_canned_queries(datasette, db_path):
    ds, _ = datasette
    rows = get(ds, "/transcripts/turns_by_speaker.json?speaker=ward&_shape=array").json()
    assert rows and {r["speaker"] for r in rows} == {"Helen Ward"}
    assert len(rows) == sum(t["speaker"] == "Helen Ward" for t in turns(db_path))
    rows = get(ds, "/transcripts/keyword_in_context.json?query=library&_shape=array").json()
    assert [r["slug"] for r in rows] == [SLUG] and "[library]" in rows[0]["in_context"]
    rows = get(ds, "/transcripts/keyword_in_context.json?query=NEAR(press%20lawyers,%205)&_shape=array").json()
    assert rows and "[press]" in rows[0]["in_context"]
    rows = get(ds, f"/transcripts/interview_transcript.json?slug={OTHER}&_shape=array").json()
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows) and len(rows) == len(turns(db_path, OTHER))
    rows = get(ds, "/transcripts/speakers.json?_shape=array").json()
    assert {r["speaker"] for r in rows} == {"Helen Ward", "Daniel Hughes", "Ada Price"}
    # The table's own search box takes FTS5 syntax (searchmode raw).
    rows = get(ds, "/transcripts/turns.json?_search=%22plain%20words%22&_shape=array").json()
    assert {r["slug"] for r in rows} == {SLUG, OTHER}


def test_the_search_page_offers_the_metadata(archive):
    page = (archive / "site" / "search" / "index.html").read_text()
    assert 'href="../data/metadata.json" download' in page and 'href="../data/transcripts.db" download' in page


# --- The README's examples --------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8").split(section, 1)[1].split("\n#", 1)[0]
    return [block.split("\n", 1)[1] for block in text.split("```")[1::2]]


def readme_commands(section: str) -> list[list[str]]:
    import shlex

    return [shlex.split(line.split("  #", 1)[0].removeprefix(".venv/bin/pipeline "))
            for block in readme_blocks(section) for line in block.splitlines()
            if line.startswith(".venv/bin/pipeline ")]


def test_readme_cite_examples(run_cli, archive):
    import re

    commands = readme_commands("### Citing a moment")
    assert [c[:2] for c in commands] == [["cite", SLUG]] * 2
    shown = readme_blocks("### Citing a moment")[1].strip()
    numbers = re.compile(r"\d+(\.\d+)?")
    for args in commands:
        result = run_cli(archive, *args)
        assert result.exit_code == 0, result.output
        if "--format" not in args:  # the output shown, but for the times this transcript gives
            assert numbers.sub("N", result.stdout.strip()) == numbers.sub("N", shown)
            start, end = (int(x) for x in re.search(r"\?t=(\d+)&end=(\d+)", result.stdout).groups())
            assert start <= 42 < end
    assert "@misc{" in run_cli(archive, *commands[1]).stdout


def test_readme_export_examples(run_cli, archive, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # -o turns.csv lands here
    commands = readme_commands("### Exporting for research tools")
    assert len(commands) == 2
    for args in commands:
        result = run_cli(archive, *args)
        assert result.exit_code == 0, result.output
    header = (tmp_path / "turns.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "slug,title,date,speaker,start,end,text,url"
    assert f"`{header.replace(',', ', ')}`" in README.read_text(encoding="utf-8")
