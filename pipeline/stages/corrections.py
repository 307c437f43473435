"""Corrections: an editor's transcript.txt becomes the truth for every later stage.

The editor fixes words, renames speakers, merges or splits paragraphs and deletes false
text in transcript.txt (`[00:01:23] Name: text`, one paragraph per turn). We read it back
and line its words up with the machine's (the fewest word edits, over normalised words):
unchanged words keep their timings, changed or added words share out the time of what they
replaced within their turn, so captions and links stay in sync.

Whether the file is the editor's is told by the file alone: the machine's own rendering
starts with a line holding a checksum of the rest (`MARK`), written in the same atomic
rename as the text. A file whose rest no longer matches, whose mark was removed, or that
never had one (dropped in before the first publish) is the editor's. Stamps play no part,
so a missing, stale or conflicted stamp, or a kill between two writes, can never make
publish overwrite an editor's words or freeze the machine's text as if it were an edit.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Card
from pipeline.errors import PipelineError
from pipeline.files import read_editor_text, read_json, sha256_file, sha256_text, within
from pipeline.model import Segment, Transcript, Word
from pipeline.stages.speakers import names_heard
from pipeline.stamps import Stamps
from pipeline.timecode import clock, parse_time, stamp

log = logging.getLogger(__name__)

# The file editors correct; export writes it, and this stage reads it back.
EDITABLE = "transcript.txt"
# The first line of the machine's transcript.txt; the check is the start of the sha256 of
# everything after that line. Lines starting with "# " are comments, never spoken text.
MARK = ("# Machine-made transcript (check {check}). Correct it freely: once you change it, "
        "your text is the truth and publish never overwrites it.")
_MARKED = re.compile(r"# Machine-made transcript \(check ([0-9a-f]{16})\)\.[^\n]*\n")
# "[00:01:23]" at the start of a paragraph.
STAMP = re.compile(r"^\[([^\]]*)\]\s*")
# "Name:" at the start of a paragraph: up to five words, no sentence punctuation.
SPEAKER = re.compile(r"^([^\s:.,;!?\[\]][^:.,;!?\[\]]{0,58}?):\s+")


class CorrectionError(PipelineError):
    """transcript.txt cannot be read back."""


@dataclass
class Paragraph:
    start: float | None  # None when the editor split a turn without giving a time
    speaker: str | None
    text: str
    line: int


def run(card: Card, machine: Transcript, out: Path) -> Transcript:
    """The corrections stage: the editor's corrected text when there is one, aligned onto the
    machine's word times; from then on it is the truth."""
    transcript = corrected(card, machine, out)
    if transcript is None:
        return machine
    log.info("%s: using the corrected %s (%d paragraphs)", card.slug, out / EDITABLE,
             len(transcript.segments))
    return transcript


def corrected(card: Card, machine: Transcript, out: Path) -> Transcript | None:
    """The editor's transcript.txt on the machine's word times; None when the file is the
    machine's (`pipeline status` and the studio ask this without publishing)."""
    edited = edited_transcript(out)
    if not edited:
        return None
    return apply(machine, read(read_editor_text(edited), machine, edited, known_names(card, machine)))



def read(text: str, machine: Transcript, path: Path | str, names: set[str]) -> list[Paragraph]:
    """The paragraphs of an editor's text, refused as publish refuses them: far too big for
    the recording, a line that cannot be read, times out of order or past the end. The
    studio checks what it saves with this too, so it never writes what publish would refuse."""
    _check_size(text, machine, path)
    paragraphs = parse(text, path, names)
    _check_times(paragraphs, machine.duration, path)
    return check_speaker_names(paragraphs, names, path)


def _check_size(text: str, machine: Transcript, path: Path | str) -> None:
    """Refuse a file far larger than the interview could hold: it is not its transcript."""
    words, heard = len(text.split()), sum(len(s.words) for s in machine.segments)
    most = max(3 * heard, 5 * machine.duration) + 1000  # nobody says 5 words a second for long
    if words > most:
        raise CorrectionError(f"{path} has {words:,} words, but the recording lasts "
                              f"{clock(machine.duration)} and the machine heard {heard:,}: it "
                              "cannot be this interview's transcript. Put the right file there; "
                              "nothing was changed.")


def _check_times(paragraphs: list[Paragraph], duration: float, path: Path | str) -> None:
    """Times must follow the recording: in order, and not past its end."""
    problems, last = [], None
    for p in (p for p in paragraphs if p.start is not None):
        if duration and p.start > duration + 1.0:
            problems.append(f"line {p.line}: [{stamp(p.start)}] is after the end of the "
                            f"recording ({clock(duration)})")
        elif last and p.start < last.start:
            problems.append(f"line {p.line}: [{stamp(p.start)}] comes before the paragraph above "
                            f"it (line {last.line}, [{stamp(last.start)}])")
        last = p
    if problems:
        raise CorrectionError(f"{path}: the times are not the recording's:\n" +
                              "\n".join(f"  - {p}" for p in problems) +
                              "\n  Keep each paragraph's [hh:mm:ss] as it was, or in time order "
                              "within the recording; nothing was changed.")


