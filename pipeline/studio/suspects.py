"""The review queue: the few places where the recogniser most likely went wrong, ranked.

Each word gets a score, the chance that it is wrong, from what we know about it; runs of
suspect words become spans, ranked by their most doubtful word, and the queue holds the
best of them up to QUEUE_SHARE of the words: the editor checks a few places, not all of it.

The score is a logistic model of two signals, fitted on the five short generated interviews
of `python -m bench.review --quick` (2,269 words, 155 of them wrong):
- the second opinion: another recogniser (Whisper base, pipeline.studio.second) heard
  other words here, heard nothing, or heard words that ours left out; what it heard is
  offered as the fix;
- Whisper's own word probability, of the word and of its neighbours.
On the 30-minute interview the fit never saw (5,138 words), the 10 % of the words it ranks
first hold 84 % of the wrong words with the second opinion, 60 % without it (tiny.en's
least sure 10 %: 61 %); over all six, 77 % (issue 15's goal: 70 %).

Other signals raise a word's score (as independent evidence: a noisy-or), each because an
editor should hear the place even where the measured mistakes do not show it:
- text over silence: a word where the speakers stage heard no voice (speakers.json);
- a loop: the same words three times or more in a row;
- a name on the card, misheard: words that sound like it without being it;
- a name not on the card: a capitalised word inside a sentence that the card (people,
  title, intro, tags) and the glossary do not know;
- an uncertain change of speaker: the speaker changes inside a sentence;
- a name respelt: the recogniser wrote something else, and publish spelt it as the glossary
  has it (review.respelt); right more often than not, but a guess all the same.

Words the editor typed (corrections.apply gives them probability 1.0) are never suspects,
and spans the editor accepted are left out.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field

from pipeline.model import Word

QUEUE_SHARE = 0.10  # the queue holds at most this share of the words
MIN_SCORE = 0.04  # a word less likely wrong than this is no suspect
# The logistic model (see above): intercept, then the second opinion's three kinds of
# disagreement, the word's probability, its logarithm, and the lower of its neighbours'.
MODEL = {"intercept": -0.72, "replaced": 3.33, "extra": 2.69, "missing": 0.99,
         "probability": -2.19, "log_probability": -0.59, "neighbours": -1.64}
# The other signals' weights, and how far (s) a word may lie from any voice.
WEIGHTS = {"misheard": 0.25, "silence": 0.5, "loop": 0.6, "name": 0.15, "speaker": 0.1,
           "respelt": 0.5}
# How alike (rapidfuzz's ratio, 0 to 100) words must be to a name on the card to sound like it.
SOUNDS_LIKE = 70
SILENCE = 0.6
_SENTENCE_END = re.compile(r"[.!?]['\")\]]?$")

REASONS = {
    "replaced": "the second recogniser heard “{heard}”",
    "extra": "the second recogniser heard nothing here",
    "missing": "the second recogniser heard more words here",
    "unsure": "the recogniser was unsure ({percent} %)",
    "beside": "beside a word the recogniser was unsure of ({percent} %)",
    "misheard": "sounds like {name}, on the card",
    "silence": "text where no voice was heard",
    "loop": "the same words over and over",
    "name": "a name that is not on the card",
    "speaker": "the speaker changes inside a sentence",
    "respelt": "spelt as the glossary has it; the recogniser wrote “{heard}”",
}


@dataclass
class Suspect:
    """A span of words in one paragraph that the editor should check."""

    paragraph: int
    first: int  # index of its first word in the paragraph
    end: int  # index after its last word
    start: float
    stop: float
    text: str
    score: float
    reasons: dict[str, str] = field(default_factory=dict)  # reason -> what to tell the editor
    heard: str | None = None  # what the second recogniser heard instead, when it heard words

    @property
    def key(self) -> str:
        """What identifies the span when the editor accepts it: its moment and words."""
        return f"{self.start:.1f} {_norm_text(self.text)}"

    def to_dict(self) -> dict:
        """For the page's script (which has the words and their text already)."""
        return {"paragraph": self.paragraph, "first": self.first, "end": self.end,
                "start": round(self.start, 2), "stop": round(self.stop, 2),
                "reasons": list(self.reasons.values()), "heard": self.heard, "key": self.key}


