"""The editor's card (media/SLUG/interview.yaml) and the site settings (site.yaml).

Each field has a type, a default and a help text in one schema. Loading collects every
problem and reports them all at once, so an editor with three mistakes hears about three.
"""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import yaml

from pipeline.errors import CardError

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
# Folders the site itself uses: a post with one of these slugs would overwrite them.
RESERVED_SLUGS = frozenset({"static", "tags", "search", "data", "pagefind"})
CARD_NAME = "interview.yaml"
SITE_NAME = "site.yaml"


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    help: str
    default: Any = None
    required: bool = False
    check: Callable[[Any], str | list[str] | None] | None = None  # returns problem(s), or None


def _check_date(value) -> str | None:
    if isinstance(value, datetime.date):
        return None
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        return f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2024-03-18"
    return None


def _check_source(value) -> str | None:
    text = str(value).strip()
    if not text:
        return "is empty; give an http(s) URL or the name of a file in the card's folder"
    scheme = urlparse(text).scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        return f"'{text}' uses '{scheme}:', but only http and https URLs are fetched"
    if "/" in text or "\\" in text or text.startswith("."):
        return f"'{text}' must be a file name inside the card's folder (no folders, no '..')"
    return None


def _check_names(value) -> str | None:
    if not all(isinstance(v, str) and v.strip() for v in value):
        return "must be a list of names (text)"
    return None


SPEAKER_ID = re.compile(r"^speaker[ _-]?(\d{1,2})$", re.IGNORECASE)
MAX_SPEAKERS = 20


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
    return None


def _check_base_url(value) -> str | None:
    url = urlparse(str(value))
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        return f"'{value}' is not a site address such as https://example.org/interviews/"
    return None


def _check_language(value) -> str | None:
    if not re.fullmatch(r"[a-z]{2,3}", str(value)):
        return f"'{value}' is not a language code such as 'en' or 'de'"
    return None


