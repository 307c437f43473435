"""The site's search page and the post page's research tools, in Debian's Chromium.

The session's archive (conftest.py: the sample and a short second interview, corrected by an
editor to the words said) is served by pipeline.site.serve on 127.0.0.1. The search page
reads the static index (pipeline/search/site_index.py) and must find, turn by turn, what
`pipeline search` finds; post pages offer "Cite" on every turn and "Search this interview".
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from conftest import OTHER, SLUG, truth_turn
from pipeline.build import publish
from pipeline.project import Project
from pipeline.search import query, site_index
from pipeline.site.serve import make_server
from pipeline.timecode import clock

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def db_path(archive) -> Path:
    return archive / "site" / "data" / "transcripts.db"


def serve(folder: Path):
    httpd = make_server(folder, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def server(archive):
    """The built site over HTTP on 127.0.0.1 (the index is fetched, as on a real host)."""
    httpd, url = serve(archive / "site")
    yield url
    httpd.shutdown()
    httpd.server_close()



@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
                  else route.abort())
    errors = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def search_page(page, server, q: str, **filters):
    from urllib.parse import urlencode

    page.goto(server + "search/?" + urlencode({"q": q, **filters}))
    page.wait_for_selector("form.search[data-state=done]")
    return page.get_by_role("status").inner_text()


def every_moment(page) -> list[str]:
    """Open every "Show all", "Show more" and "more interviews" button; the moments' links."""
    for _ in range(100):
        buttons = page.locator(".more-moments:visible, #search-more:visible button")
        if not buttons.count():
            break
        before = page.locator(".moments a").count()
        buttons.first.click()
        page.wait_for_function(f"document.querySelectorAll('.moments a').length > {before}")
    return page.locator(".moments a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def anchors_of(db: Path) -> dict[tuple[str, str], dict]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return {(r["slug"], r["anchor"]): dict(r) for r in conn.execute("SELECT * FROM turns")}


def cli_turns(db: Path, q: str, **filters) -> set[tuple[str, str]]:
    """The turns `pipeline search` finds: (slug, anchor)."""
    hits = query.search(db, q, query.Filters(**filters), limit=10_000).hits
    return {(h.slug, h.url.rsplit("#", 1)[1]) for h in hits}


def site_turns(links: list[str]) -> set[tuple[str, str]]:
    found = set()
    for link in links:
        match = re.fullmatch(r"https?://[^/]+/([^/]+)/\?t=\d+#(t-[\d.]+(?:-\d+)?)", link)
        assert match, link
        found.add((match[1], match[2]))
    return found


# --- The search page finds what `pipeline search` finds, turn by turn ------------------------

QUERIES = ["library", "week", '"plain words"', "blog*", "library OR lawyers", "press NOT lawyers",
           "NEAR(lawyers publish, 10)", "the", "plain-words", "writ*", '"every week" OR Sundays',
           "trust NOT \"plain words\""]


@pytest.mark.parametrize("q", QUERIES)
def test_every_moment_the_command_line_finds(page, server, db_path, q):
    status = search_page(page, server, q)
    expected = cli_turns(db_path, q)
    links = every_moment(page)
    assert site_turns(links) == expected, status
    assert len(links) == len(expected)  # each moment once
    if expected:
        interviews = {slug for slug, _ in expected}
        assert status.startswith(f"{len(expected)} moment") and f"in {len(interviews)} interview" in status


def test_a_phrase_opens_at_the_moment_it_was_said(page, server):
    phrase = "Many leaders worry about the press"
    page.goto(server)
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_selector("form.search[data-ready]")
    page.get_by_label("Words or a phrase").focus()
    page.keyboard.type(f'"{phrase}"')
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="1 moment in 1 interview").wait_for()
    moment = page.locator(".moments a").first
    text = moment.inner_text()
    assert "Daniel Hughes" in text and "worry" in text
    assert moment.locator("mark").all_inner_texts() == phrase.split()
    moment.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{SLUG}/?t=*")
    seconds = int(page.url.split("?t=")[1].split("#")[0])
    assert abs(seconds - truth_turn(phrase)["start"]) <= 3.0, page.url
    turn = page.locator(f"[id='{page.url.split('#')[1]}']")
    assert "worry about the press" in turn.inner_text()
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {seconds}) < 0.5")


