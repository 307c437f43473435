"""End to end through the CLI: card -> published page, then a second publish that skips."""

import json
import re
from html.parser import HTMLParser

import pytest
import webvtt

from bench import wer
from conftest import add_interview, write_card


class Page(HTMLParser):
    """Collects the elements, attributes and text of a page, for assertions."""

    def __init__(self, html):
        super().__init__()
        self.tags, self.text = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def words(self):
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def published(short_speech, tmp_path_factory):
    """One project with a video interview and an audio-only one, published once."""
    from click.testing import CliRunner
    from pipeline.cli import cli

    project = tmp_path_factory.mktemp("project")
    runner = CliRunner()
    new = runner.invoke(cli, ["-C", str(project), "new", "helen-ward-blogging", "--source",
                              str(short_speech["mp4"]), "--title", "Why leaders blog",
                              "--date", "2026-02-01"])
    assert new.exit_code == 0, new.output
    add_interview(project, "podcast-episode", short_speech["mp3"], date="2025-12-01",
                  title="An audio-only episode")
    first = runner.invoke(cli, ["-C", str(project), "publish"])
    return project, first


def test_new_writes_a_card_and_copies_the_file(published, short_speech):
    project, _ = published
    card = (project / "media" / "helen-ward-blogging" / "interview.yaml").read_text()
    assert "title: Why leaders blog" in card and "source: short.mp4" in card
    assert "date: '2026-02-01'" in card
    assert (project / "media" / "helen-ward-blogging" / "short.mp4").read_bytes() == short_speech["mp4"].read_bytes()


def test_first_publish_does_the_work(published):
    _, first = published
    assert first.exit_code == 0, first.output
    assert "published 2 interview(s)" in first.stderr
    assert "helen-ward-blogging (prepare, transcribe, speakers, export, chapters, quotes)" in first.stderr
    assert "transcribed" in first.stderr  # progress went to stderr


def test_transcript_files(published):
    project, _ = published
    folder = project / "transcripts" / "helen-ward-blogging"
    data = json.loads((folder / "transcript.json").read_text())
    assert set(data) == {"language", "duration", "engine", "model", "text_from", "segments"}
    assert data["text_from"] == "recogniser"
    assert data["model"] == "tiny.en" and data["language"] == "en"  # the default: quality fast
    segment = data["segments"][0]
    assert set(segment) == {"start", "end", "speaker", "text", "words"}
    assert set(segment["words"][0]) == {"start", "end", "word", "probability"}
    captions = webvtt.read(str(folder / "transcript.vtt"))
    assert len(captions) >= 2
    captioned = " ".join(c.text.replace("\n", " ") for c in captions)
    assert wer.words(captioned) == wer.words(" ".join(s["text"] for s in data["segments"]))
    assert all(len(line) <= 42 for c in captions for line in c.text.splitlines())
    srt = (folder / "transcript.srt").read_text()
    assert srt.startswith("1\n00:00:0") and " --> " in srt
    txt = (folder / "transcript.txt").read_text()
    mark, first = txt.split("\n\n")[:2]
    assert mark.startswith("# Machine-made transcript (check ") and first.startswith("[00:00:0")


def test_video_post_page(published, short_speech):
    project, _ = published
    transcript = json.loads((project / "transcripts" / "helen-ward-blogging" / "transcript.json").read_text())
    html = (project / "site" / "helen-ward-blogging" / "index.html").read_text()
    page = Page(html)
    assert "Why leaders blog" in page.words and "1 February 2026" in page.words
    video = page.find("video")[0]
    assert "controls" in video and video["poster"] == "poster.jpg"
    assert page.find("source", src="video.mp4", type="video/mp4")
    track = page.find("track", kind="captions")[0]
    assert track["src"] == "transcript.vtt" and track["srclang"] == "en"
    assert all(wer.contains(page.words, s["text"]) for s in transcript["segments"])
    # Every time opens the recording at its moment without JavaScript (the script seeks in place).
    links = [a["href"] for a in page.find("a", **{"class": "time"})]
    assert links and links[0] == "video.mp4#t=0" and all(re.fullmatch(r"video\.mp4#t=\d+", h) for h in links)
    site = project / "site" / "helen-ward-blogging"
    for name in ("video.mp4", "poster.jpg", "transcript.vtt", "transcript.srt", "transcript.txt",
                 "transcript.json"):
        assert (site / name).stat().st_size > 0, name


