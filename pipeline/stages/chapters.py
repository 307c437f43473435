"""Chapters: where the topic changes, with a short title each, in every format players read.

A chapter starts where the interviewer opens a new subject. Every interviewer question is a
candidate (without speaker labels: every question sentence); a question that follows up on
the answer before it (it repeats that answer's words, opens with "And", is a short aside,
or the exchanges around it share vocabulary in TF-IDF terms) is not a new topic. The best
candidates are chosen so that every chapter lasts at least MIN_SECONDS. Titles read as an
editor would write them (titles.py): made from the question that opens the chapter ("How
often Helen writes"), else from the main noun phrase of its words (a YAKE keyphrase: "The
varroa mite"), in the site's spelling of English.

The card's `chapters` replace the automatic ones. Outputs in transcripts/SLUG/:
chapters.json (Podcasting 2.0 JSON chapters), chapters.vtt (WebVTT kind="chapters") and
chapters.youtube.txt (a block for a YouTube description, when YouTube's rules can be met).
The page (pipeline.site) lists them, serves chapters.vtt as <track kind="chapters"> and
makes schema.org Clips of them for its JSON-LD.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline import captions, languages
from pipeline.captions import Cue
from pipeline.config import Card
from pipeline.errors import CardError
from pipeline.files import read_json, write_json, write_text
from pipeline.model import Chapter, Transcript
from pipeline.stages import titles
from pipeline.stages.sentences import Sentence, content_words, english_stop_words, interviewer_of, sentences
from pipeline.stamps import Stamps, package_version
from pipeline.timecode import clock

log = logging.getLogger(__name__)

VERSION = 3  # part of the cache key: bump it when the results would change
MIN_SECONDS = 30.0  # no chapter is shorter
THRESHOLD = 0.5  # a candidate scores 0 (clearly a follow-up) to 1 (clearly a new topic)
TITLE_WORDS = titles.TITLE_WORDS
PODCAST_CHAPTERS_VERSION = "1.2.0"
YOUTUBE_MIN_CHAPTERS, YOUTUBE_MIN_SECONDS = 3, 10.0
FILES = ("chapters.json", "chapters.vtt")
YOUTUBE_FILE = "chapters.youtube.txt"

# Openers that tie a question to the answer before it, and phrases that announce a new subject.
_CONTINUATIONS = {"and", "but", "or", "also"}
_NEW_SUBJECT = re.compile(r"^(finally|lastly|next|moving on|turning to|let'?s (talk|turn|move)|"
                          r"(now,? )?let'?s|one last|to finish|another (thing|question|topic))\b")

# Words that make poor titles on their own: common verbs (all forms) and discourse markers.
_VERBS = """ask be become begin believe bring build buy call change choose come complain continue
create decide die do expect fall feel find follow get give go grow happen have hear help hold
include join keep know learn leave let like live look lose love make mean meet move need offer
open pay play post publish put read remember run say see seem sell send serve set show sit speak
spend stand start stay stop suggest take talk tell think try turn understand use visit wait walk fly
want watch win work worry write""".split()
_IRREGULAR = """began bought brought built came chose did done fell felt found gave given got gone
grew had heard held kept knew known left lost made meant met paid put ran read said saw seen sent
sold spent spoke stood sat taught thought told took understood went won wrote written""".split()
_NOT_SUBJECTS = ({f for v in _VERBS for f in (v, v + "s", v + "es", v + "ed", v + "d", v + "ing",
                                               v[:-1] + "ing", v + v[-1] + "ing", v + v[-1] + "ed",
                                               v[:-1] + "ies", v[:-1] + "ied")}
                 | set(_IRREGULAR) | {"finally", "lastly", "welcome", "program", "programme",
                                      "show", "joining", "today", "question", "answer"})


@dataclass
class _Exchange:
    """A candidate chapter opening (the interviewer's turn) and everything up to the next one."""

    start: float
    asked: list[Sentence]
    said: list[Sentence]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.said)


