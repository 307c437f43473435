"""`pipeline new`: one card from a URL or a file, or a card per entry of a feed, served by a
local HTTP server and read through yt-dlp (RSS, playlists) or feedparser (Atom)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pipeline.config import load_card
from test_fetch import serve

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Council Talk</title>
<item><title>Why leaders blog</title><pubDate>Tue, 03 Mar 2026 09:00:00 GMT</pubDate>
<guid>episode-1</guid><description>&lt;p&gt;Helen Ward on &lt;b&gt;blogging&lt;/b&gt;.&lt;/p&gt;&lt;p&gt;And risks.&lt;/p&gt;</description>
<enclosure url="{url}/talk.mp4" type="video/mp4" length="1"/></item>
{more}</channel></rss>"""
SECOND = """<item><title>Plain words, please!</title><pubDate>Wed, 04 Mar 2026 09:00:00 GMT</pubDate>
<guid>episode-2</guid><enclosure url="{url}/talk.mp3" type="audio/mpeg" length="1"/></item>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Council Atom</title><id>urn:x</id><updated>2026-03-05T00:00:00Z</updated>
<entry><title>An Atom episode</title><id>urn:x:1</id><updated>2026-03-05T10:00:00Z</updated>
<summary>One more talk.</summary><link rel="enclosure" href="{url}/talk.mp3" type="audio/mpeg"/></entry></feed>"""


@pytest.fixture
def web(short_speech, tmp_path):
    root = tmp_path / "web"
    root.mkdir()
    shutil.copyfile(short_speech["mp4"], root / "talk.mp4")
    shutil.copyfile(short_speech["mp3"], root / "talk.mp3")
    (root / "page.html").write_text("<!DOCTYPE html><html><head><title>Helen Ward on blogging</title>"
                                    "</head><body><video controls src=\"talk.mp4\"></video></body></html>")
    (root / "notes.txt").write_text("not media")
    with serve(root) as url:
        yield url, root


def card_of(project, slug) -> dict:
    return yaml.safe_load((project / "media" / slug / "interview.yaml").read_text())


def test_a_feed_becomes_cards_once_each(web, project, run_cli):
    url, root = web
    (root / "feed.xml").write_text(RSS.format(url=url, more=""))
    first = run_cli(project, "new", "--feed", f"{url}/feed.xml", "--interviewer", "Daniel Hughes")
    assert first.exit_code == 0, first.output
    assert "Council Talk: 1 new card(s), 0 already carded" in first.stderr
    card = card_of(project, "why-leaders-blog")
    assert card["source"] == f"{url}/talk.mp4" and card["date"] == "2026-03-03"
    assert card["interviewer"] == "Daniel Hughes"
    assert card["intro"] == "Helen Ward on blogging.\n\nAnd risks."  # HTML made plain paragraphs
    # The feed grows: run again, and only the new entry gets a card.
    (root / "feed.xml").write_text(RSS.format(url=url, more=SECOND.format(url=url)))
    again = run_cli(project, "new", "--feed", f"{url}/feed.xml")
    assert again.exit_code == 0, again.output
    assert "1 new card(s), 1 already carded" in again.stderr
    assert load_card(project / "media" / "plain-words-please").source == f"{url}/talk.mp3"
    assert sorted(p.name for p in (project / "media").iterdir()) == ["plain-words-please", "why-leaders-blog"]
    result = run_cli(project, "publish")  # and they publish, downloaded from the feed's links
    assert result.exit_code == 0, result.output
    assert (project / "site" / "plain-words-please" / "index.html").exists()


def test_an_atom_feed(web, project, run_cli):
    url, root = web
    (root / "atom.xml").write_text(ATOM.format(url=url))
    result = run_cli(project, "new", "--feed", f"{url}/atom.xml")
    assert result.exit_code == 0, result.output
    card = card_of(project, "an-atom-episode")
    assert card["source"] == f"{url}/talk.mp3" and card["date"] == "2026-03-05"
    assert card["intro"] == "One more talk."


def test_a_url_card_takes_the_pages_title_and_the_people(web, project, run_cli):
    url, _ = web
    result = run_cli(project, "new", "talk", "--source", f"{url}/page.html", "--interviewer",
                     "Daniel Hughes", "--guest", "Helen Ward", "--guest", "Ada Price")
    assert result.exit_code == 0, result.output
    card = load_card(project / "media" / "talk")
    assert card.title == "Helen Ward on blogging"
    assert (card.interviewer, card.guests) == ("Daniel Hughes", ("Helen Ward", "Ada Price"))


def test_new_refuses_a_file_that_is_not_media_and_bad_feeds(web, project, run_cli):
    url, root = web
    result = run_cli(project, "new", "notes", "--source", str(root / "notes.txt"))
    assert result.exit_code == 2 and "cannot read it as audio or video" in result.output
    assert not (project / "media" / "notes").exists()
    result = run_cli(project, "new", "--feed", f"{url}/page.html")
    assert result.exit_code == 1 and "not a feed or a playlist" in result.output
    result = run_cli(project, "new", "--feed", f"{url}/missing.xml")
    assert result.exit_code == 1 and "could not read" in result.output and "Traceback" not in result.output
    assert run_cli(project, "new").exit_code == 2
