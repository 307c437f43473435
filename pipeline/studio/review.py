"""An interview's review: its queue of suspects, and the spans the editor accepted.

Accepted spans are kept in transcripts/SLUG/review.json (committed with the transcript, so
another editor, or the same one tomorrow, is not asked again); fixed ones need no record:
a word the editor typed is never a suspect.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from pipeline.files import read_json, write_json
from pipeline.stages import prepare
from pipeline.studio import second, suspects
from pipeline.studio.document import Document

FILE = "review.json"
_writing = threading.Lock()


def evidence(doc: Document) -> suspects.Evidence:
    """What the queue knows about the interview beyond its words."""
    card, out = doc.card, doc.folder
    timeline = (read_json(out / "speakers.json", {}) or {}).get("timeline") or []
    prepared = prepare.last_prepared(card.folder)
    heard = second.load(out, prepared.audio) if prepared else None
    people = [card.interviewer, *card.guests, *(p.speaker or "" for p in doc.paragraphs)]
    known = suspects.known_words(*people, card.title, card.intro, " ".join(card.tags), *doc.terms)
    return suspects.Evidence(voiced=[(float(a), float(b)) for a, b, *_ in timeline], known=known,
                             names=names(card), second=heard, accepted=accepted(out))


def names(card) -> list[str]:
    """The card's people, and the names of several words in its title and intro
    ("Northfield Borough Council"): a word that sounds like one of them is checked."""
    found = [card.interviewer, *card.guests]
    found += re.findall(r"\b[A-Z][\w'-]+(?: [A-Z][\w'-]+)+", f"{card.title}\n{card.intro}")
    return list(dict.fromkeys(n for n in found if n))


def queue(doc: Document) -> list[suspects.Suspect]:
    """The review queue as the studio shows it, most doubtful first."""
    return suspects.find(doc.paragraphs, evidence(doc))


def accepted(out: Path) -> set[str]:
    return set((read_json(out / FILE, {}) or {}).get("accepted", []))


def accept(out: Path, keys: list[str], undo: bool = False) -> set[str]:
    """Record spans the editor checked and found right (or take that back)."""
    with _writing:
        data = read_json(out / FILE, {}) or {}
        now = set(data.get("accepted", []))
        now = now - set(keys) if undo else now | set(keys)
        # The publish keeps its list of places to check in the same file: that stays.
        write_json(out / FILE, {**data, "accepted": sorted(now)})
        return now
