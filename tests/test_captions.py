"""The publisher's own captions as the transcript's words: from a web page's <track> (yt-dlp
against a local HTTP server) and beside a local file; timed by the recogniser's words, the
page saying where the words come from; an editor's edit still wins; captions that are not
this recording's are not used; automatic captions are never asked for."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.captions import Cue, srt, vtt
from pipeline.stages import creator_captions, fetch

from conftest import add_interview, words_in_their_turns, write_card
from test_fetch import serve

# What the publisher wrote: the words said, in their own spelling and punctuation, with a
# speaker label and a sound description that are not speech.
CAPTIONED = ["Why should senior managers write a blog every week?",
             "Because people trust what they can see. Writing every week lets me explain our "
             "decisions in plain words."]


def captions_file(truth: dict, kind: str = "vtt", texts=CAPTIONED) -> str:
    turns = truth["turns"]
    cues = [Cue(0.0, 0.4, "[MUSIC]")] + [
        Cue(t["start"], t["end"], (">> " if k else "") + text) for k, (t, text) in enumerate(zip(turns, texts))]
    return vtt(cues) if kind == "vtt" else srt(cues)


def tokens(text: str) -> list[str]:
    return text.split()


@pytest.fixture(scope="module")
def site(short_speech, tmp_path_factory):
    """A web page with the video and its captions track, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("captioned-web")
    shutil.copyfile(short_speech["mp4"], root / "talk.mp4")
    (root / "talk.vtt").write_text(captions_file(short_speech["truth"]), encoding="utf-8")
    (root / "page.html").write_text(
        "<!DOCTYPE html><html><head><title>Helen Ward on blogging</title></head><body>"
        "<video controls src=\"talk.mp4\"><track kind=\"captions\" src=\"talk.vtt\" srclang=\"en\" "
        "label=\"English\"></video></body></html>")
    (root / "broken.html").write_text(
        "<!DOCTYPE html><html><head><title>Broken captions</title></head><body>"
        "<video controls src=\"talk.mp4\"><track kind=\"captions\" src=\"gone.vtt\" srclang=\"en\">"
        "</video></body></html>")
    with serve(root) as url:
        yield url


