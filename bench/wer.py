"""What was heard, compared fairly: Whisper's own English text normaliser (spelling, numbers,
punctuation and case), used by the benchmark's word error rate and by the tests, which must
never depend on the recogniser's punctuation or casing (it differs between CPUs). Other
languages get Whisper's basic normaliser (case, punctuation and accents aside)."""

from __future__ import annotations

import functools


@functools.cache
def _normaliser(language: str = "en"):
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    return EnglishTextNormalizer() if language == "en" else BasicTextNormalizer(remove_diacritics=True)


def normalised(text: str, language: str = "en") -> str:
    """The text as Whisper's English normaliser writes it: lower case, no punctuation,
    American spelling, numbers as digits (another language: lower case, no punctuation or
    accents)."""
    return _normaliser(language)(text)


def words(text: str, language: str = "en") -> list[str]:
    return normalised(text, language).split()


def contains(text: str, phrase: str) -> bool:
    """True when the phrase's words occur in the text, in order and together, normalised."""
    return f" {normalised(phrase)} " in f" {normalised(text)} "


def recall(reference: str, hypothesis: str, language: str = "en") -> float:
    """The share of the reference's words that the hypothesis has, in order (0 to 1)."""
    import difflib

    ref, hyp = words(reference, language), words(hypothesis, language)
    matcher = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(len(ref), 1)


def score(reference: str, hypothesis: str) -> dict:
    """WER after the normaliser, and the longest runs of missing and invented words (a
    skipped answer, a repetition loop)."""
    import jiwer

    ref, hyp = normalised(reference), normalised(hypothesis)
    out = jiwer.process_words(ref, hyp or "<nothing>")
    chunks = out.alignments[0]
    missing = max((c.ref_end_idx - c.ref_start_idx for c in chunks if c.type == "delete"), default=0)
    invented = max((c.hyp_end_idx - c.hyp_start_idx for c in chunks if c.type == "insert"), default=0)
    return {"wer": round(out.wer * 100, 2), "missing_run": missing, "invented_run": invented}


def heard_words(timed: list) -> list[tuple[str, int]]:
    """The normalised tokens of timed words ([start, end, word, ...]), each with the index of
    the word it came from."""
    return [(token, k) for k, w in enumerate(timed) for token in normalised(w[2]).split()]


def lost_at(reference: str, timed: list, moments: list[float], slack: float = 0.5) -> int:
    """How many words of the reference are missing where the recogniser's words jump over
    one of `moments` (the clip ends): speech lost at a clip's edge."""
    import bisect
    import difflib

    ref, heard = words(reference), heard_words(timed)
    matcher = difflib.SequenceMatcher(None, ref, [t for t, _ in heard], autojunk=False)
    moments = sorted(moments)
    lost = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        missing = (i2 - i1) - (j2 - j1)
        if tag not in ("delete", "replace") or missing <= 0 or not 0 < j1 < len(heard):
            continue
        if "".join(ref[i1:i2]) == "".join(t for t, _ in heard[j1:j2]):
            continue  # "any more" heard as "anymore": the same words, none lost
        gap_from, gap_to = timed[heard[j1 - 1][1]][1], timed[heard[min(j2, len(heard) - 1)][1]][0]
        at = bisect.bisect_left(moments, gap_from - slack)
        if at < len(moments) and moments[at] <= gap_to + slack:
            lost += missing
    return lost


def right_and_wrong(reference: str, timed: list) -> tuple[list[float], list[float]]:
    """The probabilities of the recogniser's words that match the reference, and of those
    that do not (misheard or invented)."""
    import difflib

    heard = heard_words(timed)
    matcher = difflib.SequenceMatcher(None, words(reference), [t for t, _ in heard],
                                      autojunk=False)
    right = {heard[j][1] for block in matcher.get_matching_blocks()
             for j in range(block.b, block.b + block.size)}
    return ([w[3] for k, w in enumerate(timed) if k in right],
            [w[3] for k, w in enumerate(timed) if k not in right])
