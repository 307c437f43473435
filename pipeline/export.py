"""Export: the transcript as files people and players read.

transcript.json (the data), transcript.vtt (captions for the player), transcript.srt and
transcript.txt (timestamped paragraphs an editor can read and correct). One writer class
per format, in the manner of whisper's WriteVTT/WriteSRT.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.cache import Stamps
from pipeline.files import sha256_file, sha256_text, write_text
from pipeline.model import Segment, Transcript, turns

log = logging.getLogger(__name__)

# The file editors correct; the pipeline reads it back (corrections.py).
EDITABLE = "transcript.txt"

# Caption limits readers can follow: two lines of 42 characters, at most 7 seconds.
LINE_CHARS = 42
CUE_CHARS = 2 * LINE_CHARS
CUE_SECONDS = 7.0


@dataclass
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None = None


def cues(transcript: Transcript) -> list[Cue]:
    """Split segments into caption-sized cues at word boundaries, preferring sentence ends."""
    result = []
    for seg in transcript.segments:
        result.extend(_segment_cues(seg))
    return result


def _segment_cues(seg: Segment) -> list[Cue]:
    if not seg.words:
        return [Cue(seg.start, seg.end, seg.text, seg.speaker)]
    out, current = [], []
    for word in seg.words:
        text = "".join(w.word for w in current + [word]).strip()
        if current and (len(text) > CUE_CHARS or word.end - current[0].start > CUE_SECONDS):
            out.append(current)
            current = []
        current.append(word)
        if re.search(r"[.!?]$", word.word.strip()) and len("".join(w.word for w in current)) > LINE_CHARS:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return [Cue(ws[0].start, max(ws[-1].end, ws[0].start + 0.1), "".join(w.word for w in ws).strip(),
                seg.speaker) for ws in out]


def wrap(text: str, width: int = LINE_CHARS) -> str:
    """Break a cue into at most two balanced lines."""
    if len(text) <= width:
        return text
    middle = len(text) // 2
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - middle))
    return text[:cut] + "\n" + text[cut + 1:]


def timestamp(seconds: float, separator: str = ".", always_hours: bool = True) -> str:
    """00:01:02.345 (VTT) or 00:01:02,345 (SRT)."""
    millis = round(max(seconds, 0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    head = f"{hours:02d}:" if always_hours or hours else ""
    return f"{head}{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def clock(seconds: float) -> str:
    """A reader's time: 1:02 or 1:02:03."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _CueWriter:
    """Numbered caption cues; subclasses say how a time and a cue's text are written."""

    header: list[str] = []
    separator = "."

    def render(self, transcript: Transcript) -> str:
        blocks = list(self.header)
        for i, cue in enumerate(cues(transcript), 1):
            times = f"{timestamp(cue.start, self.separator)} --> {timestamp(cue.end, self.separator)}"
            blocks.append(f"{i}\n{times}\n{self.text(cue)}")
        return "\n\n".join(blocks) + "\n"

    def text(self, cue: Cue) -> str:
        raise NotImplementedError


class WriteVTT(_CueWriter):
    extension, header = "vtt", ["WEBVTT"]

    def text(self, cue: Cue) -> str:
        text = _escape_vtt(wrap(cue.text))
        return f"<v {_escape_vtt(cue.speaker)}>{text}" if cue.speaker else text


class WriteSRT(_CueWriter):
    extension, separator = "srt", ","

    def text(self, cue: Cue) -> str:
        return f"{cue.speaker}: {wrap(cue.text)}" if cue.speaker else wrap(cue.text)


class WriteTXT:
    """One paragraph per speaker turn: `[00:01:23] Name: text`."""

    extension = "txt"

    def render(self, transcript: Transcript) -> str:
        paragraphs = []
        for turn in turns(transcript):
            who = f"{turn.speaker}: " if turn.speaker else ""
            paragraphs.append(f"[{timestamp(turn.start, always_hours=True)[:8]}] {who}{turn.text}")
        return "\n\n".join(paragraphs) + "\n"


class WriteJSON:
    """The published transcript data (see pipeline/model.py for its shape)."""

    extension = "json"

    def render(self, transcript: Transcript) -> str:
        return json.dumps(transcript.to_dict(), indent=1, ensure_ascii=False) + "\n"


WRITERS = (WriteJSON(), WriteVTT(), WriteSRT(), WriteTXT())


def render_all(transcript: Transcript) -> dict[str, str]:
    """Every export format, by file name."""
    return {f"transcript.{w.extension}": w.render(transcript) for w in WRITERS}


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")



def write_files(out: Path, transcript: Transcript, label: str = "") -> None:
    """Write every format into `out`; never overwrite a file an editor has changed.

    What was written is remembered (a hash per file) so a hand edit can be told apart from
    our own output. transcript.txt is the file editors correct (see corrections.py); a hand
    edit to any other file is kept too, but nothing reads it, so we say so.
    """
    stamps = Stamps(out)
    before = stamps.read("export")
    written, digest = dict(before.get("files", {})), transcript.digest()
    if before.get("transcript") == digest and _unchanged(stamps, out, written):
        return  # nothing to write: skip rendering four formats (most of a no-op publish)
    made: dict[Path, str] = {}
    for name, text in render_all(transcript).items():
        target = out / name
        if target.exists() and written.get(name) and sha256_file(target) != written[name]:
            if name != EDITABLE:
                log.warning("%s: %s was edited by hand; it is kept, but corrections belong in %s",
                            label, target, EDITABLE)
            continue
        write_text(target, text)
        written[name] = sha256_text(text)
        made[target] = written[name]
    if made:  # a later no-op publish then checks the files without reading them
        stamps.remember(made)
    if written != before.get("files") or digest != before.get("transcript"):
        stamps.record("export", "", files=written, transcript=digest)


def _unchanged(stamps: Stamps, out: Path, written: dict[str, str]) -> bool:
    """Every format is there as we last wrote it (transcript.txt may be an editor's). Hashes
    are remembered by size and mtime, so unchanged files are not read again."""
    if len(written) != len(WRITERS) or not all((out / name).exists() for name in written):
        return False
    return all(stamps.digest(out / name) == sha for name, sha in written.items() if name != EDITABLE)
