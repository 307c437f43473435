"""The interview as the studio shows and saves it: transcript.txt's paragraphs, each word on
the machine's time.

What the studio loads is what publish would use next: the editor's transcript.txt when the
file is theirs (corrections.py tells it by the file alone), otherwise the machine's words
named as the speakers stage names them with the card as it is now. Either way the
paragraphs are read back with corrections.read and lined up with corrections.apply, so the
studio shows the words, times and names that publish would publish.

Saving writes transcript.txt as an editor would (`[hh:mm:ss] Name: text`, blank lines
between paragraphs, the editor's `# ` comment lines kept before the paragraph they stood
before), never the machine's mark. A save that changes nothing writes nothing, so the
machine's file stays the machine's. A file that changed on disk since the studio loaded it
is never overwritten unless the editor says so (`force`), and what is saved is checked by
the same rules publish applies, so the studio never writes a file that publish would refuse.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Card, glossary, load_site
from pipeline.errors import PipelineError
from pipeline.files import read_editor_text, read_json, sha256_file, within, write_bytes
from pipeline.model import Fetched, Transcript, Word
from pipeline.project import Project
from pipeline.stages import corrections, creator_captions, export, review, speakers
from pipeline.stages.transcribe import MACHINE_TRANSCRIPT
from pipeline.timecode import stamp

EDITABLE = corrections.EDITABLE
BOM = "\ufeff"
# The machine's mark, and a stale copy of it that an editor left in their file: never saved.
_MARK_START = corrections.MARK.split("{check}")[0]
# One save at a time per file (autosaves from two tabs, or a save and a publish's read).
_saving = threading.Lock()


class NotTranscribed(PipelineError):
    """The interview has no machine transcript yet: publish it first."""


class Refused(PipelineError):
    """What the editor asked to save would not be read back as they meant it."""


@dataclass
class Paragraph:
    """One paragraph of transcript.txt: a speaker's turn."""

    start: float | None  # as the file gives it (None: the editor left the time out)
    speaker: str | None
    text: str
    words: list[Word] = field(default_factory=list)  # one per whitespace-separated token
    comments: list[str] = field(default_factory=list)  # "# " lines just before it in the file


@dataclass
class Document:
    card: Card
    machine: Transcript  # the recogniser's words, named as publish names them now
    paragraphs: list[Paragraph]
    tail: list[str]  # comment lines after the last paragraph
    owner: str  # "machine" (nothing edited yet) or "editor"
    version: str | None  # sha256 of transcript.txt as loaded; None when there is none
    folder: Path  # transcripts/SLUG
    terms: tuple[str, ...] = ()  # the interview's glossary (config.glossary)

    @property
    def words(self) -> int:
        return sum(len(p.words) for p in self.paragraphs)

    @property
    def text(self) -> str:
        """transcript.txt as the studio would write it now."""
        return render(self.paragraphs, self.tail)


@dataclass
class Conflict:
    """transcript.txt (or the card) changed on disk since the studio loaded it."""

    what: str
    disk: str
    mine: str
    version: str | None

    @property
    def diff(self) -> list[str]:
        return unified_diff(self.disk, self.mine, f"{self.what} on disk", "your version")


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    """The lines of a unified diff, for showing a conflict."""
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name,
                                     n=2, lineterm=""))


def machine_transcript(out: Path, card: Card, terms: tuple[str, ...] = ()) -> Transcript | None:
    """The recogniser's words (transcript.machine.json), named from speakers.json and the
    card as the speakers stage names them, names it was unsure of spelt as the glossary
    (`terms`) has them, as publish does; None before the first transcription."""
    data = read_json(out / MACHINE_TRANSCRIPT)
    if data is None:
        return None
    machine = Transcript.from_dict(data)
    named = speakers.labelled(card, machine, read_json(out / "speakers.json", {}) or {}) or machine
    named = review.respelt(named, terms)
    provenance = read_json(card.folder / "provenance.json", {}) or {}
    # The publisher's captions' words when publish would use them (an editor's edit still wins).
    return creator_captions.run(card, Fetched(card.folder, provenance), named)


