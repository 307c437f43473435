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
    assert _near_misses("Without Shimon Kelly the plan failed. I went to Chanelli with the team. "
                        "Without all the ways on Adyemi, it was now a really big job for Kelly in "
                        "Llanelli. Now we know.", names) == [
        ("Shimon Kelly", "Siobhan Kelly"), ("Chanelli", "Llanelli"), ("Adyemi", "Oluwaseun Adeyemi")]


def test_names_that_sound_like_a_glossary_name_are_flagged(monkeypatch):
    """What base and tiny.en wrote for the Welsh places in the glossary benchmark: a word
    written as a name that sounds like one is a near-miss, though its letters differ too
    much for spelling alone (Maconthus: 60 by letters); capitalised ordinary words and other
    names (Monday, President, Michael, Alistair) are not."""
    names = ("Aberystwyth", "Machynlleth", "Aled Pritchard", "Padraig Quinlan")
    text = ("I went to Amaristwyth with the team. The meeting in Maconthus was the hardest. "
            "On Monday the President met Michael and Alistair in Machynch, not Aberystwyth.")
    assert _near_misses(text, names) == [
        ("Amaristwyth", "Aberystwyth"), ("Maconthus", "Machynlleth"), ("Machynch", "Machynlleth")]
    monkeypatch.setattr(review, "NEAR_SOUND", 101)  # spelling alone: the sound finds these
    assert _near_misses(text, names) == []


def _near_misses(text: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(heard, term) of each near-miss in `text`, its punctuation aside."""
    words = _words(text)
    return [("".join(w.word for w in words[i:j]).strip(" ,."), term)
            for i, j, term in review.near_misses(words, names)]


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


def test_a_name_the_recogniser_was_unsure_of_is_spelt_as_the_glossary_has_it(short_speech, project, run_cli):
    """The recogniser's transcript as if it had ended on the guest's name heard as "Helen
    Warde", unsure of "Warde" (written into transcript.machine.json, since what it hears is
    not ours to choose): publish spells the name as the card does in the editor's file, the
    page and the captions; the word keeps what was heard, and review.json lists it until the
    card says reviewed."""
    add_interview(project, "talk", short_speech["mp3"])  # guest: Helen Ward
    assert run_cli(project, "publish").exit_code == 0
    out = project / "transcripts" / "talk"
    machine = json.loads((out / "transcript.machine.json").read_text())
    last = machine["segments"][-1]
    last["words"][-2:] = [{**last["words"][-2], "word": " Helen", "probability": 0.9},
                          {**last["words"][-1], "word": " Warde.", "probability": 0.2}]
    last["text"] = "".join(w["word"] for w in last["words"]).strip()
    (out / "transcript.machine.json").write_text(json.dumps(machine))
    result = run_cli(project, "publish")
    assert result.exit_code == 0, result.output
    published = json.loads((out / "transcript.json").read_text())["segments"][-1]["words"]
    assert [(w["word"], w.get("heard")) for w in published[-2:]] == [(" Helen", None), (" Ward.", "Warde")]
    assert published[-1]["probability"] == 0.2  # still the recogniser's: the studio asks about it
    assert "Helen Ward." in (out / "transcript.txt").read_text(encoding="utf-8")
    page = (project / "site" / "talk" / "index.html").read_text(encoding="utf-8")
    captions = "".join(p.read_text(encoding="utf-8") for p in (project / "site" / "talk").glob("*.vtt"))
    # (The card names Helen Ward on the page anyway: "Ward." is the respelt word's.)
    assert "Helen Ward." in page and "Warde" not in page
    assert "Ward." in captions and "Warde" not in captions
    places = json.loads((out / "review.json").read_text())["places"]
    assert [(p["why"], p["heard"], p["term"]) for p in places if p["why"] != "unsure"] == [
        ("respelt", "Warde", "Ward")]
    card = project / "media" / "talk" / "interview.yaml"
    card.write_text(card.read_text() + "reviewed: true\n")
    assert run_cli(project, "publish").exit_code == 0
    assert json.loads((out / "review.json").read_text())["places"] == []


def test_respelling_leaves_sure_words_editors_words_and_other_lengths_alone():
    """Only near-misses the recogniser was unsure of, of as many words as their term, are
    respelt: not a sure one, not an editor's word (probability 1), not tiny.en's
    "Siobhanelli" (one word where Llanelli was said, and like Siobhan Kelly's two)."""
    glossary = ("Aberystwyth", "Machynlleth", "Siobhan Kelly", "Llanelli", "Helen Ward")
    words = (_words("I went to Amaristwyth with", 0.35) + _words("the team, and Maconthus,", 0.5)
             + _words("too. Then Siobhanelli, and", 0.2) + _words("Helen Warde", 0.95)
             + _words("and Chanelli.", 1.0))
    transcript = Transcript("en", 20.0, "faster-whisper", "tiny.en", [Segment(0.0, 20.0, "", words=words)])
    spelt = review.respelt(transcript, glossary)
    text = spelt.segments[0].text
    assert text == ("I went to Aberystwyth with the team, and Machynlleth, too. Then Siobhanelli, "
                    "and Helen Warde and Chanelli.")
    assert [(w.word, w.heard) for w in spelt.segments[0].words if w.heard] == [
        (" Aberystwyth", "Amaristwyth"), (" Machynlleth,", "Maconthus")]
    assert [w.start for w in spelt.segments[0].words] == [w.start for w in words]
    assert review.respelt(spelt, glossary) == spelt  # respelt words spell the term: no more
    kept = review.unsure_words(spelt.segments[0].words, glossary, reviewed=False)
    assert {3, 8} <= kept  # the respelt words are not quoted until reviewed
    assert Transcript.from_dict(spelt.to_dict()) == spelt
    assert "heard" not in json.dumps(transcript.to_dict())


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
