"""The transcript: the data every stage after transcription reads and writes.

transcript.json has this shape, which outside tools rely on:
{"language", "duration", "engine", "model",
 "segments": [{"start", "end", "speaker", "text", "words": [{"start", "end", "word", "probability"}]}]}
Times are seconds; `speaker` is null until speakers are labelled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    language: str
    duration: float
    engine: str
    model: str
    segments: list[Segment] = field(default_factory=list)

    def to_dict(self) -> dict:
        # By hand: dataclasses.asdict deep-copies every word and took 12 ms per interview.
        return {"language": self.language, "duration": self.duration, "engine": self.engine,
                "model": self.model,
                "segments": [{"start": s.start, "end": s.end, "text": s.text, "speaker": s.speaker,
                              "words": [{"start": w.start, "end": w.end, "word": w.word,
                                         "probability": w.probability} for w in s.words]}
                             for s in self.segments]}

    def digest(self) -> str:
        """sha256 of the whole transcript: the input key of every stage that reads it."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [
            Segment(start=s["start"], end=s["end"], text=s["text"], speaker=s.get("speaker"),
                    words=[Word(**w) for w in s.get("words", [])])
            for s in data.get("segments", [])
        ]
        return cls(language=data["language"], duration=data["duration"], engine=data["engine"],
                   model=data["model"], segments=segments)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)


@dataclass
class Turn:
    """Consecutive segments by one speaker: what readers see as a paragraph."""

    speaker: str | None
    start: float
    end: float
    text: str


def turns(transcript: Transcript, max_gap: float = 2.0, max_length: float = 90.0) -> list[Turn]:
    """Group segments into speaker turns: a new turn on a new speaker, a long pause, or
    when a paragraph grows past max_length seconds (unlabelled speech stays readable)."""
    result: list[Turn] = []
    for seg in transcript.segments:
        last = result[-1] if result else None
        if (last and last.speaker == seg.speaker and seg.start - last.end <= max_gap
                and seg.end - last.start <= max_length):
            last.end, last.text = seg.end, f"{last.text} {seg.text}"
        else:
            result.append(Turn(seg.speaker, seg.start, seg.end, seg.text))
    return result