def edited_transcript(out: Path) -> Path | None:
    """transcript.txt when it is the editor's: anything but the machine's own rendering."""
    path = out / EDITABLE
    if not path.is_file() and not path.is_symlink():
        return None
    within(path, out, "the editor's transcript")
    if is_machine_text(read_editor_text(path)) or _written_before_the_mark(path, out):
        return None
    return path


def machine_text(body: str) -> str:
    """transcript.txt as the machine writes it: the mark, then the paragraphs."""
    return MARK.format(check=_check(body)) + "\n\n" + body


def is_machine_text(text: str) -> bool:
    """True when the text is, to the byte, a rendering the machine wrote (the mark's check
    matches everything after it)."""
    match = _MARKED.match(text)
    return bool(match) and match[1] == _check(text[match.end():].removeprefix("\n"))


def _written_before_the_mark(path: Path, out: Path) -> bool:
    """A transcript.txt the machine wrote before it marked its files: its hash is the one the
    export stamp recorded. Without that record the file is kept as the editor's."""
    recorded = Stamps(out).read("export").get("files", {}).get(EDITABLE)
    return isinstance(recorded, str) and recorded == sha256_file(path)


def _check(body: str) -> str:
    return sha256_text(body)[:16]


def parse(text: str, path: Path | str = "transcript.txt", names: set[str] = frozenset()) -> list[Paragraph]:
    """Read `[hh:mm:ss] Name: text` paragraphs (blank-line separated); the name is optional."""
    paragraphs, problems = [], []
    for number, block in _blocks(text):
        start = None
        match = STAMP.match(block)
        if match and (start := parse_time(match[1], clock_only=True)) is not None:
            block = block[match.end():]
        elif block.startswith("["):
            problems.append(f"line {number}: '{block[:20]}...' starts with '[' but is not a time "
                            "like [00:01:23]")
            continue
        speaker = None
        if match := SPEAKER.match(block):
            if _looks_like_name(match.group(1), names):
                speaker, block = match.group(1).strip(), block[match.end():]
            elif re.fullmatch(r"[A-Z][\w'-]*", match.group(1).strip()):
                log.warning("%s, line %d: '%s:' looks like a speaker's name, but one word that "
                            "is not on the card is read as spoken words; write the full name "
                            "(or add the person to the card)", path, number, match.group(1).strip())
        if block.strip():
            paragraphs.append(Paragraph(start, speaker, " ".join(block.split()), number))
    if problems:
        raise CorrectionError(f"{path}: cannot read the corrected transcript:\n" +
                              "\n".join(f"  - {p}" for p in problems) +
                              "\n  Fix these lines; each paragraph starts with [hh:mm:ss].")
    return paragraphs


def apply(machine: Transcript, paragraphs: list[Paragraph]) -> Transcript:
    """The edited transcript, with word timings carried over from the machine's where they match."""
    old = [w for s in machine.segments for w in s.words]
    new = [(p, token) for p in paragraphs for token in p.text.split()]
    times, _ = align(old, [t for _, t in new])
    segments, index = [], 0
    for paragraph in paragraphs:
        count = len(paragraph.text.split())
        words = [Word(round(a, 3), round(b, 3), " " + token, prob, heard)
                 for (a, b, prob, heard), (_, token) in zip(times[index:index + count],
                                                            new[index:index + count])]
        index += count
        start = paragraph.start if paragraph.start is not None else words[0].start
        segments.append(Segment(start=round(min(start, words[0].start), 3),
                                end=round(max(words[-1].end, start), 3),
                                text=paragraph.text, speaker=paragraph.speaker, words=words))
    return Transcript(language=machine.language, duration=machine.duration, engine=machine.engine,
                      model=machine.model, segments=segments, text_from="editor")


def align(old: list[Word], tokens: list[str]) -> tuple[list[tuple], int]:
    """Timing (start, end, probability, heard) for each of `tokens` (another text of the
    same speech: an editor's, the publisher's captions) from the machine's words `old`, and
    how many of the tokens are words the machine heard too. A token the machine has too
    keeps its probability and its `heard` (a name respelt from the glossary, still to check)."""
    from rapidfuzz.distance import Levenshtein

    old_norm, new_norm = [_norm(w.word) for w in old], [_norm(t) for t in tokens]
    times: list[tuple | None] = [None] * len(new_norm)
    agreed = 0
    # The fewest word edits between the two (rapidfuzz, in C++): on a 2-hour interview with
    # 2 % of its words corrected, 0.02 s where difflib's SequenceMatcher took 71 s.
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes(old_norm, new_norm):
        if tag == "equal":
            agreed += i2 - i1
            for k in range(i2 - i1):
                w = old[i1 + k]
                times[j1 + k] = (w.start, w.end, w.probability, w.heard)
        elif tag == "replace":
            # The edited words take the time the machine's words took, shared by length.
            span = (old[i1].start, old[i2 - 1].end)
            times[j1:j2] = _share(span, new_norm[j1:j2], probability=1.0)
    _fill_inserts(times, new_norm)
    return times, agreed


