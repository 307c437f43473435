"""The studio's files, without a browser: what it loads and saves is what an editor edits by
hand (transcript.txt and the card), what publish then uses, and what `pipeline status`
reports; its review queue; its second recogniser. Each test runs on interviews that were
published for real (ffmpeg, Whisper, speakers)."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import wer
from conftest import SAMPLE, add_interview
from pipeline.cli import cli
from pipeline.config import load_card
from pipeline.files import sha256_file
from pipeline.model import Word
from pipeline.project import Project
from pipeline.stages import corrections
from pipeline.studio import card as card_fields
from pipeline.studio import document, review, second, suspects


def publish(root: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["-C", str(root), "-q", "publish", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The bundled sample (148 s, two voices), published: the pristine copy the tests copy."""
    root = tmp_path_factory.mktemp("studio-sample")
    card = load_card(SAMPLE)
    add_interview(root, "council", SAMPLE / "interview.mp4", title=card.title, intro=card.intro,
                  tags=list(card.tags))
    publish(root)
    return root


@pytest.fixture
def project(sample, tmp_path) -> Project:
    """A copy of the published sample for one test to change."""
    shutil.copytree(sample, tmp_path / "p", symlinks=True)
    return Project(tmp_path / "p")


def opened(project: Project):
    card = load_card(project.media / "council")
    return card, document.load(project, card)


def txt(project: Project) -> Path:
    return project.transcripts / "council" / "transcript.txt"


def edited(doc, n: int, text: str) -> list[document.Paragraph]:
    paragraphs = [document.Paragraph(p.start, p.speaker, p.text, comments=p.comments) for p in doc.paragraphs]
    paragraphs[n].text = text
    return paragraphs


# --- transcript.txt ------------------------------------------------------------------------

def test_the_studio_shows_what_publish_would_publish(project):
    card, doc = opened(project)
    published = json.loads((project.transcripts / "council" / "transcript.json").read_text())
    assert doc.owner == "machine"
    # Paragraphs are transcript.txt's turns, in the published words, speakers and times (a
    # word Whisper wrote in pieces, "6" ",000", is one word of the text, on the first's time).
    assert " ".join(p.text for p in doc.paragraphs) == " ".join(s["text"] for s in published["segments"])
    ours = [(w.word.strip(), w.start, p.speaker) for p in doc.paragraphs for w in p.words]
    theirs = {(w["word"].strip(), w["start"], s["speaker"]) for s in published["segments"] for w in s["words"]}
    assert sum(word in theirs for word in ours) >= 0.97 * len(ours)
    assert doc.text.split("\n\n") == txt(project).read_text().split("\n\n")[1:]  # less the mark


def test_a_save_that_changes_nothing_leaves_the_machines_file_alone(project):
    card, doc = opened(project)
    before = txt(project).read_bytes()
    mtime = txt(project).stat().st_mtime_ns
    result = document.save(project, card, doc.paragraphs, doc.tail, doc.version)
    assert result == document.Saved(False, doc.version, "machine")
    assert txt(project).read_bytes() == before and txt(project).stat().st_mtime_ns == mtime
    assert corrections.is_machine_text(before.decode())


def test_a_saved_edit_is_the_editors_file_and_publish_uses_it(project, run_cli):
    card, doc = opened(project)
    first = doc.paragraphs[1]
    old = first.words[3].word.strip()
    words = first.text.split()
    words[3] = "Zanzibar"
    result = document.save(project, card, edited(doc, 1, " ".join(words)), doc.tail, doc.version)
    assert result.written and result.owner == "editor" and result.version == sha256_file(txt(project))
    text = txt(project).read_text()
    assert "Machine-made transcript" not in text  # never the machine's mark
    assert corrections.edited_transcript(project.transcripts / "council")
    again = document.load(project, card)
    assert again.owner == "editor" and "Zanzibar" in again.paragraphs[1].text
    # Unchanged words keep the machine's times; the new word takes the old one's.
    assert [(w.start, w.end) for w in again.paragraphs[1].words] == [(w.start, w.end) for w in first.words]
    assert again.paragraphs[1].words[3].probability == 1.0  # the editor's word
    assert run_cli(project.root, "publish").exit_code == 0
    page = (project.site / "council" / "index.html").read_text()
    assert "Zanzibar" in page and old not in again.paragraphs[1].words[3].word


