"""Pull quotes on the generated five-topic interview (real Whisper transcript): verified
word spans, by the guest, able to stand alone; pins, drops and edits from the editor."""

from __future__ import annotations

import copy
import json
import logging
import re
import shutil
from types import SimpleNamespace

import pytest

from conftest import GRACE, TOM, write_card
from pipeline.config import load_card
from pipeline.model import Transcript
from pipeline.project import Project
from pipeline.site.pages import Page
from pipeline.site.render import environment
from pipeline.stages import quotes

BACK_REFERENCES = {"and", "but", "that", "it", "this", "so", "because", "they", "he", "she"}


def exact_span(quote, transcript) -> bool:
    """The quote's text is consecutive transcript words, its times their first start and last end."""
    words = [w for seg in transcript.segments for w in seg.words]
    for i, first in enumerate(words):
        if first.start != quote["start"]:
            continue
        text = ""
        for last in words[i:]:
            text += last.word
            if last.end == quote["end"]:
                return text.strip() == quote["text"]
    return False


def check_quote(quote: dict, transcript) -> None:
    text = quote["text"]
    assert exact_span(quote, transcript), f"not a verbatim span: {text!r}"
    assert 8 <= len(text.split()) <= 40, text
    assert re.match(r"[A-Z0-9]", text) and text[-1] in ".!", f"not complete sentences: {text!r}"
    assert re.sub(r"\W", "", text.split()[0].lower()) not in BACK_REFERENCES, text
    assert "?" not in text


def test_quotes_are_verified_guest_sentences(topics_transcripts):
    """With speakers (from the true turns, standing in for the speakers stage)."""
    transcript = topics_transcripts["labelled"]
    chosen = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM)
    print("\nquotes (labelled):\n" + "\n".join(f"  {q.start:6.1f} {q.speaker}: {q.text}" for q in chosen))
    assert 3 <= len(chosen) <= 5
    for quote in chosen:
        assert quote.speaker == GRACE
        check_quote(quote.__dict__, transcript)
        assert quotes.verify(quote, transcript)
    assert [q.start for q in chosen] == sorted(q.start for q in chosen)
    assert len({round(q.start) for q in chosen}) == len(chosen)


def test_published_quotes_without_speaker_labels(topics_interview, topics_transcripts):
    """quotes.json as published; without labels no interviewer sentence slips in."""
    published = json.loads((topics_interview["out"] / "quotes.json").read_text())
    print("\nquotes (published):\n" + "\n".join(f"  {q['start']:6.1f} {q['text']}" for q in published))
    assert 3 <= len(published) <= 5
    guest_turns = [t for t in topics_interview["truth"]["turns"] if t["speaker"] == GRACE]
    for quote in published:
        assert set(quote) == {"speaker", "text", "start", "end", "pinned"}
        check_quote(quote, topics_transcripts["plain"])
        assert any(t["start"] - 0.5 <= quote["start"] and quote["end"] <= t["end"] + 0.5
                   for t in guest_turns), f"not within a guest's turn: {quote['text']!r}"


def test_page_shows_quotes_with_links_to_the_moment(topics_interview):
    html = (topics_interview["site"] / "index.html").read_text()
    published = json.loads((topics_interview["out"] / "quotes.json").read_text())
    section = html[html.index('aria-labelledby="quotes-heading"'):]
    section = section[:section.index("</section>")]
    assert section.count("<blockquote>") == len(published)
    for quote in published:
        assert f'href="video.mp4#t={int(quote["start"])}" data-t="{quote["start"]:.2f}"' in section
        assert quote["text"].replace("'", "&#39;") in section


def test_quote_partial_names_the_speaker_and_escapes(tmp_path):
    env = environment(Project(tmp_path))
    post = SimpleNamespace(quotes=[quotes.Quote(GRACE, 'She said "<script>alert(1)</script>".', 61.5, 65)],
                           prepared=SimpleNamespace(kind="video"))
    page = Page(post, "https://example.org/bees/", {"media": "video.mp4"}, {}, "")
    html = env.get_template("_quotes.html").render(post=post, page=page)
    assert "<blockquote>" in html and GRACE in html
    # Without JavaScript the link opens the recording at the quote (the script seeks in place).
    assert '<a class="time" href="video.mp4#t=61" data-t="61.50">' in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_card_pins_and_drops_quotes(topics_transcripts, caplog):
    transcript = topics_transcripts["labelled"]
    automatic = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM)
    words = [w for seg in transcript.segments for w in seg.words]
    # The editor types seven words of the guest's loosely (case, punctuation); they are
    # published as spoken.
    answer = next(seg for seg in transcript.segments if seg.speaker == GRACE and len(seg.words) >= 10)
    target = words.index(answer.words[1])
    spoken = "".join(w.word for w in words[target:target + 7]).strip()
    typed = spoken.upper().replace(",", "")
    caplog.set_level(logging.WARNING)
    chosen = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM,
                         pin=(typed, "Bees love the moon and sing at night."),
                         drop=(automatic[0].text.lower(), "words nobody said at all"))
    pinned = [q for q in chosen if q.pinned]
    assert [q.text for q in pinned] == [spoken]
    assert quotes.verify(pinned[0], transcript)
    assert automatic[0].text not in [q.text for q in chosen]
    assert not any(automatic[0].start <= q.start < automatic[0].end for q in chosen)
    assert 3 <= len(chosen) <= 5
    assert "pins the quote \"Bees love the moon" in caplog.text
    assert "drops \"words nobody said at all\"" in caplog.text