@pytest.fixture(scope="module")
def published(site, tmp_path_factory):
    from click.testing import CliRunner

    from pipeline.cli import cli

    project = tmp_path_factory.mktemp("captioned")
    write_card(project, "captioned", f"{site}/page.html")
    result = CliRunner().invoke(cli, ["-C", str(project), "publish"], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return {"project": project, "log": result.stderr, "out": project / "transcripts" / "captioned",
            "folder": project / "media" / "captioned"}


def _json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_pages_track_is_fetched_and_recorded(published):
    provenance = _json(published["folder"] / "provenance.json")
    assert provenance["captions"] == [{"file": "captions.en.vtt", "language": "en"}]
    assert (published["folder"] / "captions.en.vtt").read_text().startswith("WEBVTT")


def test_the_transcript_is_in_the_captions_words_timed_by_the_recogniser(published, short_speech):
    data = _json(published["out"] / "transcript.json")
    assert data["text_from"] == "captions"
    words = [w["word"] for s in data["segments"] for w in s["words"]]
    assert "".join(words).split() == tokens(" ".join(CAPTIONED))  # the publisher's, to the letter
    assert all(w["probability"] == 1.0 for s in data["segments"] for w in s["words"])
    from pipeline.model import Transcript

    words_in_their_turns(Transcript.from_dict(data), short_speech["truth"]["turns"], slack=0.3)
    machine = _json(published["out"] / "transcript.machine.json")
    assert machine["text_from"] == "recogniser"  # the recogniser's own output is kept apart
    assert "[MUSIC]" not in (published["out"] / "transcript.vtt").read_text()
    assert "the transcript's words are the publisher's captions (captions.en.vtt" in published["log"]
    assert "captions, export" in published["log"]


def test_the_page_says_the_words_are_the_publishers(published):
    page = (published["project"] / "site" / "captioned" / "index.html").read_text()
    assert "From the publisher's captions." in page and "Machine-made transcript." not in page
    assert "lets me explain our decisions in plain words." in page


def test_an_editors_edit_wins_over_the_captions(published, tmp_path, run_cli):
    project = tmp_path / "copy"
    shutil.copytree(published["project"], project)
    txt = project / "transcripts" / "captioned" / "transcript.txt"
    text = txt.read_text(encoding="utf-8")
    assert "plain words" in text  # transcript.txt carries the captions' words
    txt.write_text(text.replace("plain words", "simple words"), encoding="utf-8")
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    data = _json(project / "transcripts" / "captioned" / "transcript.json")
    assert data["text_from"] == "editor"
    heard = " ".join(s["text"] for s in data["segments"])
    assert "simple words" in heard and "lets me explain our decisions" in heard
    assert "downloading" not in result.stderr and "transcribing" not in result.stderr


def test_the_card_can_turn_the_captions_off(published, tmp_path, run_cli):
    project = tmp_path / "copy"
    shutil.copytree(published["project"], project)
    card = project / "media" / "captioned" / "interview.yaml"
    card.write_text(card.read_text() + "captions: false\n")
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    data = _json(project / "transcripts" / "captioned" / "transcript.json")
    assert data["text_from"] == "recogniser"
    page = (project / "site" / "captioned" / "index.html").read_text()
    assert "From the publisher's captions." not in page and "Machine-made transcript." in page


def test_a_source_fetched_before_captions_gets_them_without_a_new_download(published, tmp_path, run_cli):
    project = tmp_path / "copy"
    shutil.copytree(published["project"], project)
    folder = project / "media" / "captioned"
    provenance = _json(folder / "provenance.json")
    del provenance["captions"]
    (folder / "provenance.json").write_text(json.dumps(provenance))
    (folder / "captions.en.vtt").unlink()
    media = (folder / provenance["file"]).stat()
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    assert "looking for the publisher's captions" in result.stderr and "downloading" not in result.stderr
    assert (folder / provenance["file"]).stat().st_mtime_ns == media.st_mtime_ns
    assert _json(folder / "provenance.json")["captions"] == [{"file": "captions.en.vtt", "language": "en"}]


def test_a_broken_captions_link_never_stops_the_media(site, project, run_cli):
    write_card(project, "broken", f"{site}/broken.html")
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output + result.stderr
    assert "broken: the publisher's captions could not be downloaded" in result.stderr
    data = _json(project / "transcripts" / "broken" / "transcript.json")
    assert data["text_from"] == "recogniser" and data["segments"]


@pytest.mark.parametrize("name", ["short.srt", "short.en.vtt"])
def test_captions_beside_a_local_file(name, short_speech, project, run_cli):
    folder = add_interview(project, "local", short_speech["mp3"])
    kind = name.rsplit(".", 1)[1]
    (folder / name).write_text(captions_file(short_speech["truth"], kind), encoding="utf-8")
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    data = _json(project / "transcripts" / "local" / "transcript.json")
    assert data["text_from"] == "captions"
    assert " ".join(s["text"] for s in data["segments"]).split() == tokens(" ".join(CAPTIONED))
    recorded = _json(folder / "provenance.json")["captions"]
    assert recorded == [{"file": name, "language": "en" if ".en." in name else None}]


def test_new_copies_a_local_files_captions_and_publish_uses_them(short_speech, project, tmp_path, run_cli):
    """The whole path a user takes: `pipeline new --source talk.mp3` beside talk.en.vtt, then
    `pipeline publish`: the page's words are the captions'."""
    given = tmp_path / "given"
    given.mkdir()
    shutil.copyfile(short_speech["mp3"], given / "talk.mp3")
    (given / "talk.en.vtt").write_text(captions_file(short_speech["truth"]), encoding="utf-8")
    made = run_cli(project, "new", "talk", "--source", str(given / "talk.mp3"), "--guest", "Helen Ward",
                   "--interviewer", "Daniel Hughes")
    assert made.exit_code == 0, made.output + made.stderr
    assert (project / "media" / "talk" / "talk.en.vtt").is_file() and "Copied the captions" in made.stderr
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output + result.stderr
    data = _json(project / "transcripts" / "talk" / "transcript.json")
    assert data["text_from"] == "captions"
    assert " ".join(s["text"] for s in data["segments"]).split() == tokens(" ".join(CAPTIONED))
    page = (project / "site" / "talk" / "index.html").read_text(encoding="utf-8")
    assert "From the publisher&#39;s captions" in page or "From the publisher's captions" in page


def test_captions_of_another_recording_are_not_used(short_speech, project, run_cli, caplog):
    folder = add_interview(project, "mismatch", short_speech["mp3"])
    other = ["The bees cluster together to keep warm in the winter.",
             "A strong hive gives about twenty kilos of honey in a good year."]
    (folder / "short.vtt").write_text(captions_file(short_speech["truth"], texts=other))
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    assert "mismatch: the captions" in result.stderr and "do not match what is said" in result.stderr
    assert _json(project / "transcripts" / "mismatch" / "transcript.json")["text_from"] == "recogniser"


def test_a_captions_file_that_cannot_be_read_is_named(short_speech, project, run_cli):
    folder = add_interview(project, "garbled", short_speech["mp3"])
    (folder / "short.vtt").write_text("this is not WebVTT\n\nat all\n")
    result = run_cli(project, "publish")
    assert result.exit_code == 1
    assert "short.vtt: the captions cannot be read" in result.stderr
    assert "captions: false" in result.stderr and "Traceback" not in result.stderr


def test_automatic_captions_are_never_used(site, project):
    """What yt-dlp reads of a page, with its captions track once as the publisher's and once
    as a site's automatic captions (YouTube's kind: another recogniser's words): real yt-dlp
    downloads the first and leaves the second."""
    import tempfile
    from pathlib import Path

    from pipeline.config import DownloadSettings, load_card

    card = load_card(write_card(project, "auto", f"{site}/page.html"))
    limits = DownloadSettings()
    with tempfile.TemporaryDirectory() as scratch:
        fetch._run_yt_dlp(card, Path(scratch), limits, ["--skip-download"])
        info = json.loads((Path(scratch) / "source.info.json").read_text())
    assert info["subtitles"], "yt-dlp found no captions track on the page"
    for kind, used in (("automatic_captions", False), ("subtitles", True)):
        for old in card.folder.glob("captions.*"):
            old.unlink()
        given = {**info, "subtitles": {}, "automatic_captions": {}, kind: info["subtitles"]}
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "source.info.json"
            path.write_text(json.dumps(given))
            kept = fetch._captions(card, Path(scratch), limits, path)
        assert bool(kept) == used and bool(list(card.folder.glob("captions.*"))) == used, kind


def test_choosing_and_cleaning_captions():
    found = [{"file": "captions.de.vtt", "language": "de"}, {"file": "captions.en-GB.vtt", "language": "en-GB"},
             {"file": "captions.en.vtt", "language": "en"}]
    assert creator_captions.choose(found, "en")["file"] == "captions.en.vtt"
    assert creator_captions.choose(found, "de")["file"] == "captions.de.vtt"
    assert creator_captions.choose(found, "fr") is None
    assert creator_captions.choose([{"file": "talk.vtt", "language": None}], "fr")["file"] == "talk.vtt"
    assert creator_captions.spoken("<v Helen Ward>HELEN: Yes, <i>we</i> did &amp; [laughs] ♪ la ♪") == "Yes, we did &"
