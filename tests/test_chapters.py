"""Chapters on a generated five-topic interview transcribed by the real model, and every
output format checked by its own rules and parser."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import jsonschema
import pytest
import webvtt
from markupsafe import escape
from conftest import GRACE, TOM, write_card

from pipeline.model import Segment, Transcript, Word
from pipeline.stages import chapters, titles
from pipeline.stages.sentences import sentences, stem
from pipeline.stamps import Stamps
from pipeline.config import load_card
from pipeline.errors import CardError
from pipeline.timecode import clock
from pipeline.project import Project
from pipeline.site.pages import Page
from pipeline.site.render import environment

TOLERANCE = 10.0  # seconds between a chapter start and the true topic change

# The Podcasting 2.0 JSON chapters format, version 1.2 (podcast namespace, jsonChapters.md).
PODCAST_CHAPTERS_SCHEMA = {
    "type": "object",
    "required": ["version", "chapters"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string", "pattern": r"^1\.2(\.\d+)?$"},
        "author": {"type": "string"}, "title": {"type": "string"},
        "podcastName": {"type": "string"}, "description": {"type": "string"},
        "fileName": {"type": "string"}, "waypoints": {"type": "boolean"},
        "chapters": {"type": "array", "items": {
            "type": "object",
            "required": ["startTime"],
            "additionalProperties": False,
            "properties": {
                "startTime": {"type": "number", "minimum": 0},
                "endTime": {"type": "number", "minimum": 0},
                "title": {"type": "string", "minLength": 1},
                "img": {"type": "string"}, "url": {"type": "string"}, "toc": {"type": "boolean"},
                "location": {"type": "object", "required": ["name", "geo"]},
            },
        }},
    },
}


def topic_changes(truth: dict) -> list[float]:
    """When each topic after the first starts: its first turn (the interviewer's question)."""
    turns = truth["turns"]
    return [b["start"] for a, b in zip(turns, turns[1:]) if b["topic"] != a["topic"]]


def agreement(starts: list[float], changes: list[float]) -> tuple[float, list[float]]:
    """Share of true changes with a chapter start within TOLERANCE, and the spurious starts."""
    near = lambda t, others: any(abs(t - o) <= TOLERANCE for o in others)
    found = sum(near(c, starts) for c in changes) / len(changes)
    return found, [s for s in starts if s > 0 and not near(s, changes)]


def youtube_problems(block: str, duration: float) -> list[str]:
    """YouTube's chapter rules: first 0:00, at least three, ascending, each 10 s or more."""
    times = []
    for line in block.splitlines():
        match = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d\d) (\S.*)", line)
        if not match:
            return [f"not a chapter line: {line!r}"]
        h, m, s, _ = match.groups()
        times.append(int(h or 0) * 3600 + int(m) * 60 + int(s))
    problems = []
    if not times or times[0] != 0:
        problems.append("the first chapter is not at 0:00")
    if len(times) < 3:
        problems.append("fewer than three chapters")
    for a, b in zip(times, times[1:] + [int(duration)]):
        if b - a < 10:
            problems.append(f"the chapter at {a} s is shorter than 10 s (or out of order)")
    return problems


def test_chapters_follow_topic_changes_without_speaker_labels(topics_interview):
    """The published chapters (questions stand in for the interviewer's turns)."""
    doc = json.loads((topics_interview["out"] / "chapters.json").read_text())
    starts = [c["startTime"] for c in doc["chapters"]]
    changes = topic_changes(topics_interview["truth"])
    found, spurious = agreement(starts, changes)
    print(f"\nunlabelled: {found:.0%} of {len(changes)} topic changes within {TOLERANCE:.0f} s; "
          f"spurious: {spurious}; starts {starts}; truth {changes}")
    assert len(changes) >= 4
    assert found >= 0.8 and len(spurious) <= 1, (starts, changes)


def test_chapters_follow_topic_changes_with_speaker_labels(topics_interview, topics_transcripts):
    """With speakers (from the true turns, standing in for the speakers stage) chapters start
    at the interviewer's turns."""
    transcript = topics_transcripts["labelled"]
    found_chapters = chapters.find(transcript, "Tom Baker", ("Tom Baker", "Grace Miller"))
    starts = [c.start for c in found_chapters]
    changes = topic_changes(topics_interview["truth"])
    found, spurious = agreement(starts, changes)
    print(f"\nlabelled: {found:.0%} of {len(changes)} topic changes within {TOLERANCE:.0f} s; "
          f"spurious: {spurious}; starts {starts}")
    assert found >= 0.8 and len(spurious) <= 1, (starts, changes)
    interviewer_turns = {s.start for s in transcript.segments if s.speaker == "Tom Baker"}
    assert all(s in interviewer_turns for s in starts[1:]), "a chapter starts mid-answer"