@dataclass
class Evidence:
    """What the queue knows beyond the words: the voiced stretches, the card's vocabulary,
    the second opinion's words, the spans the editor accepted."""

    voiced: list[tuple[float, float]] = field(default_factory=list)
    known: set[str] = field(default_factory=set)  # lower-case words of the card's names and text
    names: list[str] = field(default_factory=list)  # the card's people and named things
    second: list[Word] | None = None
    accepted: set[str] = field(default_factory=set)  # Suspect.key of accepted spans


def find(paragraphs, evidence: Evidence, share: float = QUEUE_SHARE) -> list[Suspect]:
    """The review queue, most doubtful first, together at most `share` of the words.
    `paragraphs` have `speaker` and `words` (the studio's document.Paragraph)."""
    flat = [(n, i, w) for n, p in enumerate(paragraphs) for i, w in enumerate(p.words)]
    words = [w for _, _, w in flat]
    if not words:
        return []
    tokens = [_norm(w.word) for w in words]
    kinds, readings = _disagreements(tokens, words, evidence.second) if evidence.second is not None else ({}, None)
    scores = _scores(words, kinds)
    named = _misheard_names(tokens, evidence.names)
    signals: dict[int, list[str]] = {}
    for kind, found in (("misheard", named), ("silence", _over_silence(words, evidence.voiced)),
                        ("loop", _loops(tokens)), ("name", _unknown_names(flat, tokens, evidence.known)),
                        ("speaker", _speaker_changes(paragraphs)),
                        ("respelt", [k for k, w in enumerate(words) if w.heard])):
        for k in found:
            if words[k].probability < 1.0:  # never the editor's own words
                scores[k] = 1 - (1 - scores[k]) * (1 - WEIGHTS[kind])
                signals.setdefault(k, []).append(kind)
    # The most doubtful words up to the budget; neighbours among them make one span.
    ranked = sorted((k for k in range(len(words)) if scores[k] >= MIN_SCORE), key=lambda k: -scores[k])
    chosen = set(ranked[:int(share * len(words))])

    def why(k: int) -> dict[str, str]:
        return _reasons(words, k, kinds, readings, named, signals.get(k, ()))

    offsets = {n: k for k, (n, i, _) in enumerate(flat) if i == 0}
    spans = [s for s in _spans(flat, chosen, scores, why) if s.key not in evidence.accepted]
    for span in spans:
        k = offsets[span.paragraph] + span.first
        span.heard = _fix(words, k, k + span.end - span.first, named, readings)
    return sorted(spans, key=lambda s: (-s.score, s.start))


def _scores(words: list[Word], kinds: dict[int, str]) -> list[float]:
    """Each word's chance of being wrong, by the model."""
    scores = []
    for k, w in enumerate(words):
        if w.probability >= 1.0:  # a word the editor typed
            scores.append(0.0)
            continue
        p = max(w.probability, 1e-3)
        z = (MODEL["intercept"] + MODEL["probability"] * p + MODEL["log_probability"] * math.log(p)
             + MODEL["neighbours"] * _neighbours(words, k) + (MODEL[kinds[k]] if k in kinds else 0.0))
        scores.append(1 / (1 + math.exp(-z)))
    return scores


def _neighbours(words: list[Word], k: int) -> float:
    """The lower probability of the words either side."""
    return min(words[k - 1].probability if k else 1.0, words[k + 1].probability if k + 1 < len(words) else 1.0)


