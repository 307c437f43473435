"""Export: the transcript as files people and players read.

transcript.json (the data), transcript.vtt (captions for the player), transcript.srt and
transcript.txt (timestamped paragraphs an editor can read and correct). One writer class
per format, in the manner of whisper's WriteVTT/WriteSRT.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from pipeline import captions
from pipeline.captions import Cue
from pipeline.config import Card
from pipeline.files import sha256_file, sha256_text, write_text
from pipeline.model import Segment, Transcript, turns
from pipeline.stages.corrections import EDITABLE, edited_transcript, machine_text
from pipeline.stamps import Stamps
from pipeline.timecode import stamp

log = logging.getLogger(__name__)

# Caption limits readers can follow: two lines of 42 characters, at most 7 seconds.
LINE_CHARS = 42
CUE_CHARS = 2 * LINE_CHARS
CUE_SECONDS = 7.0


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


def caption_cues(transcript: Transcript) -> list[Cue]:
    """The cues as the caption files show them: at most two balanced lines each."""
    return [Cue(c.start, c.end, wrap(c.text), c.speaker) for c in cues(transcript)]


class WriteVTT:
    extension = "vtt"

    def render(self, transcript: Transcript) -> str:
        return captions.vtt(caption_cues(transcript))


class WriteSRT:
    extension = "srt"

    def render(self, transcript: Transcript) -> str:
        return captions.srt(caption_cues(transcript))


class WriteTXT:
    """One paragraph per speaker turn, `[00:01:23] Name: text`, under the machine's mark (see
    corrections.py: it tells the machine's file from the editor's)."""

    extension = "txt"

    def render(self, transcript: Transcript) -> str:
        paragraphs = []
        for turn in turns(transcript):
            who = f"{turn.speaker}: " if turn.speaker else ""
            paragraphs.append(f"[{stamp(turn.start)}] {who}{turn.text}")
        return machine_text("\n\n".join(paragraphs) + "\n")


class WriteJSON:
    """The published transcript data (see pipeline/model.py for its shape)."""

    extension = "json"

    def render(self, transcript: Transcript) -> str:
        return json.dumps(transcript.to_dict(), indent=1, ensure_ascii=False) + "\n"


WRITERS = (WriteJSON(), WriteVTT(), WriteSRT(), WriteTXT())


def render_all(transcript: Transcript) -> dict[str, str]:
    """Every export format, by file name."""
    return {f"transcript.{w.extension}": w.render(transcript) for w in WRITERS}


def run(card: Card, transcript: Transcript, out: Path) -> None:
    """The export stage: write every format into `out`; never overwrite a file an editor
    has changed.

    transcript.txt is the file editors correct: whether it is theirs is told by the file
    itself (corrections.py). For the other formats the stamp remembers the hash of what was
    written; one that differs was edited by hand and is kept (nothing reads it, so we say
    so). The hash of each new file is recorded before the file is written, so a kill
    between the two never makes our own file look hand-edited.
    """
    stamps = Stamps(out)
    before = stamps.read("export")
    ours = {name: _hashes(value) for name, value in before.get("files", {}).items()}
    digest = transcript.digest()
    if before.get("transcript") == digest and _unchanged(stamps, out, ours):
        return  # nothing to write: skip rendering four formats (most of a no-op publish)
    todo: dict[str, str] = {}
    for name, text in render_all(transcript).items():
        target = out / name
        if name == EDITABLE:
            if edited_transcript(out):  # the editor's words: never touched
                continue
        elif target.exists() and name in ours and sha256_file(target) not in ours[name]:
            log.warning("%s: %s was edited by hand; it is kept, but corrections belong in %s",
                        card.slug, target, EDITABLE)
            continue
        todo[name] = text
    new = {name: sha256_text(text) for name, text in todo.items()}
    pending = {name: [*ours.get(name, []), sha] for name, sha in new.items() if sha not in ours.get(name, [])}
    if pending:  # both the old and the new file are ours while they are being replaced
        stamps.record("export", "", files={**ours, **pending}, transcript=None)
    for name, text in todo.items():
        write_text(out / name, text)
    if new:  # a later no-op publish then checks the files without reading them
        stamps.remember({out / name: sha for name, sha in new.items()})
    final = {**{name: hashes[-1] for name, hashes in ours.items()}, **new}
    if final != before.get("files") or digest != before.get("transcript"):
        stamps.record("export", "", files=final, transcript=digest)


def _hashes(value: str | list[str]) -> list[str]:
    """The hashes a stamp accepts as ours for a file (one, or two while a write is under way)."""
    return [value] if isinstance(value, str) else list(value)


def _unchanged(stamps: Stamps, out: Path, ours: dict[str, list[str]]) -> bool:
    """Every format is there as we last wrote it (transcript.txt may be an editor's). Hashes
    are remembered by size and mtime, so unchanged files are not read again."""
    if len(ours) != len(WRITERS) or not all((out / name).exists() for name in ours):
        return False
    return all(len(hashes) == 1 and stamps.digest(out / name) == hashes[0]
               for name, hashes in ours.items() if name != EDITABLE)
