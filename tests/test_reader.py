"""The reader's page on a 60-minute interview (issue 16), in Debian's Chromium (Playwright).

The interview is bench/reader.py's generated one, built once for the module (about 15 s):
bench/interview.py's script as its transcript, with word times at espeak-ng's pace, and every
other part real (a 60-minute video made by ffmpeg, fetch, prepare, captions, chapters, quotes,
the page and the search index). Speaking and transcribing it would take minutes here; `python
-m bench.reader` does that and runs the same checks (bench.reader's helpers) on the result:
295 turns here and 297 transcribed, 24 chapters both ways, and the same behaviour (the
player in view at ten scroll positions, a scroll that holds, ?t= in view, the first screen).

It is served by pipeline.site.serve on 127.0.0.1; every other request is refused.
PAGES_SCREENSHOTS=DIR keeps screenshots of the states tried here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from bench import reader
from bench.reader import SLUG, PLAYER_IN_VIEW, first_screen, player_in_view_while_scrolling, \
    scrolled_away_holds, start_playing, tab_stops
from pipeline.site.serve import make_server

ROOT = Path(__file__).resolve().parent.parent
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
SIZES = [pytest.param(PHONE, id="375"), pytest.param(DESKTOP, id="1280")]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return reader.generated_project(tmp_path_factory.mktemp("long"), 60)


@pytest.fixture(scope="module")
def server(project) -> str:
    httpd = make_server(project / "site", "127.0.0.1", 0, "/")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{SLUG}/"
    httpd.shutdown()
    httpd.server_close()



@pytest.fixture
def open_page(browser, server):
    """open_page(query="", viewport=..., **context options) -> the page, with no script errors."""
    contexts, errors = [], []

    def open_(query: str = "", viewport: dict = DESKTOP, **options):
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        context.set_default_timeout(15_000)
        origin = server.split(f"/{SLUG}/")[0]
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin)
                      else route.abort())
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + query)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors


def chapters(project: Path) -> list[dict]:
    return json.loads((project / "transcripts" / SLUG / "chapters.json").read_text())["chapters"]


def quotes(project: Path) -> list[dict]:
    return json.loads((project / "transcripts" / SLUG / "quotes.json").read_text())


def in_view(page, selector: str) -> bool:
    return page.evaluate(f"""() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; }}""")


def screenshot(page, name: str) -> None:
    if folder := os.environ.get("PAGES_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=f"{folder}/long-{name}-{width}.png")


# ---------------------------------------------------------------------------- the player in view

@pytest.mark.parametrize("viewport", SIZES)
def test_the_playing_player_stays_in_view(open_page, viewport):
    """At ten scroll positions from top to bottom the playing video is wholly on screen: in
    its own column on a desktop, pinned compact (with play/pause and the time) on a phone."""
    page = open_page(viewport=viewport)
    start_playing(page)
    assert player_in_view_while_scrolling(page) == [True] * 10
    if viewport is PHONE:
        bar = page.locator(".player-bar")
        # The label follows the video's play and pause events, which come after the call:
        # expect() waits for it (up to 5 s) where is_visible() looked once, too soon.
        expect(bar.get_by_role("button", name="Pause")).to_be_visible()
        page.wait_for_function("document.querySelector('.now-time').textContent !== '0:00'")
        screenshot(page, "pinned")
        bar.get_by_role("button", name="Pause").click()
        assert page.evaluate("document.getElementById('player').paused")
        expect(bar.get_by_role("button", name="Play")).to_be_visible()


def test_chapters_never_push_the_player_away(open_page, project):
    """On a desktop the chapters scroll in their own box under the player: reaching the
    last one moves neither the player nor the page, and choosing one plays it there and
    shows its heading in the transcript."""
    page = open_page()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    listed = page.get_by_role("navigation", name="Chapters").get_by_role("link")
    assert listed.count() == len(chapters(project)) == 24
    box = page.locator(".side").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 80)
    for _ in range(20):  # the reader's wheel, over the chapters
        page.mouse.wheel(0, 200)
        page.wait_for_timeout(100)
        found = listed.nth(17).bounding_box()
        if found and 0 <= found["y"] and found["y"] + found["height"] <= 900:
            break
    assert found and found["y"] + found["height"] <= 900, found
    assert page.evaluate("scrollY") == 0 and page.evaluate(PLAYER_IN_VIEW)
    listed.nth(17).click()
    start = chapters(project)[17]["startTime"]
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {start}) < 1.5")
    assert page.url.endswith(f"?t={int(start)}")
    page.wait_for_function("""() => { const h = document.getElementById('chapter-18').getBoundingClientRect();
        return h.top >= 0 && h.bottom <= innerHeight; }""")
    assert page.evaluate(PLAYER_IN_VIEW)


# ---------------------------------------------------------------------------- follow along

@pytest.mark.parametrize("viewport", SIZES)
def test_follow_along_stops_when_the_reader_scrolls(open_page, viewport):
    """Following moves the page while the reader has not scrolled it; after a wheel, ten
    seconds of playback do not move it; "Back to the current moment" shows and resumes it.
    The switch stays at hand wherever the reader is."""
    page = open_page("?t=300", viewport=viewport)
    start_playing(page, rate=4)
    y = page.evaluate("scrollY")
    page.wait_for_function(f"Math.abs(scrollY - {y}) > 20", timeout=30_000)  # it follows
    held = scrolled_away_holds(page, seconds=10)
    assert held == {"moved_px": 0, "played_s": 10, "back_shown": True, "back_hidden_after": True}
    y = page.evaluate("scrollY")
    page.wait_for_function(f"Math.abs(scrollY - {y}) > 20", timeout=30_000)  # following again
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight * 0.6)")
    assert page.get_by_role("button", name="Follow along").is_visible()
    assert in_view(page, "button.follow")
    screenshot(page, "scrolled-away")


def test_the_highlight_follows_the_sentence(open_page):
    """Not the whole turn: the sentence being said (from the word timings) is marked, and the
    mark moves on to the next sentence while the turn is the same."""
    page = open_page()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    turn = page.locator(".turn:not(.question)").filter(has=page.locator(".said[data-sentences]")).nth(10)
    said = turn.locator(".said")
    words = said.inner_text().split()
    firsts = [int(k) for k in said.get_attribute("data-sentences").split()]
    starts = [float(t) for t in said.get_attribute("data-starts").split()]
    assert len(firsts) >= 3
    sentence = " ".join(words[firsts[1]:firsts[2]])
    assert sentence.endswith((".", "?", "!", ","))
    page.evaluate(f"document.getElementById('player').currentTime = {starts[firsts[1]] + 0.2}")
    marked = "() => [...(CSS.highlights.get('spoken') || [])].map(r => r.toString()).join('|')"
    page.wait_for_function(f"({marked})() === {json.dumps(sentence)}")
    assert "current" in turn.get_attribute("class")
    start_playing(page, rate=2)
    following = " ".join(words[firsts[2]:firsts[3] if len(firsts) > 3 else len(words)])
    page.wait_for_function(f"({marked})() === {json.dumps(following)}", timeout=20_000)
    assert "current" in turn.get_attribute("class")


# ---------------------------------------------------------------------------- moments

@pytest.mark.parametrize("viewport", SIZES)
@pytest.mark.parametrize("moment", [75, 2400])
def test_t_shows_the_moment(open_page, viewport, moment):
    """?t= sets the player there, scrolls the turn holding that moment into view (below
    whatever is pinned above it) and highlights it. How fast is `make bench`'s (bench.reader:
    about half a second here, goal 1 s)."""
    page = open_page(f"?t={moment}", viewport=viewport)
    holder = page.evaluate(f"[...document.querySelectorAll('.turn')].filter(t => +t.dataset.start <= {moment}).pop().id")
    page.wait_for_function(f"""() => {{ const t = document.getElementById({json.dumps(holder)});
        const r = t.getBoundingClientRect(), tools = document.querySelector('.transcript-tools').getBoundingClientRect();
        return t.classList.contains('current') && r.top >= tools.bottom - 1 && r.top < innerHeight; }}""")
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {moment}) < 0.5")
    assert not page.get_by_role("button", name="Back to the current moment").is_visible()
    if moment == 2400:
        screenshot(page, "t2400")


def test_without_javascript_every_time_link_carries_its_time(open_page, project):
    """With JavaScript off, every time link (each turn's, each chapter's, each quote's) opens
    the recording at its moment (video.mp4#t=SECONDS), and every link stays reachable."""
    page = open_page(java_script_enabled=False)
    times = page.locator(".turns .turn").evaluate_all("""turns => turns.map(t =>
        [t.querySelector('a.time').getAttribute('href'), Math.floor(+t.dataset.start + 1e-6), t.querySelector('a.cite').tabIndex])""")
    assert len(times) == 295
    for href, second, tab_index in times:
        assert href == f"video.mp4#t={second}" and tab_index == 0
    listed = page.locator(".chapters a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert listed == [f"video.mp4#t={int(c['startTime'])}" for c in chapters(project)]
    quoted = page.locator(".quotes a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert quoted == [f"video.mp4#t={int(q['start'])}" for q in quotes(project)]
    assert not page.locator("main a[href^='?t=']:not(.cite)").count()
    assert page.get_by_role("search").count() == 0  # the find box needs scripting, and says so:
    assert "Searching this interview and following the recording need JavaScript" in page.inner_text("main")


# ---------------------------------------------------------------------------- a long page, read

def test_the_first_screen_shows_the_player_and_the_transcript(open_page):
    page = open_page()
    page.wait_for_load_state("load")
    seen = first_screen(page)
    assert seen["player"] and seen["turns"] >= 3, seen
    screenshot(page, "first-screen")


def test_chapters_head_the_transcript_and_fold_on_a_phone(open_page, project):
    """The chapters are headings inside the transcript, each over the turns it holds; on a
    phone their list is folded, so the transcript starts near the top of the page."""
    page = open_page(viewport=PHONE)
    headings = page.locator(".turns h3.chapter-heading")
    titles = [c["title"] for c in chapters(project)]
    assert [re.sub(r"^\s*\S+\s+", "", h).strip() for h in headings.all_text_contents()] == titles
    firsts = headings.evaluate_all("hs => hs.map(h => [+h.dataset.t, +h.nextElementSibling.querySelector('.turn').dataset.start])")
    for (chapter, turn), after in zip(firsts, firsts[1:] + [(1e9, 1e9)]):
        assert chapter - 0.5 <= turn < after[0]
    assert not page.locator("#chapters details").get_attribute("open")
    top = page.evaluate("document.querySelector('.turns .turn').getBoundingClientRect().top + scrollY")
    assert top < 1300, top  # it was 3,153 px down, after 24 chapters and the quotes
    screenshot(page, "phone-top")


def test_questions_are_set_apart_and_short_turns_take_one_line(open_page):
    page = open_page(viewport=PHONE)
    weights = page.locator(".turn").evaluate_all("""ts => ts.map(t => [t.classList.contains('question'),
        +getComputedStyle(t.querySelector('.said')).fontWeight])""")
    assert {w for q, w in weights if q} == {600} and {w for q, w in weights if not q} == {400}
    assert 100 < sum(q for q, _ in weights) < 200
    # "Right." took three lines at 375 px: time, name and word are one line now.
    short = page.evaluate("""() => [...document.querySelectorAll('.turn')].filter(t => /^[A-Z][a-z]*( [a-z]+)?\\.$/.test(
        t.querySelector('.said').textContent)).map(t => { t.scrollIntoView();  // laid out when near the screen
          return [t.getBoundingClientRect().height, parseFloat(getComputedStyle(t).lineHeight)]; })""")
    assert short and all(height < 2 * line for height, line in short), short
    # A speaker's name is shown where they start speaking, not on each of their paragraphs.
    assert page.locator(".same-speaker .speaker").first.evaluate("s => s.getBoundingClientRect().width") <= 1


def test_one_tab_stop_per_turn(open_page):
    """Each turn is one Tab stop (its time); its Cite link is one arrow key away, and still
    opens the citation panel. The page had about 330 tab stops before "Cite" came, 620 after."""
    page = open_page()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    turns = page.locator(".turns .turn").count()
    stops = tab_stops(page)
    assert turns < stops <= turns + 24 + 5 + 40, stops
    time = page.locator(".turns .turn").nth(5).locator("a.time")
    time.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.classList.contains('cite')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cite-panel:not([hidden])")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.classList.contains('cite')")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement") == time.evaluate("a => a")
    assert page.evaluate("document.getElementById('player').paused")  # citing never plays it


def test_a_play_pause_key_outside_form_fields(open_page):
    page = open_page()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    paused = "document.getElementById('player').paused"
    page.locator("h1").click()
    page.keyboard.press("k")
    page.wait_for_function(f"!{paused}")
    page.keyboard.press("k")
    page.wait_for_function(paused)
    before = page.evaluate("document.getElementById('player').currentTime")
    page.keyboard.press("l")
    page.wait_for_function(f"document.getElementById('player').currentTime >= {before + 9.5}")
    box = page.get_by_label("Search this interview")
    box.focus()
    page.keyboard.type("k")
    assert box.input_value() == "k" and page.evaluate(paused)
    page.locator("details.keys summary").click()  # the letter keys can be turned off
    page.get_by_label("Use the letter keys K, J and L").uncheck()
    page.locator("h1").click()
    page.keyboard.press("k")
    page.wait_for_timeout(300)
    assert page.evaluate(paused)


def test_find_highlights_and_steps_through_the_places(open_page, project):
    page = open_page()
    data = json.loads((project / "site" / SLUG / "transcript.json").read_text())
    box = page.get_by_label("Search this interview")
    box.fill("budget")
    box.press("Enter")
    status = page.locator("#find-status")
    status.filter(has_text="turns match").wait_for()
    found, total = (int(n) for n in re.match(r"(\d+) of (\d+) turns", status.inner_text()).groups())
    places = int(re.search(r"\((\d+) places\)", status.inner_text())[1])
    said = " ".join(s["text"] for s in data["segments"]).lower()
    assert total == 295 and 0 < found <= places == len(re.findall(r"\bbudgets?\b", said))
    assert page.locator(".turns .turn:visible").count() == found
    page.get_by_role("button", name="Next").click()
    page.get_by_text(f"Place 1 of {places}").wait_for()
    current = page.locator("mark.current-match")
    page.wait_for_function("""() => { const r = document.querySelector('mark.current-match').getBoundingClientRect();
        return r.top > document.querySelector('.transcript-tools').getBoundingClientRect().bottom && r.bottom < innerHeight; }""")
    assert current.inner_text().lower().startswith("budget")
    page.get_by_role("button", name="Previous").click()
    page.get_by_role("button", name="Previous").click()
    page.get_by_text(f"Place {places - 1} of {places}").wait_for()
    page.get_by_label("Only the turns that match").uncheck()  # every match in its context
    assert page.locator(".turns .turn:visible").count() == 295
    assert page.locator(".turns mark").count() >= places
    screenshot(page, "find")
    page.get_by_role("button", name="Show every turn").click()
    assert page.locator(".turns mark").count() == 0


# ---------------------------------------------------------------------------- checked by engines

@pytest.mark.parametrize("viewport,scheme", [(DESKTOP, "light"), (PHONE, "dark"), ({"width": 320, "height": 640}, "light")],
                         ids=["1280-light", "375-dark", "320-light"])
def test_axe_on_the_long_page_in_use(open_page, viewport, scheme):
    """axe-core finds nothing with the compact player pinned, a search under way and the way
    back to the current moment on offer; nothing scrolls sideways at 320 px."""
    page = open_page("?t=600", viewport=viewport, color_scheme=scheme)
    start_playing(page)
    box = page.get_by_label("Search this interview")
    box.fill("library OR budget")
    box.press("Enter")
    page.locator("#find-status").filter(has_text="turns match").wait_for()
    page.get_by_role("button", name="Next").click()
    page.mouse.wheel(0, -300)
    page.get_by_role("button", name="Back to the current moment").wait_for()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # The pinned tools, a search's buttons and counts shown, leave most of the screen to the
    # transcript (at 320 px they took 345 of 640 px when Follow kept them to half the width).
    tools = page.locator(".transcript-tools").bounding_box()["height"]
    assert tools < 0.4 * viewport["height"], tools
    screenshot(page, f"in-use-{scheme}")


def test_the_long_page_is_valid_html(project):
    out = subprocess.run(["java", "-jar", str(VNU), "--format", "json", str(project / "site" / SLUG / "index.html")],
                         capture_output=True, text=True, timeout=180)
    errors = [m for m in json.loads(out.stderr)["messages"] if m["type"] == "error" or m.get("subType") == "fatal"]
    assert errors == [], errors[:5]
