"""Real Whisper inference (the shipped tiny.en and base) on espeak-ng speech; words at the
end of a clip never lost."""

import pytest

from bench import wer
from pipeline.config import TranscribeSettings
from pipeline.errors import TranscribeError
from pipeline.model import Segment, Word
from pipeline.stages import engines, transcribe as stage
from pipeline.stages.transcribe import transcribe

from conftest import heard_correctly, words_in_their_turns


@pytest.fixture(scope="module")
def result(short_speech):
    return transcribe(short_speech["wav"], TranscribeSettings(quality="fast"), "en", label="test")


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
        transcribe(short_speech["wav"], TranscribeSettings(model="tiny.en"), "de", label="german-talk")


def test_missing_model_folder_is_named(short_speech):
    with pytest.raises(TranscribeError, match="There is no model at /nonexistent/model-folder"):
        transcribe(short_speech["wav"], TranscribeSettings(model="/nonexistent/model-folder"), "en")


def test_a_folder_that_is_not_a_model_says_so(short_speech, tmp_path):
    with pytest.raises(TranscribeError, match="could not be loaded.*must be a CTranslate2 Whisper model"):
        transcribe(short_speech["wav"], TranscribeSettings(model=str(tmp_path)), "en")


class LosesTheEndOfEachClip:
    """The real engine, but its first pass over a window loses the words of each clip's last
    1.5 s, as Whisper's batched decoder does with a segment it has not closed by the end of
    its 30-s window ("In short," at 29 s of a real reading). Only the first pass: decoding
    the edge again is the real engine's."""

    def __init__(self, engine):
        self.engine, self.name, self.multilingual = engine, engine.name, engine.multilingual
        self.lost: list[Word] = []

    def detect(self, speech):
        return self.engine.detect(speech)

    def decode(self, audio, clips, decoding, language):
        segments = self.engine.decode(audio, clips, decoding, language)
        if self.lost or len(clips) != 1 or clips[0][1] - clips[0][0] < 5:
            return segments
        cut = clips[0][1] - stage.VAD_PAD - 1.5
        kept = []
        for seg in segments:
            words = [w for w in seg.words if w.start < cut]
            self.lost += [w for w in seg.words if w.start >= cut]
            if words:
                kept.append(engines.segment_of(words))
        return kept


def test_words_lost_at_the_end_of_a_clip_are_found_again(short_speech, monkeypatch):
    load = engines.load
    injected = []
    monkeypatch.setattr(stage.engines, "load", lambda settings: injected.append(
        LosesTheEndOfEachClip(load(settings))) or injected[-1])
    # base: the words the first pass heard and lost are heard alike when the edge is decoded
    # again (tiny.en may hear "how decisions" once and "a decision" the next time).
    result, report = stage.transcribe_with_report(short_speech["wav"], TranscribeSettings(quality="accurate"),
                                                  "en", "test")
    lost = " ".join(w.word for w in injected[0].lost)
    assert lost.strip(), "the first pass lost nothing: the injection did not happen"
    assert report.problems["edge"] == 1 and report.recovered >= 1
    assert wer.recall(lost, result.text) >= 0.8, (lost, result.text)
    heard_correctly(result)
    starts = [w.start for s in result.segments for w in s.words]
    assert starts == sorted(starts)
    words_in_their_turns(result, short_speech["truth"]["turns"])


def test_speech_after_a_clips_last_word_is_noticed():
    def segment(*words):
        return Segment(words[0][0], words[-1][1], "x", words=[Word(a, b, " w") for a, b in words])

    clip, regions = (0.0, 29.9), [(0.0, 12.0), (12.5, 29.9)]
    assert stage.unheard_edge([segment((0.5, 1.0), (28.8, 29.4))], clip, regions) is None
    assert stage.unheard_edge([segment((0.5, 1.0), (26.0, 27.2))], clip, regions) == (26.95, 29.9)
    assert stage.unheard_edge([], (3.0, 5.0), [(3.0, 5.0)]) == (3.0, 5.0)


def test_the_benchmarks_count_of_words_lost_at_an_edge():
    """bench.wer.lost_at, behind the benchmark's "edge" column: words missing across a clip's
    end count; the same words run together ("anymore" for "any more") do not."""
    reference = "we do not do it any more and then we stop"

    def timed(text):
        return [(i * 0.5, i * 0.5 + 0.4, " " + w, 0.9) for i, w in enumerate(text.split())]

    assert wer.lost_at(reference, timed("we do not do it and then we stop"), [2.6]) == 2
    assert wer.lost_at(reference, timed("we do not do it and then we stop"), [20.0]) == 0
    assert wer.lost_at(reference, timed("we do not do it anymore and then we stop"), [2.6]) == 0
