"""What was heard, compared fairly: Whisper's own English text normaliser (spelling, numbers,
punctuation and case), used by the benchmark's word error rate and by the tests, which must
never depend on the recogniser's punctuation or casing (it differs between CPUs)."""

from __future__ import annotations

import functools


@functools.cache
def _normaliser():
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalised(text: str) -> str:
    """The text as Whisper's English normaliser writes it: lower case, no punctuation,
    American spelling, numbers as digits."""
    return _normaliser()(text)


def words(text: str) -> list[str]:
    return normalised(text).split()


def contains(text: str, phrase: str) -> bool:
    """True when the phrase's words occur in the text, in order and together, normalised."""
    return f" {normalised(phrase)} " in f" {normalised(text)} "


def recall(reference: str, hypothesis: str) -> float:
    """The share of the reference's words that the hypothesis has, in order (0 to 1)."""
    import difflib

    ref, hyp = words(reference), words(hypothesis)
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