def test_filters_apply_to_each_turn(page, server, db_path):
    """The issue's case: "library" filtered to Daniel Hughes must not show Helen Ward's line."""
    assert "Nothing matches" in search_page(page, server, "library", speaker="Daniel Hughes")
    assert page.locator(".moments a").count() == 0
    cases = [("press", {"speaker": "Daniel Hughes"}), ("press", {"speaker": "ward"}),
             ('"plain words"', {"guest": "ada"}), ('"plain words"', {"tag": "BLOGGING"}),
             ('"plain words"', {"from": "2025"}), ('"plain words"', {"to": "2024-05"}),
             ("week", {"speaker": "Hughes", "to": "2024"})]
    cli_names = {"from": "date_from", "to": "date_to"}
    for q, filters in cases:
        search_page(page, server, q, **filters)
        wanted = {cli_names.get(k, k): query.date_bound(v, k == "to") if k in cli_names else v
                  for k, v in filters.items()}
        assert site_turns(every_moment(page)) == cli_turns(db_path, q, **wanted), (q, filters)
        assert cli_turns(db_path, q, **wanted), (q, filters)


def test_facets_count_turns_and_set_their_filter(page, server):
    search_page(page, server, "week")
    speakers = page.get_by_role("list", name="Speakers")
    helen = speakers.get_by_role("button", name=re.compile("^Helen Ward"))
    count = int(re.search(r"\((\d+)\)", helen.inner_text())[1])
    helen.click()
    page.get_by_role("status").filter(has_text=f"{count} moment").wait_for()
    assert "speaker=Helen+Ward" in page.url
    assert page.get_by_role("combobox", name=re.compile("^Speaker")).input_value() == "Helen Ward"
    whos = page.locator(".moments .who").all_inner_texts()
    assert whos and set(whos) == {"Helen Ward:"}


def test_an_unknown_filter_says_so_and_suggests(page, server):
    status = search_page(page, server, "library", speaker="Helen Wrd")
    assert "No speaker is called “Helen Wrd”. Did you mean Helen Ward?" in status
    page.get_by_role("button", name="Use Helen Ward").click()
    page.get_by_role("status").filter(has_text="1 moment in 1 interview").wait_for()
    assert "No tag is called “blog”. Did you mean blogging?" in search_page(page, server, "library", tag="blog")


def test_a_one_letter_prefix_is_explained(page, server):
    status = search_page(page, server, "b*")
    assert "at least two letters before the *" in status and page.locator(".moments a").count() == 0


def test_only_the_spoken_words_are_searched(page, server):
    """Titles, the intro, pull quotes and hidden labels ("Play from") are not speech."""
    for q in ("synthetic", "espeak", '"play from"', '"machine-made transcript"'):
        assert "Nothing matches" in search_page(page, server, q), q
    search_page(page, server, '"plain words"')
    for moment in page.locator(".moments a").all():
        assert re.match(r"\d+:\d\d ", moment.inner_text()), moment.inner_text()
        assert "Play from" not in moment.inner_text()


def test_every_moment_of_a_long_list_is_reachable(page, server, db_path):
    """More moments than the preview: "Show all" in the interview, in time order."""
    search_page(page, server, "the")
    first = page.locator(".search-result").first
    shown = first.locator(".moments a").count()
    total = int(re.search(r"(\d+) moments", first.locator(".meta").inner_text())[1])
    assert shown == 3 < total
    first.get_by_role("button", name=re.compile("Show all")).click()
    page.wait_for_function(f"document.querySelector('.search-result .moments').children.length === {total}")
    times = [int(href.split("?t=")[1].split("#")[0]) for href in
             first.locator(".moments a").evaluate_all("a => a.map(x => x.getAttribute('href'))")]
    assert times == sorted(times)
    assert page.evaluate("document.activeElement.closest('.moments') !== null")  # focus moved to the new ones


