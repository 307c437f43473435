"""The settings an editor writes: the card (media/SLUG/interview.yaml) and site.yaml.

Each dataclass below is also the field table of its file: every field carries its YAML type,
its default (declared once, here), a help text, a check and a parser. The loader
(pipeline.config.load), the card template of `pipeline new` and the README's tables
(pipeline.config.docs) are all made from these tables.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pipeline import languages
from pipeline.config.fields import option
from pipeline.timecode import parse_time

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# Folders the site itself uses: a post with one of these slugs would overwrite them.
RESERVED_SLUGS = frozenset({"static", "tags", "search", "data", "pagefind"})
CARD_NAME = "interview.yaml"
SITE_NAME = "site.yaml"

def slug_for(title: str, taken: set[str]) -> str:
    """A post address made from a title ("Why I Blog!" -> "why-i-blog"), not one in `taken`."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].strip("-") or "interview"
    if base in RESERVED_SLUGS:
        base += "-interview"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


ENGINES = ("faster-whisper", "openai-whisper")
# What CTranslate2 runs on a CPU (ctranslate2.get_supported_compute_types("cpu"), plus auto).
COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "auto")
QUALITIES = ("accurate", "fast")
SPEAKER_ID = re.compile(r"^speaker[ _-]?(\d{1,2})$", re.IGNORECASE)
MAX_SPEAKERS = 20


# --- checks: each returns the problem(s) with a value, or None ------------------------------

def _check_date(value) -> str | None:
    if isinstance(value, datetime.date):
        return None
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        return f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2024-03-18"
    return None


def is_url(text: str) -> bool:
    return urlparse(text).scheme.lower() in ("http", "https")


def _check_source(value) -> str | None:
    text = str(value).strip()
    if not text:
        return "is empty; give an http(s) URL or the name of a file in the card's folder"
    scheme = urlparse(text).scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        return f"'{text}' uses '{scheme}:', but only http and https URLs are fetched"
    return _check_file_name(text)


def _check_file_name(text: str) -> str | None:
    if "/" in text or "\\" in text or text.startswith("."):
        return f"'{text}' must be a file name inside the card's folder (no folders, no '..')"
    return None


MAX_CHANNEL = 8


def _check_sources(value) -> list[str]:
    problems = []
    if len(value) == 1:
        problems.append("lists fewer than two recordings; for one file use `source:` instead")
    people, recordings = [], []
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict) or set(item) - {"speaker", "file", "channel"} or not {"speaker", "file"} <= set(item):
            problems.append(f"item {n} must be a mapping with 'speaker' and 'file' (and, for one person "
                            "per channel of a stereo file, 'channel'), e.g. {speaker: Helen Ward, file: helen.wav}")
            continue
        speaker, file, channel = item["speaker"], item["file"], item.get("channel")
        if not isinstance(speaker, str) or not speaker.strip():
            problems.append(f"item {n}: 'speaker' must be the person's name (text)")
        if not isinstance(file, str) or not file.strip():
            problems.append(f"item {n}: 'file' must be the name of a media file in the card's folder")
        elif problem := _check_file_name(file.strip()):
            problems.append(f"item {n}: {problem}")
        if channel is not None and (isinstance(channel, bool) or not isinstance(channel, int)
                                    or not 1 <= channel <= MAX_CHANNEL):
            problems.append(f"item {n}: 'channel' must be a channel number, 1 (left) to {MAX_CHANNEL}")
        people.append(str(speaker).strip())
        recordings.append((str(file).strip(), channel))
    for name in sorted({p for p in people if people.count(p) > 1}):
        problems.append(f"names {name} twice; give each person one recording")
    for file, channel in sorted({r for r in recordings if recordings.count(r) > 1}, key=str):
        where = f"channel {channel} of '{file}'" if channel else f"'{file}'"
        problems.append(f"gives {where} to two people; a stereo file with one person per channel "
                        "needs `channel: 1` and `channel: 2`")
    return problems