def parse_time(value) -> float | None:
    """Seconds from 90, 90.5, "1:30", "01:02:03" or "1:30.5"; None if it is not a time.

    YAML already reads an unquoted 1:30 as 90 (base 60), which is the same number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    match = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)|(\d+(?:\.\d+)?)", str(value).strip())
    if not match:
        return None
    hours, minutes, seconds, plain = match.groups()
    if plain is not None:
        return float(plain)
    if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


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


CARD_FIELDS: dict[str, Field] = {
    "title": Field(str, "Title of the post.", required=True),
    "date": Field((str, datetime.date), "Date of the interview, YYYY-MM-DD.", required=True,
                  check=_check_date),
    "source": Field(str, "An http(s) URL (YouTube, a web page with a video, a media link) "
                         "or the name of a media file in the card's folder.", required=True,
                    check=_check_source),
    "interviewer": Field(str, "Name of the person asking the questions.", default=""),
    "guests": Field(list, "Names of the people interviewed.", default=[], check=_check_names),
    "intro": Field(str, "Introduction shown above the video (Markdown).", default=""),
    "tags": Field(list, "Topics, for tag pages and search.", default=[], check=_check_names),
    "language": Field(str, "Spoken language, as a code such as 'en'.", default="en",
                      check=_check_language),
    "speakers": Field((int, list, dict), "Who speaks, when the interviewer and guests do not "
                      "say it right: a number of voices (1 for a talk), the names in the order "
                      "they first speak, or names for voices, e.g. {SPEAKER_2: Mark Lloyd}. "
                      "Leave empty to name voices from the interviewer and guests.",
                      default=None, check=_check_speakers),
    "reviewed": Field(bool, "true once an editor has checked the transcript against the "
                            "recording; until then the post says it is machine-made.",
                      default=False),
    "chapters": Field(list, "Chapters to use instead of the automatic ones: a list of "
                            "{start: \"M:SS\" or seconds, title: ...}, the first at 0:00.",
                      default=[], check=_check_chapters),
    "quotes": Field(dict, "Pull quotes: {pin: [text, ...], drop: [text, ...]}; each text is "
                          "copied from the transcript.", default={}, check=_check_quotes),
    "transcribe": Field(dict, "Speech recognition settings for this interview only, overriding "
                              "site.yaml's (same fields, e.g. `model: small.en`).", default={}),
}

ENGINES = ("faster-whisper", "openai-whisper")
# What CTranslate2 runs on a CPU (ctranslate2.get_supported_compute_types("cpu"), plus auto).
COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "auto")


def _positive(value) -> str | None:
    return None if value >= 1 else "must be 1 or more"


def _not_negative(value) -> str | None:
    return None if value >= 0 else "must be 0 or more"


# The defaults are chosen by measurement (`make bench`, 30-minute interview, tiny.en, 2 shared
# cores, each comparison from one run): a worker per core, each decoding its own batches on one
# thread, over one batch on both threads (1.58x the speed: two threads wait for each other at
# every decoding step); beam 5 over beam 3 (WER 4.2 % against 4.7 % on the WAV, and 4.6 %
# against 5.0 % through a whole publish, where beam 3 saved only 5 % of the time) and over
# greedy (6.1 %, 13 % faster); 8 clips in flight in all (16 was no faster and took 1.8 GB);
# batched over one clip after another (2x the time); int8 over float32 (the encoder took 40 %
# longer in float32).
TRANSCRIBE_FIELDS: dict[str, Field] = {
    "engine": Field(str, "Speech recogniser: 'faster-whisper' (fast) or 'openai-whisper' (the "
                         "reference implementation).", default="faster-whisper",
                    check=lambda v: None if v in ENGINES else
                    f"'{v}' is not a known engine; use {' or '.join(map(repr, ENGINES))}"),
    "model": Field(str, "Whisper model: 'tiny.en' (bundled, works offline), another Whisper "
                        "model name (downloaded by the engine), or a local path (a CTranslate2 "
                        "folder; for openai-whisper also a .pt checkpoint).",
                   default="tiny.en"),
    "compute_type": Field(str, "CTranslate2 compute type on CPU (faster-whisper only): "
                               f"{', '.join(COMPUTE_TYPES)}.", default="int8",
                          check=lambda v: None if v in COMPUTE_TYPES else
                          f"'{v}' is not a compute type; use one of {', '.join(COMPUTE_TYPES)}"),
    "beam_size": Field(int, "Beam width; 1 is greedy.", default=5, check=_positive),
    "batch_size": Field(int, "Speech clips decoded at once, shared among the workers "
                             "(faster-whisper; 1 decodes them one after another).", default=8,
                       check=_positive),
    "threads": Field(int, "CPU threads for the model; 0 means all cores.", default=0,
                     check=_not_negative),
    "workers": Field(int, "Batches of clips decoded at once, sharing the threads "
                          "(faster-whisper); 0 means one per thread.", default=0,
                     check=_not_negative),
}

SITE_FIELDS: dict[str, Field] = {
    "title": Field(str, "Name of the site.", default="Interviews"),
    "base_url": Field(str, "Public address of the site, for feeds, sitemap and share links.",
                      default="http://localhost:8000/", check=_check_base_url),
    "language": Field(str, "Language of the site's pages.", default="en", check=_check_language),
    "author": Field(str, "Who publishes the site.", default=""),
    "description": Field(str, "One line about the site.", default=""),
    "transcribe": Field(dict, "Speech recognition settings (see below).", default={}),
}


def validate(data: Any, schema: dict[str, Field], where: str = "") -> tuple[dict, list[str]]:
    """Check a mapping against a schema; return the values with defaults and every problem."""
    if not isinstance(data, dict):
        return {}, [f"{where or 'the file'} must be a mapping of 'field: value' lines"]
    problems, values = [], {}
    for key in data:
        if key not in schema:
            close = difflib.get_close_matches(str(key), schema, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(schema)}"
            problems.append(f"unknown field '{where}{key}'{hint}")
    for name, spec in schema.items():
        value = data.get(name)
        if value is None or value == "":
            if spec.required:
                problems.append(f"'{where}{name}' is required: {spec.help}")
            values[name] = _copy(spec.default)
            continue
        if not isinstance(value, spec.kind) or isinstance(value, bool) and spec.kind is int:
            problems.append(f"'{where}{name}' must be {_kind_name(spec.kind)}, not {type(value).__name__}")
            continue
        found = spec.check(value) if spec.check else None
        if found:
            for problem in [found] if isinstance(found, str) else found:
                problems.append(f"'{where}{name}' {problem}" if problem.startswith(("is ", "must ", "uses "))
                                else f"'{where}{name}': {problem}")
            continue
        values[name] = value
    return values, problems


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", list: "a list", dict: "a mapping", int: "a whole number",
             datetime.date: "a date", bool: "true or false"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


@dataclass(frozen=True)
class TranscribeSettings:
    engine: str = "faster-whisper"
    model: str = "tiny.en"
    compute_type: str = "int8"
    beam_size: int = 5
    batch_size: int = 8
    threads: int = 0
    workers: int = 0


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
        if isinstance(value, dict):
            return cls(rename=tuple(sorted((int(SPEAKER_ID.match(str(k))[1]), v.strip())
                                           for k, v in value.items())))
        return cls()


@dataclass(frozen=True)
class Card:
    """One interview as the editor described it."""

    slug: str
    folder: Path
    title: str
    date: datetime.date
    source: str
    interviewer: str = ""
    guests: tuple[str, ...] = ()
    intro: str = ""
    tags: tuple[str, ...] = ()
    language: str = "en"
    speakers: SpeakerSettings = field(default_factory=SpeakerSettings)
    reviewed: bool = False
    chapters: tuple[tuple[float, str], ...] = ()  # (start in seconds, title)
    pin_quotes: tuple[str, ...] = ()
    drop_quotes: tuple[str, ...] = ()
    transcribe: tuple[tuple[str, Any], ...] = ()  # only the settings the card overrides

    @property
    def is_url(self) -> bool:
        return _is_url(self.source)

    @property
    def path(self) -> Path:
        return self.folder / CARD_NAME


@dataclass(frozen=True)
class Site:
    """Site-wide settings from site.yaml (all optional)."""

    title: str = "Interviews"
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    author: str = ""
    description: str = ""
    transcribe: TranscribeSettings = field(default_factory=TranscribeSettings)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that leaves dates as text: we check them ourselves, with a clear message.
    libyaml's parser when PyYAML has it: ten times faster, and every publish reads every card."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> tuple[Any, list[str]]:
    """Parse a YAML file; return (data, problems) instead of raising on bad syntax."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        return None, [f"cannot read the file: {e.strerror}"]
    except UnicodeDecodeError:
        return None, ["the file is not UTF-8 text; save it as UTF-8"]
    try:
        return yaml.load(text, Loader=_Loader), []
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"the file is not valid YAML{at}: {getattr(e, 'problem', None) or e}"]