def test_comments_newlines_and_a_byte_order_mark_are_kept(project):
    card, doc = opened(project)
    body = doc.text.replace("\n", "\r\n")
    lines = body.split("\r\n\r\n")
    lines[2] = "# Ask Helen about this answer\r\n" + lines[2]
    txt(project).write_bytes(b"\xef\xbb\xbf" + ("\r\n\r\n".join(lines) + "# the end\r\n").encode())
    card, doc = opened(project)
    assert doc.paragraphs[2].comments == ["# Ask Helen about this answer"] and doc.tail == ["# the end"]
    result = document.save(project, card, edited(doc, 0, doc.paragraphs[0].text + " Indeed."), doc.tail,
                           doc.version)
    assert result.written
    data = txt(project).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert b"# Ask Helen about this answer\r\n[" in data and data.endswith(b"# the end\r\n")


def test_a_file_changed_on_disk_is_never_overwritten(project):
    card, doc = opened(project)
    by_hand = txt(project).read_text().replace("Right.", "Right, I see.")  # a text editor's change
    txt(project).write_text(by_hand)
    mine = edited(doc, 0, doc.paragraphs[0].text + " Indeed.")
    conflict = document.save(project, card, mine, doc.tail, doc.version)
    assert isinstance(conflict, document.Conflict)
    assert txt(project).read_text() == by_hand
    assert any(line.startswith("-") and "Right, I see." in line for line in conflict.diff)
    assert any(line.startswith("+") and "Indeed." in line for line in conflict.diff)
    assert conflict.version == sha256_file(txt(project))
    forced = document.save(project, card, mine, doc.tail, doc.version, force=True)
    assert forced.written and "Indeed." in txt(project).read_text()


def test_what_publish_would_refuse_or_misread_is_not_saved(project):
    card, doc = opened(project)
    before = txt(project).read_bytes()
    mine = edited(doc, 1, doc.paragraphs[1].text)
    mine[1].speaker = "Moderator"  # one word, not on the card: publish would read it as words
    with pytest.raises(document.Refused, match="'Moderator' would be read as spoken words.*on the card"):
        document.save(project, card, mine, doc.tail, doc.version)
    mine = edited(doc, 2, "Right.")
    mine[2].start = 140.0  # after the paragraph below it
    with pytest.raises(corrections.CorrectionError, match="comes before the paragraph above"):
        document.save(project, card, mine, doc.tail, doc.version)
    mine = edited(doc, 2, "Helen Ward: agreed.")
    mine[2].speaker = None
    with pytest.raises(document.Refused, match="would be read as a speaker's name"):
        document.save(project, card, mine, doc.tail, doc.version)
    assert txt(project).read_bytes() == before


def test_a_linked_transcript_is_refused(project, tmp_path):
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("[00:00:00] Eve Hacker: PIPELINE_TEST_SECRET\n")
    txt(project).unlink()
    txt(project).symlink_to(secret)
    card = load_card(project.media / "council")
    with pytest.raises(Exception, match="outside"):
        document.load(project, card)
    assert secret.read_text() == "[00:00:00] Eve Hacker: PIPELINE_TEST_SECRET\n"


def test_status_tells_an_edit_made_but_not_published(project, run_cli):
    card, doc = opened(project)
    document.save(project, card, edited(doc, 0, doc.paragraphs[0].text + " Indeed."), doc.tail, doc.version)
    card_fields.save(card.folder, {"reviewed": True}, card_fields.version(card.folder))
    (row,) = json.loads(run_cli(project.root, "status", "--format", "json").stdout)
    assert row["stages"]["corrections"] == "to publish" and row["next"] == "corrections"
    assert row["unpublished"] == ["transcripts/council/transcript.txt", "media/council/interview.yaml"]
    assert row["reviewed"] is True and row["transcript"] == "corrected by hand"
    assert row["to_check"] == len(review.queue(document.load(project, load_card(card.folder))))
    table = " ".join(run_cli(project.root, "status").stdout.split())  # as read, not as wrapped
    assert "edited, not published: corrections" in table and "changed since the last publish" in table
    assert "review: reviewed;" in table and "next: corrections (pipeline publish council)" in table
    assert run_cli(project.root, "publish").exit_code == 0
    (row,) = json.loads(run_cli(project.root, "status", "--format", "json").stdout)
    assert row["next"] == "nothing" and row["unpublished"] == [] and row["stages"]["corrections"] == "done"


