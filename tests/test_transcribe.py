"""Real Whisper inference (the bundled tiny.en) on espeak-ng speech."""

import pytest

from pipeline.config import TranscribeSettings
from pipeline.errors import TranscribeError
from pipeline.transcribe import transcribe

from conftest import heard_correctly


@pytest.fixture(scope="module")
def result(short_speech):
    return transcribe(short_speech["wav"], TranscribeSettings(), "en", label="test")


def test_key_phrases_are_heard(result):
    heard_correctly(result)
    assert result.language == "en" and result.model == "tiny.en" and result.engine == "faster-whisper"


def test_word_times_fall_in_the_right_turn(result, short_speech):
    question, answer = short_speech["truth"]["turns"]
    words = [w for s in result.segments for w in s.words]
    assert words, "no word timestamps"
    trust = next(w for w in words if "trust" in w.word.lower())
    assert answer["start"] - 0.5 <= trust.start <= answer["end"]
    managers = next(w for w in words if "managers" in w.word.lower())
    assert question["start"] - 0.5 <= managers.start <= question["end"] + 0.5
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.probability <= 1 and w.start <= w.end for w in words)


def test_english_only_model_refuses_other_languages(short_speech):
    with pytest.raises(TranscribeError, match="only understands English"):
        transcribe(short_speech["wav"], TranscribeSettings(), "de", label="german-talk")


def test_missing_model_says_what_to_do(short_speech):
    with pytest.raises(TranscribeError, match="could not be downloaded|could not be loaded"):
        transcribe(short_speech["wav"], TranscribeSettings(model="/nonexistent/model-folder"), "en")
