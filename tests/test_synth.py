"""Self-test for bench.synth: a two-voice interview gets exact, ordered turn timings."""

import wave

import pytest

from bench.synth import synthesize_interview

def test_two_turn_interview_timings(tmp_path):
    turns = [
        {"speaker": "Host", "text": "Why should leaders write a blog?"},
        {"speaker": "Guest", "text": "Because people trust what they can see.", "pause": 0.7},
    ]
    voices = {"Host": "en-gb+m3", "Guest": {"voice": "en-us+f2", "speed": 150}}
    out = tmp_path / "interview.wav"

    truth = synthesize_interview(turns, voices, out, pause=0.5, rate=16000)

    got = truth["turns"]
    assert [t["speaker"] for t in got] == ["Host", "Guest"]
    assert [t["text"] for t in got] == [t["text"] for t in turns]
    for t in got:
        assert 0 <= t["start"] < t["end"] <= truth["duration"]
    # Ordered and non-overlapping, with the turn's own pause between them.
    assert got[1]["start"] - got[0]["end"] == pytest.approx(0.7, abs=0.002)

    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getframerate()) == (1, 16000)
        wav_duration = w.getnframes() / w.getframerate()
    assert wav_duration == pytest.approx(truth["duration"], abs=0.05)
