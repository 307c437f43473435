"""Times as people and files write them: the one parser and the formatters every stage uses.

Cards write chapter starts as "1:30" or 90, transcript.txt paragraphs start with
"[00:01:30]", captions need "00:01:30.000" (WebVTT) or "00:01:30,000" (SRT), and pages show
"1:30". All of them are seconds inside the pipeline.
"""

from __future__ import annotations

import re

_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)|(\d+(?:\.\d+)?)")


def parse_time(value, clock_only: bool = False) -> float | None:
    """Seconds from 90, 90.5, "1:30", "01:02:03" or "1:30.5"; None if it is not a time.
    `clock_only` refuses plain numbers (a transcript's "[90]" is more likely a typo).

    YAML already reads an unquoted 1:30 as 90 (base 60), which is the same number.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if clock_only or value < 0 else float(value)
    match = _CLOCK.fullmatch(str(value).strip())
    if not match:
        return None
    hours, minutes, seconds, plain = match.groups()
    if plain is not None:
        return None if clock_only else float(plain)
    if float(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def timestamp(seconds: float, separator: str = ".") -> str:
    """00:01:02.345 (WebVTT) or, with separator ",", 00:01:02,345 (SRT)."""
    millis = round(max(seconds, 0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def stamp(seconds: float) -> str:
    """The time that starts a paragraph of transcript.txt: 00:01:02 (whole seconds)."""
    return timestamp(seconds)[:8]


def clock(seconds: float) -> str:
    """A reader's time: 1:02 or 1:02:03."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
