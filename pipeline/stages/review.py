"""Review: the places in a transcript an editor should check first, in review.json.

Two kinds, both from what the recogniser itself says:
- a near-miss of a glossary term (site.yaml's and the card's glossary, and the card's
  names): words that read almost, but not exactly, as a name the interview uses ("Helen
  Warde" for "Helen Ward", "Lanelly" for "Llanelli");
- an unsure word: one the recogniser gave a probability below UNSURE. The words editors
  corrected on real recordings were exactly such words (0.26, 0.12, 0.03). A word that
  spells a glossary name exactly is not unsure (the recogniser is rightly shy of rare
  names, and the hint made it write them so).

Once the card says `reviewed: true` the unsure words are no longer listed (an editor has
checked them); near-misses still are, as a name spelt two ways is worth a second look. A
word an editor wrote (corrections give it probability 1) or a publisher's caption word is
never unsure. The quotes stage keeps such words out of pull quotes (quotes.py).

review.json: {"key", "places": [{"start", "end", "heard", "why", "term"?, "probability"?}]},
in time order; written only when the transcript or the glossary changed. The studio keeps
the spans an editor accepted in the same file ("accepted": pipeline/studio/review.py), and
each side leaves the other's keys as they are.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pipeline.config import Card
from pipeline.files import read_json, sha256_text, write_json
from pipeline.model import Transcript, Word
from pipeline.timecode import clock

log = logging.getLogger(__name__)

FILE = "review.json"
VERSION = 2
# Below this probability a word is unsure. Measured in `make bench` (glossary section, on
# generated speech): below 0.3 fell 23 % (tiny.en) and 29 % (base) of the misheard words and
# none of the right ones; below 0.5, 41 % and 47 % of the misheard but also 1-2 % of the
# right ones, which on the five-topic test interview left base 3 quotable passages of 30
# (and one pull quote). The words editors corrected on real recordings (0.26, 0.12, 0.03)
# all lie below 0.3.
UNSURE = 0.3
# How alike (rapidfuzz ratio, 0-100) heard words and a term must be to count as a near-miss;
# terms shorter than MIN_TERM letters are left out (too many ordinary words look like them).
NEAR = 80
MIN_TERM = 5
# A run whose every word is capitalised (as Whisper writes a name it did not know) counts as
# a near-miss a little sooner, and against each part of a name too: in the glossary
# benchmark base wrote "Shimon Kelly" (78), "Chanelli" (75) and "Adyemi" (92 against
# Adeyemi), which NEAR alone misses; "really" (73 against Kelly) stays out.
NEAR_NAME = 75
MOST_IN_LOG = 5


def run(card: Card, transcript: Transcript, out: Path, glossary: tuple[str, ...]) -> list[dict]:
    """Write review.json for the published transcript (when it or the glossary changed) and
    log what is new; return the places."""
    key = sha256_text(f"{VERSION} {transcript.digest()} {glossary} {card.reviewed}")
    previous = read_json(out / FILE, {}) or {}
    if previous.get("key") == key:
        return previous.get("places", [])
    found = places(transcript, glossary, reviewed=card.reviewed)
    # The studio keeps the spans an editor accepted in the same file: those stay.
    write_json(out / FILE, {**previous, "key": key, "places": found})
    misses = [p for p in found if p["why"] == "near-miss"]
    if misses:
        log.warning("%s: %d place(s) that may misspell a glossary name; check them in %s: %s",
                    card.slug, len(misses), out / "transcript.txt", "; ".join(
                        f"[{clock(p['start'])}] '{p['heard']}' ({p['term']}?)"
                        for p in misses[:MOST_IN_LOG]) + (" ..." if len(misses) > MOST_IN_LOG else ""))
    unsure = len(found) - len(misses)
    if unsure:
        log.info("%s: %d word(s) the recogniser was unsure of are listed in %s", card.slug,
                 unsure, out / FILE)
    return found


def places(transcript: Transcript, glossary: tuple[str, ...], reviewed: bool = False) -> list[dict]:
    """The near-misses and (until reviewed) the unsure words, in time order."""
    words = [w for s in transcript.segments for w in s.words]
    found = [{"start": words[i].start, "end": words[j - 1].end, "heard": _text(words[i:j]),
              "why": "near-miss", "term": term} for i, j, term in near_misses(words, glossary)]
    if not reviewed:
        right = spelt_right(words, glossary)
        found += [{"start": w.start, "end": w.end, "heard": w.word.strip(), "why": "unsure",
                   "probability": w.probability} for k, w in enumerate(words)
                  if w.probability < UNSURE and k not in right]
    return sorted(found, key=lambda p: (p["start"], p["why"]))


def near_misses(words: list[Word], glossary: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(first, end, term) of every run of words that reads almost as a glossary term: as
    many words as the term has, or one more or fewer (a name heard split or run together)."""
    from rapidfuzz import fuzz, process

    terms = {_plain(t): t for t in glossary if len(_plain(t)) >= MIN_TERM}
    if not terms or not words:
        return []
    # The parts of a name of several words (Adeyemi of Oluwaseun Adeyemi), for capitalised runs.
    parts = {_plain(p): t for t in glossary if " " in t.strip() for p in t.split()
             if len(_plain(p)) >= MIN_TERM and _plain(p) not in terms}
    spans, texts = _runs(words, glossary)
    # Words that are a term, heard right: no run that takes them in is a near-miss.
    right = {k for (i, j), text in zip(spans, texts) if text in terms for k in range(i, j)}
    capitalised = [all(w.word.strip()[:1].isupper() for w in words[i:j]) for i, j in spans]
    # Every run against every term at once, in C++ (a 2-hour interview: 60,000 runs).
    names = list(terms) + list(parts)
    owner = list(terms.values()) + list(parts.values())
    scores = process.cdist(texts, names, scorer=fuzz.ratio, score_cutoff=NEAR_NAME, workers=1)
    found: dict[int, tuple[float, int, str]] = {}
    for row, col in zip(*scores.nonzero()):
        i, j = spans[row]
        if not texts[row] or any(k in right for k in range(i, j)):
            continue
        score = float(scores[row, col])
        if (score < NEAR or col >= len(terms)) and (not capitalised[row] or
                                                   len(texts[row]) < MIN_TERM) or texts[row] in parts:
            continue  # nor is a part of a name said alone ("Kelly"), nor "Now" for Nowak
        if i not in found or score > found[i][0]:
            found[i] = (score, j, owner[col])
    result, taken = [], set()
    for i in sorted(found, key=lambda i: (-found[i][0], i)):  # the likeliest first
        _, j, term = found[i]
        if not taken.intersection(range(i, j)):
            result.append((i, j, term))
            taken.update(range(i, j))
    return sorted(result)


