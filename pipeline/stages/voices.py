"""Voices: who speaks when in one recording, from the sound alone (the speakers stage's ear).

1. webrtcvad marks the voiced 10 ms frames (short gaps inside words filled).
2. Resemblyzer's speaker encoder (weights inside its wheel: no download) embeds every 0.6 s
   of voiced audio, one window after another across pauses, so a voice is never decided per
   stretch between pauses: in real talk people take over without one.
3. The windows, each averaged with its neighbours (a voice lasts longer than a window, words
   do not), are split into the voices by spectral clustering (cosine affinities, each
   window's nearest neighbours kept), which unlike k-means is not drawn to splitting one
   voice by what it says.
4. Re-segmentation, frame by frame: a Gaussian mixture of cepstra per voice, trained on the
   frames the windows are sure of, scores every 10 ms; with the windows' own scores, a
   Viterbi pass (a price on every change of voice) decides each frame. That finds changes
   inside a window, a "Yes." between the other's sentences, and gives overlapping speech to
   the voice that dominates it (its spectrum is the one the frame shows).

A voice the clustering found is never erased by a later step: if re-segmentation leaves one
with almost nothing, the windows' answer stands. Measured on generated conversations with no
pauses, overlaps, backchannels, telephone band and noise (bench/speakers.py), see README.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from pipeline.audio import SAMPLE_RATE as RATE
from pipeline.stages.mixture import DiagonalMixture

log = logging.getLogger(__name__)

FRAME = 0.01  # seconds: the encoder's mel frames and our VAD frames line up
VAD_MODE = 3
MAX_FILL = 8  # frames: unvoiced gaps up to this (stops, breaths inside words) count as voiced
# 0.6 s windows, back to back: measured against 0.8 s windows every 0.4 s (twice the encoder
# work), the same share named right once re-segmentation refines the frames.
WINDOW = 60  # frames
MIN_WINDOW = 20  # frames: a shorter voiced stretch alone is too little to tell a voice by
BATCH = 64  # windows embedded at once: all at once took 1.3 GB for a 2.5 minute interview
EMBED_ALL = 1500  # windows (15 minutes of speech): up to this many, every window is embedded
SMOOTH = 1  # windows either side averaged into each window before clustering
ALIKE = 0.75  # cosine: neighbours less alike than this are another voice, for smooth_alike()
CLEAR_CUT = 0.5  # see _clustered()
NEIGHBOURS = 0.2  # share of the windows each window stays linked to in the affinity graph
MAX_CLUSTERED = 800  # windows clustered at most; the rest take the nearest voice (eigh is N^3)
# Re-segmentation. Chosen on the generated conversations (bench/speakers.py): cepstra with
# their deltas, 8 Gaussians a voice, log-likelihoods averaged over +-5 frames and weighed
# half as much as the windows' cosine scores (times 20), a change of voice costing 40.
CEPSTRA = 20
MIXTURES = 8
LIKELIHOOD_SMOOTH = 5  # frames either side
LIKELIHOOD_WEIGHT = 0.5
WINDOW_WEIGHT = 20.0
CHANGE_COST = 40.0
VITERBI_STEP = 2  # frames decided together (20 ms): half the time, the same share named right
SURE = 30  # percentile of the windows' margins below which their frames do not train
MAX_TRAIN = 20000  # frames per voice for training its mixture
MIN_SHARE_KEPT = 0.02  # a voice re-segmentation leaves under this share keeps the windows' answer


@dataclass
class Voices:
    """Who speaks when: a voice number (0, 1, ... by first appearance) per 10 ms frame."""

    frames: np.ndarray
    voiced: np.ndarray
    count: int
    estimated: bool = False
    silent: tuple[int, ...] = ()  # voices asked for that hold (almost) no speech
    prints: dict[str, list[float]] = field(default_factory=dict)  # voice id -> its voice print
    print_seconds: dict[str, float] = field(default_factory=dict)  # speech each was made from


def voice_id(voice: int) -> str:
    """The stable id of a voice (numbered by first appearance) that a card can rename."""
    return f"SPEAKER_{voice + 1}"


def voice_prints(embeddings: np.ndarray, spans: list[tuple[int, int]], frames: np.ndarray) -> tuple[dict, dict]:
    """Per voice id: its voice print (the unit mean of the embeddings of the windows it holds,
    rounded to keep files small) and the seconds of speech it was made from."""
    window_voice = np.array([np.bincount(frames[a:b]).argmax() for a, b in spans])
    seconds = np.array([(b - a) * FRAME for a, b in spans])
    prints, heard = {}, {}
    for voice in np.unique(window_voice):
        mine = window_voice == voice
        prints[voice_id(int(voice))] = [round(float(x), 4) for x in _unit(embeddings[mine].mean(0))]
        heard[voice_id(int(voice))] = round(float(seconds[mine].sum()), 1)
    return prints, heard


def find_voices(samples: np.ndarray, count: int | None = None) -> Voices:
    """Tell the voices apart in a recording: `count` of them, or an estimate when None."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread, as for the encoder: on the shared 2-core machine two threads made the
    # eigen-decomposition 3x and the mixtures' products 10x slower. Thread counts are global,
    # so interviews published side by side take turns here: one that restored them while the
    # other worked gave that one other numbers (a killed publish then recovered to another
    # speakers.json than an uninterrupted one).
    with _ONE_AT_A_TIME, threadpool_limits(1):
        return _find_voices(samples, count)