def test_chapters_are_long_enough_and_titled_from_their_own_words(topics_interview,
                                                                  topics_transcripts):
    found = chapters.load(topics_interview["out"])
    duration = topics_transcripts["plain"].duration
    print("\ntitles:", [c.title for c in found])
    assert found[0].start == 0
    assert all(b.start - a.start >= chapters.MIN_SECONDS for a, b in zip(found, found[1:]))
    assert duration - found[-1].start >= chapters.MIN_SECONDS
    titles = [c.title for c in found]
    assert len(set(t.lower() for t in titles)) == len(titles), titles
    for chapter in found:
        assert 3 <= len(chapter.title.split()) <= 8, chapter.title
        assert chapter.title[0].isupper(), chapter.title
        assert not re.search(r"\b(chapter|part|section)\s*\d", chapter.title, re.I), chapter.title
        spoken = " ".join(s.text for s in topics_transcripts["plain"].segments
                          if s.end > chapter.start and s.start < chapter.end)
        assert title_words(chapter.title) <= said_words(spoken) | said_words(GRACE), (
            chapter.title, "not from its own words")


def test_titles_are_made_from_the_opening_question(topics_interview, topics_transcripts):
    """As an editor titles a chapter: from the question that opens it (most of its words
    are the question's), not keyphrases glued together with "and"."""
    found = chapters.load(topics_interview["out"])
    sents = sentences(topics_transcripts["plain"])
    from_question = 0
    for chapter in found:
        asked = next((s.text for s in sents if chapter.start - 1 <= s.start < chapter.start + 15
                      and s.is_question), "")
        words = title_words(chapter.title)
        if asked and len(words & said_words(asked)) >= len(words) - 1:
            from_question += 1
        if " and " in chapter.title:
            assert " and " in asked, (chapter.title, "two keyphrases glued together")
    assert from_question >= 0.6 * len(found), [c.title for c in found]


def title_words(text: str) -> set[str]:
    """The words of a title, as stems (a heading inflects the question's verbs: start,
    started), without the little words a heading adds."""
    return said_words(text) - {stem(w) for w in ("the", "and", "s")}


def said_words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z]+", text.lower())}


@pytest.mark.parametrize("question, title", [
    ("How did you start keeping bees on a city roof?", "How Grace started keeping bees"),
    ("How often do you write, Helen?", "How often Grace writes"),
    ("What is the hardest part of the winter for your colonies?", "The hardest part of the winter"),
    ("Do your neighbours ever complain, and what do the city rules say?",
     "Do Grace's neighbours ever complain?"),
    ("Why did the council change its plans for the libraries?", "Why the council changed its plans"),
    ("What would you say to parents who are worried about the schools?", "What Grace would say to parents"),
    ("Can you tell me more about the work on road repairs?", "The work on road repairs"),
    ("Why are you optimistic?", "Why Grace is optimistic"),
    ("Finally, what advice would you give to someone who wants to start?",
     "What advice Grace would give to someone"),
    ("Why should senior managers write a blog every week?", "Why senior managers should write a blog"),
    ("What has changed for your staff, and for the public?", "What changed for Grace's staff"),
    ("What?", None),
])
def test_questions_become_headings(question, title):
    assert titles.from_question(question, GRACE) == title


def test_one_spelling_per_site():
    assert titles.spell("The colour of the neighbourhood centre", "en-US") == "The color of the neighborhood center"
    assert titles.spell("How we organize the color program", "en-GB") == "How we organise the colour program"
    assert titles.spell("Das Zentrum", "de") == "Das Zentrum"
    transcript = Transcript("en", 70.0, "faster-whisper", "base", [
        Segment(0.0, 3.0, "What is your favorite color?", "Tom Baker",
                [Word(0.0 + i * 0.5, 0.4 + i * 0.5, " " + t) for i, t in enumerate("What is your favorite color?".split())]),
        Segment(3.5, 69.0, "Yellow, like honey.", "Grace Miller",
                [Word(3.5, 4.0, " Yellow,"), Word(4.1, 4.5, " like"), Word(4.6, 69.0, " honey.")])])
    british = chapters.find(transcript, TOM, (TOM, GRACE), guest=GRACE, site_language="en-GB")
    assert british[0].title == "Grace's favourite colour"
    american = chapters.find(transcript, TOM, (TOM, GRACE), guest=GRACE, site_language="en")
    assert american[0].title == "Grace's favorite color"


