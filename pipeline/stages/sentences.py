"""Sentences, shared by the chapters and quotes stages: sentences with word timings, content
words (Porter stems) for TF-IDF, and who is asking the questions.

Whisper's segments are ~30 s chunks that can hold several speaker turns, so both stages
work on sentences rebuilt from the words, each sentence by one speaker.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.model import Transcript, Word

# Tokens that end a sentence only in appearance.
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "e.g.", "i.e.", "etc.", "vs."}
# Words that carry no topic: English stop words plus the small talk of interviews.
_FILLERS = {
    "yes", "yeah", "right", "okay", "oh", "well", "think", "know", "really", "just", "thank",
    "thanks", "like", "got", "get", "said", "say", "says", "see", "mean", "actually", "basically",
    "lot", "lots", "thing", "things", "way", "want", "wants", "going", "happened", "start",
    "did", "does", "doing", "make", "made", "let", "tell", "told",
}


@dataclass
class Sentence:
    """One sentence by one speaker, with its words (empty when the segment had no timings)."""

    start: float
    end: float
    text: str
    speaker: str | None
    words: list[Word] = field(default_factory=list)
    first: int = -1  # index of its first word in all_words(); -1 when untimed

    @property
    def is_question(self) -> bool:
        return self.text.rstrip("\"')]").endswith("?")

    @property
    def complete(self) -> bool:
        """Starts with a capital (or digit) and ends with a full stop or exclamation mark."""
        return bool(re.match(r"[\"']?[A-Z0-9]", self.text)) and bool(
            re.search(r"[.!][\"')\]]?$", self.text))

    @property
    def n_words(self) -> int:
        return len(self.text.split())


def all_words(transcript: Transcript) -> list[tuple[Word, str | None]]:
    """Every timed word of the transcript with its speaker, in order."""
    return [(w, seg.speaker) for seg in transcript.segments for w in seg.words]


def sentences(transcript: Transcript) -> list[Sentence]:
    """Split the transcript into sentences at . ! ? and wherever the speaker changes."""
    result: list[Sentence] = []
    current: list[Word] = []
    speaker = None
    index = 0

    def close():
        nonlocal current
        if current:
            text = "".join(w.word for w in current).strip()
            result.append(Sentence(current[0].start, current[-1].end, text, speaker, current,
                                   index - len(current)))
            current = []

    for seg in transcript.segments:
        if seg.speaker != speaker:
            close()
            speaker = seg.speaker
        if not seg.words:  # an edited or imported segment without timings: keep it whole
            close()
            result.append(Sentence(seg.start, seg.end, seg.text.strip(), seg.speaker))
            continue
        for word in seg.words:
            current.append(word)
            index += 1
            token = word.word.strip().lower()
            if re.search(r"[.!?][\"')\]]?$", token) and token not in _ABBREVIATIONS:
                close()
    close()
    return [s for s in result if s.text]


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Porter stem of a lower-case word, as SQLite's FTS5 `porter` tokenizer makes it, so
    chapters, quotes and search agree: colonies/colony, writing/write, hives/hive match."""
    if not hasattr(_stemmers, "porter"):  # a stemmer keeps its state: one per thread
        import snowballstemmer

        _stemmers.porter = snowballstemmer.stemmer("porter")
    return _stemmers.porter.stemWord(word)


_stemmers = threading.local()


def content_words(text: str) -> list[str]:
    """Stemmed words that can carry a topic: no stop words, fillers or very short words."""
    stop_words = english_stop_words()
    return [stem(w) for w in re.findall(r"[a-z]+", text.lower().replace("'", ""))
            if len(w) > 2 and w not in stop_words and w not in _FILLERS]


@functools.cache
def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words, read from the module that holds them: importing the
    package for them (sklearn.feature_extraction) cost a publish 1.2 s, for a list of words."""
    package = Path(importlib.util.find_spec("sklearn").origin).parent  # found, not imported
    spec = importlib.util.spec_from_file_location("sklearn_stop_words",
                                                  package / "feature_extraction" / "_stop_words.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ENGLISH_STOP_WORDS


def interviewer_of(sents: list[Sentence], named: str = "") -> str | None:
    """The interviewer's speaker label: the card's name when it occurs, else whoever asks most."""
    speakers = {s.speaker for s in sents if s.speaker}
    if not speakers:
        return None
    if named and named in speakers:
        return named
    asked: dict[str, int] = {}
    for s in sents:
        if s.speaker and s.is_question:
            asked[s.speaker] = asked.get(s.speaker, 0) + 1
    return max(asked, key=asked.get) if asked else None