def test_without_javascript_the_page_says_it_needs_it(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "search/?q=library")
    notice = page.locator("[data-needs-script]")
    assert notice.is_visible() and "needs JavaScript" in notice.inner_text()
    assert page.get_by_role("search").count() == 0  # no form that cannot work
    assert page.get_by_role("link", name=re.compile("Download every transcript")).is_visible()
    context.close()


@pytest.mark.parametrize("scheme, width", [("light", 1280), ("dark", 320)])
def test_search_page_meets_wcag(server, browser, scheme, width):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(color_scheme=scheme, viewport={"width": width, "height": 900})
    search_page(page, server, "week")
    page.locator("details.search-filters summary").click()
    page.get_by_role("combobox", name=re.compile("^Speaker")).focus()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # reflow
    page.close()


def test_the_browser_tokenizes_and_stems_as_fts5(page, server, db_path):
    """match.js (the vendored Porter stemmer and unicode61's splitting) gives every turn the
    very terms and positions FTS5 indexed, so phrases and excerpts line up."""
    page.goto(server + "search/")
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, 'turns_fts', 'instance')")
        indexed: dict[int, list] = {}
        for term, doc, offset in conn.execute("SELECT term, doc, offset FROM temp.v"):
            indexed.setdefault(doc, []).append((offset, term))
        texts = dict(conn.execute("SELECT id, text FROM turns"))
    texts[0] = "Café naïve co-operate 6,000 it's “quoted” blogging—blogs ÉCOLE"
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize=porter)")
        conn.execute("INSERT INTO t(rowid, x) VALUES (0, ?)", [texts[0]])
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        indexed[0] = [(offset, term) for term, _, offset in conn.execute("SELECT term, doc, offset FROM v")]
    got = page.evaluate("""async texts => {
        const m = await import("../static/match.js");
        return Object.fromEntries(Object.entries(texts).map(([id, text]) => [id, m.tokens(text).map(t => t.term)]));
    }""", {str(k): v for k, v in texts.items()})
    for doc, terms in indexed.items():
        assert got[str(doc)] == [term for _, term in sorted(terms)], texts[doc]


# --- The index: rebuilt only when the database changes, swapped in whole ---------------------

