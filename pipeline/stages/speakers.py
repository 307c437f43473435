"""Speakers: who said what, named from the card.

Voices are found from the sound alone: webrtcvad marks the voiced 10 ms frames, Resemblyzer's
speaker encoder (its weights ship inside its wheel: no download, no account) embeds short
windows of voiced audio, and the windows are clustered into as many voices as
the card names (or an estimate). Windows never cross a pause, so a turn after even a short
pause is heard on its own. Each word takes the voice heard during it, segments are split where
the voice changes, and voices get names from the card.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.audio import SAMPLE_RATE as RATE, read_samples
from pipeline.config import Card
from pipeline.files import read_json, sha256_text, write_json
from pipeline.model import Prepared, Segment, Transcript, Word
from pipeline.stamps import Stamps, package_version

log = logging.getLogger(__name__)

FRAME = 0.01  # seconds: the encoder's mel frames and our VAD frames line up
# Windows of 0.6 s every 0.4 s. Measured on eight generated interviews (three of them with
# similar voices), they labelled as much or more speech right than the encoder's own 1.6 s
# windows every 0.25 s (similar voices: 98.9 to 100 % against 91 to 98 %), for half the work.
WINDOW = 60  # frames
STEP = 40  # frames between windows in a long stretch of speech
MIN_WINDOW = 20  # frames: shorter voiced stretches are too little to tell a voice by
MAX_FILL = 8  # frames: unvoiced gaps up to this (stops, breaths inside words) count as voiced
BATCH = 64  # windows embedded at once: all at once took 1.3 GB for a 2.5 minute interview
VAD_MODE = 3


def voiced_frames(samples: np.ndarray, mode: int = VAD_MODE) -> np.ndarray:
    """One flag per 10 ms frame: webrtcvad's speech decision, with short gaps filled."""
    with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import webrtcvad
    vad = webrtcvad.Vad(mode)
    size = int(RATE * FRAME)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    flags = np.array([vad.is_speech(pcm[i * 2 * size:(i + 1) * 2 * size], RATE)
                      for i in range(len(samples) // size)], dtype=bool)
    return _fill_gaps(flags, MAX_FILL)


def _fill_gaps(flags: np.ndarray, longest: int) -> np.ndarray:
    out = flags.copy()
    for start, end in _runs(~flags):
        if 0 < start and end < len(flags) and end - start <= longest:
            out[start:end] = True
    return out


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each stretch of True."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def windows(voiced: np.ndarray) -> list[tuple[int, int]]:
    """Frame ranges to embed: WINDOW long every STEP inside each voiced stretch, never across
    a pause (so each window holds one voice); a shorter stretch is one window of its own."""
    result = []
    for start, end in _runs(voiced):
        if end - start < MIN_WINDOW:
            continue
        if end - start <= WINDOW:
            result.append((start, end))
            continue
        starts = list(range(start, end - WINDOW + 1, STEP))
        if starts[-1] != end - WINDOW:
            starts.append(end - WINDOW)
        result += [(s, s + WINDOW) for s in starts]
    return result


def embed(samples: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """One L2-normed voice embedding per frame range, computed in batches of equal length."""
    import torch

    mel = mel_spectrogram(_normalize_volume(samples))
    encoder = _encoder()
    result = np.zeros((len(spans), 256), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, (start, end) in enumerate(spans):
        by_length.setdefault(end - start, []).append(i)
    threads = torch.get_num_threads()
    # One thread: on a busy 2-core machine two threads ran the encoder ten times slower.
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            for indices in by_length.values():
                for b in range(0, len(indices), BATCH):
                    batch = indices[b:b + BATCH]
                    mels = np.stack([mel[spans[i][0]:spans[i][1]] for i in batch])
                    result[batch] = encoder(torch.from_numpy(mels)).numpy()
    finally:
        torch.set_num_threads(threads)
    return result


@functools.cache
def _encoder():
    import torch
    with warnings.catch_warnings():  # it imports webrtcvad, which imports pkg_resources
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

    torch.set_flush_denormal(True)  # LSTM steps on denormal floats are needlessly slow
    return VoiceEncoder("cpu", verbose=False)


def _normalize_volume(samples: np.ndarray, target_dbfs: float = -30.0) -> np.ndarray:
    """Raise quiet recordings to the level the encoder was trained on (never lower loud ones)."""
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
    if rms == 0.0:
        return samples
    gain = 10 ** ((target_dbfs - 20 * np.log10(rms)) / 20)
    return samples * np.float32(gain) if gain > 1 else samples


def mel_spectrogram(samples: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """The encoder's input: 40-band mel power spectrogram, 25 ms windows every 10 ms.

    The same numbers as librosa.feature.melspectrogram with Resemblyzer's settings (a test
    compares them), computed here because librosa's first call costs seconds of set-up."""
    n_fft, hop = 400, int(RATE * FRAME)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    padded = np.pad(samples.astype(np.float32), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    frames = frames[:1 + len(samples) // hop]
    filters = _mel_filters(RATE, n_fft, 40)
    out = np.empty((len(frames), len(filters)), dtype=np.float32)
    for i in range(0, len(frames), chunk):  # in chunks: an hour of spectra at once is gigabytes
        power = np.abs(np.fft.rfft(frames[i:i + chunk] * window, axis=1)) ** 2
        out[i:i + chunk] = power @ filters.T
    return out


@functools.cache
def _mel_filters(rate: int, n_fft: int, bands: int) -> np.ndarray:
    """Slaney-style mel filter bank (librosa's default), area-normalised."""
    log_step = np.log(6.4) / 27.0

    def hz_to_mel(f):
        return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / log_step,
                        3.0 * f / 200.0)

    def mel_to_hz(m):
        return np.where(m >= 15.0, 1000.0 * np.exp(log_step * (m - 15.0)), 200.0 * m / 3.0)

    fft_hz = np.linspace(0, rate / 2, 1 + n_fft // 2)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(rate / 2)), bands + 2))
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / np.diff(mel_hz)[:-1, None]
    upper = ramps[2:] / np.diff(mel_hz)[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    return (weights * (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]).astype(np.float32)


def cluster(embeddings: np.ndarray, run_of: np.ndarray, count: int) -> np.ndarray:
    """A voice (0..count-1) for each window, the same for all windows of one voiced stretch.

    Stretches (their mean embedding, weighted by length) are clustered with k-means; then a
    linear discriminant is trained on those labels and re-applied, a few rounds, each
    stretch judged by a model trained without it. Measured on similar voices, k-means alone
    labelled 92 to 97 % of the speech right, with the discriminant 95 to 99 %."""
    runs, inverse = np.unique(run_of, return_inverse=True)
    weights = np.bincount(inverse).astype(float)
    means = _unit(np.stack([embeddings[inverse == i].mean(0) for i in range(len(runs))]))
    centres = spherical_kmeans(means, weights, count)
    labels = (means @ centres.T).argmax(1)
    for _ in range(LDA_ROUNDS):
        scores = _held_out_lda(embeddings, labels[inverse], inverse, count)
        stretch_scores = np.stack([scores[inverse == i].mean(0) for i in range(len(runs))])
        new = stretch_scores.argmax(1)
        if (new == labels).all():
            break
        labels = new
    return labels[inverse]


LDA_ROUNDS = 6
LDA_SHRINK = 0.5  # pulls the within-voice covariance halfway to a sphere: less overfitting
LDA_FOLDS = 5


def _held_out_lda(x: np.ndarray, labels: np.ndarray, run: np.ndarray, count: int) -> np.ndarray:
    """Linear discriminant scores per window, each from a model fit on the other stretches."""
    scores = np.zeros((len(x), count))
    fold = run % LDA_FOLDS
    for f in range(LDA_FOLDS):
        test = fold == f
        if test.any():
            scores[test] = _lda(x[~test], labels[~test], count)(x[test])
    return scores


def _lda(x: np.ndarray, labels: np.ndarray, count: int):
    present = [c for c in range(count) if (labels == c).any()]
    means = np.zeros((count, x.shape[1]))
    for c in present:
        means[c] = x[labels == c].mean(0)
    resid = x - means[labels]
    within = resid.T @ resid / max(len(x), 1)
    within = (1 - LDA_SHRINK) * within + LDA_SHRINK * np.trace(within) / x.shape[1] * np.eye(x.shape[1])
    weights = np.linalg.solve(within + 1e-9 * np.eye(x.shape[1]), means.T)
    bias = -0.5 * np.sum(means.T * weights, axis=0)
    bias[[c for c in range(count) if c not in present]] = -np.inf  # a voice with no examples
    return lambda y: y @ weights + bias


def spherical_kmeans(x: np.ndarray, weights: np.ndarray, count: int, restarts: int = 10,
                     seed: int = 0) -> np.ndarray:
    """Unit-length centres of `count` clusters of unit vectors (cosine k-means, k-means++
    starts, weighted), the best of several restarts; deterministic for a given input."""
    rng = np.random.default_rng(seed)
    best, best_fit = None, -np.inf
    for _ in range(restarts):
        centres = _kmeanspp(x, weights, count, rng)
        for _ in range(100):
            labels = (x @ centres.T).argmax(1)
            new = np.stack([(x[labels == c] * weights[labels == c, None]).sum(0)
                            if (labels == c).any() else centres[c] for c in range(count)])
            new = _unit(new)
            if np.allclose(new, centres):
                break
            centres = new
        fit = float((weights * (x @ centres.T).max(1)).sum())
        if fit > best_fit + 1e-9:
            best, best_fit = centres, fit
    return best


def _kmeanspp(x, weights, count, rng) -> np.ndarray:
    centres = [x[rng.choice(len(x), p=weights / weights.sum())]]
    for _ in range(1, count):
        distance = np.clip(1 - (x @ np.stack(centres).T).max(1), 0, None) * weights
        if distance.sum() <= 0:
            centres.append(x[rng.integers(len(x))])
        else:
            centres.append(x[rng.choice(len(x), p=distance / distance.sum())])
    return np.stack(centres)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


ESTIMATE_MAX = 8
# Two clusters whose mean voices are more alike than this are taken for one person when
# counting voices. Measured: one voice split in two gave 0.98 to 0.99; different voices 0.71
# to 0.94; two similar espeak variants 0.965 to 0.975, so those are counted as one (the card
# can say how many people speak).
SAME_VOICE = 0.95
MIN_SHARE = 0.05  # a counted voice has at least this share of the speech


def estimate_count(embeddings: np.ndarray, run_of: np.ndarray) -> int:
    """How many voices: add one while the new voice is clearly different and not a sliver."""
    best = 1
    for count in range(2, min(ESTIMATE_MAX, len(np.unique(run_of))) + 1):
        labels = cluster(embeddings, run_of, count)
        shares = np.bincount(labels, minlength=count) / len(labels)
        if shares.min() < MIN_SHARE:
            break
        centres = _unit(np.stack([embeddings[labels == c].mean(0) for c in range(count)]))
        similarity = centres @ centres.T
        np.fill_diagonal(similarity, -1)
        if similarity.max() >= SAME_VOICE:
            break
        best = count
    return best


@dataclass
class Voices:
    """Who speaks when: a voice number (0, 1, ... by first appearance) per 10 ms frame."""

    frames: np.ndarray
    voiced: np.ndarray
    count: int
    estimated: bool = False


def find_voices(samples: np.ndarray, count: int | None = None) -> Voices:
    """Tell the voices apart in a recording: `count` of them, or an estimate when None."""
    voiced = voiced_frames(samples)
    spans = windows(voiced)
    if count == 1 or not spans:
        return Voices(np.zeros(len(voiced), dtype=int), voiced, 1, estimated=count is None)
    starts = [start for start, _ in _runs(voiced)]
    run_of = np.searchsorted(starts, [start for start, _ in spans], side="right") - 1
    embeddings = embed(samples, spans)
    estimated = count is None
    if estimated:
        count = estimate_count(embeddings, run_of)
    count = min(count, len(np.unique(run_of)))
    labels = cluster(embeddings, run_of, count) if count > 1 else np.zeros(len(spans), dtype=int)
    frames = np.full(len(voiced), -1)
    for (start, end), label in zip(spans, labels):
        frames[start:end] = label
    frames = _by_first_appearance(_fill_nearest(frames))
    return Voices(frames, voiced, int(frames.max()) + 1, estimated)


def _fill_nearest(labels: np.ndarray) -> np.ndarray:
    """Give unlabelled frames (pauses, clicks) the label of the nearest labelled frame."""
    known = np.flatnonzero(labels >= 0)
    at = np.arange(len(labels))
    after = known[np.clip(np.searchsorted(known, at), 0, len(known) - 1)]
    before = known[np.clip(np.searchsorted(known, at) - 1, 0, len(known) - 1)]
    return labels[np.where(np.abs(after - at) < np.abs(before - at), after, before)]


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order = list(dict.fromkeys(labels.tolist()))
    remap = np.zeros(labels.max() + 1, dtype=int)
    remap[order] = np.arange(len(order))
    return remap[labels]


def unit_voices(transcript: Transcript, voices: Voices) -> list[int]:
    """The voice of each word (or of each segment without word times): the voice heard
    most in its voiced frames."""
    result = []
    last = len(voices.frames) - 1
    for start, end in _unit_times(transcript):
        a = min(max(int(start / FRAME), 0), last)
        b = min(max(int(np.ceil(end / FRAME)), a + 1), last + 1)
        frames, voiced = voices.frames[a:b], voices.voiced[a:b]
        heard = frames[voiced] if voiced.any() else frames
        result.append(int(np.bincount(heard).argmax()))
    return result


def _unit_times(transcript: Transcript) -> list[tuple[float, float]]:
    return [(w.start, w.end) for seg in transcript.segments
            for w in (seg.words or [seg])]


def voice_count(card: Card) -> int | None:
    """How many voices to look for: the card's `speakers`, else its people, else None (estimate)."""
    people = ([card.interviewer] if card.interviewer else []) + list(card.guests)
    return card.speakers.count or len(dict.fromkeys(people)) or None


def voice_id(voice: int) -> str:
    """The stable id of a voice (numbered by first appearance) that a card can rename."""
    return f"SPEAKER_{voice + 1}"


@dataclass
class VoiceStats:
    seconds: float = 0.0
    words: int = 0
    turns: int = 0
    questions: int = 0  # turns with a question mark
    first: float = float("inf")


def voice_stats(transcript: Transcript, voices: list[int]) -> dict[int, VoiceStats]:
    """Per voice: speaking time, words, turns and turns that ask a question."""
    stats: dict[int, VoiceStats] = {}
    units = [(seg, w) for seg in transcript.segments for w in (seg.words or [seg])]
    previous, turn_text = None, []
    for (seg, unit), voice in zip(units, voices):
        s = stats.setdefault(voice, VoiceStats())
        s.words += len(unit.text.split()) if unit is seg else 1
        s.seconds += max(unit.end - unit.start, 0.0)
        s.first = min(s.first, unit.start)
        if voice != previous:
            s.turns += 1
            if previous is not None and "?" in "".join(turn_text):
                stats[previous].questions += 1
            turn_text = []
        turn_text.append(unit.word if unit is not seg else unit.text)
        previous = voice
    if previous is not None and "?" in "".join(turn_text):
        stats[previous].questions += 1
    return stats


def name_voices(card: Card, stats: dict[int, VoiceStats]) -> dict[int, str]:
    """Names for voices: the card's renames and names in order first; then the interviewer
    is the voice that asks the questions (and speaks first, and less); guests take the rest
    in order of first appearance; any voice left is "Speaker N"."""
    voices = sorted(stats, key=lambda v: stats[v].first)
    settings = card.speakers
    if settings.names:
        return {v: settings.names[v] if v < len(settings.names) else f"Speaker {v + 1}" for v in voices}
    names = {v - 1: name for v, name in settings.rename if v - 1 in stats}
    free = [v for v in voices if v not in names]
    taken = set(names.values())
    guests = [g for g in dict.fromkeys(card.guests) if g not in taken]
    interviewer = card.interviewer if card.interviewer and card.interviewer not in taken else ""
    # With one voice left and a guest to name, it is the guest talking (a talk, a monologue).
    if interviewer and free and (len(free) > 1 or not guests):
        total = sum(s.words for s in stats.values()) or 1
        first = voices[0]

        def asks(v: int) -> float:
            s = stats[v]
            return s.questions / max(s.turns, 1) + 0.5 * (v == first) + 0.5 * (1 - s.words / total)

        chosen = max(free, key=asks)
        names[chosen] = interviewer
        free.remove(chosen)
    for v in free:
        names[v] = guests.pop(0) if guests else f"Speaker {v + 1}"
    return names


def apply(transcript: Transcript, voices: list[int], names: dict[int, str]) -> Transcript:
    """A copy of the transcript with every segment split where the voice changes and named."""
    segments, i = [], 0
    for seg in transcript.segments:
        if not seg.words:
            segments.append(replace(seg, speaker=names[voices[i]]))
            i += 1
            continue
        groups: list[list] = []
        for word in seg.words:
            if groups and voices[i] == groups[-1][0]:
                groups[-1][1].append(word)
            else:
                groups.append([voices[i], [word]])
            i += 1
        for n, (voice, words) in enumerate(groups):
            start = seg.start if n == 0 else words[0].start
            end = seg.end if n == len(groups) - 1 else words[-1].end
            text = seg.text if len(groups) == 1 else "".join(w.word for w in words).strip()
            segments.append(Segment(start, end, text, names[voice], [replace(w) for w in words]))
    return replace(transcript, segments=segments)


ALGORITHM = 1  # part of the stage key: raise it when a change here should relabel old transcripts


def run(card: Card, prepared: Prepared, transcript: Transcript, folder: Path) -> Transcript:
    """The speakers stage: name the speaker of every segment, splitting segments where the
    voice changes. Voices are found once per transcript and voice count (cached in
    speakers.json, with the names given); names come from the card every time, so renaming
    a speaker costs no audio work."""
    if not transcript.segments:
        return transcript
    audio = prepared.audio
    stamps = Stamps(folder)
    count = voice_count(card)
    key = stage_key(card, audio, transcript, folder)
    path = folder / "speakers.json"
    found = read_json(path, {}) if stamps.is_fresh("speakers", key, [path]) else {}
    units = len(_unit_times(transcript))
    if len(found.get("words", [])) != units:
        found, seconds = _find(card, audio, transcript, count)
        write_json(path, found)
        stamps.record("speakers", key, seconds=seconds)
    voices, stats, names = _named(card, transcript, found)
    labelled = apply(transcript, voices, names)
    write_json(path, {**found, "names": {voice_id(v): names[v] for v in sorted(names)},
                      "voices": {voice_id(v): _describe(stats[v], names[v]) for v in sorted(stats)}})
    return labelled


def stage_key(card: Card, audio: Path, transcript: Transcript, folder: Path) -> str:
    """What the voices depend on: the audio, the words and their times, how many voices the
    card asks for, and the tools (`pipeline status` compares it without doing the work)."""
    return Stamps(folder).key(files=[audio], words=_words_digest(transcript),
                              count=voice_count(card), versions=_versions())


def labelled(card: Card, transcript: Transcript, found: dict) -> Transcript | None:
    """The machine's transcript named as run() names it, from speakers.json's voices and the
    card as it is now: no audio work (the studio and `pipeline status` use it). None when
    speakers.json does not belong to these words."""
    if not transcript.segments:
        return transcript
    if len(found.get("words", [])) != len(_unit_times(transcript)):
        return None
    voices, _, names = _named(card, transcript, found)
    return apply(transcript, voices, names)


def _named(card: Card, transcript: Transcript, found: dict):
    """The voice of each word, each voice's statistics and its name from the card."""
    voices = [int(v.rsplit("_", 1)[1]) - 1 for v in found["words"]]
    stats = voice_stats(transcript, voices)
    return voices, stats, name_voices(card, stats)


def _find(card: Card, audio: Path, transcript: Transcript, count: int | None) -> tuple[dict, float]:
    """The voices heard in each word (for speakers.json), and the seconds it took."""
    started = time.monotonic()
    voices = find_voices(read_samples(audio), count)
    words = [voice_id(v) for v in unit_voices(transcript, voices)]
    seconds = round(time.monotonic() - started, 2)
    if voices.estimated:
        log.info("%s: the card names nobody, so the number of voices was estimated: %d. If that "
                 "is wrong, set `speakers:` in %s to the number or the names", card.slug,
                 voices.count, card.path)
    log.info("%s: told %d voice(s) apart in %.1f s", card.slug, voices.count, seconds)
    found = {"count": voices.count, "estimated": voices.estimated, "words": words,
             "timeline": _timeline(voices)}
    return found, seconds


def _timeline(voices: Voices) -> list[list]:
    """[start, end, voice] for each stretch of one voice's speech: for people who check."""
    result = []
    for start, end in _runs(voices.voiced):
        for a, b in _runs_of_values(voices.frames[start:end]):
            result.append([round((start + a) * FRAME, 2), round((start + b) * FRAME, 2),
                           voice_id(int(voices.frames[start + a]))])
    return result


def _runs_of_values(values: np.ndarray) -> list[tuple[int, int]]:
    cuts = [0] + (np.flatnonzero(np.diff(values)) + 1).tolist() + [len(values)]
    return list(zip(cuts[:-1], cuts[1:]))


def _describe(stats: VoiceStats, name: str) -> dict:
    return {"name": name, "seconds": round(stats.seconds, 1), "words": stats.words,
            "turns": stats.turns, "questions": stats.questions, "first": round(stats.first, 2)}


def _words_digest(transcript: Transcript) -> str:
    """What the voices depend on in the transcript: its words and their times. Splitting
    segments and naming speakers leave it unchanged, so a labelled transcript keeps its key."""
    units = [(w.start, w.end, w.word) for seg in transcript.segments
             for w in (seg.words or [Word(seg.start, seg.end, seg.text)])]
    return sha256_text(json.dumps(units))


def _versions() -> dict:
    return {"algorithm": ALGORITHM, **{p: package_version(p) for p in ("resemblyzer", "torch", "webrtcvad")}}