def _check_names(value) -> str | None:
    if not all(isinstance(v, str) and v.strip() for v in value):
        return "must be a list of names (text)"
    return next(filter(None, map(_one_line, value)), None)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(value: str) -> str | None:
    """Names and titles go into captions, feeds and headers, where a line break splits them."""
    if _CONTROL.search(value.strip()):
        return f"{value.strip()!r} holds a line break or another control character; write it on one line"
    return None


def _check_speakers(value) -> str | None:
    if isinstance(value, bool):
        return "must be a number of voices, a list of names, or a mapping such as {SPEAKER_1: Mark Lloyd}"
    if isinstance(value, int):
        if not 1 <= value <= MAX_SPEAKERS:
            return f"is {value}, but must be a number of voices from 1 to {MAX_SPEAKERS}"
        return None
    if isinstance(value, list):
        if not value:
            return "is an empty list; list the names in the order they first speak, or remove the field"
        if problem := _check_names(value):
            return problem
        twice = sorted({v.strip() for v in value if [w.strip() for w in value].count(v.strip()) > 1})
        if twice:
            return f"names {', '.join(twice)} twice; list each person once, in the order they first speak"
        return None if len(value) <= MAX_SPEAKERS else f"lists more than {MAX_SPEAKERS} names"
    bad = [str(k) for k in value if not SPEAKER_ID.match(str(k)) or int(SPEAKER_ID.match(str(k))[1]) < 1]
    if bad:
        return (f"has {', '.join(repr(b) for b in bad)}: the keys are the voices as the transcript "
                "shows them, SPEAKER_1, SPEAKER_2 ... or 'Speaker 3', e.g. {SPEAKER_1: Mark Lloyd}")
    if not all(isinstance(v, str) and v.strip() for v in value.values()):
        return "must map each voice to a name (text), e.g. {SPEAKER_1: Mark Lloyd}"
    return next(filter(None, map(_one_line, value.values())), None)


def _check_base_url(value) -> str | None:
    url = urlparse(str(value))
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        return f"'{value}' is not a site address such as https://example.org/interviews/"
    return None


def _check_scheduler(value) -> str | None:
    if value in ("local", "none") or re.fullmatch(r"(tcp|tls|ucx|inproc)://\S+", value):
        return None
    return f"'{value}' is not a scheduler address such as tcp://host:8786, nor 'local'"


def _check_language(value) -> str | None:
    return languages.problem(value)


def _check_spoken_language(value) -> str | None:
    return languages.problem(value, spoken=True)


def _check_glossary(value) -> str | None:
    if not all(isinstance(v, str) and v.strip() for v in value):
        return "must be a list of names and terms (text), e.g. [Helen Ward, Llanelli, FOI request]"
    return next(filter(None, map(_one_line, value)), None)


def _check_chapters(value) -> list[str]:
    problems, last = [], None
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict) or set(item) - {"start", "title"}:
            problems.append(f"item {n} must be a mapping with only 'start' and 'title', "
                            "e.g. {start: \"1:30\", title: \"Why blog at all\"}")
            continue
        start = parse_time(item.get("start"))
        title = item.get("title")
        if start is None:
            problems.append(f"item {n}: start '{item.get('start')}' is not a time; write M:SS "
                            "(e.g. \"1:30\") or seconds (e.g. 90)")
        if not isinstance(title, str) or not title.strip():
            problems.append(f"item {n} needs a title (text)")
        if start is not None:
            if n == 1 and start != 0:
                problems.append("the first chapter must start at 0:00 (players and YouTube need it)")
            if last is not None and start <= last:
                problems.append(f"item {n} starts at or before the chapter above it; list chapters "
                                "in time order")
            last = start
    return problems


def _check_quotes(value) -> str | None:
    unknown = sorted(set(value) - {"pin", "drop"})
    if unknown:
        return (f"must have only 'pin' (quotes to keep) and 'drop' (quotes never to show), "
                f"not {', '.join(map(repr, unknown))}")
    for key in ("pin", "drop"):
        texts = value.get(key) or []
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            return f"'{key}' must be a list of texts, each copied from the transcript"
    return None