_ONE_AT_A_TIME = threading.Lock()


def _find_voices(samples: np.ndarray, count: int | None) -> Voices:
    voiced = voiced_frames(samples)
    spans = windows(voiced)
    if count == 1 or len(spans) < 2:
        return Voices(np.zeros(len(voiced), dtype=int), voiced, 1, estimated=count is None)
    mel = mel_spectrogram(samples, volume_gain(samples))
    embeddings = _embed_windows(mel, spans)
    stretch = _stretch_of(voiced, spans)
    smoothed = _unit(smooth_within(embeddings, stretch, SMOOTH))
    estimated = count is None
    if estimated:
        count = estimate_count(smoothed)
    count = min(count, len(spans))
    labels = np.zeros(len(spans), dtype=int)
    if count > 1:
        smoothed, labels = _clustered(embeddings, stretch, smoothed, count)
    frames = np.full(len(voiced), -1)
    if count > 1:
        frames[:] = resegment(mel, voiced, spans, embeddings, smoothed, stretch, labels, count)
    else:
        frames[voiced] = 0
    frames = _by_first_appearance(_fill_nearest(frames))
    heard = int(frames.max()) + 1
    prints, seconds = voice_prints(embeddings, spans, frames)
    return Voices(frames, voiced, heard, estimated, silent=tuple(range(heard, count)), prints=prints,
                  print_seconds=seconds)


# Recordings made one per person: a change of voice costs this (in dB summed over frames), so
# a voice holds the floor a few frames at least and an overlap goes to whoever dominates it.
TRACK_CHANGE_COST = 20.0


def from_tracks(tracks: list[np.ndarray]) -> Voices:
    """Who speaks when in recordings made one per person (voice n is track n): in each 10 ms
    frame, of the tracks webrtcvad hears speech on, the one loudest against its own usual
    speech level (a voice leaking into the other's microphone is far below its own); Viterbi
    keeps each turn whole."""
    n = min(len(t) for t in tracks) // int(RATE * FRAME)
    active = np.stack([voiced_frames(t)[:n] for t in tracks])
    level = np.stack([_frame_db(t)[:n] for t in tracks])
    usual = np.array([np.median(l[a]) if a.any() else 0.0 for l, a in zip(level, active)])
    scores = np.where(active, np.clip(level - usual[:, None], -60.0, 20.0), -60.0).T
    voiced = active.any(0)
    frames = np.full(n, -1)
    for start, end in runs(voiced):
        frames[start:end] = viterbi(scores[start:end], TRACK_CHANGE_COST)
    silent = tuple(v for v in range(len(tracks)) if (frames == v).sum() * FRAME < MIN_SPEECH)
    return Voices(_fill_nearest(frames), voiced, len(tracks), silent=silent)