def test_the_index_is_rebuilt_only_when_the_database_changes(archive, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(archive / "site", site)
    db = site / "data" / "transcripts.db"
    meta = site / "search" / "index" / "meta.json.gz"
    before = meta.stat().st_mtime_ns
    assert site_index.build(db, site) is False
    (site / "search" / ".index-left-by-a-kill").mkdir()
    with sqlite3.connect(db) as conn:  # an interview changed (its key with it)
        conn.execute("UPDATE interviews SET source_hash = 'changed' WHERE slug = ?", [OTHER])
    assert site_index.build(db, site) is True
    assert meta.stat().st_mtime_ns != before
    assert sorted(p.name for p in (site / "search").iterdir()) == ["index", "index.html"]


# --- Post pages: cite a turn or a span of words -----------------------------------------------

def turn_of(db: Path, phrase: str) -> dict:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return dict(next(r for r in conn.execute("SELECT * FROM turns WHERE slug = ?", [SLUG])
                         if phrase in r["text"]))


def panel(page) -> dict[str, str]:
    page.wait_for_selector("#cite-panel:not([hidden])")
    return {"link": page.locator("#cite-link").input_value(), "text": page.locator("#cite-text").inner_text(),
            "bibtex": page.locator("#cite-bibtex").text_content(),
            "csl-json": page.locator("#cite-csl-json").text_content()}


def cli_cite(run_cli, archive, moment: str) -> dict[str, str]:
    found = {}
    for fmt in ("link", "text", "bibtex", "csl-json"):
        result = run_cli(archive, "cite", SLUG, moment, "--format", fmt)
        assert result.exit_code == 0, result.output
        found[fmt] = result.stdout.rstrip("\n")
    return found


def test_cite_a_turn_as_the_command_line_does(page, server, archive, db_path, run_cli):
    turn = turn_of(db_path, "main library")
    page.goto(server + f"{SLUG}/")
    cite = page.locator(f"[id='{turn['anchor']}'] a.cite")
    assert cite.get_attribute("href") == f"?t={int(turn['start'])}&end={math.ceil(turn['end'])}#{turn['anchor']}"
    cite.click()
    shown = panel(page)
    assert shown == cli_cite(run_cli, archive, clock(turn["start"]))
    assert page.evaluate("document.activeElement.id") == "cite-panel"
    assert shown["link"].endswith(f"/{SLUG}/?t={int(turn['start'])}&end={math.ceil(turn['end'])}#{turn['anchor']}")
    assert shown["text"].startswith("Helen Ward, interview by Daniel Hughes, “Why council leaders should blog")
    assert f"{clock(turn['start'])}–{clock(math.ceil(turn['end']))}" in shown["text"]
    page.keyboard.press("Escape")
    assert page.locator("#cite-panel").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('cite')")


def test_cite_the_selected_words(page, server, archive, db_path, run_cli):
    turn = turn_of(db_path, "main library")
    starts = json.loads(turn["word_starts"])
    words = turn["text"].split()
    first, last = words.index("main"), words.index("library")
    page.goto(server + f"{SLUG}/")
    page.evaluate("""([anchor, first, last]) => {
        const said = document.getElementById(anchor).querySelector(".said"), text = said.firstChild;
        const words = [...text.data.matchAll(/\\S+/g)];
        const range = document.createRange();
        range.setStart(text, words[first].index);
        range.setEnd(text, words[last].index + words[last][0].length);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
    }""", [turn["anchor"], first, last])
    button = page.get_by_role("button", name=re.compile("Cite the selected words"))
    t, end = math.floor(starts[first]), math.ceil(starts[last + 1])
    assert f"({clock(t)}–{clock(end)})" in button.inner_text()
    button.click()
    shown = panel(page)
    assert f"?t={t}&end={end}#{turn['anchor']}" in shown["link"]
    assert shown == cli_cite(run_cli, archive, f"{t}-{end}")


def test_a_cited_span_is_marked_and_stops_at_its_end(page, server, db_path):
    turn = turn_of(db_path, "Right.")
    t, end = int(turn["start"]), math.ceil(turn["end"])
    page.goto(server + f"{SLUG}/?t={t}&end={end}#{turn['anchor']}")
    overlapping = sorted((r["start"], a) for (s, a), r in anchors_of(db_path).items()
                         if s == SLUG and r["end"] > t and r["start"] < end)
    assert page.locator(".turn.cited").evaluate_all("l => l.map(x => x.id)") == [a for _, a in overlapping]
    assert turn["anchor"] in [a for _, a in overlapping]
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function(f"document.getElementById('player').paused && "
                           f"document.getElementById('player').currentTime >= {end}", timeout=20_000)
    assert page.evaluate("document.getElementById('player').currentTime") < end + 2


def test_without_javascript_cite_is_the_permanent_link(browser, server, db_path):
    turn = turn_of(db_path, "main library")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + f"{SLUG}/")
    page.locator(f"[id='{turn['anchor']}'] a.cite").click()
    assert page.url.endswith(f"/{SLUG}/?t={int(turn['start'])}&end={math.ceil(turn['end'])}#{turn['anchor']}")
    assert page.get_by_role("search").count() == 0  # "Search this interview" needs scripting
    context.close()


