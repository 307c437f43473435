"""Permanent links to moments of an interview: the post's address, the anchor of each
transcript turn, and `?t=` addresses that start the player there.

A turn's anchor is made from its start time ("t-66.7"), not from its place in the list, so a
link written before an editor merged or split other paragraphs still finds its turn: a
correction keeps the times of the words it did not change. A link to a span adds `end=`.
"""

from __future__ import annotations

import math
from typing import Iterable


def page_url(base_url: str, slug: str) -> str:
    """The post's absolute address."""
    return f"{base_url.rstrip('/')}/{slug}/"


def anchor(start: float) -> str:
    """The id of the transcript turn that starts at `start` seconds: t-66.7."""
    return f"t-{math.floor(float(start) * 10 + 1e-6) / 10:.1f}"


def anchors(starts: Iterable[float]) -> list[str]:
    """The ids of turns starting at `starts`; two in the same tenth of a second get -2, -3."""
    seen: dict[str, int] = {}
    result = []
    for start in starts:
        name = anchor(start)
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return result


def seconds(start: float, end: float) -> tuple[int, int]:
    """A span in whole seconds: the start rounded down, the end rounded up (never missing a
    word), at least a second long."""
    first = math.floor(float(start) + 1e-6)
    return first, max(math.ceil(float(end) - 1e-6), first + 1)


def moment_query(start: float, end: float | None = None) -> str:
    """?t=66 (whole seconds, rounded down, so the moment is never missed), and &end=86 for a span."""
    if end is None:
        return f"?t={math.floor(float(start) + 1e-6)}"
    return "?t={}&end={}".format(*seconds(start, end))


def moment_url(page: str, start: float, end: float | None = None, turn: str | None = None) -> str:
    """The page at a moment (or a span), scrolled to its turn even without JavaScript."""
    return page + moment_query(start, end) + (f"#{turn}" if turn else "")