def _one_of(choices: tuple[str, ...], what: str):
    return lambda v: None if v in choices else f"'{v}' is not {what}; use one of {', '.join(choices)}"


def _positive(value) -> str | None:
    return None if value >= 1 else "must be 1 or more"


def _not_negative(value) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _stripped(value: str) -> str:
    return value.strip()


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in values)


# --- the tables ---------------------------------------------------------------------------

# The defaults are chosen by measurement (`make bench`, 30-minute interview, tiny.en, 2 shared
# cores, each comparison from one run): a worker per core, each decoding its own batches on one
# thread, over one batch on both threads (1.58x the speed: two threads wait for each other at
# every decoding step); beam 5 over beam 3 (WER 4.2 % against 4.7 % on the WAV, and 4.6 %
# against 5.0 % through a whole publish, where beam 3 saved only 5 % of the time) and over
# greedy (6.1 %, 13 % faster); 8 clips in flight in all (16 was no faster and took 1.8 GB);
# batched over one clip after another (2x the time); int8 over float32 (the encoder took 40 %
# longer in float32). Quality `fast` (tiny.en) stays the default over `accurate` (Whisper base):
# base's WER was 29 % lower (the goal for a default was 30 %) at 0.78x the speed of a whole
# publish, and the studio's review queue uses base as its second opinion on tiny.en's words
# (README, "Engines and models").
@dataclass(frozen=True)
class TranscribeSettings:
    """Speech recognition: `transcribe:` in site.yaml, and in a card for that interview only."""

    engine: str = option(
        "Speech recogniser: `faster-whisper` or `openai-whisper` (the reference implementation, "
        "several times slower).", str, "faster-whisper", check=_one_of(ENGINES, "a known engine"))
    quality: str = option(
        "`accurate`: Whisper `base` (multilingual); `fast`: `tiny.en` (English only, so other "
        "languages still get `base`). Both ship with the pipeline and work offline, with both "
        "engines. `model` overrides it.", str, "fast", check=_one_of(QUALITIES, "a quality"))
    model: str = option(
        "Empty: the model `quality` chooses. Otherwise `base` or `tiny.en` (shipped, offline), "
        "another Whisper model name (downloaded by the engine when online; offline, an error "
        "says what to do), or a local path: a CTranslate2 model folder, or for openai-whisper "
        "also a `.pt` checkpoint.", str, "")
    compute_type: str = option(
        f"CTranslate2 compute type on the CPU (faster-whisper only): {', '.join(COMPUTE_TYPES)}.",
        str, "int8", check=_one_of(COMPUTE_TYPES, "a compute type"))
    beam_size: int = option("Beam width; 1 is greedy.", int, 5, check=_positive)
    batch_size: int = option(
        "Speech clips decoded at once, shared among the workers (faster-whisper; 1 decodes them "
        "one by one).", int, 8, check=_positive)
    threads: int = option("CPU threads; 0 uses all cores.", int, 0, check=_not_negative)
    workers: int = option(
        "Batches decoded at the same time, each on its share of the threads (faster-whisper); 0 "
        "means one per thread, which `make bench` measured 1.4x faster than one batch on all "
        "threads.", int, 0, check=_not_negative)
    # Not a field of the files: transcribe_settings() fills it with the glossaries and the
    # card's names, so that it is part of what the transcript is made from (its stage key).
    glossary: tuple[str, ...] = ()


@dataclass(frozen=True)
class DownloadSettings:
    """Limits on a download (`download:` in site.yaml), so that a stalled or endless source
    fails with a message instead of holding publish up; the other interviews go on meanwhile."""

    timeout: int = option("Seconds a download may take in all.", int, 4 * 3600, check=_positive)
    min_rate: int = option("Bytes a second a download must reach, on average over "
                           "`download.min_rate_seconds`, or it is stopped.", int, 10_000,
                           check=_not_negative)
    min_rate_seconds: int = option("The window, in seconds, over which `download.min_rate` is "
                                   "measured.", int, 60, check=_positive)


