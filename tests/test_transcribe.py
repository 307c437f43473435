"""Real Whisper inference (the bundled tiny.en) on espeak-ng speech."""

import pytest

from pipeline.config import TranscribeSettings
from pipeline.errors import TranscribeError
from pipeline.stages.transcribe import transcribe

from conftest import heard_correctly, words_in_their_turns


@pytest.fixture(scope="module")
def result(short_speech):
    return transcribe(short_speech["wav"], TranscribeSettings(), "en", label="test")


def test_key_phrases_are_heard(result):
    heard_correctly(result)
    assert result.language == "en" and result.model == "tiny.en" and result.engine == "faster-whisper"


def test_word_times_fall_in_the_right_turn(result, short_speech):
    words = [w for s in result.segments for w in s.words]
    assert words, "no word timestamps"
    words_in_their_turns(result, short_speech["truth"]["turns"])
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.probability <= 1 and w.start <= w.end for w in words)


def test_english_only_model_refuses_other_languages(short_speech):
    with pytest.raises(TranscribeError, match="only understands English"):
        transcribe(short_speech["wav"], TranscribeSettings(), "de", label="german-talk")


def test_missing_model_folder_is_named(short_speech):
    with pytest.raises(TranscribeError, match="There is no model at /nonexistent/model-folder"):
        transcribe(short_speech["wav"], TranscribeSettings(model="/nonexistent/model-folder"), "en")


def test_a_folder_that_is_not_a_model_says_so(short_speech, tmp_path):
    with pytest.raises(TranscribeError, match="could not be loaded.*must be a CTranslate2 Whisper model"):
        transcribe(short_speech["wav"], TranscribeSettings(model=str(tmp_path)), "en")