def test_audio_post_page_and_index(published):
    project, _ = published
    page = Page((project / "site" / "podcast-episode" / "index.html").read_text())
    assert page.find("audio") and not page.find("video")
    assert page.find("source", src="audio.m4a")
    index = (project / "site" / "index.html").read_text()
    # Newest first.
    assert index.index("Why leaders blog") < index.index("An audio-only episode")


def test_second_publish_does_no_work(published, run_cli):
    project, _ = published
    stamps = sorted(project.glob("**/.stamps/*.json"))
    before = {p: p.stat().st_mtime_ns for p in stamps}
    second = run_cli(project, "publish")
    assert second.exit_code == 0, second.output
    assert "2 unchanged (no download, ffmpeg or model work)" in second.stderr
    assert "transcribing" not in second.stderr and "preparing" not in second.stderr
    assert {p: p.stat().st_mtime_ns for p in stamps} == before


def test_one_broken_interview_does_not_block_the_others(short_speech, project, run_cli):
    add_interview(project, "good-one", short_speech["mp4"])
    broken = write_card(project, "broken-one", "fake.mp4")
    (broken / "fake.mp4").write_bytes(b"\0not media" * 100)
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert "FAILED broken-one" in result.stderr and "fake.mp4" in result.stderr
    assert "cannot read it as audio or video" in result.stderr
    assert "1 failed: broken-one" in result.stderr
    assert "Traceback" not in result.output
    assert (project / "site" / "good-one" / "index.html").exists()
    assert not (project / "site" / "broken-one").exists()


def test_hostile_card_text_is_escaped(short_speech, project, run_cli):
    add_interview(project, "hostile", short_speech["mp4"],
                  title='<script>alert("x")</script>', guests=['"><img src=x onerror=alert(1)>'],
                  intro="[click](javascript:alert(1)) <script>bad()</script> **fine**")
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    html = (project / "site" / "hostile" / "index.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'href="javascript' not in html and "<script>bad" not in html
    assert "&lt;script&gt;alert" in html and "<strong>fine</strong>" in html


def test_unknown_slug_and_bad_usage(project, run_cli):
    result = run_cli(project, "publish", "no-such-interview")
    assert result.exit_code == 1 and "no interview card" in result.stderr
    usage = run_cli(project, "new", "Bad Slug", "--source", "https://example.org/x.mp4")
    assert usage.exit_code == 2 and "lower-case letters" in usage.output
    scheme = run_cli(project, "new", "ok-slug", "--source", "javascript:alert(1)")
    assert scheme.exit_code == 2 and "only http and https" in scheme.output


def test_a_publish_imports_neither_scikit_learn_nor_pandas(short_speech, tmp_path):
    """scikit-learn (with the scipy.stats and pandas it imports) cost a new publish 1.2 s
    while the recogniser loaded, and sqlite-utils' pandas 0.15 s more: voices, chapters,
    quotes and search do without them."""
    import subprocess
    import sys

    add_interview(tmp_path, "two-voices", short_speech["mp3"], interviewer="Ann", guests=["Bob"])
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline", "-C", str(tmp_path),
                           "-q", "publish"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"pipeline.stages.voices", "pipeline.stages.chapters", "pipeline.stages.quotes"} <= imported  # they ran
    assert not {m for m in imported if m.split(".")[0] in ("sklearn", "pandas") or m == "scipy.stats"}
    assert (tmp_path / "site" / "two-voices" / "index.html").is_file()