def test_podcast_chapters_json_follows_the_format(topics_interview):
    doc = json.loads((topics_interview["out"] / "chapters.json").read_text())
    jsonschema.validate(doc, PODCAST_CHAPTERS_SCHEMA)
    starts = [c["startTime"] for c in doc["chapters"]]
    assert starts[0] == 0 and starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(c["endTime"] > c["startTime"] for c in doc["chapters"])


def test_webvtt_chapters_parse_and_match(topics_interview):
    found = chapters.load(topics_interview["out"])
    vtt = webvtt.from_string((topics_interview["out"] / "chapters.vtt").read_text(), strict=True)
    assert [c.text for c in vtt] == [c.title for c in found]
    assert [round(c.start_in_seconds + c.start_time.milliseconds / 1000, 2) for c in vtt] == \
        [round(c.start, 2) for c in found]
    assert all(c.end_in_seconds >= c.start_in_seconds for c in vtt)


def test_youtube_block_follows_youtube_rules(topics_interview, topics_transcripts):
    block = (topics_interview["out"] / chapters.YOUTUBE_FILE).read_text()
    assert youtube_problems(block, topics_transcripts["plain"].duration) == []
    # Too few chapters, or one too short: no block rather than one YouTube would ignore.
    two = [chapters.Chapter(0, 40, "Keeping bees on roofs"), chapters.Chapter(40, 90, "Honey")]
    assert chapters.youtube(two, 90) is None
    short = two + [chapters.Chapter(85, 90, "Goodbye and thanks")]
    assert chapters.youtube(short, 90) is None


def test_clips_in_the_pages_json_ld(topics_interview, topics_transcripts):
    """The page's JSON-LD carries a schema.org Clip per chapter, as Google's key moments want."""
    html = (topics_interview["site"] / "index.html").read_text()
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    clips = json.loads(script)["hasPart"]
    found = chapters.load(topics_interview["out"])
    page_url = "http://localhost:8000/city-bees/"
    assert len(clips) == len(found)
    assert len({c["startOffset"] for c in clips}) == len(clips)
    for clip, chapter in zip(clips, found):
        assert clip["@type"] == "Clip" and clip["name"] == chapter.title
        assert clip["startOffset"] == int(chapter.start) and clip["endOffset"] > clip["startOffset"]
        assert clip["url"] == f"{page_url}?t={clip['startOffset']}"
    assert clips[-1]["endOffset"] >= int(topics_transcripts["plain"].duration)


