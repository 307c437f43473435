"""Pull quotes: three to five things a guest said that stand alone and say something specific.

Candidates are runs of one to three complete sentences by a guest, 8 to 40 words, that do
not open by pointing back ("And", "But", "That", "It", ...) and hold no word to check
(review.py: a word the recogniser was unsure of, unless the card says the transcript was
reviewed or an editor wrote the word, and no near-miss of a glossary name). They are scored
for distinctiveness (TF-IDF of their words against every sentence of the archive, so words
every interview uses count for little), for concrete detail (numbers, names) and against
filler, then picked best first, spread over the interview, and never repeating a phrase
(PHRASE words in a row) that another quote already has.

Quotes are picked from the published transcript, after corrections (and from the
publisher's captions' words, which are never unsure).

Every quote is an exact span of the transcript's words, with the first word's start and the
last word's end. The card may pin quotes (found again in the transcript, and published in
the transcript's own words) and drop them. A quote that no longer matches the transcript
after an edit is never published altered: it is dropped with a warning, or, when the stage
picks the same moment again in the corrected words, the log says that it now reads so.

Quotes are picked again only when this interview's transcript or card changes, not when
other interviews are added, so published quotes stay put.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import asdict
from pathlib import Path

from pipeline.config import Card
from pipeline.errors import PipelineError
from pipeline.files import read_json, within, write_json
from pipeline.model import Quote, Transcript, Word
from pipeline.stages import review
from pipeline.stages.sentences import Sentence, all_words, content_words, interviewer_of, sentences
from pipeline.stamps import Stamps, package_version

log = logging.getLogger(__name__)

VERSION = 2  # part of the cache key: bump it when the results would change
MIN_WORDS, MAX_WORDS = 8, 40
MAX_SENTENCES = 3
PHRASE = 4  # two quotes may not share this many words in a row
FILE = "quotes.json"

# First words that point back to something said before: such a sentence cannot stand alone.
_BACK_REFERENCES = set("""and but or so because that this these those it its they them their
he him his she her then also yes no oh well which there here such""".split())
_FILLERS = re.compile(r"\b(you know|i mean|kind of|sort of|i think|i guess|basically|stuff|"
                      r"whatever|and so on|things like that)\b", re.IGNORECASE)
_NUMBER_WORDS = set("""one two three four five six seven eight nine ten eleven twelve thirteen
fifteen twenty thirty forty fifty hundred thousand million half third quarter twice""".split())


def run(card: Card, transcript: Transcript, out: Path, archive: Path | None = None,
        glossary: tuple[str, ...] = ()) -> list[Quote]:
    """The quotes stage: pick, verify and write out/quotes.json."""
    stamps = Stamps(out)
    key = stage_key(card, transcript, out, glossary)
    if stamps.is_fresh("quotes", key, [out / FILE]):
        return load(out)
    previous = load(out)
    chosen = pick(transcript, guests=card.guests, interviewer=card.interviewer,
                  pin=card.quotes.pin, drop=card.quotes.drop,
                  archive=_archive_texts(archive, card.slug) if archive else [], label=card.slug,
                  glossary=glossary, reviewed=card.reviewed)
    kept = {q.text for q in chosen}
    for old in previous:
        if old.text in kept or verify(old, transcript):
            continue
        again = next((q for q in chosen if q.start < old.end and old.start < q.end), None)
        if again:  # picked again, in the corrected words: say so, not that it was dropped
            log.info("%s: the quote \"%s\" now reads \"%s\" after the correction",
                     card.slug, old.text, again.text)
        else:
            log.warning("%s: the quote \"%s\" no longer matches the transcript; it is dropped",
                        card.slug, old.text)
    write_json(out / FILE, [asdict(q) for q in chosen])
    stamps.record("quotes", key)
    log.info("%s: %d pull quote(s)", card.slug, len(chosen))
    return chosen


def stage_key(card: Card, transcript: Transcript, out: Path, glossary: tuple[str, ...] = ()) -> str:
    """What the quotes depend on: the transcript, the card's people and choices, whether it
    was reviewed, the glossary, the bar for unsure words and the rule for near-misses, the
    tools."""
    return Stamps(out).key(transcript=transcript.digest(),
                           card=[card.interviewer, card.guests, card.quotes.pin, card.quotes.drop,
                                 card.reviewed],
                           glossary=glossary, unsure=review.UNSURE, near_misses=review.VERSION,
                           version=VERSION,
                           tools=_tool_versions())


def load(out: Path) -> list[Quote]:
    """The quotes last written to out/quotes.json (none if there is no such file)."""
    return [Quote(**q) for q in read_json(out / FILE, []) or []]


def pick(transcript: Transcript, guests: tuple[str, ...] = (), interviewer: str = "",
         pin: tuple[str, ...] = (), drop: tuple[str, ...] = (), archive: list[str] = (),
         count: int | None = None, label: str = "", glossary: tuple[str, ...] = (),
         reviewed: bool = False) -> list[Quote]:
    """Pinned quotes first, then the best candidates up to `count` (3 to 5, by length)."""
    words = all_words(transcript)
    sents = sentences(transcript)
    unsure = review.unsure_words([w for w, _ in words], glossary, reviewed)
    if count is None:
        count = min(5, 3 + int(transcript.duration // 300))
    chosen = [q for q in (_pinned(text, words, label) for text in pin) if q]
    dropped = []
    for text in drop:
        span = locate(text, words)
        if span:
            dropped.append(span)
        else:
            log.warning("%s: the card drops \"%s\", but the transcript has no such words", label, text)
    taken = [locate(q.text, words) for q in chosen] + dropped
    candidates = [c for c in _candidates(sents, guests, interviewer, unsure)
                  if not any(_overlaps(c[1], span) for span in taken)]
    weights = _idf([s.text for s in sents] + list(archive))
    ranked = sorted(candidates, key=lambda c: -_score(c[0], weights, words, c[1]))
    # Spread them: first one per answer and apart in time, then relax if that leaves too few.
    spacing = transcript.duration / (count + 1)
    placed = [(None, q.start) for q in chosen]  # (answer, start) of each chosen quote
    said = set().union(*(_phrases(q.text) for q in chosen))  # phrases quoted already
    for strict in (True, False):
        for _, span, turn in ranked:
            if len(chosen) >= count:
                break
            quote = _quote(words, span)
            if any(_overlaps(span, s) for s in taken) or _phrases(quote.text) & said or strict and any(
                    t == turn or abs(start - quote.start) < spacing for t, start in placed):
                continue
            chosen.append(quote)
            taken.append(span)
            placed.append((turn, quote.start))
            said |= _phrases(quote.text)
    return sorted(chosen, key=lambda q: q.start)


def _phrases(text: str) -> set[tuple[str, ...]]:
    """Every run of PHRASE words of a text (case and punctuation aside)."""
    tokens = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(tokens[i:i + PHRASE]) for i in range(len(tokens) - PHRASE + 1)}


def locate(text: str, words: list[tuple[Word, str | None]]) -> tuple[int, int] | None:
    """The word span [i, j) that reads as `text`, ignoring case, spaces and punctuation."""
    wanted = _normal(text)
    if not wanted:
        return None
    joined, starts, owner = "", set(), []
    for k, (w, _) in enumerate(words):
        starts.add(len(joined))
        joined += _normal(w.word)
        owner += [k] * (len(joined) - len(owner))
    at = joined.find(wanted)
    while at >= 0:
        end = at + len(wanted)
        if at in starts and (end == len(joined) or end in starts):
            return owner[at], owner[end - 1] + 1
        at = joined.find(wanted, at + 1)
    return None


def verify(quote: Quote, transcript: Transcript) -> bool:
    """True when the quote is, word for word, a span of the transcript with the same times."""
    words = all_words(transcript)
    for i, (word, _) in enumerate(words):
        if abs(word.start - quote.start) > 0.001:
            continue
        for j in range(i + 1, len(words) + 1):
            if abs(words[j - 1][0].end - quote.end) <= 0.001:
                return _span_text(words, (i, j)) == quote.text
    return False


def _candidates(sents: list[Sentence], guests: tuple[str, ...], interviewer: str, unsure: set[int]):
    """(sentences, word span, turn number) for every quotable run of 1 to 3 sentences with
    no word to check (`unsure`: indices into all_words())."""
    quotable = _quotable(sents, guests, interviewer)
    result, turn = [], 0
    for i, s in enumerate(sents):
        if i and (s.speaker != sents[i - 1].speaker or not quotable[i - 1]):
            turn += 1
        for n in range(1, MAX_SENTENCES + 1):
            run = sents[i:i + n]
            if len(run) < n or not all(quotable[i:i + n]) or any(r.speaker != s.speaker for r in run):
                break
            span = (run[0].first, run[-1].first + len(run[-1].words))
            size = span[1] - span[0]
            if size > MAX_WORDS:
                break
            if size >= MIN_WORDS and _stands_alone(run) and not unsure.intersection(range(*span)):
                result.append((run, span, turn))
    return result


def _quotable(sents: list[Sentence], guests: tuple[str, ...], interviewer: str) -> list[bool]:
    """Which sentences a guest said (when speakers are labelled), or may have said."""
    speakers = {s.speaker for s in sents if s.speaker}
    if speakers:
        asker = interviewer_of(sents, interviewer)
        allowed = set(guests) & speakers or speakers - {asker}
        return [bool(s.words) and s.speaker in allowed and not s.is_question for s in sents]
    # No labels yet: questions, the lead-in just before a question, a sentence naming a
    # guest (addressed by the interviewer) and one- or two-word interjections are left out.
    names = {n.lower() for g in guests for n in g.split()}
    result = []
    for i, s in enumerate(sents):
        lead_in = i + 1 < len(sents) and sents[i + 1].is_question
        named = names & {w.lower() for w in re.findall(r"[A-Za-z]+", s.text)}
        result.append(bool(s.words) and not s.is_question and not lead_in and not named
                      and s.n_words > 2)
    return result


def _stands_alone(run: list[Sentence]) -> bool:
    first = re.sub(r"[^a-z']", "", run[0].text.split()[0].lower())
    return all(s.complete for s in run) and first not in _BACK_REFERENCES


def _score(run: list[Sentence], weights: dict[str, float], words, span: tuple[int, int]) -> float:
    """Distinctive words, concrete detail, no filler, heard clearly, a readable length."""
    text = " ".join(s.text for s in run)
    tokens = text.split()
    content = content_words(text)
    top = max(weights.values(), default=1.0)
    distinct = sum(weights.get(w, top) for w in set(content)) / top / max(len(tokens), 1)
    concrete = sum(1 for t in tokens if re.search(r"\d", t) or t.lower().strip(".,!") in _NUMBER_WORDS)
    concrete += sum(1 for t in tokens[1:] if t[:1].isupper() and t.strip(".,!") != "I")
    fillers = len(_FILLERS.findall(text))
    heard = sum(w.probability for w, _ in words[span[0]:span[1]]) / (span[1] - span[0])
    size = len(tokens)
    length = 1.0 - 0.02 * (max(0, 12 - size) + max(0, size - 30))
    return heard * length * (distinct + 0.1 * min(concrete, 3) - 0.15 * fillers)


def _idf(texts: list[str]) -> dict[str, float]:
    """Smoothed inverse document frequency of content words, each text a document."""
    frequency: dict[str, int] = {}
    for text in texts:
        for w in set(content_words(text)):
            frequency[w] = frequency.get(w, 0) + 1
    return {w: math.log((1 + len(texts)) / (1 + n)) + 1 for w, n in frequency.items()}


def _pinned(text: str, words, label: str) -> Quote | None:
    span = locate(text, words)
    if span is None:
        log.warning("%s: the card pins the quote \"%s\", but the transcript has no such words; "
                    "it is not published (copy it from the transcript as it is now)", label, text)
        return None
    if len({speaker for _, speaker in words[span[0]:span[1]]}) > 1:
        log.warning("%s: the pinned quote \"%s\" runs across two speakers; it is not published",
                    label, text)
        return None
    return _quote(words, span, pinned=True)


def _quote(words, span: tuple[int, int], pinned: bool = False) -> Quote:
    i, j = span
    return Quote(speaker=words[i][1], text=_span_text(words, span), start=words[i][0].start,
                 end=words[j - 1][0].end, pinned=pinned)


def _span_text(words, span: tuple[int, int]) -> str:
    return "".join(w.word for w, _ in words[span[0]:span[1]]).strip()


def _overlaps(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return bool(a and b) and a[0] < b[1] and b[0] < a[1]


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _archive_texts(archive: Path, slug: str) -> list[str]:
    """Sentences of every other interview's transcript, for the IDF weights."""
    texts = []
    for path in sorted(archive.glob("*/transcript.json")):
        if path.parent.name == slug:
            continue
        try:
            within(path, archive)
            texts += [s.text for s in sentences(Transcript.from_dict(read_json(path)))]
        except (KeyError, TypeError, AttributeError, PipelineError):
            log.debug("skipping unreadable %s", path)
    return texts


def _tool_versions() -> dict:
    return {p: package_version(p) for p in ("scikit-learn", "snowballstemmer")}
