"""Timed text files: the one writer of WebVTT and SRT cues, for captions (export) and for
chapters (`<track kind="chapters">`)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.timecode import timestamp


@dataclass
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None  # written as a WebVTT voice, or "Name: " in SRT


def vtt(cues: list[Cue]) -> str:
    """A WebVTT file: numbered cues, text escaped, speakers as `<v Name>` voices."""
    blocks = ["WEBVTT"]
    for i, cue in enumerate(cues, 1):
        text = escape(cue.text)
        if cue.speaker:
            text = f"<v {escape(cue.speaker)}>{text}"
        blocks.append(f"{i}\n{timestamp(cue.start)} --> {timestamp(cue.end)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def srt(cues: list[Cue]) -> str:
    """A SubRip file: numbered cues, speakers as a "Name: " prefix."""
    blocks = []
    for i, cue in enumerate(cues, 1):
        text = f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text
        blocks.append(f"{i}\n{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}\n{text}")
    return "\n\n".join(blocks) + "\n"


def escape(text: str) -> str:
    """WebVTT cue text may not hold a raw '<' or '&'; '>' is escaped too, for symmetry."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
