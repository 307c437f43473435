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
from pipeline.errors import CardError


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
        values, more = validate(data if data is not None else {}, Card)
        problems += more
    problems += _check_media(folder, values, data or {}, files=not problems)
    if problems:
        raise CardError(path, problems)
    return Card(slug=slug, folder=folder, **values)


def _check_media(folder: Path, values: dict, data: dict, files: bool) -> list[str]:
    """`source` or `sources`, one of them (as given, even when it had problems of its own),
    and, when `files`, the files they name are there."""
    given = [name for name in ("source", "sources") if isinstance(data, dict) and data.get(name)]
    if len(given) == 2:
        return ["give either 'source' (one recording) or 'sources' (one per person), not both"]
    if not given:
        return [f"'source' is required: {table(Card)['source'].help}"]
    source, sources = values.get("source"), values.get("sources")
    if not files:
        return []
    if source and not is_url(source) and not (folder / source).is_file():
        return [f"'source' names '{source}', but there is no such file in {folder}/"]
    return [f"'sources' names '{track.file}' for {track.speaker}, but there is no such file in {folder}/"
            for track in sources or () if not (folder / track.file).is_file()]


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
    """The settings for one interview: site.yaml's, with the card's own overrides."""
    return replace(site.transcribe, **dict(card.transcribe))


def card_template(title: str, source: str, date: datetime.date) -> str:
    """The text of a new card, with every field explained, for `pipeline new`."""
    lines = ["# Interview card: fill in the fields, then run `make publish`."]
    values = {"title": title, "date": date.isoformat(), "source": source}
    for name, row in table(Card).items():
        lines.append(f"\n# {row.help}{' (required)' if row.required else ''}")
        value = values.get(name, row.yaml_default)
        lines.append(yaml.safe_dump({name: value}, allow_unicode=True, sort_keys=False,
                                    default_flow_style=False).rstrip())
    return "\n".join(lines) + "\n"