@dataclass(frozen=True)
class Site:
    """Site-wide settings from site.yaml (all optional)."""

    title: str = option("Name of the site.", str, "Interviews")
    base_url: str = option(
        "Public address of the site, ending in `/` (feeds, sitemap, share links and structured "
        "data are built on it; `pipeline serve` serves the site under its path).", str,
        "http://localhost:8000/", check=_check_base_url,
        parse=lambda url: url.rstrip("/") + "/")  # pages are joined onto it
    language: str = option(
        "Language of the pages, as a tag such as `en` or `en-GB` (English chapter titles follow "
        "its spelling: British for `en-GB`, American otherwise).", str, "en",
        check=_check_language)
    author: str = option("Who publishes the site.", str, "")
    description: str = option("One line about the site.", str, "")
    glossary: tuple[str, ...] = option(
        "Names and terms the recogniser should know (people, places, organisations, jargon): "
        "given to it as hints for every interview, and near-misses of them in a transcript are "
        "listed for review.", list, (), check=_check_glossary, parse=_names)
    voiceprints: bool = option(
        "Keep a voice print of each person named in an interview (in `voiceprints/` in the "
        "project, never in `site/`) to recognise them by voice in later interviews. Voice "
        "prints are biometric data: `false` keeps and uses none.", bool, True)
    transcribe: TranscribeSettings = option(
        "Speech recognition settings, below.", dict, nested=TranscribeSettings,
        parse=lambda given: TranscribeSettings(**given))
    download: DownloadSettings = option(
        "Limits on downloads, below.", dict, nested=DownloadSettings,
        parse=lambda given: DownloadSettings(**given))
    cluster: str = option(
        "A Dask scheduler to publish on (`tcp://host:8786`), or `local` for worker processes "
        "on this machine; empty: threads here. `pipeline publish --scheduler` overrides it.",
        str, "", check=_check_scheduler)


@dataclass(frozen=True)
class SpeakerSettings:
    """The card's `speakers` field: a count, names in order of first appearance, or renames."""

    count: int | None = None
    names: tuple[str, ...] = ()
    rename: tuple[tuple[int, str], ...] = ()  # (voice number from 1, name)

    @classmethod
    def parse(cls, value) -> "SpeakerSettings":
        if isinstance(value, int):
            return cls(count=value)
        if isinstance(value, list):
            return cls(count=len(value), names=tuple(v.strip() for v in value))
        return cls(rename=tuple(sorted((int(SPEAKER_ID.match(str(k))[1]), v.strip())
                                       for k, v in value.items())))


@dataclass(frozen=True)
class Track:
    """One person's own recording (the card's `sources`): a file, or one channel of it."""

    speaker: str
    file: str
    channel: int | None = None  # 1 is the left channel; None mixes every channel

    @classmethod
    def parse_all(cls, items: list[dict]) -> tuple["Track", ...]:
        return tuple(cls(i["speaker"].strip(), i["file"].strip(), i.get("channel")) for i in items)


@dataclass(frozen=True)
class QuoteChoices:
    """The card's `quotes` field: texts to pin as pull quotes and texts never to show."""

    pin: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: dict) -> "QuoteChoices":
        return cls(pin=_names(value.get("pin") or ()), drop=_names(value.get("drop") or ()))


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _chapters(items: list[dict]) -> tuple[tuple[float, str], ...]:
    return tuple((parse_time(c["start"]), c["title"].strip()) for c in items)


