"""Scoring who-spoke-when: the standard diarization error rate (pyannote.metrics) and the share
of speech time published under the right name.

The truth is a dict with "speech" ({person: [[start, end], ...]}: when each person speaks,
overlaps included) and "dominant" ([[start, end, person], ...]: who is loudest at each moment
of speech, the one a transcript should name there). bench/conversation.py writes it for the
conversations it generates; truth_of_turns() makes it for a polite interview (one voice at a
time) from its audio, and truth_of_rttm() from a hand-made RTTM annotation.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from pipeline.audio import SAMPLE_RATE, read_samples

FRAME = 0.01
# As bench/conversation.py: speech is within 40 dB of the loudest frames, and pauses up to a
# quarter second inside a turn are part of it.
SILENCE_DB = 40.0
BRIDGE = 0.25


def truth_of_turns(turns: list[dict], wav: Path) -> dict:
    """The truth of an interview whose turns never overlap (bench/synth.py's): each person's
    speech is where the audio is loud inside their turns."""
    samples = read_samples(wav)
    tracks: dict[str, np.ndarray] = {}
    spans: dict[str, list] = {}
    for turn in turns:
        a, b = int(turn["start"] * SAMPLE_RATE), int(turn["end"] * SAMPLE_RATE)
        track = tracks.setdefault(turn["speaker"], np.zeros(len(samples), dtype=np.float32))
        track[a:b] = samples[a:b]
        spans.setdefault(turn["speaker"], []).append((a, b))
    return truth_of_tracks(tracks, spans)


def truth_of_tracks(tracks: dict[str, np.ndarray], spans: dict[str, list[tuple[int, int]]]) -> dict:
    """The truth from each person's own clean track (float samples, all of one length) and
    the sample ranges of their utterances: they speak where their track is loud inside an
    utterance (pauses up to BRIDGE included), and the louder track dominates."""
    size = int(FRAME * SAMPLE_RATE)
    frames = min(len(t) for t in tracks.values()) // size
    energy = {p: (t[:frames * size].reshape(frames, size).astype(np.float64) ** 2).mean(1)
              for p, t in tracks.items()}
    active = {}
    for person, e in energy.items():
        loud = np.percentile(e[e > 0], 95) if (e > 0).any() else 0.0
        inside = np.zeros(frames, dtype=bool)
        for a, b in spans[person]:
            inside[a // size:-(-b // size)] = True
        active[person] = _bridge(e > loud * 10 ** (-SILENCE_DB / 10), int(BRIDGE / FRAME)) & inside
    people = list(tracks)
    stacked = np.stack([np.where(active[p], energy[p], -1.0) for p in people])
    top = np.where(stacked.max(0) >= 0, stacked.argmax(0), -1)
    return {"speech": {p: [[round(a * FRAME, 2), round(b * FRAME, 2)] for a, b in _runs(active[p])]
                       for p in people},
            "dominant": [[round(a * FRAME, 2), round(b * FRAME, 2), people[v]]
                         for a, b, v in _value_runs(top) if v >= 0]}


def truth_of_rttm(text: str, names: dict[str, str] | None = None) -> dict:
    """The truth from an RTTM annotation (`SPEAKER file 1 START DURATION <NA> <NA> WHO ...`);
    where two people overlap there, nobody is taken to dominate (those moments are left out of
    the share named right, and count in the error rate)."""
    speech: dict[str, list] = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, duration, who = float(parts[3]), float(parts[4]), parts[7]
            speech.setdefault((names or {}).get(who, who), []).append([start, round(start + duration, 3)])
    end = max(b for spans in speech.values() for _, b in spans)
    count = np.zeros(int(end / FRAME) + 1, dtype=int)
    who = np.full(len(count), -1)
    people = list(speech)
    for n, person in enumerate(people):
        for a, b in speech[person]:
            count[int(a / FRAME):int(b / FRAME)] += 1
            who[int(a / FRAME):int(b / FRAME)] = n
    alone = np.where(count == 1, who, -1)
    dominant = [[round(a * FRAME, 2), round(b * FRAME, 2), people[v]] for a, b, v in _value_runs(alone) if v >= 0]
    return {"speech": speech, "dominant": dominant}


def reference(truth: dict):
    """The truth as a pyannote Annotation."""
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for person, spans in truth["speech"].items():
        for n, (a, b) in enumerate(spans):
            annotation[Segment(a, b), f"{person}/{n}"] = person
    return annotation


def annotation(spans: list) -> "object":
    """[[start, end, name], ...] (a speakers.json timeline, or a transcript's segments) as an
    Annotation."""
    from pyannote.core import Annotation, Segment

    result = Annotation()
    for n, (a, b, who) in enumerate(spans):
        if b > a:
            result[Segment(a, b), n] = who
    return result


def error_rate(truth: dict, spans: list, collar: float = 0.0) -> float:
    """The diarization error rate (missed speech + false alarm + confusion, over the speech
    time of the truth; overlaps count once per person), names mapped optimally as the
    standard metric does. `collar`: seconds around each true boundary left out (pyannote's
    convention: 0.5 is NIST's +-0.25 s)."""
    from pyannote.metrics.diarization import DiarizationErrorRate

    with warnings.catch_warnings():  # 'uem' approximated from the two annotations: as intended
        warnings.simplefilter("ignore")
        return float(DiarizationErrorRate(collar=collar, skip_overlap=False)(reference(truth), annotation(spans)))


def named_right(truth: dict, spans: list) -> tuple[float, float]:
    """(share of the dominant speech time, where `spans` name anyone, that they name the
    dominant person; share of the dominant speech time they cover). Names must match."""
    end = max([b for a, b, _ in truth["dominant"]] + [b for a, b, _ in spans] + [0]) + 1
    said = np.full(int(end / FRAME) + 1, None, dtype=object)
    for a, b, who in spans:
        said[int(round(a / FRAME)):int(round(b / FRAME))] = who
    right = covered = total = 0
    for a, b, who in truth["dominant"]:
        heard = said[int(round(a / FRAME)):int(round(b / FRAME))]
        right += int((heard == who).sum())
        covered += int(sum(h is not None for h in heard))
        total += len(heard)
    return right / max(covered, 1), covered / max(total, 1)


def segments(transcript) -> list:
    """A transcript's segments as [start, end, speaker] spans."""
    return [[s.start, s.end, s.speaker] for s in transcript.segments]


def _bridge(on: np.ndarray, longest: int) -> np.ndarray:
    out = on.copy()
    idx = np.flatnonzero(on)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= longest + 1:
            out[a:b] = True
    return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def _value_runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    cuts = [0] + (np.flatnonzero(np.diff(values)) + 1).tolist() + [len(values)]
    return [(a, b, int(values[a])) for a, b in zip(cuts[:-1], cuts[1:])]