def _reasons(words: list[Word], k: int, kinds, readings, named, signals) -> dict[str, str]:
    """What to tell the editor about one suspect word, strongest first."""
    why: dict[str, str] = {}
    if kind := kinds.get(k):
        why[kind] = REASONS[kind].format(heard=readings[k][0])
    p, neighbours = words[k].probability, _neighbours(words, k)
    if p < 0.8 or not why and neighbours >= p:
        why["unsure"] = REASONS["unsure"].format(percent=round(p * 100))
    elif not why:
        why["beside"] = REASONS["beside"].format(percent=round(neighbours * 100))
    for signal in signals:
        why[signal] = REASONS[signal].format(name=named.get(k, ""), heard=words[k].heard or "")
    return why


def _disagreements(tokens: list[str], words: list[Word], second: list[Word]):
    """Where the other recogniser heard otherwise: for each of our words, how ('replaced':
    other words, 'extra': none, 'missing': more words beside it), and what it reads there:
    (its words, the block of ours they stand for)."""
    from rapidfuzz.distance import Levenshtein

    kinds: dict[int, str] = {}
    readings: list[tuple[str, int]] = [(w.word.strip(), i) for i, w in enumerate(words)]
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes(tokens, [_norm(w.word) for w in second]):
        said = " ".join(w.word.strip() for w in second[j1:j2])
        if tag in ("replace", "delete"):
            kinds.update((i, "replaced" if said else "extra") for i in range(i1, i2))
            readings[i1:i2] = [(said, i1)] + [("", i1)] * (i2 - i1 - 1)
        elif tag == "insert":
            kinds.update((i, "missing") for i in (i1 - 1, i1) if 0 <= i < len(words) and i not in kinds)
            if i1 < len(words):
                readings[i1] = (f"{said} {readings[i1][0]}", readings[i1][1])
    return kinds, readings


def _fix(words: list[Word], k: int, end: int, named: dict[int, str], readings) -> str | None:
    """What the span [k, end) may have said instead: a name on the card it sounds like, else
    the second recogniser's words there (when the span holds whole blocks of its reading)."""
    if any(m in named for m in range(k, end)):
        out, m = [], k
        while m < end:
            name = named.get(m)
            if not name:
                out.append(words[m].word.strip())
                m += 1
                continue
            while m + 1 < end and named.get(m + 1) == name:
                m += 1
            out.append(name + re.sub(r"^.*?([.,;:!?]*)$", r"\1", words[m].word.strip()))
            m += 1
        return " ".join(out)
    if readings is None or not any(readings[m][0] != words[m].word.strip() for m in range(k, end)):
        return None
    whole = (readings[k][1] == k and (end == len(words) or readings[end][1] == end))
    return " ".join(r for r, _ in readings[k:end] if r) if whole else None


def _spans(flat, chosen: set[int], scores, why) -> list[Suspect]:
    """Runs of chosen words within a paragraph, each scored by its most doubtful word."""
    spans, k = [], 0
    while k < len(flat):
        if k not in chosen:
            k += 1
            continue
        end = k + 1
        while end in chosen and flat[end][0] == flat[k][0]:
            end += 1
        n, first, _ = flat[k]
        words = [w for _, _, w in flat[k:end]]
        reasons: dict[str, str] = {}
        for m in sorted(range(k, end), key=lambda m: -scores[m]):  # the most doubtful word's first
            for kind, text in why(m).items():
                reasons.setdefault(kind, text)
        if "unsure" in reasons:
            reasons.pop("beside", None)
        spans.append(Suspect(n, first, first + end - k, words[0].start, words[-1].end,
                             " ".join(w.word.strip() for w in words), max(scores[k:end]), reasons))
        k = end
    return spans