def load_card(folder: Path) -> Card:
    """Read and validate media/SLUG/interview.yaml; raise CardError listing every problem."""
    path = folder / CARD_NAME
    data, problems = read_yaml(path)
    slug = folder.name
    if not SLUG_PATTERN.match(slug):
        problems.append(f"the folder name '{slug}' is not a usable slug: use lower-case letters, "
                        "digits and '-' (it becomes the post's address)")
    elif slug in RESERVED_SLUGS:
        problems.append(f"the folder name '{slug}' is used by the site itself; rename the folder "
                        f"(reserved: {', '.join(sorted(RESERVED_SLUGS))})")
    values = {}
    if not problems or data is not None:
        values, more = validate(data if data is not None else {}, CARD_FIELDS)
        problems += more
    overrides, more = _card_transcribe(data, values)
    problems += more
    if not problems and not _is_url(values["source"]) and not (folder / values["source"]).is_file():
        problems.append(f"'source' names '{values['source']}', but there is no such file in {folder}/")
    if problems:
        raise CardError(path, problems)
    date = values["date"]
    return Card(
        slug=slug, folder=folder, title=values["title"].strip(),
        date=date if isinstance(date, datetime.date) else datetime.date.fromisoformat(str(date)),
        source=values["source"].strip(), interviewer=values["interviewer"].strip(),
        guests=tuple(g.strip() for g in values["guests"]), intro=values["intro"],
        tags=tuple(t.strip() for t in values["tags"]), language=values["language"],
        speakers=SpeakerSettings.parse(values["speakers"]),
        reviewed=values["reviewed"],
        chapters=tuple((parse_time(c["start"]), c["title"].strip()) for c in values["chapters"]),
        pin_quotes=tuple(t.strip() for t in values["quotes"].get("pin") or ()),
        drop_quotes=tuple(t.strip() for t in values["quotes"].get("drop") or ()),
        transcribe=tuple(overrides.items()),
    )


def _card_transcribe(data: Any, values: dict) -> tuple[dict, list[str]]:
    """The card's own transcribe settings, checked with the site's schema: only those given."""
    given = values.get("transcribe") or {}
    if not isinstance(given, dict) or not isinstance(data, dict):
        return {}, []
    checked, problems = validate(given, TRANSCRIBE_FIELDS, "transcribe.")
    return {k: checked[k] for k in given if k in checked}, problems


def transcribe_settings(site: "Site", card: Card) -> TranscribeSettings:
    """The settings for one interview: site.yaml's, with the card's own overrides."""
    return replace(site.transcribe, **dict(card.transcribe))


def load_site(root: Path) -> Site:
    """Read site.yaml at the project root, if there is one."""
    path = root / SITE_NAME
    if not path.exists():
        return Site()
    data, problems = read_yaml(path)
    values, more = validate(data if data is not None else {}, SITE_FIELDS)
    transcribe, even_more = validate(values.get("transcribe") or {}, TRANSCRIBE_FIELDS, "transcribe.")
    problems += more + even_more
    if problems:
        raise CardError(path, problems)
    values["transcribe"] = TranscribeSettings(**transcribe)
    values["base_url"] = values["base_url"].rstrip("/") + "/"  # pages are joined onto it
    return Site(**values)


def _is_url(text: str) -> bool:
    return urlparse(text).scheme.lower() in ("http", "https")


def card_template(title: str, source: str, date: datetime.date) -> str:
    """The text of a new card, with every field explained, for `pipeline new`."""
    lines = ["# Interview card: fill in the fields, then run `make publish`."]
    values = {"title": title, "date": date.isoformat(), "source": source}
    for name, spec in CARD_FIELDS.items():
        lines.append(f"\n# {spec.help}{' (required)' if spec.required else ''}")
        value = values.get(name, spec.default)
        lines.append(yaml.safe_dump({name: value}, allow_unicode=True, sort_keys=False,
                                    default_flow_style=False).rstrip())
    return "\n".join(lines) + "\n"