def run(card: Card, transcript: Transcript, out: Path, site_language: str = "en") -> list[Chapter]:
    """The chapters stage: the card's chapters or found ones, written in every format; found
    titles are spelt as the site's language says (`en-GB`: British)."""
    stamps = Stamps(out)
    key = stage_key(card, transcript, out, site_language)
    written = stamps.read("chapters").get("files", FILES)
    if stamps.is_fresh("chapters", key, [out / name for name in written]):
        return load(out)
    if card.chapters:
        found = from_card(card, transcript.duration)
    else:
        found = find(transcript, card.interviewer, names=(card.interviewer, *card.guests),
                     guest=card.guests[0] if len(card.guests) == 1 else None,
                     site_language=site_language)
    log.info("%s: %d chapter(s)%s", card.slug, len(found), " from the card" if card.chapters else "")
    files = {"chapters.json": podcast_json(found, card.title), "chapters.vtt": webvtt(found),
             YOUTUBE_FILE: youtube(found, transcript.duration)} if found else {}
    if found and not files[YOUTUBE_FILE]:
        log.info("%s: no YouTube chapters block: YouTube needs at least %d chapters of %d s or more",
                 card.slug, YOUTUBE_MIN_CHAPTERS, YOUTUBE_MIN_SECONDS)
    for name in (*FILES, YOUTUBE_FILE):  # no stale file may outlive its chapters
        content = files.get(name)
        if not content:
            (out / name).unlink(missing_ok=True)
        elif isinstance(content, dict):
            write_json(out / name, content)
        else:
            write_text(out / name, content)
    stamps.record("chapters", key, files=[name for name in FILES if name in files])
    return found


def load_libraries() -> None:
    """Import YAKE, the stemmer and breame's spellings, and load lemminflect's two
    dictionaries and the stop words (0.7 s, against 0.03 s for the chapters of a 3-minute
    interview themselves): publish has it done while the recogniser decodes."""
    import importlib

    from lemminflect import getAllInflections, getAllLemmas

    for module in ("yake", "snowballstemmer", "breame.data.spelling_constants"):
        importlib.import_module(module)
    getAllLemmas("writes")
    getAllInflections("write")
    english_stop_words()


def stage_key(card: Card, transcript: Transcript, out: Path, site_language: str = "en") -> str:
    """What the chapters depend on: the transcript, the card's chapters and people, the site's
    spelling, the tools."""
    return Stamps(out).key(transcript=transcript.digest(),
                           card=[card.chapters, card.interviewer, card.guests, card.title],
                           spelling=languages.spelling(site_language), version=VERSION,
                           tools=_tool_versions())


def load(out: Path) -> list[Chapter]:
    """The chapters last written to out/chapters.json (none if there is no such file)."""
    data = read_json(out / "chapters.json", {}) or {}
    return [Chapter(c["startTime"], c.get("endTime", c["startTime"]), c.get("title", ""))
            for c in data.get("chapters", [])]


def from_card(card: Card, duration: float) -> list[Chapter]:
    """The editor's chapters, checked against the recording's length."""
    late = [f"'chapters': '{title}' starts at {clock(start)}, after the end of the recording "
            f"({clock(duration)}); fix its start or remove it"
            for start, title in card.chapters if start >= duration > 0]
    if late:
        raise CardError(card.path, late)
    starts = [start for start, _ in card.chapters]
    return [Chapter(start, end, title) for (start, title), end
            in zip(card.chapters, starts[1:] + [max(duration, starts[-1])])]


def find(transcript: Transcript, interviewer: str = "", names: tuple[str, ...] = (),
         guest: str | None = None, site_language: str = "en") -> list[Chapter]:
    """Chapters from the topic changes of an interview; one chapter when none are found.
    `guest`: the one guest, named in titles where a question says "you"."""
    sents = sentences(transcript)
    if not sents:
        return []
    duration = max(transcript.duration, sents[-1].end)
    exchanges = _exchanges(sents, interviewer)
    scores = _scores(exchanges, sents)
    chosen = _choose([e.start for e in exchanges], scores, duration,
                     max(MIN_SECONDS, duration / 30))
    groups = [exchanges[a:b] for a, b in zip([0] + chosen, chosen + [len(exchanges)])]
    starts = [0.0] + [exchanges[i].start for i in chosen]
    named = _titles(groups, names, guest, site_language, languages.base(transcript.language))
    return [Chapter(round(start, 3), round(end, 3), title)
            for start, end, title in zip(starts, starts[1:] + [duration], named)]