def _misheard_names(tokens: list[str], names: list[str]) -> dict[int, str]:
    """Words that sound like a name on the card without being it ("in price" for Owen Price):
    a misheard name would publish as a new person or a new place."""
    from rapidfuzz import fuzz

    found: dict[int, str] = {}
    lengths = [len(t) for t in tokens]
    for name in names:
        target = _norm_text(name)
        size = len(target.split())
        covered = [0] * (len(tokens) + 1)  # how many words of exact mentions lie before each word
        exact = [False] * len(tokens)
        for i in range(len(tokens) - size + 1):
            if tokens[i] == target.split()[0] and " ".join(tokens[i:i + size]) == target:
                exact[i:i + size] = [True] * size
        for i, hit in enumerate(exact):
            covered[i + 1] = covered[i] + hit
        # ratio >= SOUNDS_LIKE needs lengths alike: the shorter at least r / (2 - r) of the longer.
        alike = SOUNDS_LIKE / (200 - SOUNDS_LIKE)
        for width in {size - 1, size, size + 1} - {0}:
            for i in range(len(tokens) - width + 1):
                length = sum(lengths[i:i + width]) + width - 1
                if not tokens[i] or covered[i + width] != covered[i] or \
                        not alike * len(target) <= length <= len(target) / alike:
                    continue
                if fuzz.ratio(" ".join(tokens[i:i + width]), target, score_cutoff=SOUNDS_LIKE):
                    found.update((k, name) for k in range(i, i + width))
    return found


def _over_silence(words: list[Word], voiced: list[tuple[float, float]]) -> list[int]:
    """Words lying wholly outside every voiced stretch (by more than SILENCE seconds)."""
    if not voiced:
        return []
    starts = [s for s, _ in voiced]
    found = []
    for k, w in enumerate(words):
        at = bisect.bisect_right(starts, w.end + SILENCE) - 1
        if at < 0 or max(e for _, e in voiced[max(at - 2, 0):at + 1]) < w.start - SILENCE:
            found.append(k)
    return found


def _loops(tokens: list[str]) -> list[int]:
    """Words inside a run of the same 1 to 6 words said three times or more in a row (the
    transcribe stage asks for four before it decodes a clip again; an editor should hear three)."""
    found: set[int] = set()
    for n in range(1, 7):
        for i in range(len(tokens) - 3 * n + 1):
            if not tokens[i] or tokens[i] != tokens[i + n] or tokens[i] != tokens[i + 2 * n]:
                continue  # the cheap test first: nearly every position fails it
            gram = tokens[i:i + n]
            if tokens[i + n:i + 2 * n] == gram and tokens[i + 2 * n:i + 3 * n] == gram:
                found.update(range(i, i + 3 * n))
    return sorted(found)


def _unknown_names(flat, tokens: list[str], known: set[str]) -> list[int]:
    """Capitalised words inside a sentence that neither the card knows nor the transcript
    writes in lower case elsewhere (so "And" after a lost full stop is no name)."""
    lower = {t for t, (_, _, w) in zip(tokens, flat) if w.word.strip()[:1].islower()}
    found = []
    for k, (_, i, w) in enumerate(flat):
        if not i or not w.word.strip()[:1].isupper() or tokens[k] in known or tokens[k] in lower:
            continue
        if not re.search(r"[.!?:;\"]$", flat[k - 1][2].word.strip()) and not re.fullmatch(r"i('\w+)?", tokens[k]):
            found.append(k)
    return found


def _speaker_changes(paragraphs) -> list[int]:
    """The words either side of a change of speaker that falls inside a sentence."""
    found, k = [], 0
    for n, p in enumerate(paragraphs):
        before = paragraphs[n - 1] if n else None
        if before and before.words and p.words and p.speaker != before.speaker \
                and not _SENTENCE_END.search(before.words[-1].word.strip()):
            found += [k - 1, k]
        k += len(p.words)
    return found


def known_words(*texts: str) -> set[str]:
    """The lower-case words of the card's names and texts: names there are not suspects."""
    return {_norm(t) for text in texts for t in text.split()} - {""}


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def _norm_text(text: str) -> str:
    return " ".join(filter(None, map(_norm, text.split())))
