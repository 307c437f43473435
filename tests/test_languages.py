"""Interviews in other languages with the shipped multilingual base: the card's language, or
`auto` (detected and recorded); the page's lang, its captions and the feeds follow; and the
clear errors when a model or a card cannot be right."""

from __future__ import annotations

import json
import re

import pytest

from bench import wer
from bench.synth import synthesize_interview
from pipeline import languages
from pipeline.config import TranscribeSettings
from pipeline.errors import CardError, TranscribeError
from pipeline.stages import transcribe

from conftest import add_interview, card_for

GERMAN = ("Guten Tag, ich heiße Helen und ich schreibe jede Woche einen Blog über die Arbeit "
          "im Rathaus, weil die Bürger unsere Entscheidungen verstehen wollen.")
SPANISH = ("Buenos días, me llamo Elena. Escribo un blog cada semana sobre el trabajo del "
           "ayuntamiento, porque los vecinos quieren entender nuestras decisiones.")
# espeak-ng's German and Spanish are rougher than its English: most of the words, not all.
RECALL = 0.6


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("languages")
    made = {}
    for code, text in (("de", GERMAN), ("es", SPANISH)):
        made[code] = folder / f"{code}.wav"
        synthesize_interview([{"speaker": "A", "text": text}], {"A": code}, made[code])
    return made


@pytest.fixture(scope="module")
def published(speech, short_speech, tmp_path_factory) -> dict:
    """On a British English site: a German interview (card: de), a Spanish one (card: auto,
    detected) and an English one, published together."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    project = tmp_path_factory.mktemp("languages-site")
    (project / "media").mkdir()
    (project / "site.yaml").write_text("title: Interviews\nlanguage: en-GB\n", encoding="utf-8")
    made = CliRunner().invoke(cli, ["-C", str(project), "new", "auf-deutsch", "--source",
                                    str(speech["de"]), "--language", "de", "--interviewer",
                                    "Anna Weber", "--guest", "Helen Schmidt"])
    assert made.exit_code == 0, made.output + made.stderr
    add_interview(project, "en-espanol", speech["es"], language="auto",
                  interviewer="Ana Ruiz", guests=["Elena Martín"])
    add_interview(project, "in-english", short_speech["mp3"])
    result = CliRunner().invoke(cli, ["-C", str(project), "publish"], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return {"project": project, "log": result.stderr}


def _transcript(published, slug) -> dict:
    return json.loads((published["project"] / "transcripts" / slug / "transcript.json").read_text())


def _page(published, slug) -> str:
    return (published["project"] / "site" / slug / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("slug, code, text", [("auf-deutsch", "de", GERMAN), ("en-espanol", "es", SPANISH)])
def test_other_languages_are_transcribed(published, slug, code, text):
    data = _transcript(published, slug)
    heard = " ".join(s["text"] for s in data["segments"])
    assert data["language"] == code and data["model"] == "base"
    assert wer.recall(text, heard, code) >= RECALL, heard


def test_auto_is_detected_and_recorded(published):
    machine = json.loads((published["project"] / "transcripts" / "en-espanol" /
                          "transcript.machine.json").read_text())
    assert machine["language"] == "es"
    assert "en-espanol: the speech is in Spanish (es, detected" in published["log"]


@pytest.mark.parametrize("slug, lang, label", [("auf-deutsch", "de", "Deutsch"),
                                               ("en-espanol", "es", "Español"),
                                               ("in-english", "en-GB", "English")])
def test_the_page_its_captions_and_structured_data_follow_the_language(published, slug, lang, label):
    page = _page(published, slug)
    assert re.search(rf'<html lang="{lang}"', page)
    assert f'<track kind="captions" src="transcript.vtt" srclang="{lang}" label="{label}" default>' in page
    assert f'srclang="{lang}" label="Chapters"' in page
    ld = json.loads(re.search(r'<script type="application/ld\+json">\s*(.*?)\s*</script>', page, re.S)[1])
    assert ld["inLanguage"] == lang
    assert f'<meta property="og:locale" content="{lang.replace("-", "_")}">' in page


def test_feeds_follow_the_language(published):
    site = published["project"] / "site"
    rss, atom = (site / "rss.xml").read_text(), (site / "feed.xml").read_text()
    assert '<language>en-GB</language>' in rss
    for slug, lang in (("auf-deutsch", "de"), ("en-espanol", "es"), ("in-english", "en-GB")):
        assert re.search(rf'<podcast:transcript url="[^"]*{slug}/transcript.vtt" type="text/vtt" '
                         rf'language="{lang}"', rss), slug
    assert '<entry xml:lang="de">' in atom and '<entry xml:lang="es">' in atom
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">' in atom


def test_a_card_that_says_english_over_german_speech_is_named(speech):
    with pytest.raises(TranscribeError) as caught:
        transcribe.transcribe(speech["de"], TranscribeSettings(quality="accurate"), "en", "wrong-card")
    message = caught.value.message
    assert "wrong-card: the speech does not sound like the card's language 'en'" in message
    assert "sounds like German ('de'" in message and "`language: de`" in message


def test_tiny_en_with_a_german_card_keeps_its_clear_error(speech):
    with pytest.raises(TranscribeError, match="only understands English"):
        transcribe.transcribe(speech["de"], TranscribeSettings(model="tiny.en"), "de", "german")
    # quality: fast still transcribes German: with base, the shipped model that knows it
    assert transcribe.resolved(TranscribeSettings(quality="fast"), "de").model == "base"


def test_new_checks_the_spoken_language(project, speech, run_cli):
    wrong = run_cli(project, "new", "other", "--source", str(speech["de"]), "--language", "klingon")
    assert wrong.exit_code == 2 and "--language" in wrong.output and "klingon" in wrong.output
    assert not (project / "media" / "other").exists()


def test_language_codes_are_checked(project):
    for good in ("de", "cy", "haw", "en-GB", "pt-BR", "auto"):
        assert card_for(project, language=good).language == good
    for bad, problem in (("english", "not a language code"), ("xx", "not a language Whisper knows"),
                         ("EN", "not a language code")):
        with pytest.raises(CardError, match=problem):
            card_for(project, language=bad)


def test_the_language_table_is_whispers():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(languages.WHISPER) == set(_LANGUAGE_CODES)
    assert languages.page_tag("en", "en-GB") == "en-GB" and languages.page_tag("de", "en-GB") == "de"
    assert languages.page_tag("auto", "fr") == "fr" and languages.page_tag("en-US", "en-GB") == "en-US"
    assert languages.spelling("en-GB") == "british" and languages.spelling("en") == "american"
    assert languages.spelling("de") is None