def load(project: Project, card: Card, machine: Transcript | None = None) -> Document:
    """The document publish would use next for this interview (`machine`: its machine
    transcript, when the caller has it already)."""
    terms = glossary(load_site(project.root), card)
    machine, owner, version, text = _current(project, card, machine, terms)
    out = project.transcript_folder(card.slug)
    paragraphs, tail = _read(text, machine, out / EDITABLE, corrections.known_names(card, machine))
    return Document(card, machine, paragraphs, tail, owner, version, out, terms)


def _current(project: Project, card: Card, machine: Transcript | None, terms: tuple[str, ...] | None = None):
    """(machine transcript, whose transcript.txt is, its hash, its text as the studio reads
    it): the editor's file, or what export writes next without the machine's mark."""
    out = project.transcript_folder(card.slug)
    if machine is None:
        terms = glossary(load_site(project.root), card) if terms is None else terms
        machine = machine_transcript(out, card, terms)
    if machine is None:
        raise NotTranscribed(f"{card.slug}: there is no transcript yet. Publish the interview "
                             "first (the Publish button, or `pipeline publish "
                             f"{card.slug}`); then its words can be checked here.")
    path = out / EDITABLE
    version = _version(path, out)
    if corrections.edited_transcript(out):
        return machine, "editor", version, read_editor_text(path)
    return machine, "machine", version, export.WriteTXT().render(machine).split("\n\n", 1)[1]


def _version(path: Path, out: Path) -> str | None:
    if not path.is_file() and not path.is_symlink():
        return None
    within(path, out, "the editor's transcript")
    return sha256_file(path)


def _read(text: str, machine: Transcript, path: Path, names: set[str]) -> tuple[list[Paragraph], list[str]]:
    """Paragraphs with their words on the machine's times, and the comments around them."""
    read = corrections.read(text, machine, path, names)
    aligned = corrections.apply(machine, read).segments
    comments, tail = _comments(text, [p.line for p in read])
    paragraphs = [Paragraph(p.start, p.speaker, p.text, seg.words, notes)
                  for p, seg, notes in zip(read, aligned, comments)]
    return paragraphs, tail


def _as_rendered(text: str, path: Path, names: set[str]) -> str | None:
    """The text as the studio would write it back (paragraphs on one line, comments before
    them), to tell a save that changes nothing; None when it cannot be read at all."""
    try:
        read = corrections.parse(text, path, names)
    except corrections.CorrectionError:
        return None
    comments, tail = _comments(text, [p.line for p in read])
    return render([Paragraph(p.start, p.speaker, p.text, comments=notes) for p, notes in zip(read, comments)],
                  tail)


def _comments(text: str, starts: list[int]) -> tuple[list[list[str]], list[str]]:
    """The "# " lines before each paragraph (by the line it starts on), and those after the
    last; the machine's mark is left out."""
    before: list[list[str]] = [[] for _ in starts]
    tail: list[str] = []
    at = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("# ") or line.startswith(_MARK_START):
            continue
        while at < len(starts) and starts[at] < number:
            at += 1
        (before[at] if at < len(starts) else tail).append(line.rstrip())
    return before, tail


def render(paragraphs: list[Paragraph], tail: list[str] = ()) -> str:
    """transcript.txt's text: `[hh:mm:ss] Name: text` paragraphs, as export writes them (with
    the editor's comments), never the machine's mark."""
    blocks = []
    for p in paragraphs:
        when = f"[{stamp(p.start)}] " if p.start is not None else ""
        who = f"{p.speaker}: " if p.speaker else ""
        blocks.append("\n".join([*p.comments, f"{when}{who}{p.text}"]))
    if tail:
        blocks.append("\n".join(tail))
    return "\n\n".join(blocks) + "\n"


