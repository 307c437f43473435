"""An editor's corrections to transcript.txt are the truth from then on, and never lost."""

import json
import re

import pytest
import webvtt

from conftest import a_word_heard_once, add_interview, card_for
from pipeline.model import Segment, Transcript, Word
from pipeline.stages.corrections import CorrectionError, apply, parse


def machine_transcript():
    words = [Word(0.0, 0.4, " Why"), Word(0.4, 0.8, " do"), Word(0.8, 1.2, " you"),
             Word(1.2, 1.8, " blog?"), Word(2.5, 3.0, " Because"), Word(3.0, 3.4, " people"),
             Word(3.4, 3.9, " trussed"), Word(3.9, 4.5, " what"), Word(4.5, 5.0, " they"),
             Word(5.0, 5.5, " see.")]
    return Transcript("en", 6.0, "faster-whisper", "tiny.en", [
        Segment(0.0, 1.8, "Why do you blog?", "Daniel Hughes", words[:4]),
        Segment(2.5, 5.5, "Because people trussed what they see.", "Helen Ward", words[4:])])


def test_fixed_words_keep_their_neighbours_timings():
    edited = parse("[00:00:00] Daniel Hughes: Why do you blog?\n\n"
                   "[00:00:02] Helen Ward: Because people trust what they can see.\n")
    result = apply(machine_transcript(), edited)
    words = {w.word.strip(): (w.start, w.end) for w in result.segments[1].words}
    assert words["people"] == (3.0, 3.4) and words["what"] == (3.9, 4.5)  # unchanged
    assert words["trust"] == (3.4, 3.9)  # replaced: takes the replaced word's time
    assert 5.0 <= words["can"][0] <= words["see."][0] <= 5.5  # inserted: fitted in its turn
    assert result.segments[1].text == "Because people trust what they can see."


def test_renamed_speaker_split_turn_and_deleted_text():
    edited = parse("[00:00:00] Dan Hughes: Why do you blog?\n\n"
                   "[00:00:02] Helen Ward: Because people\n\n"
                   "Helen Ward: what they see.\n")
    result = apply(machine_transcript(), edited)
    assert [s.speaker for s in result.segments] == ["Dan Hughes", "Helen Ward", "Helen Ward"]
    assert result.segments[2].start == pytest.approx(3.9)  # split without a time: from its words
    assert "trussed" not in result.text


def test_unreadable_time_is_reported_with_its_line():
    with pytest.raises(CorrectionError, match="line 3: .*not a time"):
        parse("[00:00:00] Hello there.\n\n[0x:1] Oops.\n")


def test_text_without_names_is_fine():
    paragraphs = parse("[00:00:05] just words: with a colon inside.\n")
    assert paragraphs[0].speaker is None and paragraphs[0].start == 5.0


@pytest.fixture
def published(short_speech, project, run_cli):
    add_interview(project, "edited", short_speech["mp4"])
    first = run_cli(project, "publish")
    assert first.exit_code == 0, first.output
    return project


def test_edit_survives_publish_and_reaches_every_output(published, run_cli):
    folder = published / "transcripts" / "edited"
    txt = folder / "transcript.txt"
    original = txt.read_text()
    spoken = " ".join(p.split(": ", 1)[-1] for p in original.split("\n\n"))  # no names
    heard = a_word_heard_once(spoken)
    corrected = re.sub(rf"\b{heard}\b", "Zanzibar", original) + "\n"
    txt.write_bytes(corrected.encode())

    second = run_cli(published, "publish")
    assert second.exit_code == 0, second.output
    assert "using the corrected" in second.stderr
    assert "transcribing" not in second.stderr  # a correction needs no model work
    assert txt.read_bytes() == corrected.encode()  # byte for byte
    data = json.loads((folder / "transcript.json").read_text())
    assert "Zanzibar" in " ".join(s["text"] for s in data["segments"])
    captions = " ".join(c.text for c in webvtt.read(str(folder / "transcript.vtt")))
    assert "Zanzibar" in captions and not re.search(rf"\b{heard}\b", captions)
    page = (published / "site" / "edited" / "index.html").read_text()
    assert "Zanzibar" in page and not re.search(rf"\b{heard}\b", page.split("<main", 1)[1])
    assert (published / "site" / "edited" / "transcript.txt").read_bytes() == corrected.encode()

    third = run_cli(published, "publish", "--force", "edited")
    assert third.exit_code == 0, third.output
    assert "transcript.retranscribed.txt" in third.stderr
    assert txt.read_bytes() == corrected.encode()
    assert re.search(rf"\b{heard}\b", (folder / "transcript.retranscribed.txt").read_text())
    page = (published / "site" / "edited" / "index.html").read_text()
    assert "Zanzibar" in page


def test_hand_edited_captions_are_kept_on_every_publish(tmp_path, caplog):
    """Export skips unchanged work, but an edited caption file is still kept and reported,
    and a changed transcript still rewrites the files nobody edited."""
    from pipeline.stages import export

    words = [Word(0.0, 0.5, " Hello"), Word(0.6, 1.0, " there.")]
    transcript = Transcript("en", 2.0, "faster-whisper", "tiny.en",
                            [Segment(0.0, 1.0, "Hello there.", "Ann", words)])
    card = card_for(tmp_path)
    export.run(card, transcript, tmp_path)
    vtt = tmp_path / "transcript.vtt"
    vtt.write_text(vtt.read_text().replace("Hello there.", "Hello, there."))
    for _ in range(2):
        caplog.clear()
        export.run(card, transcript, tmp_path)
        assert "Hello, there." in vtt.read_text()
        assert "transcript.vtt was edited by hand" in caplog.text
    transcript.segments[0].text, words[1].word = "Hello here.", " here."
    export.run(card, transcript, tmp_path)
    assert "Hello, there." in vtt.read_text()
    assert "Hello here." in (tmp_path / "transcript.srt").read_text()
