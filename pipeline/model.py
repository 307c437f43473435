"""The data the stages hand each other: what fetch and prepare made, the transcript, chapters,
quotes, and the Post that a page is rendered from.

transcript.json has this shape, which outside tools rely on:
{"language", "duration", "engine", "model", "text_from",
 "segments": [{"start", "end", "speaker", "text", "words": [{"start", "end", "word", "probability",
                                                            "heard"?}]}]}
Times are seconds; `speaker` is null until speakers are labelled; `text_from` says whose words
the text is: "recogniser", "captions" (the publisher's, timed by the recogniser) or "editor".
A word has `heard` only where it is spelt as the glossary spells a name and the recogniser
wrote something else (review.respelt); its probability is still the recogniser's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Card


@dataclass(frozen=True)
class Fetched:
    """The interview's media on disk (media/SLUG/...), and where it came from."""

    path: Path
    provenance: dict

    @property
    def sha256(self) -> str:
        return self.provenance["sha256"]


@dataclass(frozen=True)
class Prepared:
    """What prepare made of the source: the audio for the recogniser, the media for the page."""

    kind: str  # "video", "audio" or "youtube"
    duration: float
    audio: Path  # the 16 kHz WAV
    media: Path | None  # what the page plays: video.mp4 / audio.m4a, None for YouTube
    poster: Path | None
    width: int | None = None
    height: int | None = None
    # Recordings made one per person (the card's `sources`): (speaker, its 16 kHz WAV) each.
    tracks: tuple[tuple[str, Path], ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "duration": self.duration, "audio": self.audio.name,
                "media": self.media.name if self.media else None,
                "poster": self.poster.name if self.poster else None,
                "width": self.width, "height": self.height,
                "tracks": [[speaker, path.name] for speaker, path in self.tracks]}

    @classmethod
    def from_dict(cls, folder: Path, data: dict) -> "Prepared":
        def path(name):
            return folder / name if name else None

        return cls(data["kind"], data["duration"], folder / data["audio"], path(data["media"]),
                   path(data["poster"]), data.get("width"), data.get("height"),
                   tuple((speaker, folder / name) for speaker, name in data.get("tracks", [])))


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0
    heard: str | None = None  # what the recogniser wrote, where the glossary's spelling replaced it


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
    text_from: str = "recogniser"  # or "captions" (the publisher's), "editor"

    def to_dict(self) -> dict:
        # By hand: dataclasses.asdict deep-copies every word and took 12 ms per interview.
        return {"language": self.language, "duration": self.duration, "engine": self.engine,
                "model": self.model, "text_from": self.text_from,
                "segments": [{"start": s.start, "end": s.end, "text": s.text, "speaker": s.speaker,
                              "words": [{"start": w.start, "end": w.end, "word": w.word,
                                         "probability": w.probability,
                                         **({"heard": w.heard} if w.heard else {})}
                                        for w in s.words]}
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
                   model=data["model"], segments=segments,
                   text_from=data.get("text_from", "recogniser"))

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


# A paragraph on the page, and a row of the search database that links to it: shorter than a
# turn of transcript.txt, so that a reader can find a moment by its time even before speakers
# are labelled.
PARAGRAPH_SECONDS = 40.0


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


def paragraphs(transcript: Transcript) -> list[Turn]:
    """The transcript's paragraphs as the page shows them (each a link to its moment)."""
    return turns(transcript, max_length=PARAGRAPH_SECONDS)


@dataclass
class Chapter:
    start: float
    end: float
    title: str


@dataclass
class Quote:
    """An exact span of the transcript's words, by one speaker."""

    speaker: str | None
    text: str
    start: float
    end: float
    pinned: bool = False


@dataclass
class Post:
    """Everything the page of one interview is made from."""

    card: Card
    prepared: Prepared
    transcript: Transcript
    provenance: dict
    transcript_folder: Path
    chapters: list[Chapter] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
