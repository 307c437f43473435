"""The studio in a real browser: Debian's Chromium through Playwright, against a real
`pipeline edit` process on the bundled sample, published for real.

Open, fix a word, change a speaker, save, publish, and see the fix on the post page and in
the site's search; a file changed on disk while the studio had it open; a page closed
before its save; the keyboard for everything; the word being said lit; a browser without
the token; axe-core (WCAG 2.2 AA) and the Nu HTML checker on every view.
Set STUDIO_SCREENSHOTS=/some/folder to keep screenshots at 1280 and 375 px.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from bench import wer
from conftest import SAMPLE, add_interview
from pipeline.config import load_card
from pipeline.stages import corrections
from pipeline.studio import review
from test_pages import AXE_TAGS, VNU
from test_studio import publish
from test_studio_server import Studio

SLUG = "council"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("studio-browser")
    card = load_card(SAMPLE)
    add_interview(root, SLUG, SAMPLE / "interview.mp4", title=card.title, intro=card.intro,
                  tags=list(card.tags))
    publish(root)
    return root


@pytest.fixture(scope="module")
def pristine(sample):
    """The published files a test may change, as they were, to put back after it."""
    files = [sample / "transcripts" / SLUG / "transcript.txt", sample / "media" / SLUG / "interview.yaml"]
    return {path: path.read_bytes() for path in files}


@pytest.fixture(scope="module")
def studio(sample):
    running = Studio(sample)
    yield running
    running.stop()



@pytest.fixture
def open_studio(browser, studio, sample, pristine):
    """open_studio(path, **context options) -> a page that came in through the printed address."""
    for path, data in pristine.items():
        path.write_bytes(data)
    (sample / "transcripts" / SLUG / review.FILE).unlink(missing_ok=True)
    contexts = []
    base = f"http://127.0.0.1:{studio.port}"

    def open_(path: str = f"/i/{SLUG}/", **options):
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        context.set_default_timeout(20_000)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                      else route.abort())
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(error))
        page.errors = errors
        page.goto(f"{base}{path}?token={studio.token}")
        if path.startswith("/i/"):
            page.wait_for_selector("#studio[data-ready=true]")
        return page

    yield open_
    for context in contexts:
        for page in context.pages:
            assert not getattr(page, "errors", []), page.errors
        context.close()


def transcript(sample: Path) -> Path:
    return sample / "transcripts" / SLUG / "transcript.txt"


def saved(page) -> None:
    expect(page.locator("#save-state")).to_contain_text("Saved to transcript.txt", timeout=20_000)


def paragraph(page, n: int):
    return page.locator(".turn").nth(n)


# --- the whole round: fix, save, publish, read it and find it -------------------------------

def test_fix_a_word_change_a_speaker_save_publish_and_find_it(open_studio, sample, run_cli):
    page = open_studio("/")
    page.get_by_role("link", name=re.compile("Why council leaders")).click()
    page.wait_for_selector("#studio[data-ready=true]")
    # The most doubtful place first: the key goes there and selects its words.
    page.keyboard.press("Alt+KeyN")
    first = page.evaluate("studio.suspects[studio.current]")
    assert page.evaluate("getSelection().toString()") == first["text"]
    page.keyboard.type("Quillfeather")  # typing replaces the selected words
    saved(page)
    text = transcript(sample).read_text()
    assert "Quillfeather" in text and not corrections.is_machine_text(text)
    assert "Machine-made transcript" not in text  # the editor's file, as an editor writes it
    assert page.locator("#queue li").filter(has_text=first["text"]).count() == 0  # fixed: off the list

    # The interviewer's "Right." is now Helen Ward's, chosen from the card's people.
    right = page.locator(".turn").filter(has=page.locator(".words", has_text=re.compile(r"^\s*right\W*$", re.I))).first
    speaker = right.get_by_role("combobox")
    assert speaker.evaluate("s => [...s.options].map(o => o.text)") == ["Daniel Hughes", "Helen Ward", "New name…"]
    speaker.select_option("Helen Ward")
    saved(page)
    paragraphs = corrections.parse(transcript(sample).read_text())
    assert any(wer.words(p.text) == ["right"] and p.speaker == "Helen Ward" for p in paragraphs)

    page.get_by_role("button", name="Publish this interview").click()
    expect(page.locator("#publish-state")).to_contain_text("Published", timeout=180_000)
    assert "using the corrected" in page.locator("#publish-log").inner_text()  # the log, as it came
    page.get_by_role("link", name="Open the page").click()
    page.wait_for_url(f"**/site/{SLUG}/")
    assert "Quillfeather" in page.locator("main").inner_text()
    # ... and the site's search finds it, as the search database does.
    page.goto(page.url.split("/site/")[0] + "/site/search/?q=quillfeather")
    page.get_by_role("status").filter(has_text="in 1 interview match").wait_for()
    expect(page.locator("#search-results")).to_contain_text(re.compile("quillfeather", re.I))
    found = run_cli(sample, "search", "Quillfeather", "--format", "json")
    assert found.exit_code == 0 and json.loads(found.stdout)[0]["slug"] == SLUG
    (row,) = json.loads(run_cli(sample, "status", "--format", "json").stdout)
    assert row["unpublished"] == [] and row["stages"]["corrections"] == "done"


# --- a file changed on disk ------------------------------------------------------------------------

@pytest.mark.parametrize("choice", ["mine", "disk"])
def test_a_file_changed_on_disk_is_never_overwritten_and_the_editor_chooses(open_studio, sample, choice):
    page = open_studio()
    path = transcript(sample)
    by_hand = path.read_text().replace("Right.", "Right, I see.")  # someone's text editor
    path.write_text(by_hand)
    words = paragraph(page, 0).locator(".words")
    words.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Indeed.")
    dialog = page.get_by_role("dialog", name="The file changed on disk")
    expect(dialog).to_be_visible(timeout=20_000)
    assert path.read_text() == by_hand  # nothing overwritten
    diff = page.locator("#conflict-diff").inner_text()
    assert "-" in diff and "Right, I see." in diff and "Indeed." in diff
    if choice == "mine":
        dialog.get_by_role("button", name=re.compile("Keep my version")).click()
        saved(page)
        assert "Indeed." in path.read_text()
    else:
        dialog.get_by_role("button", name=re.compile("Use the file on disk")).click()
        page.wait_for_selector("#studio[data-ready=true]")
        assert "Right, I see." in page.locator("#turns").inner_text()
        assert "Indeed." not in page.locator("#turns").inner_text() and path.read_text() == by_hand


def test_an_edit_is_kept_when_the_page_closes_before_it_is_saved(open_studio, sample):
    page = open_studio()
    page.evaluate("studio.save = async () => {}")  # as if the studio stopped answering
    words = paragraph(page, 0).locator(".words")
    words.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Kept.")
    page.locator("#side").click(position={"x": 5, "y": 5})  # leave the paragraph
    page.wait_for_function("localStorage.length > 0")
    context = page.context
    page.close()
    assert "Kept." not in transcript(sample).read_text()
    again = context.new_page()
    again.goto(page.url)
    again.wait_for_selector("#studio[data-ready=true]")
    saved(again)
    assert "Kept." in transcript(sample).read_text()
    assert again.evaluate("localStorage.length") == 0  # the draft goes once the file has it


# --- the keyboard --------------------------------------------------------------------------------------

def test_the_keyboard_does_it_all(open_studio, sample):
    page = open_studio()
    player = "document.getElementById('player')"
    page.wait_for_function(f"{player}.readyState >= 1")
    page.keyboard.press("Alt+KeyK")
    page.wait_for_function(f"!{player}.paused && {player}.currentTime > 0.5")
    page.keyboard.press("Alt+KeyK")
    page.wait_for_function(f"{player}.paused")
    page.evaluate(f"{player}.currentTime = 20")
    page.keyboard.press("Alt+KeyJ")
    page.wait_for_function(f"Math.abs({player}.currentTime - 15) < 0.5")
    page.keyboard.press("Alt+Comma")
    assert page.evaluate(f"{player}.playbackRate") == 0.75  # slower
    page.keyboard.press("Alt+Period")
    page.keyboard.press("Alt+Period")
    assert page.evaluate(f"{player}.playbackRate") == 1.25
    # The next place to check: selected and played; Alt+A accepts it (kept in review.json).
    page.keyboard.press("Alt+KeyN")
    first = page.evaluate("studio.suspects[studio.current]")
    page.wait_for_function(f"!{player}.paused && {player}.currentTime >= {first['start']} - 1.5")
    page.keyboard.press("Alt+KeyA")
    page.wait_for_function(f"studio.suspects[studio.current] && studio.suspects[studio.current].key !== {json.dumps(first['key'])}")
    expect(page.locator("#queue li").filter(has_text=first["text"])).to_have_count(0)
    assert first["key"] in review.accepted(sample / "transcripts" / SLUG)
    # Typing pauses the player (the next place is playing now; start it again to be sure).
    page.evaluate(f"{player}.pause()")
    page.keyboard.press("Alt+KeyK")
    page.wait_for_function(f"!{player}.paused")
    page.keyboard.press("Control+End")
    page.keyboard.type(" Yes")
    page.wait_for_function(f"{player}.paused")
    # Enter starts a paragraph at the cursor; Backspace at its start joins it back.
    turns = page.locator(".turn").count()
    text = paragraph(page, 1).locator(".words")
    text.focus()
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Enter")
    assert page.locator(".turn").count() == turns + 1
    assert page.evaluate("getSelection().anchorNode.parentElement.closest('.turn') === document.querySelectorAll('.turn')[2]")
    page.keyboard.press("Backspace")
    assert page.locator(".turn").count() == turns
    # Tab reaches every control; Alt+Enter plays from the word at the cursor.
    text.focus()
    page.keyboard.press("Control+End")
    page.keyboard.press("Alt+Enter")
    last = page.evaluate("studio.paragraphs[1].words.at(-1).s")
    page.wait_for_function(f"Math.abs({player}.currentTime - {last}) < 1.0")
    saved(page)


def test_the_word_being_said_is_lit_and_clicking_a_word_plays_from_it(open_studio):
    page = open_studio()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    target = paragraph(page, 1).locator(".words")
    box = target.bounding_box()
    target.click(position={"x": 5, "y": box["height"] / 2})  # its first word
    first = page.evaluate("studio.paragraphs[1].words[0]")
    page.wait_for_function(f"document.getElementById('player').currentTime >= {first['s']}")
    page.wait_for_function("!document.getElementById('player').paused")
    lit = page.evaluate("""() => {
        const player = document.getElementById('player');
        player.pause();
        const t = player.currentTime;
        const words = studio.paragraphs.flatMap(p => p.words);
        const said = words.filter(w => w.s <= t + 0.02).at(-1);
        const range = [...CSS.highlights.get('current-word')][0];
        return [range.toString(), said.t];
    }""")
    assert lit[0] == lit[1]
    assert paragraph(page, 1).evaluate("li => li.classList.contains('current')")


# --- who may open it, and how it reads ------------------------------------------------------------------

def test_a_browser_without_the_token_is_refused(browser, studio):
    page = browser.new_page()
    response = page.goto(f"http://127.0.0.1:{studio.port}/i/{SLUG}/")
    assert response.status == 403
    assert "needs its key" in page.locator("h1").inner_text()
    assert "pipeline edit" in page.locator("main").inner_text()
    page.close()


VIEWS = {"list": ("/", {}), "interview": (f"/i/{SLUG}/", {}),
         "interview-dark": (f"/i/{SLUG}/", {"color_scheme": "dark"}),
         "interview-narrow": (f"/i/{SLUG}/", {"viewport": {"width": 375, "height": 800}})}


@pytest.mark.parametrize("name", list(VIEWS))
def test_every_view_meets_wcag(open_studio, name):
    path, options = VIEWS[name]
    page = open_studio(path, **options)
    if path != "/":
        page.wait_for_function("document.getElementById('player').readyState >= 1")
        page.keyboard.press("Alt+KeyN")  # a place to check selected, as an editor sees it
        page.locator("#player").evaluate("p => p.pause()")
    _no_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    _screenshots(page, name)


def test_the_dialogs_meet_wcag(open_studio, sample):
    page = open_studio()
    paragraph(page, 2).get_by_role("combobox").select_option("New name…")
    dialog = page.get_by_role("dialog", name="A new speaker")
    expect(dialog).to_be_visible()
    _no_violations(page)
    page.keyboard.type("Mark Lloyd")
    page.keyboard.press("Enter")
    saved(page)
    assert "] Mark Lloyd: " in transcript(sample).read_text()
    transcript(sample).write_text(transcript(sample).read_text() + "\n")  # changed on disk
    paragraph(page, 0).locator(".words").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Indeed.")
    expect(page.get_by_role("dialog", name="The file changed on disk")).to_be_visible(timeout=20_000)
    _no_violations(page)
    _screenshots(page, "conflict")


def test_without_javascript_the_transcript_can_still_be_read(open_studio, sample):
    page = open_studio("/", java_script_enabled=False)
    page.get_by_role("link", name=re.compile("Why council leaders")).click()
    page.get_by_role("link", name="Read the transcript").click()
    page.wait_for_url(re.compile(r"\?read$"))  # the editing page has an empty #turns too
    text = page.locator("#turns").inner_text()
    first = corrections.parse(transcript(sample).read_text())[0]
    assert first.text in " ".join(text.split()) and first.speaker in text
    assert "edit transcripts/council/transcript.txt" in " ".join(page.locator(".notice").inner_text().split())


def test_studio_pages_are_valid_html(open_studio, tmp_path):
    if not VNU.is_file():
        pytest.fail(f"{VNU} is missing: run `npm ci --ignore-scripts` (or `make test`) first")
    pages = []
    for name, path in (("list", "/"), ("interview", f"/i/{SLUG}/"), ("read-only", f"/i/{SLUG}/?read")):
        page = open_studio(path.split("?")[0])
        if "?" in path:
            page.goto(page.url.split("?")[0] + "?read")
        out = tmp_path / f"{name}.html"
        out.write_text(page.evaluate("fetch(location.href).then(r => r.text())"))
        pages.append(str(out))
        if name == "interview":  # the page as the script made it, too
            live = tmp_path / "interview-live.html"
            live.write_text("<!DOCTYPE html>\n" + page.evaluate("document.documentElement.outerHTML"))
            pages.append(str(live))
    out = subprocess.run(["java", "-jar", str(VNU), "--format", "json", *pages],
                         capture_output=True, text=True, timeout=180)
    messages = json.loads(out.stderr)["messages"]
    errors = [m for m in messages if m["type"] == "error" or m.get("subType") == "fatal"]
    assert not errors, "\n".join(f"{m['url']}:{m.get('lastLine')}: {m['message']}" for m in errors)


# --- the card: reviewed, chapters, quotes ---------------------------------------------------------------

def test_reviewed_chapters_and_quotes_are_saved_to_the_card(open_studio, sample):
    page = open_studio()
    card_path = sample / "media" / SLUG / "interview.yaml"
    before = card_path.read_text()
    page.get_by_label("Reviewed: checked against the recording").check()
    expect(page.locator("#save-state")).to_contain_text("Saved to the card")
    assert load_card(card_path.parent).reviewed
    page.locator("#chapters-panel summary").click()
    automatic = page.locator("#chapter-list li").count()
    n = page.evaluate("studio.paragraphs.findIndex((p, i) => i > 2 && !p.chapter)")
    turn = paragraph(page, n)
    turn.get_by_role("button", name=re.compile("A chapter starts at")).click()
    page.keyboard.type("What she writes")
    page.wait_for_function("document.getElementById('save-state').textContent.includes('Saved to the card')"
                           " && !document.getElementById('chapters-hint').textContent.includes('Give every')")
    page.wait_for_timeout(1500)
    card = load_card(card_path.parent)
    start = page.evaluate(f"studio.startOf(studio.paragraphs[{n}])")
    assert card.chapters[0][0] == 0.0 and len(card.chapters) == automatic + 1  # the automatic ones became the card's
    assert (float(int(start)), "What she writes") in card.chapters
    page.locator("#quotes-panel summary").click()
    quote = page.locator("#quote-list li").first
    text = quote.locator("blockquote").inner_text()
    quote.get_by_role("button", name=re.compile("^Pin")).click()
    expect(quote.get_by_role("button", name=re.compile("^Pin"))).to_have_attribute("aria-pressed", "true")
    card = load_card(card_path.parent)
    assert card.quotes.pin == (text,)
    after = card_path.read_text()
    assert after.startswith(before.rstrip("\n")) or all(line in after for line in before.splitlines())


# --- helpers ---------------------------------------------------------------------------------------------

def _no_violations(page) -> None:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()


def _screenshots(page, name: str) -> None:
    folder = os.environ.get("STUDIO_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/studio-{name}-{width}.png")
    page.set_viewport_size(size)