def _exchanges(sents: list[Sentence], interviewer: str) -> list[_Exchange]:
    """Split at every interviewer turn that asks something or says enough to open a subject.

    Without speaker labels the questions stand in for the interviewer's turns.
    """
    labelled = any(s.speaker for s in sents)
    who = interviewer_of(sents, interviewer) if labelled else None
    asking = [(s.speaker == who) if labelled else s.is_question for s in sents]
    exchanges = [_Exchange(0.0, [], [])]
    i = 0
    while i < len(sents):
        if not asking[i]:
            exchanges[-1].said.append(sents[i])
            i += 1
            continue
        j = i
        while j < len(sents) and asking[j]:
            j += 1
        turn = sents[i:j]
        opens = any(s.is_question for s in turn) or sum(s.n_words for s in turn) >= 8
        if opens and i > 0:
            exchanges.append(_Exchange(turn[0].start, turn, []))
        elif not exchanges[-1].asked:
            exchanges[-1].asked = turn
        exchanges[-1].said.extend(turn)
        i = j
    return exchanges


def _scores(exchanges: list[_Exchange], sents: list[Sentence]) -> list[float]:
    """How clearly each exchange opens a new topic (the first one always does)."""
    bags = [set(content_words(e.text)) for e in exchanges]
    # Words found all over the interview are its theme, not a topic: they link nothing.
    spread = Counter(w for bag in bags for w in bag)
    theme = {w for w, n in spread.items() if n >= max(3, len(exchanges) / 3)}
    vectors = _tfidf([e.text for e in exchanges], [s.text for s in sents], theme)
    scores = [1.0]
    for k in range(1, len(exchanges)):
        asked = " ".join(s.text for s in exchanges[k].asked)
        topic = set(content_words(asked)) - theme
        link = len(topic & bags[k - 1]) / len(topic) if topic else 0.0
        cohesion = sum(v * vectors[k].get(w, 0.0) for w, v in vectors[k - 1].items())
        score = (1 - link) * (1 - cohesion)
        score *= min(1.0, (len(asked.split()) + 2) / 10)  # a short aside rarely opens a subject
        # How the turn gets going, past a "Right." or "I see." of acknowledgement.
        opener = next((s.text for s in exchanges[k].asked if s.n_words > 2), asked).lower().lstrip("\"' ")
        if opener.split(" ", 1)[0].strip(",") in _CONTINUATIONS:
            score *= 0.3
        if _NEW_SUBJECT.match(opener):
            score = max(score, 0.75)
        scores.append(score)
    return scores


def _tfidf(texts: list[str], corpus: list[str], theme: set[str]) -> list[dict[str, float]]:
    """L2-normalised TF-IDF rows of texts (word -> weight), with IDF from the interview's
    sentences: scikit-learn's TfidfVectorizer(sublinear_tf=True), whose numbers a test
    compares, written out because importing scikit-learn cost a publish 1.2 s."""
    def counts(text: str) -> Counter:
        return Counter(w for w in content_words(text) if w not in theme)

    documents = Counter(w for text in corpus for w in counts(text))
    idf = {w: math.log((1 + len(corpus)) / (1 + n)) + 1 for w, n in documents.items()}
    rows = []
    for text in texts:
        row = {w: (1 + math.log(n)) * idf[w] for w, n in counts(text).items() if w in idf}
        norm = math.sqrt(sum(v * v for v in row.values())) or 1.0
        rows.append({w: v / norm for w, v in row.items()})
    return rows


def _choose(starts: list[float], scores: list[float], duration: float, min_len: float) -> list[int]:
    """Pick the candidates (indices > 0) with the most score above THRESHOLD, no two closer
    than min_len, none closer than min_len to the start or the end (weighted interval DP)."""
    usable = [k for k in range(1, len(starts)) if scores[k] > THRESHOLD
              and min_len <= starts[k] <= duration - min_len]
    best: dict[int, tuple[float, list[int]]] = {}
    for k in usable:
        before = [best[j] for j in best if starts[k] - starts[j] >= min_len]
        gain, path = max(before, key=lambda b: b[0], default=(0.0, []))
        best[k] = (gain + scores[k] - THRESHOLD, path + [k])
    return max(best.values(), key=lambda b: b[0], default=(0.0, []))[1]