MIN_SPEECH = 0.5  # seconds: a track holding less than this has nobody speaking on it


def _frame_db(samples: np.ndarray) -> np.ndarray:
    size = int(RATE * FRAME)
    frames = samples[:len(samples) // size * size].astype(np.float64).reshape(-1, size)
    return 10 * np.log10((frames ** 2).mean(1) + 1e-10)


# --- voiced frames and windows ----------------------------------------------------------------

def voiced_frames(samples: np.ndarray, mode: int = VAD_MODE) -> np.ndarray:
    """One flag per 10 ms frame: webrtcvad's speech decision, with short gaps filled."""
    with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import webrtcvad
    vad = webrtcvad.Vad(mode)
    size = int(RATE * FRAME)
    flags = np.fromiter((vad.is_speech(frame, RATE) for frame in _pcm_frames(samples, size)),
                        dtype=bool, count=len(samples) // size)
    return _fill_gaps(flags, MAX_FILL)


def _pcm_frames(samples: np.ndarray, size: int, per_piece: int = 6_000):
    """The recording's whole frames of `size` samples as 16-bit PCM bytes, converted a minute
    at a time (at once, the copies of 2 hours held 1.4 GB)."""
    whole = len(samples) // size * size
    for start in range(0, whole, size * per_piece):
        piece = samples[start:min(start + size * per_piece, whole)]
        pcm = (np.clip(piece, -1, 1) * 32767).astype("<i2").tobytes()
        yield from (pcm[i:i + 2 * size] for i in range(0, len(pcm), 2 * size))


def _fill_gaps(flags: np.ndarray, longest: int) -> np.ndarray:
    out = flags.copy()
    for start, end in runs(~flags):
        if 0 < start and end < len(flags) and end - start <= longest:
            out[start:end] = True
    return out


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each stretch of True."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def windows(voiced: np.ndarray) -> list[tuple[int, int]]:
    """Frame ranges to embed: WINDOW long, back to back through each voiced stretch (the last
    one of a stretch ending at its end); a stretch shorter than a window is one of its own."""
    result = []
    for start, end in runs(voiced):
        if end - start < MIN_WINDOW:
            continue
        starts = list(range(start, max(end - WINDOW, start) + 1, WINDOW))
        if end - starts[-1] > WINDOW:  # room for a last window that ends with the stretch
            starts.append(end - WINDOW)
        result += [(s, min(s + WINDOW, end)) for s in starts]
    return result


def _stretch_of(voiced: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """The voiced stretch (numbered) each window lies in."""
    starts = [start for start, _ in runs(voiced)]
    return np.searchsorted(starts, [start for start, _ in spans], side="right") - 1


# --- the voice encoder ------------------------------------------------------------------------

def _embed_windows(mel: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """An embedding for every window. A long interview has windows enough to tell its voices
    apart from half of them: past EMBED_ALL windows only every other one is embedded (the
    encoder is most of the stage's time) and the others take their neighbours' mean."""
    if len(spans) <= EMBED_ALL:
        return embed_mel(mel, spans)
    chosen = np.arange(len(spans)) % 2 == 0
    result = np.zeros((len(spans), 256), dtype=np.float32)
    result[chosen] = embed_mel(mel, [span for span, c in zip(spans, chosen) if c])
    at = np.flatnonzero(chosen)
    for i in np.flatnonzero(~chosen):
        k = np.searchsorted(at, i)
        result[i] = _unit(result[at[max(k - 1, 0)]] + result[at[min(k, len(at) - 1)]])
    return result


def embed_mel(mel: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """One L2-normed voice embedding per frame range of the mel spectrogram, in batches of
    windows of equal length."""
    import torch

    encoder = _encoder()
    result = np.zeros((len(spans), 256), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, (start, end) in enumerate(spans):
        by_length.setdefault(end - start, []).append(i)
    batches = [indices[b:b + BATCH] for indices in by_length.values() for b in range(0, len(indices), BATCH)]

    def run(batch: list[int]) -> None:
        with torch.inference_mode():
            mels = np.stack([mel[spans[i][0]:spans[i][1]] for i in batch])
            result[batch] = encoder(torch.from_numpy(mels)).numpy()

    # Torch on one thread, and a batch per core from threads of our own: on a busy 2-core
    # machine torch's own two threads ran the encoder ten times slower (they wait for each
    # other at every step of the LSTM); batches side by side never wait. Left so (torch's
    # count is the whole process's): the Whisper encoder wants one thread too (encoder.py),
    # and restoring it here while that runs would hand it two.
    torch.set_num_threads(1)
    with ThreadPoolExecutor(min(os.cpu_count() or 1, 2)) as pool:
        list(pool.map(run, batches))
    return result


@functools.cache
def _encoder():
    import torch
    with warnings.catch_warnings():  # it imports webrtcvad, which imports pkg_resources
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

    torch.set_flush_denormal(True)  # LSTM steps on denormal floats are needlessly slow
    return VoiceEncoder("cpu", verbose=False)


def volume_gain(samples: np.ndarray, target_dbfs: float = -30.0) -> float:
    """The gain that raises a quiet recording to the level the encoder was trained on (1 for
    loud ones: they are never lowered)."""
    # A float32 dot product: squaring a float64 copy of half an hour's samples took a second.
    rms = float(np.sqrt(np.dot(samples, samples) / len(samples))) if len(samples) else 0.0
    if rms == 0.0:
        return 1.0
    return max(1.0, 10 ** ((target_dbfs - 20 * np.log10(rms)) / 20))


def mel_spectrogram(samples: np.ndarray, gain: float = 1.0, chunk: int = 4096) -> np.ndarray:
    """The encoder's input: 40-band mel power spectrogram of `samples` times `gain`, 25 ms
    windows every 10 ms.

    The same numbers as librosa.feature.melspectrogram with Resemblyzer's settings (a test
    compares them), computed here because librosa's first call costs seconds of set-up;
    scipy's FFT in single precision is twice as fast as numpy's. The frames are cut (padded,
    scaled) a chunk at a time: copies of the whole recording cost 460 MB each on 2 hours."""
    import scipy.fft

    n_fft, hop = 400, int(RATE * FRAME)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    filters = _mel_filters(RATE, n_fft, 40).T.copy()
    out = np.empty((1 + len(samples) // hop, filters.shape[1]), dtype=np.float32)
    for i in range(0, len(out), chunk):
        frames = _frames(samples, i, min(chunk, len(out) - i), n_fft, hop, gain)
        spectrum = scipy.fft.rfft(frames * window, axis=1)
        out[i:i + chunk] = (spectrum.real ** 2 + spectrum.imag ** 2) @ filters
    return out


def _frames(samples: np.ndarray, first: int, count: int, n_fft: int, hop: int, gain: float) -> np.ndarray:
    """`count` centred windows from frame `first` on, zeros beyond the recording's ends (as
    librosa pads)."""
    start = first * hop - n_fft // 2
    piece = np.zeros((count - 1) * hop + n_fft, dtype=np.float32)
    lo, hi = max(start, 0), min(start + len(piece), len(samples))
    piece[lo - start:hi - start] = samples[lo:hi]
    if gain != 1.0:
        piece *= np.float32(gain)
    return np.lib.stride_tricks.sliding_window_view(piece, n_fft)[::hop]


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


# --- clustering the windows -------------------------------------------------------------------

def _clustered(embeddings: np.ndarray, stretch: np.ndarray, smoothed: np.ndarray,
               count: int) -> tuple[np.ndarray, np.ndarray]:
    """The windows (smoothed) and their voices. Averaging each window with its neighbours
    tells alike voices apart (two similar voices: 57-59 % right without it, 89-99 % with it)
    but blurs a change between very different ones in a short recording (Kennedy's real voice
    answering a generated host: 50 % with it, 99 % without). So both are clustered, and the
    windows smoothed only among alike neighbours win when their voices fall apart clearly
    (a normalised cut under CLEAR_CUT of the plain one's: measured 0.08 for Kennedy, 0.95 to
    0.99 for similar voices)."""
    plain = cluster(smoothed, count)
    alike = _unit(smooth_alike(embeddings, stretch, SMOOTH))
    sharper = cluster(alike, count)
    step = max(1, int(np.ceil(len(embeddings) / MAX_CLUSTERED)))  # as cluster() subsamples
    unsmoothed = _unit(embeddings[::step])
    if normalised_cut(unsmoothed, sharper[::step]) < CLEAR_CUT * normalised_cut(unsmoothed, plain[::step]):
        return alike, sharper
    return smoothed, plain


def smooth_within(x: np.ndarray, stretch: np.ndarray, reach: int) -> np.ndarray:
    """Each row averaged with up to `reach` rows either side in the same voiced stretch."""
    out = np.empty_like(x)
    for run in np.unique(stretch):
        rows = np.flatnonzero(stretch == run)
        sums = np.cumsum(np.vstack([np.zeros((1, x.shape[1]), x.dtype), x[rows]]), 0)
        at = np.arange(len(rows))
        low, high = np.clip(at - reach, 0, None), np.minimum(at + reach + 1, len(rows))
        out[rows] = (sums[high] - sums[low]) / (high - low)[:, None]
    return out


def smooth_alike(x: np.ndarray, stretch: np.ndarray, reach: int) -> np.ndarray:
    """smooth_within(), but only with the neighbours at least ALIKE to the row (cosine): over
    what one voice says, never across a change to a clearly different voice."""
    n = len(x)
    total = x.copy()
    for shift in [s for r in range(1, reach + 1) for s in (r, -r)]:
        other = np.clip(np.arange(n) + shift, 0, n - 1)
        take = (np.arange(n) + shift == other) & (stretch[other] == stretch)
        take &= np.einsum("ij,ij->i", x, x[other]) >= ALIKE
        total[take] += x[other][take]
    return total


def normalised_cut(x: np.ndarray, labels: np.ndarray) -> float:
    """How weakly the voices hang together in the windows' own (unsmoothed) neighbour graph:
    the sum over voices of the affinity leaving a voice over all of its affinity."""
    affinity = _neighbour_graph(x)
    return float(sum(affinity[labels == v][:, labels != v].sum() / max(affinity[labels == v].sum(), 1e-12)
                     for v in np.unique(labels)))


def cluster(x: np.ndarray, count: int) -> np.ndarray:
    """A voice (0..count-1) for each unit-length row: spectral clustering of a subsample
    (evenly spread over the recording), then every row to the nearest voice."""
    step = max(1, int(np.ceil(len(x) / MAX_CLUSTERED)))
    labels = spectral_clustering(x[::step], count)
    if step == 1:
        return labels
    centres = _unit(np.stack([x[::step][labels == c].mean(0) for c in range(count)]))
    return (x @ centres.T).argmax(1)


def spectral_clustering(x: np.ndarray, count: int) -> np.ndarray:
    """Cluster unit vectors: cosine affinities, each row keeping its NEIGHBOURS share of
    nearest rows (symmetric), diffused; the normalised Laplacian's first `count`
    eigenvectors, row-normalised, then cosine k-means on them (Ng, Jordan and Weiss).
    scikit-learn's SpectralClustering on the same affinities measured worse, frame by frame
    (the 10 s two-voice clip 80 % right against 100 %; polite similar voices 89 to 98 %
    against 99 %; rapid similar voices 66 to 92 % against 89 to 92 %)."""
    affinity = _neighbour_graph(x)
    # Diffusion (two steps on the graph), as Wang et al. refine d-vector affinities: windows
    # that share neighbours draw together. Two similar voices, polite interview: 89 -> 99 %.
    affinity = affinity @ affinity.T
    affinity /= affinity.max(1, keepdims=True)
    degree = np.maximum(affinity.sum(1), 1e-12)
    laplacian = np.eye(len(x)) - affinity / np.sqrt(np.outer(degree, degree))
    _, vectors = np.linalg.eigh(laplacian)
    points = _unit(vectors[:, :count])
    centres = spherical_kmeans(points, np.ones(len(points)), count)
    return (points @ centres.T).argmax(1)


def _neighbour_graph(x: np.ndarray) -> np.ndarray:
    """Cosine affinities, each row keeping its NEIGHBOURS share of nearest rows (symmetric)."""
    affinity = np.clip(x @ x.T, 0, None)
    keep = max(2, int(NEIGHBOURS * len(x)))
    threshold = np.sort(affinity, 1)[:, -keep][:, None]
    affinity = np.where(affinity >= threshold, affinity, 0.0)
    return np.maximum(affinity, affinity.T)


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


def estimate_count(x: np.ndarray) -> int:
    """How many voices: add one while the new voice is clearly different and not a sliver."""
    best = 1
    for count in range(2, min(ESTIMATE_MAX, len(x)) + 1):
        labels = cluster(x, count)
        shares = np.bincount(labels, minlength=count) / len(labels)
        if shares.min() < MIN_SHARE:
            break
        centres = _unit(np.stack([x[labels == c].mean(0) for c in range(count)]))
        similarity = centres @ centres.T
        np.fill_diagonal(similarity, -1)
        if similarity.max() >= SAME_VOICE:
            break
        best = count
    return best


# --- re-segmentation, frame by frame ----------------------------------------------------------

def resegment(mel: np.ndarray, voiced: np.ndarray, spans: list[tuple[int, int]], embeddings: np.ndarray,
              smoothed: np.ndarray, stretch: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """A voice for every voiced frame (-1 elsewhere): the windows' cosine scores to each
    voice's centre plus per-voice Gaussian mixtures of cepstra, decided by Viterbi."""
    n = len(voiced)
    centres = _unit(np.stack([smoothed[labels == c].mean(0) for c in range(count)]))
    window_scores = smooth_within(embeddings @ centres.T, stretch, SMOOTH)
    per_frame = np.zeros((n, count), dtype=np.float32)
    margin = np.zeros(n, dtype=np.float32)
    covered = np.zeros(n, dtype=bool)
    ordered = np.sort(window_scores, 1)
    for (start, end), scores, gap in zip(spans, window_scores, ordered[:, -1] - ordered[:, -2]):
        per_frame[start:end], margin[start:end], covered[start:end] = scores, gap, True
    first = np.where(covered, per_frame.argmax(1), -1)
    first[~voiced] = -1
    features = cepstra(mel[:n], voiced)
    sure = covered & voiced & (margin >= np.percentile(ordered[:, -1] - ordered[:, -2], SURE))
    likelihood = _mixture_scores(features, first, sure, count)
    if likelihood is None:
        return first
    total = (LIKELIHOOD_WEIGHT * _moving_average(likelihood - likelihood.mean(1, keepdims=True), LIKELIHOOD_SMOOTH)
             + WINDOW_WEIGHT * (per_frame - per_frame.mean(1, keepdims=True)))
    frames = np.full(n, -1)
    for start, end in runs(voiced):
        frames[start:end] = viterbi(total[start:end], CHANGE_COST, VITERBI_STEP)
    shares = np.bincount(frames[frames >= 0], minlength=count) / max(int((frames >= 0).sum()), 1)
    if shares.min() < MIN_SHARE_KEPT <= np.bincount(first[first >= 0], minlength=count).min() / max(int((first >= 0).sum()), 1):
        log.debug("re-segmentation left a voice with %.1f %% of the speech: kept the windows' voices",
                  100 * shares.min())
        return first
    return frames


def cepstra(mel: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Mel cepstra (DCT of the log mel spectrum) and their deltas per frame, with the mean
    over the voiced frames taken away (what the channel adds to every frame)."""
    bands = mel.shape[1]
    dct = np.cos(np.pi / bands * (np.arange(bands)[None, :] + 0.5) * np.arange(CEPSTRA)[:, None])
    coefficients = np.log(mel + np.float32(1e-8)) @ dct.T.astype(np.float32)
    if voiced.any():
        coefficients -= coefficients[voiced[:len(coefficients)]].mean(0)
    deltas = np.diff(coefficients, axis=0, prepend=coefficients[:1])
    return np.hstack([coefficients, deltas])


def _mixture_scores(features: np.ndarray, labels: np.ndarray, train: np.ndarray, count: int) -> np.ndarray | None:
    """Log-likelihood of every frame under each voice's Gaussian mixture (EM, diagonal
    covariances: mixture.py), each trained on that voice's sure frames; None when a voice
    has too few of them to model."""
    scores = np.zeros((len(features), count), dtype=np.float32)
    scored = np.flatnonzero(labels >= 0)  # the voiced frames: nothing else is decided
    for voice in range(count):
        x = features[(labels == voice) & train].astype(np.float64)  # EM in float32 collapses on silent frames
        if len(x) < 50:
            return None
        x = x[::max(1, len(x) // MAX_TRAIN)]
        mixture = DiagonalMixture(min(MIXTURES, max(1, len(x) // 200)), max_iter=30, reg_covar=1e-3).fit(x)
        # A minute of frames at a time: float64 temporaries for all the frames of 2 hours at
        # once held 500 MB.
        for at in np.array_split(scored, max(1, len(scored) // 6000)):
            scores[at, voice] = mixture.score_samples(features[at].astype(np.float64))
    return scores


def _moving_average(x: np.ndarray, reach: int) -> np.ndarray:
    sums = np.cumsum(np.vstack([np.zeros((1, x.shape[1]), x.dtype), x]), 0)
    at = np.arange(len(x))
    low, high = np.clip(at - reach, 0, None), np.minimum(at + reach + 1, len(x))
    return (sums[high] - sums[low]) / (high - low)[:, None]


def viterbi(scores: np.ndarray, change_cost: float, step: int = 1) -> np.ndarray:
    """The best voice sequence for these per-frame scores when every change costs
    `change_cost`, deciding `step` frames at a time (plain floats: per frame, numpy's
    overhead would be most of the work)."""
    if step > 1:
        padded = np.vstack([scores, np.zeros((-len(scores) % step, scores.shape[1]), scores.dtype)])
        path = viterbi(padded.reshape(-1, step, scores.shape[1]).sum(1), change_cost)
        return np.repeat(path, step)[:len(scores)]
    rows = scores.tolist()
    best = list(rows[0])
    back = []
    for row in rows[1:]:
        top = max(best)
        leader, switch = best.index(top), top - change_cost
        back.append(tuple(v if b >= switch else leader for v, b in enumerate(best)))
        best = [max(b, switch) + r for b, r in zip(best, row)]
    path = [best.index(max(best))]
    for previous in reversed(back):
        path.append(previous[path[-1]])
    return np.array(path[::-1])


def _fill_nearest(labels: np.ndarray) -> np.ndarray:
    """Give unlabelled frames (pauses, clicks) the label of the nearest labelled frame."""
    known = np.flatnonzero(labels >= 0)
    if not len(known):
        return np.zeros(len(labels), dtype=int)
    at = np.arange(len(labels))
    after = known[np.clip(np.searchsorted(known, at), 0, len(known) - 1)]
    before = known[np.clip(np.searchsorted(known, at) - 1, 0, len(known) - 1)]
    return labels[np.where(np.abs(after - at) < np.abs(before - at), after, before)]


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order = list(dict.fromkeys(labels.tolist()))
    remap = np.zeros(labels.max() + 1, dtype=int)
    remap[order] = np.arange(len(order))
    return remap[labels]
