"""Review: the places in a transcript an editor should check first, in review.json.

Two kinds, both from what the recogniser itself says:
- a near-miss of a glossary term (site.yaml's and the card's glossary, and the card's
  names): words that read almost, but not exactly, as a name the interview uses ("Helen
  Warde" for "Helen Ward", "Lanelly" for "Llanelli"), or, written as a name, sound like
  one ("Amaristwyth" for "Aberystwyth", "Maconthus" for "Machynlleth");
- an unsure word: one the recogniser gave a probability below UNSURE. The words editors
  corrected on real recordings were exactly such words (0.26, 0.12, 0.03). A word that
  spells a glossary name exactly is not unsure (the recogniser is rightly shy of rare
  names, and the hint made it write them so).

A near-miss the recogniser was unsure of, of as many words as its term, is spelt as the
glossary spells it (respelt(), before captions and corrections): the page, the captions and
search then have the name right, and review.json lists the place as "respelt", with what
was heard, until the card says reviewed.

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
from dataclasses import replace
from pathlib import Path

from pipeline.config import Card
from pipeline.files import read_json, sha256_text, write_json
from pipeline.model import Transcript, Word
from pipeline.timecode import clock

log = logging.getLogger(__name__)

FILE = "review.json"
VERSION = 3  # 3: names by sound too
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
# Such a run also counts when its spelling and its sound (Metaphone codes) are alike on
# average by this much: Whisper writes a name it cannot spell as a name ("Amaristwyth",
# "Maconthus", "Machynch"), and the sound catches what the letters miss. In the glossary
# benchmark that found 2 more of base's 7 misheard names and 2 more of tiny.en's 10, and
# no ordinary capitalised word (Monday, President, Michael, Thursday: 46-59.5).
NEAR_SOUND = 60
# A near-miss is respelt when some word of it is below this probability and it has as many
# words as its term. In the glossary benchmark that respelt 4 of base's near-misses and 3 of
# tiny.en's, all right (names heard right: base 8 -> 12 of 15, tiny.en 7 -> 9); the three
# near-misses it leaves are tiny.en's "Siobhanelli", one word where Llanelli was said, which
# reads like Siobhan Kelly's two.
RESPELL_BELOW = 0.6
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
    respelt_places = [p for p in found if p["why"] == "respelt"]
    if respelt_places:
        log.info("%s: %d place(s) spelt as the glossary has them; listed in %s: %s", card.slug,
                 len(respelt_places), out / FILE, "; ".join(
                     f"[{clock(p['start'])}] '{p['term']}' (heard '{p['heard']}')"
                     for p in respelt_places[:MOST_IN_LOG]) +
                 (" ..." if len(respelt_places) > MOST_IN_LOG else ""))
    misses = [p for p in found if p["why"] == "near-miss"]
    if misses:
        log.warning("%s: %d place(s) that may misspell a glossary name; check them in %s: %s",
                    card.slug, len(misses), out / "transcript.txt", "; ".join(
                        f"[{clock(p['start'])}] '{p['heard']}' ({p['term']}?)"
                        for p in misses[:MOST_IN_LOG]) + (" ..." if len(misses) > MOST_IN_LOG else ""))
    unsure = len(found) - len(misses) - len(respelt_places)
    if unsure:
        log.info("%s: %d word(s) the recogniser was unsure of are listed in %s", card.slug,
                 unsure, out / FILE)
    return found


def places(transcript: Transcript, glossary: tuple[str, ...], reviewed: bool = False) -> list[dict]:
    """The near-misses and (until reviewed) the respelt and the unsure words, in time order."""
    words = [w for s in transcript.segments for w in s.words]
    found = [{"start": words[i].start, "end": words[j - 1].end, "heard": _text(words[i:j]),
              "why": "near-miss", "term": term} for i, j, term in near_misses(words, glossary)]
    if not reviewed:
        found += [{"start": run[0].start, "end": run[-1].end, "heard": " ".join(w.heard for w in run),
                   "why": "respelt", "term": re.sub(r"\W+$", "", _text(run))}
                  for run in _respelt_runs(words)]
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

    def consider(row: int, col: int, score: float) -> None:
        i, j = spans[row]
        if any(k in right for k in range(i, j)):
            return
        if i not in found or score > found[i][0]:
            found[i] = (score, j, owner[col])

    for row, col in zip(*scores.nonzero()):
        score = float(scores[row, col])
        if (score < NEAR or col >= len(terms)) and (not capitalised[row] or
                                                   len(texts[row]) < MIN_TERM) or texts[row] in parts:
            continue  # nor is a part of a name said alone ("Kelly"), nor "Now" for Nowak
        if texts[row]:
            consider(row, col, score)
    # Runs written as a name, by spelling and sound together.
    named = [row for row, text in enumerate(texts) if capitalised[row] and len(text) >= MIN_TERM
             and text not in parts and text not in terms]
    if named:
        spelt = process.cdist([texts[r] for r in named], names, scorer=fuzz.ratio, workers=1)
        sound = process.cdist([_sound(texts[r]) for r in named], [_sound(n) for n in names],
                              scorer=fuzz.ratio, workers=1)
        for at, col in zip(*((spelt + sound) / 2 >= NEAR_SOUND).nonzero()):
            consider(named[at], col, (float(spelt[at, col]) + float(sound[at, col])) / 2)
    result, taken = [], set()
    for i in sorted(found, key=lambda i: (-found[i][0], i)):  # the likeliest first
        _, j, term = found[i]
        if not taken.intersection(range(i, j)):
            result.append((i, j, term))
            taken.update(range(i, j))
    return sorted(result)


def respelt(transcript: Transcript, glossary: tuple[str, ...]) -> Transcript:
    """The transcript with each near-miss the recogniser was unsure of (a word below
    RESPELL_BELOW), of as many words as its term, spelt as the glossary spells it. Each such
    word keeps its times and probability, and what was heard (Word.heard)."""
    words = [w for s in transcript.segments for w in s.words]
    spelling: dict[int, str] = {}
    for i, j, term in near_misses(words, glossary):
        parts = term.split()
        if j - i == len(parts) and min(w.probability for w in words[i:j]) < RESPELL_BELOW:
            spelling.update(zip(range(i, j), parts))
    if not spelling:
        return transcript
    segments, k = [], 0
    for segment in transcript.segments:
        new = []
        for w in segment.words:
            if k in spelling:  # the space before it and the punctuation (or 's) after stay
                before, after = re.match(r"\s*", w.word).group(0), re.search(r"('s)?\W*$", w.word).group(0)
                spelt = before + spelling[k] + after
                if spelt != w.word:
                    heard = w.heard or re.sub(r"\W+$", "", w.word.strip())  # its punctuation stays
                    w = Word(w.start, w.end, spelt, w.probability, heard)
            new.append(w)
            k += 1
        segments.append(replace(segment, words=new, text=_text(new)) if new != segment.words else segment)
    return replace(transcript, segments=segments)


def _respelt_runs(words: list[Word]) -> list[list[Word]]:
    """The respelt words, a run of neighbours (one name) together."""
    runs: list[list[Word]] = []
    for k, w in enumerate(words):
        if w.heard and k > 0 and words[k - 1].heard:
            runs[-1].append(w)
        elif w.heard:
            runs.append([w])
    return runs


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
    """Indices of the words not to quote: near-misses, and (until reviewed) the respelt and
    the unsure words."""
    flagged = {k for i, j, _ in near_misses(words, glossary) for k in range(i, j)}
    if not reviewed:
        right = spelt_right(words, glossary)
        flagged |= {k for k, w in enumerate(words)
                    if w.heard or (w.probability < UNSURE and k not in right)}
    return flagged


def _sound(letters: str) -> str:
    import jellyfish

    return jellyfish.metaphone(letters)


def _plain(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower())


def _text(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()