def _titles(groups: list[list[_Exchange]], names: tuple[str, ...], guest: str | None,
            site_language: str, spoken: str = "en") -> list[str]:
    """A distinct title for each chapter: from its opening question, else its main noun
    phrase, else its first words. Questions are turned into headings in English only;
    another language gets its question as it was asked, or its keyphrase."""
    used: set[str] = set()
    found = []
    for group in groups:
        text = " ".join(e.text for e in group)
        asked = [s.text for e in group[:1] for s in e.asked if s.is_question]
        if spoken == "en":
            options = [titles.from_question(q, guest) for q in reversed(asked)]
            options += [titles.from_phrase(p) for p in _noun_phrases(text, names)]
            options.append(_condensed_question(" ".join(asked)))
        else:
            options = [_condensed_question(" ".join(asked))]
            options += [p[0].upper() + p[1:] for p in _noun_phrases(text, names, spoken)]
        title = next((t for t in options if t and t.lower() not in used), None) or _opening(text)
        title = titles.spell(title, site_language)
        used.add(title.lower())
        found.append(title)
    return found


def _noun_phrases(text: str, names: tuple[str, ...], spoken: str = "en") -> list[str]:
    """The chapter's YAKE keyphrases that read as a subject (in English: ending in a noun,
    no verb or name in them), best first."""
    import yake
    from lemminflect import getAllLemmas

    extractor = yake.KeywordExtractor(lan=spoken, n=3, top=30, dedup_lim=0.7)
    lowered = set(re.findall(r"[a-z']+", text))  # words the speakers used in lower case
    skip = {w.lower() for n in names for w in n.split()} | extractor.stopword_set | _NOT_SUBJECTS
    ranked = []
    for phrase, weight in extractor.extract_keywords(text):
        words = phrase.split()
        if spoken != "en":
            if not {w.lower() for w in words} & skip:
                ranked.append((weight / len(words), phrase))
            continue
        if not re.fullmatch(r"[A-Za-z][A-Za-z' -]*", phrase) or {w.lower() for w in words} & skip:
            continue
        if "NOUN" not in getAllLemmas(words[-1].lower()) and not words[-1][0].isupper():
            continue
        # Capitals only where the speakers used them, not because a sentence started there.
        words = [w.lower() if w.lower() in lowered else w for w in words]
        ranked.append((weight / len(words), " ".join(words)))  # longer phrases say more
    return [p for _, p in sorted(ranked)]


def _opening(text: str) -> str:
    """The last resort: the chapter's first words."""
    words = text.split()[:6]
    return " ".join(words).rstrip(",.;:?!") + ("…" if len(text.split()) > 6 else "")


def _condensed_question(asked: str) -> str:
    """The last question, without openers, if it is 3 to 8 words long."""
    questions = re.findall(r"[^.?!]*\?", asked)
    if not questions:
        return ""
    question = re.sub(r"^(and|but|so|finally|now|well),?\s+", "", questions[-1].strip(), flags=re.I)
    if not TITLE_WORDS[0] <= len(question.split()) <= TITLE_WORDS[1]:
        return ""
    return question[0].upper() + question[1:]


def podcast_json(chapters: list[Chapter], title: str = "") -> dict:
    """The Podcasting 2.0 JSON chapters document."""
    doc = {"version": PODCAST_CHAPTERS_VERSION}
    if title:
        doc["title"] = title
    doc["chapters"] = [{"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title}
                       for c in chapters]
    return doc


def webvtt(chapters: list[Chapter]) -> str:
    """A WebVTT file of chapter cues, for <track kind="chapters">."""
    return captions.vtt([Cue(c.start, max(c.end, c.start + 0.001), c.title) for c in chapters])


def youtube(chapters: list[Chapter], duration: float) -> str | None:
    """Lines for a YouTube description, or None when YouTube's chapter rules cannot be met:
    the first at 0:00, at least three, each at least ten seconds, in ascending order."""
    ends = [c.start for c in chapters[1:]] + [duration]
    if (len(chapters) < YOUTUBE_MIN_CHAPTERS or chapters[0].start != 0
            or any(end - c.start < YOUTUBE_MIN_SECONDS for c, end in zip(chapters, ends))):
        return None
    return "".join(f"{clock(c.start)} {c.title}\n" for c in chapters)


def _tool_versions() -> dict:
    return {p: package_version(p) for p in ("yake", "scikit-learn", "snowballstemmer",
                                             "lemminflect", "breame")}
