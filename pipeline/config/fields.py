"""The field table: each setting is a dataclass field that carries its YAML type, help text,
check and parser, with its default declared once, on the field itself.

`validate` reads a YAML mapping against such a dataclass and collects every problem, so an
editor with three mistakes hears about three (as mkdocs' load_config does).
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Option:
    """What the table says about one field: how it is written, checked and explained."""

    name: str
    kind: type | tuple[type, ...]  # what YAML may give
    help: str
    default: Any  # dataclasses.MISSING when required
    check: Callable[[Any], str | list[str] | None] | None = None  # returns problem(s), or None
    parse: Callable[[Any], Any] | None = None  # YAML value -> the dataclass's value
    nested: type | None = None  # a dataclass of sub-settings (transcribe.*), checked the same way

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING

    @property
    def yaml_default(self) -> Any:
        """The default as a card or site.yaml writes it."""
        if isinstance(self.default, tuple):  # () is how a dataclass holds an empty list or mapping
            return dict(self.default) if self.kind is dict else list(self.default)
        if dataclasses.is_dataclass(self.default):
            return {} if self.kind is dict else None
        if self.required:
            return None
        return self.default


def option(help: str, kind, default=dataclasses.MISSING, *, check=None, parse=None, nested=None):
    """A dataclass field that is also a row of the field table."""
    meta = {"option": dict(kind=kind, help=help, check=check, parse=parse, nested=nested)}
    if nested is not None and default is dataclasses.MISSING:
        return dataclasses.field(default_factory=nested, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def table(cls) -> dict[str, Option]:
    """The rows of a settings dataclass, in declaration order."""
    rows = {}
    for f in dataclasses.fields(cls):
        if "option" in f.metadata:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            rows[f.name] = Option(f.name, default=default, **f.metadata["option"])
    return rows


def validate(data: Any, cls, where: str = "") -> tuple[dict, list[str]]:
    """Check a mapping against a settings dataclass; return the parsed values (defaults for
    what is not given) and every problem, each naming its field."""
    rows = table(cls)
    if not isinstance(data, dict):
        return {}, [f"{where.rstrip('.') or 'the file'} must be a mapping of 'field: value' lines"]
    problems, values = [], {}
    for key in data:
        if key not in rows:
            close = difflib.get_close_matches(str(key), rows, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(rows)}"
            problems.append(f"unknown field '{where}{key}'{hint}")
    for name, row in rows.items():
        value = data.get(name)
        if value is None or value == "":
            if row.required:
                problems.append(f"'{where}{name}' is required: {row.help}")
            else:
                values[name] = row.default
            continue
        if not isinstance(value, row.kind) or isinstance(value, bool) and row.kind is int:
            problems.append(f"'{where}{name}' must be {_kind_name(row.kind)}, not {type(value).__name__}")
            continue
        if row.nested:
            nested, more = validate(value, row.nested, f"{where}{name}.")
            problems += more
            given = {k: nested[k] for k in value if k in nested}  # only what is given
            values[name] = row.parse(given) if row.parse else given
            continue
        found = row.check(value) if row.check else None
        if found:
            for problem in [found] if isinstance(found, str) else found:
                problems.append(f"'{where}{name}' {problem}" if problem.startswith(("is ", "must ", "uses "))
                                else f"'{where}{name}': {problem}")
            continue
        values[name] = row.parse(value) if row.parse else value
    return values, problems


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", list: "a list", dict: "a mapping", int: "a whole number",
             datetime.date: "a date", bool: "true or false"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