# --- the card ----------------------------------------------------------------------------------

def test_card_fields_are_saved_keeping_every_other_line(tmp_path, run_cli):
    """A card `pipeline new` wrote explains every field in a comment: all of it stays."""
    (tmp_path / "media").mkdir()
    assert run_cli(tmp_path, "new", "talk", "--source", "https://example.org/talk.mp4",
                   "--title", "A talk").exit_code == 0
    folder = tmp_path / "media" / "talk"
    path = folder / "interview.yaml"
    path.write_text(path.read_text().replace("reviewed: false", "reviewed: false  # ask Helen"))
    before = path.read_text()
    changes = {"reviewed": True, "chapters": [{"start": "0:00", "title": "Why: blogs"},
                                              {"start": "1:02", "title": "Risks"}],
               "quotes": {"pin": ["People trust what they can see."], "drop": []},
               "speakers": {"SPEAKER_2": "Mark Lloyd"}}
    result = card_fields.save(folder, changes, sha256_file(path))
    after = path.read_text()
    assert result.version == sha256_file(path)
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[0] in "+-"]
    assert changed == ["- speakers: null", "+ speakers: {SPEAKER_2: Mark Lloyd}",
                       "- reviewed: false  # ask Helen", "+ reviewed: true  # ask Helen",
                       "- chapters: []", "+ chapters:", "+   - {start: \"0:00\", title: 'Why: blogs'}",
                       '+   - {start: "1:02", title: Risks}', "- quotes: {}", "+ quotes:", "+   pin:",
                       "+     - People trust what they can see.", "+   drop: []"]
    card = load_card(folder)
    assert card.reviewed and card.chapters == ((0.0, "Why: blogs"), (62.0, "Risks"))
    assert card.quotes.pin == ("People trust what they can see.",) and card.speakers.rename == ((2, "Mark Lloyd"),)


def test_a_field_the_card_lacks_is_added_at_its_end(project):
    path = project.media / "council" / "interview.yaml"
    raw = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + raw)
    card_fields.save(path.parent, {"reviewed": True}, sha256_file(path))
    data = path.read_bytes()
    assert data == b"\xef\xbb\xbf" + raw + b"reviewed: true\r\n"


def test_a_change_that_would_break_the_card_is_refused_with_its_messages(project):
    path = project.media / "council" / "interview.yaml"
    before = path.read_bytes()
    with pytest.raises(card_fields.CardRefused) as refused:
        card_fields.save(path.parent, {"chapters": [{"start": "0:30", "title": "Late"}]}, sha256_file(path))
    assert "the first chapter must start at 0:00" in refused.value.message
    assert str(path) in refused.value.message and ".tmp" not in refused.value.message
    assert path.read_bytes() == before and not list(path.parent.glob(".*.tmp-*"))


def test_a_card_changed_on_disk_is_not_overwritten(project):
    path = project.media / "council" / "interview.yaml"
    loaded = sha256_file(path)
    path.write_text(path.read_text() + "# added in a text editor\n")
    conflict = card_fields.save(path.parent, {"reviewed": True}, loaded)
    assert isinstance(conflict, document.Conflict) and "reviewed: true" not in path.read_text()
    assert "+reviewed: true" in conflict.diff
    card_fields.save(path.parent, {"reviewed": True}, loaded, force=True)  # the editor chose
    assert path.read_text().endswith("# added in a text editor\nreviewed: true\n")


# --- the review queue --------------------------------------------------------------------------

