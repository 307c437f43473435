"""The glossary: names and terms given to the recogniser as hints (with every window of a
long interview), near-misses listed for review, and kept out of pull quotes."""

from __future__ import annotations

import copy
import json

import pytest

from bench.synth import synthesize_interview
from pipeline.config import TranscribeSettings
from pipeline.model import Segment, Transcript, Word
from pipeline.stages import engines, quotes, review, transcribe

from conftest import add_interview

# Names espeak-ng says clearly enough to be heard (its Machynlleth is not), and that neither
# shipped model spells right unprompted.
NAMES = ("Siobhan Kelly", "Llanelli", "Aled Pritchard", "Nkechi Okafor", "Aberystwyth",
         "Wojciech Nowak", "Ffion Davies", "Padraig Quinlan", "Oluwaseun Adeyemi")
SAID = ("Today I am talking to Siobhan Kelly, who runs the library in Llanelli. Aled Pritchard "
        "and Nkechi Okafor joined us from Aberystwyth, and Wojciech Nowak came from the coast. "
        "Ffion Davies and Padraig Quinlan wrote the report with Oluwaseun Adeyemi.")


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    wav = tmp_path_factory.mktemp("names") / "names.wav"
    synthesize_interview([{"speaker": "A", "text": SAID}], {"A": {"voice": "en-gb+m3", "speed": 150}}, wav)
    return wav


def test_the_glossary_makes_the_names_heard(named):
    """With the glossary the recogniser spells the names as the glossary does; without it,
    hardly ever. All but one, not all: the encoder's precision decides the hardest ones (on
    five voices saying this passage, CTranslate2's int8 encoder missed "Adeyemi" once and
    the bfloat16 one of encoder.py "Aberystwyth" twice and "Adeyemi" once)."""
    hinted = transcribe.transcribe(named, TranscribeSettings(glossary=NAMES), "en")
    plain = transcribe.transcribe(named, TranscribeSettings(), "en")
    missed = [name for name in NAMES if name not in hinted.text]
    unprompted = [name for name in NAMES if name in plain.text]
    assert len(missed) <= 1, f"{missed} not in {hinted.text!r}"
    assert len(unprompted) <= 2, f"{unprompted} heard right without the glossary: {plain.text!r}"


def test_the_hint_lists_the_terms_and_stays_short():
    assert engines.hint(("Helen Ward", "Llanelli")) == "Helen Ward, Llanelli"
    assert engines.hint(()) is None
    many = engines.hint(tuple(f"Name Number{i}" for i in range(200)))
    assert len(many.split(", ")) < 60 and many.startswith("Name Number0, Name Number1")


def test_the_hint_goes_with_every_window_of_a_long_interview(named, monkeypatch):
    """A prompt given as faster-whisper's initial_prompt would reach only the first 30-s
    window; the hint is given with every clip, in both decoding modes."""
    seen = []
    real = engines.FasterWhisper.decode

    def decode(self, audio, clips, decoding, language):
        seen.append((len(clips), decoding.hint))
        return real(self, audio, clips, decoding, language)

    monkeypatch.setattr(engines.FasterWhisper, "decode", decode)
    transcribe.transcribe_with_report(named, TranscribeSettings(glossary=NAMES), "en", window=6.0)
    assert len(seen) >= 3 and all(hint == engines.hint(NAMES) for _, hint in seen)


def _words(text: str, probability: float = 0.9) -> list[Word]:
    return [Word(i * 0.5, i * 0.5 + 0.4, " " + t, probability) for i, t in enumerate(text.split())]


def test_near_misses_of_glossary_names():
    words = _words("Hello Helen Warde, and welcome. I live in Lanelly near Helen Ward, who said a word.")
    found = review.near_misses(words, ("Helen Ward", "Llanelli", "Ward", "Daniel Hughes"))
    assert [("".join(w.word for w in words[i:j]).strip(), term) for i, j, term in found] == [
        ("Helen Warde,", "Helen Ward"), ("Lanelly", "Llanelli")]
    assert review.near_misses(words, ()) == []