class _Tags(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_post_page_links_chapters_and_serves_the_track(topics_interview):
    site = topics_interview["site"]
    html = (site / "index.html").read_text()
    tags = _Tags(html).tags
    found = chapters.load(topics_interview["out"])
    # The chapters' list is a navigation landmark named by its heading; without JavaScript
    # each chapter opens the recording at its start (a media fragment; the page's script
    # seeks the player in place instead).
    assert ("nav", {"class": "chapters", "id": "chapters", "aria-labelledby": "chapters-heading"}) in tags
    assert ("h2", {"id": "chapters-heading"}) in tags
    nav = html[html.index('aria-labelledby="chapters-heading"'):]
    nav = nav[:nav.index("</nav>")]
    links = [a for t, a in _Tags(nav).tags if t == "a"]
    video = next(a["src"] for t, a in tags if t == "source")
    assert [a["href"] for a in links] == [f"{video}#t={int(c.start)}" for c in found]
    assert [float(a["data-t"]) for a in links] == [round(c.start, 2) for c in found]
    for chapter in found:
        assert clock(chapter.start) in nav and str(escape(chapter.title)) in nav
    track = [a for t, a in tags if t == "track" and a.get("kind") == "chapters"]
    assert track and track[0]["src"] == "chapters.vtt"
    assert (site / "chapters.vtt").read_text() == (topics_interview["out"] / "chapters.vtt").read_text()
    assert ("a", {"href": "chapters.json", "download": None}) in tags
    assert json.loads((site / "chapters.json").read_text())["chapters"]


def test_chapter_titles_are_escaped(tmp_path):
    env = environment(Project(tmp_path))
    post = SimpleNamespace(chapters=[chapters.Chapter(0, 30, "<script>alert(1)</script> & more")],
                           prepared=SimpleNamespace(kind="video"))
    page = Page(post, "https://example.org/bees/", {"media": "video.mp4"}, {}, "")
    html = env.get_template("_chapters.html").render(post=post, chapters=post.chapters, page=page)
    assert 'href="video.mp4#t=0"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    vtt = chapters.webvtt(post.chapters)
    assert "<script>" not in vtt and webvtt.from_string(vtt, strict=True)


def test_card_chapters_replace_the_automatic_ones(tmp_path, topics_transcripts, caplog):
    folder = write_card(tmp_path, "bees", "bees.mp4", chapters=[
        {"start": "0:00", "title": "How it started"}, {"start": 50, "title": "Honey"},
        {"start": "1:20", "title": "Winter"}])
    (folder / "bees.mp4").write_bytes(b"")
    card = load_card(folder)
    assert card.chapters == ((0, "How it started"), (50, "Honey"), (80, "Winter"))
    out = tmp_path / "out"
    transcript = topics_transcripts["plain"]
    found = chapters.run(card, transcript, out)
    assert [(c.start, c.end, c.title) for c in found] == [
        (0, 50, "How it started"), (50, 80, "Honey"), (80, transcript.duration, "Winter")]
    assert [c.text for c in webvtt.read(out / "chapters.vtt")] == ["How it started", "Honey", "Winter"]
    assert json.loads((out / "chapters.json").read_text())["chapters"][1] == {
        "startTime": 50, "endTime": 80, "title": "Honey"}
    # Unchanged inputs: nothing is redone.
    ran = Stamps(out).ran_at("chapters")
    assert chapters.run(card, transcript, out) == found
    assert Stamps(out).ran_at("chapters") == ran
    # A chapter past the end of the recording is the card's mistake, said plainly.
    late = write_card(tmp_path, "late", "bees.mp4", chapters=[
        {"start": 0, "title": "Start"}, {"start": "9:00", "title": "Never"}])
    (late / "bees.mp4").write_bytes(b"")
    with pytest.raises(CardError, match=r"'Never' starts at 9:00, after the end of the recording"):
        chapters.run(load_card(late), transcript, tmp_path / "late-out")


def test_bad_chapters_and_quotes_on_the_card_are_all_reported(project, run_cli):
    folder = write_card(project, "bad", "talk.mp4", chapters=[
        {"start": "0:10", "title": "Late start"}, {"start": "1:7x", "title": "Bad time"},
        {"start": "0:05", "title": ""}, "just a title"],
        quotes={"pinned": ["text"], "drop": "not a list"})
    (folder / "talk.mp4").write_bytes(b"")
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    message = result.output
    assert "media/bad/interview.yaml" in message
    assert "the first chapter must start at 0:00" in message
    assert "start '1:7x' is not a time; write M:SS" in message
    assert "item 3 needs a title" in message and "item 3 starts at or before" in message
    assert "item 4 must be a mapping with only 'start' and 'title'" in message
    assert "'quotes' must have only 'pin' (quotes to keep) and 'drop'" in message
    assert "not 'pinned'" in message
    assert "Traceback" not in message


def test_no_speech_means_no_chapters(tmp_path):
    from pipeline.model import Transcript

    assert chapters.find(Transcript("en", 12.0, "faster-whisper", "tiny.en")) == []


def test_tfidf_is_scikit_learns(topics_transcripts):
    """chapters' TF-IDF gives TfidfVectorizer(sublinear_tf=True)'s numbers (without its
    1.2 s import), and the stop words are scikit-learn's list."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    from pipeline.stages.sentences import content_words, english_stop_words

    assert english_stop_words() == ENGLISH_STOP_WORDS
    sents = [s.text for s in sentences(topics_transcripts["labelled"])]
    texts, theme = [" ".join(sents[i:i + 4]) for i in range(0, len(sents), 4)], {"bee", "hive"}
    ours = chapters._tfidf(texts, sents, theme)
    vectorizer = TfidfVectorizer(analyzer=lambda t: [w for w in content_words(t) if w not in theme],
                                 sublinear_tf=True).fit(sents)
    theirs = vectorizer.transform(texts).toarray()
    vocabulary = vectorizer.vocabulary_
    assert len(ours) == len(texts) and any(ours)
    for row, expected in zip(ours, theirs):
        assert set(row) == {w for w, i in vocabulary.items() if expected[i]}
        assert all(abs(v - expected[vocabulary[w]]) < 1e-12 for w, v in row.items())