def _fill_inserts(times: list, new_norm: list[str]) -> None:
    """Words the editor added where the machine heard nothing: fit them between neighbours."""
    k = 0
    while k < len(times):
        if times[k] is not None:
            k += 1
            continue
        end = k
        while end < len(times) and times[end] is None:
            end += 1
        before = times[k - 1][1] if k else (times[end][0] if end < len(times) else 0.0)
        after = times[end][0] if end < len(times) else before + 0.4 * (end - k)
        times[k:end] = _share((before, max(after, before)), new_norm[k:end], probability=1.0)
        k = end


def _share(span: tuple[float, float], words: list[str], probability: float) -> list[tuple]:
    start, end = span
    weights = [len(w) + 1 for w in words]
    total, out, at = sum(weights), [], start
    for weight in weights:
        step = (end - start) * weight / total
        out.append((at, at + step, probability, None))
        at += step
    return out


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def _looks_like_name(candidate: str, names: set[str]) -> bool:
    candidate = candidate.strip()
    if candidate in names or re.fullmatch(r"Speaker \d+", candidate):
        return True
    words = candidate.split()
    return 2 <= len(words) <= 5 and all(w[0].isupper() for w in words if w[0].isalpha())


def _blocks(text: str):
    """Paragraphs separated by blank lines, with the line number each starts on; comment
    lines (starting with "# ", as the machine's mark does) are left out."""
    block, first = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# "):
            continue
        if line.strip():
            if not block:
                first = number
            block.append(line.strip())
        elif block:
            yield first, " ".join(block)
            block = []
    if block:
        yield first, " ".join(block)


# --- the people an edited transcript names ---------------------------------------------------

# A speaker name this alike to a known one (difflib's ratio, case aside) is taken for a typo
# of it: "Helen Wrad" for "Helen Ward" (0.9), "Mark Loyd" for "Mark Lloyd" (0.95); "Helen
# Hughes" against "Helen Ward" is 0.57.
TYPO = 0.8


def known_names(card: Card, machine: Transcript) -> set[str]:
    """The names an interview already knows: its card's people and the machine's speakers."""
    names = {card.interviewer, *card.guests, *card.speakers.names, *(n for _, n in card.speakers.rename),
             *(t.speaker for t in card.sources), *(s.speaker for s in machine.segments)}
    return {n for n in names if n}


def check_speaker_names(paragraphs: list[Paragraph], known: set[str], path: Path) -> list[Paragraph]:
    """A speaker name that no card or machine gave, and that is close to a known name (or to
    one the file itself uses more often), is a probable typo: the paragraph keeps the known
    name and a warning names the file and line. Other new names are the editor's: a rename
    or a person the machine did not tell apart."""
    uses: dict[str, int] = {}
    for paragraph in paragraphs:
        if paragraph.speaker:
            uses[paragraph.speaker] = uses.get(paragraph.speaker, 0) + 1
    result = []
    for paragraph in paragraphs:
        name = paragraph.speaker
        if name and name not in known and not re.fullmatch(r"Speaker \d+", name):
            candidates = known | {other for other, n in uses.items() if n > uses[name]}
            nearest = _nearest_name(name, candidates)
            if nearest:
                log.warning("%s line %d: '%s' is not a name this interview knows; taken as a probable "
                            "typo of '%s'. If it is someone else, add them to the card.", path,
                            paragraph.line, name, nearest)
                paragraph = Paragraph(paragraph.start, nearest, paragraph.text, paragraph.line)
        result.append(paragraph)
    return result


def _nearest_name(name: str, candidates: set[str]) -> str | None:
    scored = [(difflib.SequenceMatcher(None, name.casefold(), c.casefold()).ratio(), c)
              for c in sorted(candidates) if c != name]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= TYPO else None


def renamed_people(card: Card, transcript: Transcript, folder: Path) -> Card:
    """The card with its people as a corrected transcript names them, so the page header, the
    feeds, the structured data and the search filters follow an editor's renames: each voice
    the machine named (speakers.json) takes the name the editor gave most of its speech, and
    people the editor named who are not on the card join the guests."""
    if not edited_transcript(folder):
        return card
    found = read_json(folder / "speakers.json", {})
    machine_names = found.get("names", {})
    spoken = {machine_names[voice]: said for voice, said in names_heard(found, transcript).items()
              if voice in machine_names}
    on_card = {card.interviewer, *card.guests}
    # A voice given to someone else on the card is a fixed attribution, not a rename.
    renames = {old: new for old, said in spoken.items() if (new := max(said, key=said.get)) not in on_card}
    interviewer = renames.get(card.interviewer, card.interviewer) if card.interviewer else ""
    guests = [renames.get(g, g) for g in card.guests]
    guests += [s.speaker for s in transcript.segments if s.speaker and not re.fullmatch(r"Speaker \d+", s.speaker)]
    guests = [g for g in dict.fromkeys(guests) if g != interviewer]
    if (interviewer, tuple(guests)) == (card.interviewer, card.guests):
        return card
    log.info("%s: the corrected transcript names the people %s", card.slug,
             ", ".join(filter(None, [interviewer, *guests])))
    return dataclasses.replace(card, interviewer=interviewer, guests=tuple(guests))