def test_the_queue_holds_few_places_ranked_and_never_the_editors_words(project):
    card, doc = opened(project)
    queue = review.queue(doc)
    words = doc.words
    assert queue and sum(s.end - s.first for s in queue) <= suspects.QUEUE_SHARE * words
    assert [s.score for s in queue] == sorted((s.score for s in queue), reverse=True)
    for s in queue:
        p = doc.paragraphs[s.paragraph]
        assert " ".join(w.word.strip() for w in p.words[s.first:s.end]) == s.text
        assert s.start == p.words[s.first].start and s.reasons
    # The editor retypes the most doubtful span: it is no suspect any more.
    worst = queue[0]
    p = doc.paragraphs[worst.paragraph]
    tokens = p.text.split()
    tokens[worst.first:worst.end] = ["Checked"] * (worst.end - worst.first)
    document.save(project, card, edited(doc, worst.paragraph, " ".join(tokens)), doc.tail, doc.version)
    after = review.queue(document.load(project, card))
    assert worst.key not in {s.key for s in after}
    assert all("Checked" not in s.text.split() for s in after)


def test_accepted_places_leave_the_queue_and_stay_gone(project):
    card, doc = opened(project)
    queue = review.queue(doc)
    review.accept(doc.folder, [queue[0].key, queue[1].key])
    again = review.queue(document.load(project, card))
    assert {queue[0].key, queue[1].key}.isdisjoint(s.key for s in again)
    assert json.loads((doc.folder / review.FILE).read_text())["accepted"] == sorted([queue[0].key, queue[1].key])
    review.accept(doc.folder, [queue[0].key], undo=True)
    assert queue[0].key in {s.key for s in review.queue(document.load(project, card))}


def test_the_studio_spells_names_as_publish_does(project):
    """A name the recogniser was unsure of reads in the studio as publish spells it (the
    site's glossary), so that a save does not write back what the recogniser heard."""
    out = project.transcripts / "council"
    machine = json.loads((out / "transcript.machine.json").read_text())
    first = machine["segments"][0]
    first["words"][0] = {**first["words"][0], "word": " Aberystwith", "probability": 0.2}
    first["text"] = "".join(w["word"] for w in first["words"]).strip()
    (out / "transcript.machine.json").write_text(json.dumps(machine))
    (out / "transcript.txt").unlink()  # the machine's words, as the studio reads them
    _, doc = opened(project)
    assert doc.paragraphs[0].words[0].word == " Aberystwith"
    site = project.root / "site.yaml"
    site.write_text((site.read_text() if site.exists() else "") + "glossary: [Aberystwyth]\n")
    card, doc = opened(project)
    assert doc.paragraphs[0].words[0].word == " Aberystwyth"
    assert doc.paragraphs[0].text.split()[0] == "Aberystwyth"
    # The queue says what was heard, and so it does once the editor's file holds the name.
    first = [s for s in review.queue(doc) if s.paragraph == 0 and s.first == 0]
    assert first and first[0].reasons.get("respelt") == \
        "spelt as the glossary has it; the recogniser wrote “Aberystwith”"
    assert "name" not in first[0].reasons  # a name the glossary knows is no unknown name
    tokens = doc.paragraphs[1].text.split()
    document.save(project, card, edited(doc, 1, " ".join(tokens[:-1] + ["fixed."])), doc.tail,
                  doc.version)  # an edit elsewhere: the name is still the machine's guess
    doc = document.load(project, card)
    assert doc.owner == "editor" and doc.paragraphs[0].words[0].heard == "Aberystwith"
    assert any(s.reasons.get("respelt") for s in review.queue(doc) if s.paragraph == 0 and s.first == 0)
    tokens = doc.paragraphs[0].text.split()
    document.save(project, card, edited(doc, 0, " ".join(["Aberaeron"] + tokens[1:])), doc.tail,
                  doc.version)  # the editor's own word: theirs, nothing to say of it
    word = document.load(project, card).paragraphs[0].words[0]
    assert (word.word, word.heard, word.probability) == (" Aberaeron", None, 1.0)


