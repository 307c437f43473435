"""Post pages, index, tag pages, 404, feeds and structured data, checked by real engines.

A module-scoped site is published for real (ffmpeg, Whisper, speakers, chapters, quotes) from
the bundled sample video (148 s) and the session's short MP3; a YouTube post is published
from a source left as fetch leaves a YouTube download (nothing can be downloaded here), with
chapters from its card. Every chapter and quote the pages show is the stages' own output.

It is served by pipeline.site.serve on 127.0.0.1 (with byte ranges, which media seeking needs) and
opened in Debian's Chromium through Playwright, with every request off 127.0.0.1 blocked.
Set PAGES_SCREENSHOTS=/some/folder to keep screenshots of every page at 1280 and 375 px.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from html import unescape as html_unescape
from html.parser import HTMLParser

import feedparser
import pytest
import webvtt
from axe_playwright_python.sync_playwright import Axe
from click.testing import CliRunner

from conftest import SAMPLE, add_interview, write_card
from pipeline.cli import cli
from pipeline.config import load_card, load_site
from pipeline.errors import CardError
from pipeline.files import sha256_file, write_json
from pipeline.model import Chapter, Post, Prepared, Quote, Segment, Transcript
from pipeline.project import Project
from pipeline.site import render
from pipeline.site.serve import make_server
from pipeline.stages import chapters, fetch, quotes
from pipeline.stamps import Stamps

ROOT = Path(__file__).resolve().parent.parent
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
BASE = "/archive/"  # site.yaml's base_url has a path, as on many real hosts
YOUTUBE_ID = "M7lc1UVf-VE"

# The YouTube post's card gives its chapters (the chapters stage takes them from there).
YOUTUBE_CHAPTERS = [{"start": 0, "title": "Why write a blog"}, {"start": 3.5, "title": "Trust and plain words"}]

# ---------------------------------------------------------------------------- the site

@pytest.fixture(scope="module")
def built(tmp_path_factory, short_speech) -> Path:
    """A published project: self-hosted video, audio-only and YouTube posts."""
    root = tmp_path_factory.mktemp("pages")
    (root / "site.yaml").write_text(
        "title: Council Conversations\n"
        f"base_url: https://interviews.example.org{BASE}\n"
        "language: en\nauthor: Northfield Borough Council\n"
        "description: Long-form interviews about open local government.\n", encoding="utf-8")
    card = load_card(SAMPLE)
    add_interview(root, "council-video", SAMPLE / "interview.mp4", title=card.title,
                  date=card.date.isoformat(), intro=card.intro, tags=list(card.tags))
    add_interview(root, "audio-only", short_speech["mp3"], title="Five minutes on plain words",
                  date="2026-10-01", tags=["Blogging", "plain language"], reviewed=True,
                  intro="A short *audio-only* conversation.")
    _as_if_downloaded(root, "youtube-talk", short_speech["mp3"])
    result = CliRunner().invoke(cli, ["-C", str(root), "-q", "publish"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root


def _as_if_downloaded(root: Path, slug: str, media: Path) -> None:
    """A YouTube card whose source is on disk as the fetch stage leaves a download (with its
    provenance and stamp), so publish runs every other stage for real."""
    folder = write_card(root, slug, f"https://www.youtube.com/watch?v={YOUTUBE_ID}",
                        title="Open data in plain words", date="2026-06-01", tags=["open data"],
                        chapters=YOUTUBE_CHAPTERS)
    source = folder / f"source{media.suffix}"
    shutil.copyfile(media, source)
    card = load_card(folder)
    write_json(folder / "provenance.json", {
        "origin": "url", "url": card.source, "extractor": "Youtube", "id": YOUTUBE_ID,
        "file": source.name, "sha256": sha256_file(source)})
    Stamps(folder).record("fetch", fetch.stage_key(card), file=source.name)


def stage_output(built: Path, slug: str) -> tuple[list[Chapter], list[Quote]]:
    """The chapters and quotes the stages wrote for a post."""
    out = built / "transcripts" / slug
    return chapters.load(out), quotes.load(out)


@pytest.fixture(scope="module")
def server(built) -> str:
    """Serve site/ at BASE on 127.0.0.1 (a free port) for the module; stop it afterwards."""
    httpd = make_server(built / "site", "127.0.0.1", 0, BASE)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{BASE}"
    httpd.shutdown()
    httpd.server_close()



@pytest.fixture
def open_page(browser, server):
    """open_page(path, **context options) -> a Page with only the local server reachable."""
    contexts = []

    def open_(path: str, **options):
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
                      else route.abort())
        page = context.new_page()
        page.goto(server + path)
        return page

    yield open_
    for context in contexts:
        context.close()


PAGES = {"video": "council-video/", "youtube": "youtube-talk/", "audio": "audio-only/",
         "index": "", "tag": "tags/blogging/", "404": "404.html"}


# ---------------------------------------------------------------------------- what is built

def test_publish_writes_every_page_feed_and_download(built):
    site = built / "site"
    for path in ["index.html", "404.html", "feed.xml", "rss.xml", "sitemap.xml", "robots.txt",
                 "tags/index.html", "tags/blogging/index.html", "tags/plain-language/index.html",
                 "tags/open-data/index.html", "static/style.css", "static/player.js"]:
        assert (site / path).is_file(), path
    video = (site / "council-video" / "index.html").read_text()
    for name in ["transcript.txt", "transcript.vtt", "transcript.srt", "transcript.json",
                 "chapters.json", "video.mp4"]:
        assert f'href="{name}" download' in video, name
        assert (site / "council-video" / name).is_file()
    assert '<track kind="chapters" src="chapters.vtt"' in video
    assert "Machine-made transcript" in video  # the card does not say reviewed
    audio = (site / "audio-only" / "index.html").read_text()
    assert "Machine-made transcript" not in audio  # reviewed: true
    assert "<audio id=\"player\"" in audio and "audio.m4a" in audio
    youtube = (site / "youtube-talk" / "index.html").read_text()
    assert f"https://www.youtube-nocookie.com/embed/{YOUTUBE_ID}?" in youtube
    assert "<video" not in youtube and not (site / "youtube-talk" / "video.mp4").exists()
    # Newest first on the index; "Blogging" and "blogging" share one tag page.
    index = (site / "index.html").read_text()
    order = [index.index(f'href="./{slug}/"') for slug in ("council-video", "audio-only", "youtube-talk")]
    assert order == sorted(order)
    assert "Helen Ward leads Northfield Borough Council" in index  # the summary
    blog_tag = (site / "tags" / "blogging" / "index.html").read_text()
    assert "council-video/" in blog_tag and "audio-only/" in blog_tag and "youtube-talk/" not in blog_tag
    # 404 is served at any depth: its links start at the site's own path.
    assert f'href="{BASE}static/style.css"' in (site / "404.html").read_text()


def test_sitemap_lists_every_page(built):
    urls = ET.parse(built / "site" / "sitemap.xml").getroot()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [u.findtext("s:loc", namespaces=ns) for u in urls.findall("s:url", ns)]
    base = f"https://interviews.example.org{BASE}"
    assert {base, base + "council-video/", base + "audio-only/", base + "youtube-talk/",
            base + "tags/", base + "tags/blogging/"} <= set(locs)
    assert len(locs) == len(set(locs))


def test_preview_server_answers_ranges_and_404(server, tmp_path):
    request = urllib.request.Request(server + "council-video/video.mp4", headers={"Range": "bytes=100-199"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 206 and len(response.read()) == 100
        assert response.headers["Content-Range"].startswith("bytes 100-199/")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server + "no/such/page/")
    assert missing.value.code == 404 and b"Page not found" in missing.value.read()
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "serve"])
    assert result.exit_code == 1 and "run `pipeline publish` first" in result.output


# ---------------------------------------------------------------------------- accessibility

@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_wcag_violations(open_page, name, built):
    page = open_page(PAGES[name])
    _wait_for_player(page)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    _screenshots(page, name)


@pytest.mark.parametrize("scheme,width", [("dark", 1280), ("light", 320)])
def test_axe_dark_scheme_and_narrow_screen(open_page, scheme, width):
    page = open_page(PAGES["video"], color_scheme=scheme, viewport={"width": width, "height": 800})
    _wait_for_player(page)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    # Reflow (WCAG 1.4.10): nothing scrolls sideways at 320 CSS px.
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_axe_is_really_checking(browser):
    page = browser.new_page()
    page.set_content('<!DOCTYPE html><html><title>x</title><body><img src="x.png"><a href="#"></a></body></html>')
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert {"image-alt", "link-name", "html-has-lang"} <= {v["id"] for v in results.response["violations"]}
    page.close()


def test_every_page_is_valid_html(built, tmp_path):
    if not VNU.is_file():
        pytest.fail(f"{VNU} is missing: run `npm ci --ignore-scripts` (or `make test`) first")
    pages = sorted((built / "site").rglob("*.html"))
    assert len(pages) >= 9
    broken = tmp_path / "broken.html"  # proves the checker is really checking
    broken.write_text("<!DOCTYPE html><html lang=en><title>x</title><p><div></p></div><a href=x id=a id=a>")
    out = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--also-check-css",
                          *map(str, pages), str(broken), str(render.DEFAULT_TEMPLATES / "static" / "style.css")],
                         capture_output=True, text=True, timeout=180)
    messages = json.loads(out.stderr)["messages"]
    errors = [m for m in messages if m["type"] == "error" or m.get("subType") == "fatal"]
    assert {Path(m["url"]).name for m in errors} == {"broken.html"}, \
        "\n".join(f"{m['url']}:{m.get('lastLine')}: {m['message']}" for m in errors)


# ---------------------------------------------------------------------------- behaviour

def test_captions_and_chapters_tracks_load_every_cue(open_page, built):
    page = open_page(PAGES["video"])
    counts = page.evaluate("""async () => {
        const count = (track) => new Promise((resolve, reject) => {
            track.track.mode = "hidden";
            if (track.readyState === 2) return resolve(track.track.cues.length);
            track.addEventListener("load", () => resolve(track.track.cues.length));
            track.addEventListener("error", () => reject(new Error("track failed: " + track.src)));
        });
        return [await count(document.querySelector("track[kind=captions]")),
                await count(document.querySelector("track[kind=chapters]"))];
    }""")
    captions = webvtt.read(str(built / "site" / "council-video" / "transcript.vtt"))
    found, _ = stage_output(built, "council-video")
    assert counts == [len(captions), len(found)]
    assert len(found) >= 2, "the sample has several topics"
    assert len(captions) > 10


def test_keyboard_activates_transcript_line_and_chapter(open_page, built):
    page = open_page(PAGES["video"])
    _wait_for_player(page)
    found, _ = stage_output(built, "council-video")
    chapter = page.get_by_role("navigation", name="Chapters").get_by_role("link").nth(len(found) - 1)
    line = page.locator(".turn a.time").nth(1)
    for link, expected in ((chapter, int(found[-1].start)),
                           (line, float(line.get_attribute("data-t")))):
        _focus_by_tab(page, link)
        page.keyboard.press("Enter")
        page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {expected}) < 1.5")
        assert page.url.endswith(f"?t={int(expected)}")  # the address names the moment
    # The turn being spoken is marked, and the chapter it belongs to.
    # (Wait for it: the mark follows the player's next timeupdate after the seek.)
    wanted = line.get_attribute("data-t")
    page.wait_for_function(
        f"document.querySelector('.turn.current a.time')?.dataset.t === '{wanted}'", timeout=10000)


def test_t_parameter_starts_the_player_there(open_page, built):
    found, _ = stage_output(built, "council-video")
    second = found[1]
    moment = int((second.start + second.end) / 2)  # inside the second chapter
    page = open_page(PAGES["video"] + f"?t={moment}")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {moment}) < 0.5")
    page.wait_for_function("document.querySelector('.chapters a.current, nav[aria-label=Chapters] a.current')")
    current = page.locator(".chapters a.current, nav[aria-label=Chapters] a.current")
    assert second.title in current.inner_text()
    # The YouTube embed starts there too (its player reloads at the moment).
    page = open_page(PAGES["youtube"] + "?t=30")
    page.wait_for_function("document.getElementById('player').src.includes('start=30')")


@pytest.mark.parametrize("name", ["audio", "youtube"])
def test_every_kind_of_player_stays_in_view_on_a_phone(open_page, name):
    """Not only the self-hosted video (tests/test_reader.py): an audio player sticks to the
    top, and YouTube's embed, once a moment is chosen, is pinned compact with play/pause, at
    ten scroll positions from the top of the page to the bottom."""
    from bench.reader import PLAYER_IN_VIEW, player_in_view_while_scrolling

    page = open_page(PAGES[name], viewport={"width": 375, "height": 812})
    _wait_for_player(page)
    if name == "audio":
        page.evaluate("document.getElementById('player').play()")
        page.wait_for_function("!document.getElementById('player').paused")
    else:  # the embed cannot load offline, so it is chosen as a reader would: a time in the transcript
        page.locator(".turn a.time").nth(1).click()
        page.wait_for_function("document.getElementById('player').src.includes('start=')")
    assert page.evaluate("document.documentElement.scrollHeight") > 812 + 300  # there is somewhere to scroll
    assert player_in_view_while_scrolling(page) == [True] * 10
    if name == "youtube":
        assert page.locator(".player-bar .play-pause").is_visible()
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    assert page.evaluate(PLAYER_IN_VIEW)


def test_youtube_links_seek_the_embed(open_page):
    page = open_page(PAGES["youtube"])
    chapter = page.get_by_role("navigation", name="Chapters").get_by_role("link").nth(1)
    _focus_by_tab(page, chapter)
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('player').src.includes('start=3')")
    assert page.url.endswith("?t=3")


def test_without_javascript_every_moment_is_a_link(open_page, built):
    """Without JavaScript a page cannot start its player at ?t=, so every time links to the
    recording itself at that moment (a media fragment), and Chromium plays it from there."""
    found, picked = stage_output(built, "council-video")
    assert picked, "the quotes stage found quotes in the sample"
    page = open_page(PAGES["video"], java_script_enabled=False)
    page.locator("#chapters summary").click()  # folded: the transcript comes soon after the player
    links = page.get_by_role("navigation", name="Chapters").get_by_role("link")
    assert [a.get_attribute("href") for a in links.all()] == [f"video.mp4#t={int(c.start)}" for c in found]
    page.locator(".quotes summary").click()
    shown = page.locator("blockquote")
    assert shown.count() == len(picked)
    for quote, expected in zip(shown.all(), picked):
        assert expected.text in quote.inner_text()
        href = quote.evaluate("q => (q.closest('figure') || q).querySelector('a[href]').getAttribute('href')")
        assert href == f"video.mp4#t={int(expected.start)}"
    turns = page.locator(".turn")
    assert turns.count() >= 2
    for turn in turns.all():
        start = float(turn.get_attribute("data-start"))
        assert turn.locator("a.time").get_attribute("href") == f"video.mp4#t={int(start)}"
        assert turn.locator("a.cite").get_attribute("href").startswith(f"?t={int(start)}&end=")
    assert page.locator("button.follow").is_hidden()  # a control that needs scripting
    assert "need JavaScript" in page.locator(".transcript").inner_text()  # and the search box says so
    # Following a link opens the recording at the moment.
    links.nth(1).click()
    assert page.url.endswith(f"council-video/video.mp4#t={int(found[1].start)}")
    player = open_page(f"council-video/video.mp4#t={int(found[1].start)}")
    player.wait_for_function("document.querySelector('video').readyState >= 1")
    assert abs(player.evaluate("document.querySelector('video').currentTime") - int(found[1].start)) < 0.5
    # YouTube's own address takes the moment as &t=.
    page = open_page(PAGES["youtube"], java_script_enabled=False)
    hrefs = page.locator(".turn a.time").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    starts = page.locator(".turn").evaluate_all("turns => turns.map(t => Math.floor(+t.dataset.start + 1e-6))")
    assert hrefs == [f"https://www.youtube.com/watch?v={YOUTUBE_ID}&t={t}s" for t in starts]


def test_publish_ends_by_saying_how_to_preview(built, monkeypatch):
    """Not a file path that opens a listing: `pipeline serve`, at the base_url's own path."""
    monkeypatch.chdir(built)
    result = CliRunner().invoke(cli, ["publish"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.endswith(f"Preview the site: pipeline serve, then open http://127.0.0.1:8000{BASE}"), last


@pytest.mark.parametrize("name,width,height", [("audio", 375, 400), ("video", 1280, 400), ("video", 1280, 700),
                                               ("video", 375, 600)])
def test_focus_is_never_hidden_under_the_player(open_page, name, width, height):
    """WCAG 2.4.11: coming back up to a control (Shift+Tab after scrolling down), the browser
    scrolls it into view; it must not land under the player kept in view (in its column, or
    pinned compact to the top once a moment was chosen), nor under the transcript's tools."""
    page = open_page(PAGES[name] + "?t=5", viewport={"width": width, "height": height})
    _wait_for_player(page)
    hidden = page.evaluate("""() => {
        const hidden = [];
        for (const el of document.querySelectorAll('main a[href], main button:not([hidden])')) {
            if (!el.getClientRects().length) continue;  // not rendered (fallback inside <audio>)
            if (el.closest('details:not([open])')) continue;  // folded away: it cannot take focus
            const r0 = el.getBoundingClientRect();
            window.scrollTo(0, r0.bottom + scrollY + 5);  // just out of view above
            el.focus();
            const r = el.getBoundingClientRect();
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (!top || !(el.contains(top) || top.contains(el))) hidden.push(el.outerHTML.slice(0, 80));
        }
        return hidden;
    }""")
    assert hidden == []


def test_follow_along_toggle_respects_reduced_motion(open_page):
    page = open_page(PAGES["video"])
    toggle = page.get_by_role("button", name="Follow along")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "false"
    box = toggle.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    calm = open_page(PAGES["video"], reduced_motion="reduce")
    assert calm.get_by_role("button", name="Follow along").get_attribute("aria-pressed") == "false"


# ---------------------------------------------------------------------------- feeds, JSON-LD

def test_atom_feed(built):
    feed = feedparser.parse((built / "site" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    base = f"https://interviews.example.org{BASE}"
    assert feed.feed.id == base and feed.feed.title == "Council Conversations" and feed.feed.updated
    assert any(link.rel == "self" and link.href == base + "feed.xml" for link in feed.feed.links)
    assert [e.link for e in feed.entries] == [base + s for s in ("council-video/", "audio-only/", "youtube-talk/")]
    for entry in feed.entries:
        assert entry.id == entry.link and entry.updated and entry.title and entry.summary
    video = feed.entries[0]
    (enclosure,) = video.enclosures
    assert enclosure.href == base + "council-video/video.mp4" and enclosure.type == "video/mp4"
    assert int(enclosure.length) == (built / "site" / "council-video" / "video.mp4").stat().st_size
    assert {t.term for t in video.tags} == {"local government", "blogging", "leadership"}
    assert feed.entries[2].enclosures == []  # YouTube: nothing we host


def test_rss_feed_with_podcasting_tags(built):
    path = built / "site" / "rss.xml"
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "rss20" and feed.feed.title and feed.feed.link and feed.feed.language == "en"
    base = f"https://interviews.example.org{BASE}"
    audio = next(e for e in feed.entries if e.link == base + "audio-only/")
    assert audio.id == audio.link and audio.published_parsed[:3] == (2026, 10, 1)
    (enclosure,) = audio.enclosures
    assert enclosure.type == "audio/mp4" and enclosure.href.endswith("audio-only/audio.m4a")
    assert int(enclosure.length) > 0
    podcast = "{https://podcastindex.org/namespace/1.0}"
    items = {i.findtext("link"): i for i in ET.parse(path).getroot().iter("item")}
    video = items[base + "council-video/"]
    transcripts = {t.get("type"): t.get("url") for t in video.iter(podcast + "transcript")}
    assert transcripts["text/vtt"] == base + "council-video/transcript.vtt"
    assert "application/x-subrip" in transcripts
    (chapters,) = video.iter(podcast + "chapters")
    assert chapters.get("url") == base + "council-video/chapters.json"
    assert chapters.get("type") == "application/json+chapters"
    people = {(p.get("role"), p.text) for p in video.iter(podcast + "person")}
    assert people == {("host", "Daniel Hughes"), ("guest", "Helen Ward")}


def _json_ld(built: Path, slug: str) -> dict:
    text = (built / "site" / slug / "index.html").read_text()
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    return json.loads(block)


def test_json_ld_has_what_google_requires(built):
    base = f"https://interviews.example.org{BASE}"
    for slug, content in (("council-video", "contentUrl"), ("youtube-talk", "embedUrl")):
        data = _json_ld(built, slug)
        assert data["@context"] == "https://schema.org" and data["@type"] == "VideoObject"
        # Google's required VideoObject fields, and the recommended ones we can fill.
        assert data["name"] and data["description"] and data["thumbnailUrl"][0].startswith("https://")
        assert datetime.datetime.fromisoformat(data["uploadDate"]).tzinfo is not None
        assert re.fullmatch(r"PT(\d+H)?(\d+M)?\d+S", data["duration"])
        assert data[content].startswith("https://")
        page = base + slug + "/"
        action = data["potentialAction"]
        assert action["@type"] == "SeekToAction"
        assert action["target"] == page + "?t={seek_to_second_number}"
        assert action["startOffset-input"] == "required name=seek_to_second_number"
        clips = data["hasPart"]
        starts = [c["startOffset"] for c in clips]
        assert len(set(starts)) == len(starts) == len(stage_output(built, slug)[0])
        for clip in clips:
            assert clip["@type"] == "Clip" and clip["name"]
            assert isinstance(clip["startOffset"], int) and clip["endOffset"] > clip["startOffset"]
            assert clip["url"] == f"{page}?t={clip['startOffset']}"
    assert _json_ld(built, "youtube-talk")["thumbnailUrl"] == [f"https://i.ytimg.com/vi/{YOUTUBE_ID}/hqdefault.jpg"]
    audio = _json_ld(built, "audio-only")
    assert audio["@type"] == "AudioObject" and audio["contentUrl"].endswith("audio.m4a")


def test_social_meta(built):
    html = (built / "site" / "council-video" / "index.html").read_text()
    base = f"https://interviews.example.org{BASE}council-video/"
    for tag in (f'<meta property="og:url" content="{base}">', f'<link rel="canonical" href="{base}">',
                f'<meta property="og:image" content="{base}poster.jpg">',
                f'<meta property="og:video" content="{base}video.mp4">',
                '<meta name="twitter:card" content="summary_large_image">'):
        assert tag in html


# ---------------------------------------------------------------------------- without a browser

def _bare_post(tmp_path: Path, **card) -> Post:
    folder = write_card(tmp_path, "hostile", "talk.mp3", **card)
    (folder / "talk.mp3").write_bytes(b"")
    text = "Plain words </script><script>alert(1)</script> & more."
    transcript = Transcript("en", 20.0, "faster-whisper", "tiny.en", [Segment(0.0, 4.0, text, "Ann <b>")])
    prepared = Prepared("audio", 20.0, folder / "audio.wav", None, None)
    return Post(load_card(folder), prepared, transcript, {}, tmp_path / "transcripts" / "hostile")


def test_hostile_text_is_escaped_everywhere(tmp_path):
    evil = '</script><script>alert("x")</script> & <b>bold</b> <img src=x onerror=alert(2)>'
    post = _bare_post(tmp_path, title=evil, guests=[evil], tags=[evil], intro=f"Hi {evil}")
    post.chapters = [Chapter(0, 10, evil)]
    render.render_site(Project(tmp_path), load_site(tmp_path), [post])
    html = (tmp_path / "site" / "hostile" / "index.html").read_text()
    assert "<script>alert" not in html and "<b>bold</b>" not in html and "<img src=x" not in html
    assert html.count("</script>") == 4  # the JSON-LD, player.js, cite.js, find.js, nothing else
    # The citations the page's cite.js fills in hold the hostile text as data, never as markup.
    (citation,) = re.findall(r"data-citation='([^']*)'", html)
    templates = json.loads(html_unescape(citation))["templates"]
    assert evil in templates[""]["text"] and evil in json.loads(
        templates[""]["csl-json"].replace("\ue000", "").replace("\ue001", ""))[0]["title"]
    data = _json_ld(tmp_path, "hostile")
    assert data["name"] == evil and data["hasPart"][0]["name"] == evil
    for name in ("feed.xml", "rss.xml"):
        feed = feedparser.parse((tmp_path / "site" / name).read_bytes())
        assert not feed.bozo and feed.entries[0].title == evil
    # Readers treat RSS descriptions (and Atom content) as HTML: decoded once by the XML, it
    # must hold the hostile text as text, never as elements.
    rss = ET.parse(tmp_path / "site" / "rss.xml").getroot()
    atom = ET.parse(tmp_path / "site" / "feed.xml").getroot()
    for fragment in (rss.find("channel/item/description").text,
                     atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text):
        parsed = _Elements(fragment)
        assert not {"script", "img", "b"} & parsed.tags, fragment
        assert evil in parsed.text, fragment


class _Elements(HTMLParser):
    """The elements and text of an HTML fragment, as a feed reader would parse it."""

    def __init__(self, fragment: str):
        super().__init__()
        self.tags, self.parts = set(), []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def test_rss_description_without_an_intro_is_escaped(tmp_path):
    evil = "<script>alert(1)</script> & more"
    post = _bare_post(tmp_path)
    post.transcript.segments[0].text = evil
    render.render_site(Project(tmp_path), load_site(tmp_path), [post])
    description = ET.parse(tmp_path / "site" / "rss.xml").getroot().find("channel/item/description").text
    parsed = _Elements(description)
    assert "script" not in parsed.tags and evil in parsed.text


def test_project_templates_override_the_defaults(tmp_path):
    post = _bare_post(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "404.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Lost? Ask the council</h1>{% endblock %}')
    render.render_site(Project(tmp_path), load_site(tmp_path), [post])
    assert "Lost? Ask the council" in (tmp_path / "site" / "404.html").read_text()
    assert "Transcript" in (tmp_path / "site" / "hostile" / "index.html").read_text()  # defaults stay


def test_site_and_card_settings_are_checked(tmp_path):
    (tmp_path / "site.yaml").write_text("base_url: ftp://example.org\ntitel: Oops\n")
    with pytest.raises(CardError) as error:
        load_site(tmp_path)
    assert "base_url" in error.value.message and "did you mean 'title'" in error.value.message
    (tmp_path / "site.yaml").write_text("base_url: https://example.org/talks\n")
    assert load_site(tmp_path).base_url == "https://example.org/talks/"
    folder = write_card(tmp_path, "card", "https://example.org/x.mp4", reviewed="yes please")
    with pytest.raises(CardError, match="'reviewed' must be true or false"):
        load_card(folder)


# ---------------------------------------------------------------------------- helpers

def _wait_for_player(page) -> None:
    """Let the media element read its metadata, so pages are checked as readers see them."""
    if page.locator("video#player, audio#player").count():
        page.wait_for_function("document.getElementById('player').readyState >= 1")


def _focus_by_tab(page, link) -> None:
    """Put focus just before the link, then reach it with the Tab key, as a keyboard user would."""
    link.evaluate("""a => {
        const all = [...document.querySelectorAll('a[href], button:not([hidden]), video[controls], iframe')];
        all[all.indexOf(a) - 1].focus();
    }""")
    page.keyboard.press("Tab")
    assert link.evaluate("a => a === document.activeElement"), "Tab did not reach the link"


def _screenshots(page, name: str) -> None:
    folder = os.environ.get("PAGES_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
