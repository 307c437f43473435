"""Reading cards and site.yaml: parse the YAML, check every field against its table, and
report every problem at once (CardError), naming the file and the field."""

from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.config.fields import table, validate
from pipeline.config.settings import (CARD_NAME, RESERVED_SLUGS, SITE_NAME, SLUG_PATTERN, Card,
                                      Site, TranscribeSettings, is_url)
from pipeline.errors import CardError, PipelineError
from pipeline.files import read_editor_text, within


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that leaves dates as text (we check them ourselves, with a clear message)
    and refuses a key written twice (YAML would silently keep the last). libyaml's parser
    when PyYAML has it: ten times faster, and every publish reads every card."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"'{key}' is written twice (lines {seen[key] + 1} and "
                    f"{key_node.start_mark.line + 1}); keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> tuple[Any, list[str]]:
    """Parse a YAML file; return (data, problems) instead of raising on bad syntax."""
    try:
        text = read_editor_text(path)
    except OSError as e:
        return None, [f"cannot read the file: {e.strerror}"]
    except PipelineError as e:  # not UTF-8: the message says what it is and what to do
        return None, [e.message.removeprefix(f"{path}: ")]
    try:
        return yaml.load(text, Loader=_Loader), []
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"the file is not valid YAML{at}: {getattr(e, 'problem', None) or e}"]


def load_card(folder: Path, path: Path | None = None, check_source: bool = True) -> Card:
    """Read and validate media/SLUG/interview.yaml (or `path`, a copy of it kept from an
    earlier publish); raise CardError listing every problem."""
    path = path or folder / CARD_NAME
    links = _links_out(path, folder)
    if links:  # never read through a link that leads out of the card's folder
        raise CardError(path, links)
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
        values, more = validate(data if data is not None else {}, Card)
        problems += more
    problems += _check_media(folder, values, data or {}, files=not problems and check_source)
    if problems:
        raise CardError(path, problems)
    return Card(slug=slug, folder=folder, **values)


def _links_out(path: Path, folder: Path) -> list[str]:
    """The problem when `path` (or its folder) is a link leading out of the card's folder
    (or the folder out of media/): sources and cards are read from inside the project only."""
    try:
        within(folder, folder.parent)
        within(path, folder)
    except PipelineError as e:
        return [e.message]
    return []


def _check_media(folder: Path, values: dict, data: dict, files: bool) -> list[str]:
    """`source` or `sources`, one of them (as given, even when it had problems of its own),
    and, when `files`, the files they name are there, inside the card's folder."""
    given = [name for name in ("source", "sources") if isinstance(data, dict) and data.get(name)]
    if len(given) == 2:
        return ["give either 'source' (one recording) or 'sources' (one per person), not both"]
    if not given:
        return [f"'source' is required: {table(Card)['source'].help}"]
    source, sources = values.get("source"), values.get("sources")
    if not files:
        return []
    if source and not is_url(source):
        if links := _links_out(folder / source, folder):
            return links
        if not (folder / source).is_file():
            return [f"'source' names '{source}', but there is no such file in {folder}/"]
    problems = []
    for track in sources or ():
        if links := _links_out(folder / track.file, folder):
            problems += links
        elif not (folder / track.file).is_file():
            problems.append(f"'sources' names '{track.file}' for {track.speaker}, but there is no "
                            f"such file in {folder}/")
    return problems


def load_site(root: Path) -> Site:
    """Read site.yaml at the project root, if there is one."""
    path = root / SITE_NAME
    if not path.exists():
        return Site()
    data, problems = read_yaml(path)
    values, more = validate(data if data is not None else {}, Site)
    if problems + more:
        raise CardError(path, problems + more)
    return Site(**values)


def transcribe_settings(site: Site, card: Card) -> TranscribeSettings:
    """The settings for one interview: site.yaml's, with the card's own overrides, and the
    glossary the recogniser is given (see glossary())."""
    return replace(site.transcribe, **dict(card.transcribe), glossary=glossary(site, card))


def glossary(site: Site, card: Card) -> tuple[str, ...]:
    """The names and terms of one interview: every name on the card (interviewer, guests,
    speakers), the card's glossary, then site.yaml's, each once; the most particular first,
    as the recogniser's hint has room for only so many (engines.hint)."""
    names = (card.interviewer, *card.guests, *card.speakers.names,
             *(name for _, name in card.speakers.rename), *card.glossary, *site.glossary)
    return tuple(dict.fromkeys(n for n in names if n))


def card_template(title: str, source: str, date: datetime.date, **fields) -> str:
    """The text of a new card, with every field explained, for `pipeline new`; `fields` fill
    in others (interviewer, guests, intro, ...)."""
    lines = ["# Interview card: fill in the fields, then run `make publish`."]
    values = {"title": title, "date": date.isoformat(), "source": source, **fields}
    for name, row in table(Card).items():
        lines.append(f"\n# {row.help}{' (required)' if row.required else ''}")
        value = values.get(name, row.yaml_default)
        lines.append(yaml.dump({name: value}, Dumper=_CardDumper, allow_unicode=True,
                               sort_keys=False, default_flow_style=False).rstrip())
    return "\n".join(lines) + "\n"


class _CardDumper(yaml.SafeDumper):
    """Writes text of several lines (an intro) as a `|` block an editor can edit in place."""


_CardDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))