def test_accepted_places_outlive_a_publish_that_lists_the_places_anew(project):
    """The publish keeps its list of places to check in the same review.json as the spans
    the editor accepted: neither writer drops what the other wrote (a publish used to write
    its list over the editor's accepted spans)."""
    card, doc = opened(project)
    keys = sorted(s.key for s in review.queue(doc)[:2])
    review.accept(doc.folder, keys)
    saved = json.loads((doc.folder / review.FILE).read_text())
    assert saved["accepted"] == keys and any(p["why"] == "unsure" for p in saved["places"])
    # Reviewed: the publish lists the places anew (the unsure words no longer).
    card_file = project.media / "council" / "interview.yaml"
    card_file.write_text(card_file.read_text() + "reviewed: true\n")
    publish(project.root)
    saved = json.loads((doc.folder / review.FILE).read_text())
    assert saved["accepted"] == keys and not any(p["why"] == "unsure" for p in saved["places"])
    assert set(keys).isdisjoint(s.key for s in review.queue(document.load(project, load_card(card.folder))))


def test_a_name_on_the_card_misheard_is_a_suspect_with_the_name_as_fix():
    """As tiny.en heard the sample's "Northfield Borough Council" (in its card's intro)."""
    text = "the leader of Northfield for a council. Yes, Northfield Borough Council again, Helen Ward."
    words = [Word(float(i), i + 0.5, f" {t}", 0.9) for i, t in enumerate(text.split())]
    found = suspects._misheard_names([suspects._norm(w.word) for w in words],
                                     ["Northfield Borough Council", "Helen Ward"])
    assert found == {3: "Northfield Borough Council", 4: "Northfield Borough Council",
                     5: "Northfield Borough Council", 6: "Northfield Borough Council"}
    queue = suspects.find([document.Paragraph(0.0, "Ann Lee", text, words)],
                          suspects.Evidence(names=["Northfield Borough Council"]), share=0.5)
    misheard = next(s for s in queue if "misheard" in s.reasons)
    assert misheard.heard.startswith("Northfield Borough Council.") and misheard.first == 3  # its full stop kept


def test_loops_over_silence_and_speaker_changes_are_found():
    words = [Word(float(i), i + 0.5, f" {t}", 0.9) for i, t in enumerate(
        "we will we will we will rock you and then".split())]
    assert suspects._loops([suspects._norm(w.word) for w in words]) == list(range(6))
    assert suspects._over_silence(words, [(0.0, 6.0)]) == [7, 8, 9]
    said = [Word(float(i), i + 0.5, f" {t}", 0.9) for i, t in enumerate("we will rock you. And then".split())]
    turns = [document.Paragraph(0.0, "Ann Lee", "we will", said[:2]),
             document.Paragraph(2.0, "Bob Ray", "rock you.", said[2:4]),
             document.Paragraph(4.0, "Ann Lee", "And then", said[4:])]
    assert suspects._speaker_changes(turns) == [1, 2]  # inside a sentence, not after "you."


# --- the second opinion --------------------------------------------------------------------------

def test_a_second_recogniser_listens_once_and_its_words_are_offered(project):
    from pipeline.config import TranscribeSettings
    from pipeline.stages import prepare

    if not second.installed():
        pytest.fail(f"{', '.join(second.PACKAGES)} are not installed: run `make test` (or "
                    "`pip install -e .`) first")
    card, doc = opened(project)
    audio = prepare.last_prepared(card.folder).audio
    assert second.load(doc.folder, audio) is None
    heard = second.run(doc.folder, audio, "en", TranscribeSettings(), "council")
    assert wer.recall(" ".join(t["text"] for t in json.loads((SAMPLE / "truth.json").read_text())["turns"]),
                      " ".join(w.word for w in heard)) > 0.8
    assert second.load(doc.folder, audio) == heard  # kept, by the audio's hash
    data = json.loads((doc.folder / second.FILE).read_text())
    assert data["key"] == second.key(doc.folder, audio)
    queue = review.queue(document.load(project, card))
    offered = [s for s in queue if "replaced" in s.reasons and "misheard" not in s.reasons and s.heard]
    assert offered, "the two recognisers disagree somewhere in the sample"
    base = " ".join(w.word for w in heard)
    for s in offered:  # the fix offered is what the second recogniser heard there
        assert wer.contains(base, s.heard), s
