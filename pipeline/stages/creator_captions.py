"""The publisher's own captions: when a source has captions a person made, their words are
the transcript's text, and our recogniser only times them.

Where they come from (fetch records them in provenance.json as `captions`):
- a video site's subtitles that are not automatic (yt-dlp `--write-subs
  --no-write-auto-subs`: an automatic track is another recogniser's words, never used);
- a web page's `<track kind="captions|subtitles">` (yt-dlp's HTML5 reader);
- beside a local file, a `.vtt` or `.srt` of the same name (`talk.vtt`, `talk.en.srt`).

Their words are lined up with the recogniser's exactly as an editor's correction is
(corrections.align): words both have keep the recogniser's timings, the others share the
time of what they replaced. Each word takes the speaker of the recogniser's segment it falls
in, so the speakers stage still tells the voices apart. Captions that hardly agree with what
is said (another language, another recording) are not used, with a warning.

The order of trust: an editor's transcript.txt wins over the captions, and the captions win
over the recogniser (corrections.run aligns an edit onto the captions' text).
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from pipeline import languages
from pipeline.config import Card
from pipeline.errors import PipelineError
from pipeline.files import within
from pipeline.model import Fetched, Segment, Transcript, Word
from pipeline.stages import corrections

log = logging.getLogger(__name__)

SUFFIXES = (".vtt", ".srt")
# yt-dlp names subtitles source.<language>.<ext>; kept as captions.<language>.<ext>.
KEPT = "captions"
# At least this share of the captions' words must be words the recogniser heard there too.
MIN_AGREEMENT = 0.5
# What captions hold besides speech: sound descriptions, music notes, markup, speaker labels.
_SOUNDS = re.compile(r"\[[^\]]*\]|\([^)]*\)|♪[^♪]*♪|[♪♫]")
_TAGS = re.compile(r"<[^>]+>|\{\\[^}]*\}")
_LABEL = re.compile(r"^(?:>>\s*|-\s+|[A-Z][A-Z .'-]{1,40}:\s+)")


class CaptionsError(PipelineError):
    """A captions file cannot be read."""


def beside(source: Path) -> list[dict]:
    """The captions files of the same name beside a local file, with their language when the
    name says it (`talk.vtt`, `talk.en.srt`, `talk.pt-BR.vtt`)."""
    found = []
    for path in sorted(source.parent.iterdir()):
        if path.suffix.lower() not in SUFFIXES or not path.name.startswith(source.stem + "."):
            continue
        middle = path.name[len(source.stem) + 1:-len(path.suffix)]
        if middle and not languages.TAG.match(middle):
            continue
        found.append({"file": path.name, "language": middle or None})
    return found


def downloaded(scratch: Path) -> list[Path]:
    """The captions files yt-dlp wrote into its scratch folder (source.<language>.<ext>)."""
    return sorted(p for p in scratch.glob("source.*.*") if p.suffix.lower() in SUFFIXES)


def keep(files: list[Path], folder: Path) -> list[dict]:
    """Move downloaded captions into the card's folder (replacing older ones); their records."""
    for old in folder.glob(f"{KEPT}.*"):
        if old.suffix.lower() in SUFFIXES:
            old.unlink()
    kept = []
    for path in files:
        language = path.name.split(".")[1]
        target = folder / f"{KEPT}.{language}{path.suffix.lower()}"
        path.replace(target)
        kept.append({"file": target.name, "language": _language_of(language)})
    return kept


def _language_of(name: str) -> str | None:
    """yt-dlp's language key ('en', 'en-GB', 'None' for a <track> without srclang)."""
    return name if languages.TAG.match(name) and name.lower() not in ("none", "und") else None


def choose(found: list[dict], language: str) -> dict | None:
    """The captions for speech in `language` (a code): in that language (its exact tag
    first), or the only captions there are when they do not say their language."""
    same = [c for c in found if c["language"] and languages.base(c["language"]) == languages.base(language)]
    if same:
        return min(same, key=lambda c: (c["language"] != language, c["file"]))
    unnamed = [c for c in found if not c["language"]]
    return unnamed[0] if len(found) == 1 and unnamed else None


def read(path: Path) -> list[tuple[float, float, str]]:
    """The cues of a WebVTT or SRT file as (start, end, spoken words): markup, sound
    descriptions and speaker labels left out."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.from_srt(str(path)) if path.suffix.lower() == ".srt" else webvtt.read(str(path))
    except (MalformedFileError, MalformedCaptionError, UnicodeDecodeError, ValueError) as e:
        raise CaptionsError(f"{path}: the captions cannot be read ({type(e).__name__}: {e}). "
                            "Fix or remove the file (or set `captions: false` in the card); "
                            "nothing was changed.") from e
    cues, last = [], None
    for caption in captions:
        text = spoken(caption.raw_text)
        if not text or text == last:  # rolling captions repeat the line before
            continue
        cues.append((caption.start_time.in_milliseconds() / 1000,
                     caption.end_time.in_milliseconds() / 1000, text))
        last = text
    return cues


def spoken(text: str) -> str:
    """The words said in a cue's text (markup first, then entities: an escaped '<' is text)."""
    lines = [_LABEL.sub("", line.strip()) for line in html.unescape(_TAGS.sub("", text)).splitlines()]
    return " ".join(_SOUNDS.sub(" ", " ".join(lines)).split())


def run(card: Card, fetched: Fetched, machine: Transcript) -> Transcript:
    """The transcript in the publisher's captions' words, timed by the recogniser's, when the
    card allows it and the source has captions in its language; else the machine's."""
    chosen = choose(fetched.provenance.get("captions") or [], machine.language)
    if not card.captions or not chosen:
        return machine
    path = card.folder / chosen["file"]
    within(path, card.folder, "the publisher's captions")
    cues = read(path)
    tokens = [token for _, _, text in cues for token in text.split()]
    heard = [w for s in machine.segments for w in s.words]
    if not tokens or not heard:
        return machine
    times, agreed = corrections.align(heard, tokens)
    if agreed < MIN_AGREEMENT * len(tokens):
        log.warning("%s: the captions %s do not match what is said (only %.0f %% of their words "
                    "were heard); the recogniser's words are used. Check that they are this "
                    "recording's, in its language.", card.slug, path, 100 * agreed / len(tokens))
        return machine
    log.info("%s: the transcript's words are the publisher's captions (%s; %.0f %% of them "
             "heard by the recogniser too)", card.slug, path.name, 100 * agreed / len(tokens))
    return Transcript(language=machine.language, duration=machine.duration,
                      engine=machine.engine, model=machine.model, text_from="captions",
                      segments=_segments(machine, tokens, times))


def _segments(machine: Transcript, tokens: list[str], times: list[tuple]) -> list[Segment]:
    """The captions' words grouped as the recogniser's segments are (each word in the
    segment it falls in), so that speakers and paragraphs follow the recording. Every word
    is the publisher's: sure (probability 1)."""
    bounds = [(s.start, s.end) for s in machine.segments]
    groups: list[tuple[int, list[Word]]] = []
    at = 0
    for token, (start, end, *_) in zip(tokens, times):
        middle = (start + end) / 2
        while at + 1 < len(bounds) and middle >= bounds[at + 1][0]:
            at += 1
        word = Word(round(start, 3), round(end, 3), " " + token, 1.0)
        if groups and groups[-1][0] == at:
            groups[-1][1].append(word)
        else:
            groups.append((at, [word]))
    return [Segment(start=words[0].start, end=words[-1].end,
                    text="".join(w.word for w in words).strip(),
                    speaker=machine.segments[at].speaker, words=words) for at, words in groups]