def test_links_stay_valid_after_corrections(archive, tmp_path, browser):
    """Anchors are times: after an editor fixes a word and deletes a paragraph, the turns
    keep their anchors, and a link to a turn that is gone (deleted, or merged into the one
    before) still opens where its moment now is."""
    root = tmp_path / "project"
    shutil.copytree(archive, root)
    db = root / "site" / "data" / "transcripts.db"
    before = anchors_of(db)
    text_file = root / "transcripts" / SLUG / "transcript.txt"
    paragraphs = text_file.read_text(encoding="utf-8").split("\n\n")
    gone = next(n for n, p in enumerate(paragraphs) if p.endswith("Daniel Hughes: Yes."))
    fixed = next(n for n, p in enumerate(paragraphs) if "main library" in p)
    paragraphs[fixed] = paragraphs[fixed].replace("main library", "central library")
    paragraphs.pop(gone)
    text_file.write_text("\n\n".join(paragraphs), encoding="utf-8")
    report = publish(Project(root))
    assert not report.failed, report.failed
    after = anchors_of(db)
    lost = sorted(set(before) - set(after), key=lambda k: before[k]["start"])
    kept = set(before) & set(after)
    assert "Yes." in [before[k]["text"] for k in lost] and len(kept) >= len(before) - 3
    for key in kept:
        assert before[key]["start"] == after[key]["start"]
    assert "central library" in next(after[k]["text"] for k in kept if "library" in after[k]["text"])
    httpd, url = serve(root / "site")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 700})
        for slug, anchor in lost:
            old = before[(slug, anchor)]
            page.goto(url + f"{slug}/?t={int(old['start'])}&end={math.ceil(old['end'])}#{anchor}")
            page.wait_for_load_state("load")
            holder = max((k for k in after if k[0] == slug and int(after[k]["start"]) <= int(old["start"])),
                         key=lambda k: after[k]["start"])
            page.wait_for_function(f"""(() => {{ const r = document.getElementById('{holder[1]}').getBoundingClientRect();
                                       return r.top >= -1 && r.top < innerHeight; }})()""")
        page.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- Post pages: search this interview --------------------------------------------------------

@pytest.mark.parametrize("q", ["library OR lawyers", '"plain words"', "press NOT lawyers", "writ*", "week"])
def test_search_this_interview_shows_the_turns_search_finds(page, server, db_path, q):
    page.goto(server + f"{SLUG}/")
    box = page.get_by_role("search", name="This interview").get_by_label("Search this interview")
    box.fill(q)
    box.press("Enter")
    expected = {anchor for slug, anchor in cli_turns(db_path, q, slug=SLUG)}
    page.get_by_role("status").filter(has_text=f"{len(expected)} of").wait_for()
    shown = set(page.locator(".turns .turn:visible").evaluate_all("l => l.map(x => x.id)"))
    assert shown == expected
    for mark in page.locator(".turns .turn:visible mark").all_inner_texts():
        assert mark.strip(".,?").lower() in q.lower() or any(
            mark.lower().startswith(w.strip('"*').lower()[:4]) for w in q.split()), mark
    page.get_by_role("button", name="Show every turn").click()
    assert page.locator(".turns .turn:visible").count() == page.locator(".turns .turn").count()
    assert page.locator(".turns mark").count() == 0


@pytest.mark.parametrize("scheme, width", [("light", 1280), ("dark", 375)])
def test_post_page_tools_meet_wcag(browser, server, scheme, width):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(color_scheme=scheme, viewport={"width": width, "height": 900})
    page.goto(server + f"{SLUG}/")
    box = page.get_by_label("Search this interview")
    box.fill("library OR press")
    box.press("Enter")
    page.get_by_role("status").filter(has_text="turns match").wait_for()
    page.locator(".turns .turn:visible a.cite").first.click()
    page.wait_for_selector("#cite-panel:not([hidden])")
    page.locator("#cite-panel details").first.click()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()