@pytest.mark.parametrize("sure", [False, True], ids=["edit leaves it unquotable", "edit keeps it quotable"])
def test_a_quote_an_edit_changes_is_never_published_altered(sure, tmp_path, topics_transcripts, caplog):
    folder = write_card(tmp_path, "bees", "bees.mp4")
    (folder / "bees.mp4").write_bytes(b"")
    card = load_card(folder)
    out = tmp_path / "out"
    transcript = copy.deepcopy(topics_transcripts["labelled"])
    first = quotes.run(card, transcript, out)
    assert quotes.load(out) == first
    # The editor corrects a word inside the first quote (unsure words are never quoted).
    victim = first[0]
    word = next(w for seg in transcript.segments for w in seg.words
                if victim.start <= w.start < victim.end and len(w.word.strip()) > 3)
    word.word, word.probability = " Replaced", 1.0 if sure else 0.01
    assert not quotes.verify(victim, transcript)
    caplog.set_level(logging.INFO)
    again = quotes.run(card, transcript, out)
    assert victim.text not in [q.text for q in again]
    assert all(quotes.verify(q, transcript) for q in again)
    assert [q.__dict__ for q in quotes.load(out)] == [q.__dict__ for q in again]
    same_moment = [q for q in again if q.start < victim.end and victim.start < q.end]
    if same_moment:  # picked again in the corrected words: the log says so, not "dropped"
        assert f'the quote "{victim.text}" now reads "{same_moment[0].text}"' in caplog.text
        assert "no longer matches" not in caplog.text
    else:
        assert f"the quote \"{victim.text}\" no longer matches the transcript; it is dropped" in caplog.text
    if not sure:
        assert not same_moment


def test_words_common_in_the_archive_count_for_less(topics_transcripts):
    transcript = topics_transcripts["labelled"]
    alone = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM, count=1)[0]
    # An archive where every interview talks in the words of that quote.
    archive = [alone.text] * 200
    crowded = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM, count=1, archive=archive)[0]
    assert crowded.text != alone.text


def test_an_editors_correction_reaches_the_quotes(topics_interview, tmp_path, run_cli):
    """End to end: a word corrected in transcript.txt retires the quote that held it."""
    project = tmp_path / "copy"
    shutil.copytree(topics_interview["project"], project)  # keeps mtimes: no new model work
    out = project / "transcripts" / topics_interview["slug"]
    before = json.loads((out / "quotes.json").read_text())
    victim = before[0]["text"]
    txt = (out / "transcript.txt").read_text()
    assert txt.count(victim) == 1
    # The quote's longest word that appears nowhere else, so the edit touches only the quote.
    word = max((w for w in re.findall(r"[A-Za-z]+", victim)
                if len(re.findall(rf"\b{w}\b", txt)) == 1), key=len)
    (out / "transcript.txt").write_text(txt.replace(victim, victim.replace(word, "beeswax")))
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    assert "(corrections, export" in result.stderr and "unchanged (no download" not in result.stderr
    assert "transcribing" not in result.stderr  # no model work for a correction
    after = json.loads((out / "quotes.json").read_text())
    old = before[0]
    if any(q["start"] < old["end"] and old["start"] < q["end"] for q in after):
        assert f'the quote "{victim}" now reads "' in result.stderr
    else:
        assert f'the quote "{victim}" no longer matches the transcript' in result.stderr
    corrected = Transcript.from_dict(json.loads((out / "transcript.json").read_text()))
    assert victim not in [q["text"] for q in after] and after
    for quote in after:
        check_quote(quote, corrected)


def test_published_quotes_hold_no_unsure_word(topics_interview, topics_transcripts):
    """0 quotes with a word below the confidence bar in an unreviewed transcript."""
    from pipeline.stages import review

    published = json.loads((topics_interview["out"] / "quotes.json").read_text())
    words = [w for s in topics_transcripts["plain"].segments for w in s.words]
    for quote in published:
        inside = [w for w in words if quote["start"] <= w.start and w.end <= quote["end"]]
        assert inside and min(w.probability for w in inside) >= review.UNSURE, quote["text"]


def phrases(text: str, n: int = quotes.PHRASE) -> set:
    tokens = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def test_no_two_quotes_share_a_phrase(topics_transcripts):
    """An answer said twice (as a long interview repeats itself): quoted once at most."""
    transcript = copy.deepcopy(topics_transcripts["labelled"])
    first = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM)[0]
    said = next(s for s in transcript.segments if s.start <= first.start < s.end)
    shift = transcript.duration + 5.0
    again = copy.deepcopy(said)
    for w in again.words:
        w.start, w.end = round(w.start + shift, 3), round(w.end + shift, 3)
    again.start, again.end = round(again.start + shift, 3), round(again.end + shift, 3)
    transcript.segments.append(again)
    transcript.duration = again.end + 1.0
    chosen = quotes.pick(transcript, guests=(GRACE,), interviewer=TOM, count=5)
    assert len(chosen) >= 3
    for i, a in enumerate(chosen):
        for b in chosen[i + 1:]:
            assert not phrases(a.text) & phrases(b.text), (a.text, b.text)