def spelt_right(words: list[Word], glossary: tuple[str, ...]) -> set[int]:
    """Indices of the words that spell a glossary term exactly (case and punctuation aside)."""
    terms = {_plain(t) for t in glossary}
    spans, texts = _runs(words, glossary)
    return {k for (i, j), text in zip(spans, texts) if text in terms for k in range(i, j)}


def _runs(words: list[Word], glossary: tuple[str, ...]) -> tuple[list[tuple[int, int]], list[str]]:
    """Every run of words as long as a term, or one word longer or shorter: its span and its
    letters run together."""
    plain = [_plain(w.word) for w in words]
    spans, texts = [], []
    for n in sorted({len(t.split()) + d for t in glossary for d in (-1, 0, 1)} - {0}):
        for i in range(len(words) - n + 1):
            spans.append((i, i + n))
            texts.append("".join(plain[i:i + n]))
    return spans, texts


def unsure_words(words: list[Word], glossary: tuple[str, ...], reviewed: bool) -> set[int]:
    """Indices of the words not to quote: near-misses, and (until reviewed) unsure words."""
    flagged = {k for i, j, _ in near_misses(words, glossary) for k in range(i, j)}
    if not reviewed:
        right = spelt_right(words, glossary)
        flagged |= {k for k, w in enumerate(words) if w.probability < UNSURE and k not in right}
    return flagged


def _plain(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower())


def _text(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()