def test_near_misses_base_wrote_in_the_benchmark_are_flagged():
    """What base wrote for names in the glossary benchmark: a capitalised run is a name
    heard wrong; ordinary words that look a little like a name are not."""
    names = ("Siobhan Kelly", "Llanelli", "Oluwaseun Adeyemi", "Wojciech Nowak")
    words = _words("Without Shimon Kelly the plan failed. I went to Chanelli with the team. Without "
                   "all the ways on Adyemi, it was now a really big job for Kelly in Llanelli. Now we know.")
    found = review.near_misses(words, names)
    assert [("".join(w.word for w in words[i:j]).strip(" ,"), term) for i, j, term in found] == [
        ("Shimon Kelly", "Siobhan Kelly"), ("Chanelli", "Llanelli"), ("Adyemi", "Oluwaseun Adeyemi")]


def test_near_misses_and_unsure_words_are_listed_and_never_quoted(short_speech, project, run_cli):
    """An editor's transcript with the guest's name misspelt: review.json lists it (and, until
    the card says reviewed, the words the recogniser was unsure of), and no quote holds it."""
    add_interview(project, "talk", short_speech["mp3"])  # guest: Helen Ward
    assert run_cli(project, "publish").exit_code == 0
    out = project / "transcripts" / "talk"
    txt = out / "transcript.txt"
    text = txt.read_text(encoding="utf-8")
    last = text.rstrip().rsplit(" ", 1)[1]
    txt.write_text(text.rstrip()[:-len(last)] + "Helen Warde " + last + "\n", encoding="utf-8")
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    places = json.loads((out / "review.json").read_text())["places"]
    misses = [p for p in places if p["why"] == "near-miss"]
    assert [(p["heard"].strip(".,"), p["term"]) for p in misses] == [("Helen Warde", "Helen Ward")]
    assert "may misspell a glossary name" in result.stderr and "'Helen Warde'" in result.stderr
    assert all(p["probability"] < review.UNSURE for p in places if p["why"] == "unsure")
    for quote in json.loads((out / "quotes.json").read_text()):
        assert "Warde" not in quote["text"]


def test_quotes_avoid_unsure_words_until_reviewed(topics_transcripts):
    transcript = copy.deepcopy(topics_transcripts["labelled"])
    words = [w for s in transcript.segments for w in s.words]
    chosen = quotes.pick(transcript, guests=("Grace Miller",), interviewer="Tom Baker")
    # Make every word of the first quote but one sure, and that one unsure: it is not quoted.
    victim = chosen[0]
    inside = [w for w in words if victim.start <= w.start < victim.end]
    inside[len(inside) // 2].probability = review.UNSURE / 2
    again = quotes.pick(transcript, guests=("Grace Miller",), interviewer="Tom Baker")
    assert victim.text not in [q.text for q in again] and len(again) >= 3
    for quote in again:
        assert all(w.probability >= review.UNSURE for w in words if quote.start <= w.start < quote.end)
    # Once reviewed, the word is checked: nothing is left out for being unsure.
    index = words.index(inside[len(inside) // 2])
    assert index in review.unsure_words(words, (), reviewed=False)
    assert review.unsure_words(words, (), reviewed=True) == set()


def test_unsure_words_are_counted_without_review_only():
    transcript = Transcript("en", 5.0, "faster-whisper", "base",
                            [Segment(0.0, 5.0, "We met Helen Warde there.", words=_words("We met Helen Warde there.", review.UNSURE / 2))])
    assert {p["why"] for p in review.places(transcript, ("Helen Ward",))} == {"near-miss", "unsure"}
    assert {p["why"] for p in review.places(transcript, ("Helen Ward",), reviewed=True)} == {"near-miss"}