@dataclass(frozen=True)
class Card:
    """One interview as the editor described it in media/SLUG/interview.yaml."""

    slug: str
    folder: Path
    title: str = option("Title of the post.", str, check=_one_line, parse=_stripped)
    date: datetime.date = option("Date of the interview, `YYYY-MM-DD`.", (str, datetime.date),
                                 check=_check_date, parse=_date)
    source: str = option(
        "An http(s) URL (YouTube, a web page with a video, a direct media link) or the name of "
        "a media file in the card's folder. Audio-only files (mp3, m4a, wav, ogg) are fine. "
        "Required, unless `sources` is given.", str, "", check=_check_source, parse=_stripped)
    sources: tuple[Track, ...] = option(
        "Instead of `source`, for interviews recorded one file per person (remote-recording "
        "tools do this) or one person per channel: a list of `{speaker: NAME, file: FILE}`, "
        "with `channel: 1` (left) or `2` (right) for a stereo file. Who speaks when comes "
        "from the tracks (no voices are guessed), and the page plays them mixed. The files "
        "must start together and last as long.", list, (), check=_check_sources,
        parse=Track.parse_all)
    interviewer: str = option("Name of the person asking the questions.", str, "",
                              check=_one_line, parse=_stripped)
    guests: tuple[str, ...] = option("List of the people interviewed.", list, (),
                                     check=_check_names, parse=_names)
    intro: str = option("Introduction shown above the video, in Markdown (raw HTML is not "
                        "allowed).", str, "")
    tags: tuple[str, ...] = option("List of topics, for tag pages and search.", list, (),
                                   check=_check_names, parse=_names)
    language: str = option(
        "Spoken language, as a code Whisper knows (`en`, `fr`, `de`, `cy`, ...; a region such as "
        "`en-GB` is kept for the page), or `auto`: detected (by a multilingual model) and "
        "recorded in the transcript.", str, "en", check=_check_spoken_language)
    glossary: tuple[str, ...] = option(
        "Names and terms said in this interview, added to `site.yaml`'s glossary (the names of "
        "the interviewer, the guests and `speakers` are added without being listed).", list, (),
        check=_check_glossary, parse=_names)
    captions: bool = option(
        "Use the publisher's own captions as the transcript's text when the source has them: "
        "human-made subtitles of a video site (never automatic ones), a `<track>` on a web "
        "page, or a `.vtt`/`.srt` of the same name beside a local file. The recogniser times "
        "their words; `false` keeps the recogniser's words.", bool, True)
    speakers: SpeakerSettings = option(
        "Only when the interviewer and guests do not tell it right: the number of voices (`1` "
        "for a talk: no voices are told apart), the names in the order they first speak "
        "(`[Helen Ward, Daniel Hughes]`), or names for voices as `speakers.json` numbers them "
        "(`{SPEAKER_2: Mark Lloyd}`; `Speaker 3` works too).", (int, list, dict),
        SpeakerSettings(), check=_check_speakers, parse=SpeakerSettings.parse)
    reviewed: bool = option(
        "`true` once an editor has checked the transcript against the recording; until then the "
        "post says the transcript is machine-made and may contain mistakes.", bool, False)
    chapters: tuple[tuple[float, str], ...] = option(
        "Chapters to use instead of the automatic ones: a list of `{start: \"1:30\", title: "
        "\"...\"}` (start as `M:SS`, `H:MM:SS` or seconds), the first at `0:00`, in time order.",
        list, (), check=_check_chapters, parse=_chapters)
    quotes: QuoteChoices = option(
        "Pull quotes: `{pin: [text, ...], drop: [text, ...]}`. A pinned text is found in the "
        "transcript (case and punctuation aside) and published in the transcript's own words; "
        "a dropped one is never shown.", dict, QuoteChoices(), check=_check_quotes,
        parse=QuoteChoices.parse)
    transcribe: tuple[tuple[str, Any], ...] = option(
        "Speech recognition settings for this interview only, overriding `site.yaml`'s (same "
        "fields as `transcribe.*`), e.g. `transcribe: {model: small.en}`.", dict, (),
        nested=TranscribeSettings, parse=lambda given: tuple(given.items()))

    @property
    def is_url(self) -> bool:
        return is_url(self.source)

    @property
    def path(self) -> Path:
        return self.folder / CARD_NAME