def paragraphs_from(items: list[dict]) -> list[Paragraph]:
    """Paragraphs as the browser sends them: {start, speaker, text, comments}; text is
    joined onto one line, and a paragraph left without words is dropped."""
    result = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise Refused(f"paragraph {n} is not a paragraph")
        text = " ".join(str(item.get("text") or "").split())
        speaker = " ".join(str(item.get("speaker") or "").split()) or None
        start = item.get("start")
        if start is not None and (not isinstance(start, (int, float)) or isinstance(start, bool) or start < 0):
            raise Refused(f"paragraph {n}: the time {start!r} is not a number of seconds")
        comments = [str(c).rstrip() for c in item.get("comments") or [] if str(c).startswith("# ")]
        if text:
            result.append(Paragraph(start, speaker, text, comments=comments))
    return result


@dataclass
class Saved:
    written: bool  # False: nothing changed, nothing was written
    version: str | None
    owner: str


def save(project: Project, card: Card, paragraphs: list[Paragraph], tail: list[str],
         version: str | None, force: bool = False, machine: Transcript | None = None) -> Saved | Conflict:
    """Write transcript.txt as the editor's, unless nothing changed. `version` is the file's
    hash when the studio loaded it; a file that changed since is not overwritten (a Conflict
    comes back) unless `force`. `machine`: the machine transcript, when the caller has it."""
    with _saving:
        machine, owner, now, text = _current(project, card, machine)
        mine = render(paragraphs, tail)
        path = project.transcript_folder(card.slug) / EDITABLE
        if mine == _as_rendered(text, path, corrections.known_names(card, machine)):  # its file stays
            return Saved(False, now, owner)
        if now != version and not force:
            return Conflict("transcript.txt", read_editor_text(path) if now else "", mine, now)
        _check(mine, paragraphs, card, machine, path)
        raw = path.read_bytes() if now else b""
        newline = "\r\n" if b"\r\n" in raw else "\n"
        data = (BOM if raw.startswith(BOM.encode()) else "") + mine.replace("\n", newline)
        write_bytes(path, data.encode("utf-8"))
        return Saved(True, sha256_file(path), "editor")


def _check(text: str, paragraphs: list[Paragraph], card: Card, machine: Transcript, path: Path) -> None:
    """Refuse what publish would refuse, or would read otherwise than the editor meant (a
    name it takes for spoken words, a paragraph that becomes two)."""
    back = corrections.read(text, machine, path, corrections.known_names(card, machine))
    problems = []
    for n, (mine, read) in enumerate(zip(paragraphs, back), 1):
        if (mine.speaker, mine.text) != (read.speaker, read.text):
            problems.append(_misread(n, mine, read))
    if len(back) != len(paragraphs) and not problems:
        problems.append(f"the text would be read as {len(back)} paragraphs, not {len(paragraphs)}")
    if problems:
        raise Refused(f"{path}: not saved, because publish would read it otherwise:\n" +
                      "\n".join(f"  - {p}" for p in problems))


def _misread(n: int, mine: Paragraph, read: corrections.Paragraph) -> str:
    where = f"paragraph {n}" + (f" [{stamp(mine.start)}]" if mine.start is not None else "")
    if mine.speaker and read.speaker != mine.speaker:
        one_word = len(mine.speaker.split()) == 1
        return (f"{where}: '{mine.speaker}' would be read as spoken words, not as the speaker's "
                "name" + ("; a one-word name is read as a name only when it is on the card: "
                          "write the full name, or add the person to the card" if one_word
                          else "; a name has up to five words, each starting with a capital "
                               "letter, without . , ; ! or ?"))
    if not mine.speaker and read.speaker:
        return (f"{where}: its first words '{read.speaker}:' would be read as a speaker's name; "
                "choose the speaker, or reword the start")
    return f"{where}: would be read as '{read.text[:40]}', not as written"
