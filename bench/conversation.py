"""Conversations that behave like real talk, for the speakers tests and benchmark.

Polite generated interviews (bench/synth.py) leave a pause between turns. People do not: they
take over without a pause, interrupt, talk over each other, say "Right." between the other's
sentences or "Mm-hm." under their words, and call in over the telephone. This module writes
such conversations with espeak-ng, each person on a track of their own, so the truth stays
exact where voices overlap: who speaks in every 10 ms frame, and who dominates it (the louder
track there). The tracks are mixed, then noise and a telephone channel are added with ffmpeg
(highpass 300 Hz, lowpass 3400 Hz, 8 kHz, GSM 06.10).

    python -m bench.conversation KIND OUT.wav [--minutes M] [--seed N]    # KIND: see STYLES
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.diarization import truth_of_tracks
from bench.interview import _ANSWER, _PEOPLE, _QUESTIONS, _TOPICS
from bench.synth import utterance
from pipeline import audio

RATE = audio.SAMPLE_RATE
HOST, GUEST = "Daniel Hughes", "Helen Ward"
PAIR = {HOST: {"voice": "en-gb+m3", "speed": 175}, GUEST: {"voice": "en-us+f2", "speed": 170}}
# Two men of the same accent, neighbouring espeak variants (as tests/scripts/similar.yaml).
SIMILAR = {HOST: {"voice": "en-us+m1", "speed": 175}, GUEST: {"voice": "en-us+m3", "speed": 170}}
BACKCHANNELS = ["Right.", "Yes.", "Mm-hm.", "I see.", "Sure.", "Okay.", "Yeah.", "Uh-huh."]
FOLLOW_UPS = ["Really?", "Why?", "And then?", "How?", "Is that so?", "What happened next?"]


@dataclass(frozen=True)
class Style:
    """How the people of one kind of conversation take turns, and what the line does to them."""

    voices: dict = field(default_factory=lambda: PAIR)
    gap: tuple[float, float] = (0.0, 0.0)  # seconds between turns, drawn uniformly
    early: float = 0.0  # share of turns that start before the other's ends (overlap)
    overlap: tuple[float, float] = (0.3, 0.9)  # seconds of it
    interrupt: float = 0.0  # share of answers the host cuts short (the guest stops soon after)
    between: float = 0.0  # chance, after each sentence of an answer, of a backchannel with no pause
    under: float = 0.0  # chance, per answer, of a quiet backchannel under the guest's words
    follow_up: float = 0.3  # chance of a short follow-up question after an answer
    gains: dict = field(default_factory=dict)  # dB per person
    snr: float | None = None  # noise at this signal-to-noise ratio (dB)
    telephone: bool = False


RAPID = dict(gap=(-0.05, 0.05), early=0.15, interrupt=0.15, between=0.3, under=0.3)
STYLES = {
    # The hard cases of real talk, one at a time and together.
    "no-pauses": Style(gap=(0.0, 0.0), between=0.3),
    # "Right.", "Mm-hm." after most of the guest's sentences, with no pause either side.
    "backchannels": Style(gap=(0.0, 0.0), between=0.8),
    "overlap": Style(gap=(-0.1, 0.1), early=0.4, interrupt=0.3, under=0.5),
    "rapid": Style(**RAPID),
    "telephone": Style(**RAPID, telephone=True, snr=15.0),
    "similar": Style(**RAPID, voices=SIMILAR),
    "loud": Style(**RAPID, gains={GUEST: -14.0}),
}


def script(style: Style, minutes: float, seed: int = 0) -> list[dict]:
    """The turns of a conversation about `minutes` long: the host asks, the guest answers in a
    few sentences; backchannels, interruptions and early starts as the style says."""
    rng = random.Random(seed)
    host, guest = list(style.voices)
    turns: list[dict] = []

    def say(speaker: str, text: str, **more) -> None:
        turns.append({"speaker": speaker, "text": text, "gap": _gap(style, rng, turns, speaker), **more})

    while sum(len(t["text"].split()) for t in turns) / WORDS_A_SECOND < minutes * 60:
        fill = {"topic": rng.choice(_TOPICS), "people": rng.choice(_PEOPLE)}
        say(host, rng.choice(_QUESTIONS).format(**fill))
        sentences = [s.format(**fill) for s in rng.sample(_ANSWER, rng.randint(2, 4))]
        for n, sentence in enumerate(sentences):
            say(guest, sentence[0].upper() + sentence[1:])
            if n == 0 and rng.random() < style.under:
                turns.append({"speaker": host, "text": rng.choice(BACKCHANNELS), "gain": -6.0,
                              "under": round(rng.uniform(0.3, 0.7), 3)})
            elif n < len(sentences) - 1 and rng.random() < style.between:
                say(host, rng.choice(BACKCHANNELS))
        if rng.random() < style.interrupt:
            # The host breaks in at this share of the sentence; the guest goes on a little.
            turns[-1]["cut"] = [round(rng.uniform(0.5, 0.8), 3), round(rng.uniform(0.3, 0.6), 3)]
        if rng.random() < style.follow_up:
            say(host, rng.choice(FOLLOW_UPS))
            answer = rng.choice(_ANSWER).format(**fill)
            say(guest, answer[0].upper() + answer[1:])
    return turns


WORDS_A_SECOND = 3.1  # espeak at these speeds
SENTENCE_PAUSE = (0.15, 0.45)  # seconds between one person's sentences: people pause there


def _gap(style: Style, rng: random.Random, turns: list[dict], speaker: str) -> float:
    """Seconds from the end of the last turn to this one: a pause within one person's speech,
    the style's gap at a change of speaker, or an overlap (negative) when they start early."""
    last = next((t for t in reversed(turns) if "under" not in t), None)
    if last is None:
        return 0.3
    if last["speaker"] == speaker:
        return round(rng.uniform(*SENTENCE_PAUSE), 3)
    if rng.random() < style.early:
        return round(-rng.uniform(*style.overlap), 3)
    return round(rng.uniform(*style.gap), 3)


def render(turns: list[dict], style: Style, out: Path, tracks: Path | None = None) -> dict:
    """Speak the turns onto one track per person, mix them into `out` (16 kHz mono WAV) through
    the style's line, and return the truth. With `tracks`, also write each person's clean
    track there as NAME.wav (for recordings made one file per person)."""
    people = list(dict.fromkeys(t["speaker"] for t in turns))
    spoken = [utterance(t["text"], style.voices[t["speaker"]]).astype(np.float32) / 32768.0
              for t in turns]
    placed, cursor, previous = [], 0, None
    for turn, samples in zip(turns, spoken):
        samples = samples * np.float32(10 ** ((turn.get("gain", 0.0) + style.gains.get(turn["speaker"], 0.0)) / 20))
        if "under" in turn and previous is not None:
            start = previous[0] + int(turn["under"] * (previous[1] - previous[0]))
            placed.append((start, samples, turn))
            continue
        if previous is not None and previous[2].get("cut"):
            share, goes_on = previous[2]["cut"]
            start = previous[0] + int(share * (previous[1] - previous[0]))
            keep = start + int(goes_on * RATE) - previous[0]
            prev_start, prev_samples, prev_turn = placed[previous[3]]
            placed[previous[3]] = (prev_start, _fade_out(prev_samples[:keep]), {**prev_turn, "was_cut": True})
        else:
            start = max(cursor + int(turn.get("gap", 0.0) * RATE),
                        (previous[0] if previous else 0) + int(0.3 * RATE))
        start = max(start, 0)
        placed.append((start, samples, turn))
        previous = (start, start + len(samples), turn, len(placed) - 1)
        cursor = max(cursor, start + len(samples))
    length = max(s + len(x) for s, x, _ in placed) + int(0.3 * RATE)
    track = {p: np.zeros(length, dtype=np.float32) for p in people}
    spans = {p: [] for p in people}
    records = []
    for start, samples, turn in placed:
        track[turn["speaker"]][start:start + len(samples)] += samples
        spans[turn["speaker"]].append((start, start + len(samples)))
        records.append({"speaker": turn["speaker"], "text": turn["text"], "start": round(start / RATE, 3),
                        "end": round((start + len(samples)) / RATE, 3),
                        "kind": "under" if "under" in turn else "cut" if turn.get("was_cut") else "turn"})
    records.sort(key=lambda r: r["start"])
    mix = sum(track.values())
    peak = float(np.abs(mix).max()) or 1.0
    scale = min(1.0, 0.9 / peak)
    truth = {"duration": round(length / RATE, 3), "turns": records,
             **truth_of_tracks({p: track[p] * scale for p in people}, spans)}
    mix = mix * scale
    if style.snr is not None:
        mix = mix + _noise(len(mix), _speech_power(mix, truth), style.snr)
    _write(out, mix)
    if style.telephone:
        telephone(out, out)
    if tracks:
        tracks.mkdir(parents=True, exist_ok=True)
        for p in people:
            _write(tracks / f"{p.replace(' ', '-').lower()}.wav", track[p] * scale)
    return truth


def _fade_out(samples: np.ndarray, seconds: float = 0.05) -> np.ndarray:
    fade = min(len(samples), int(seconds * RATE))
    out = samples.copy()
    out[len(out) - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return out


def _speech_power(mix: np.ndarray, truth: dict) -> float:
    on = np.zeros(len(mix), dtype=bool)
    for a, b, _ in truth["dominant"]:
        on[int(a * RATE):int(b * RATE)] = True
    return float(np.mean(mix[on].astype(np.float64) ** 2)) if on.any() else 1e-6


def _noise(length: int, power: float, snr: float, seed: int = 7) -> np.ndarray:
    """Pink noise (1/f power, like room and line noise) at `snr` dB below `power`."""
    white = np.random.default_rng(seed).standard_normal(length)
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    pink = np.fft.irfft(spectrum, length)
    pink *= np.sqrt(power / 10 ** (snr / 10) / np.mean(pink ** 2))
    return pink.astype(np.float32)


def telephone(source: Path, target: Path) -> None:
    """A telephone line: 300 to 3400 Hz, 8 kHz, GSM 06.10, then back to 16 kHz mono."""
    with tempfile.TemporaryDirectory(prefix="telephone-") as tmp:
        gsm = Path(tmp) / "line.gsm"
        _ffmpeg(["-i", str(source), "-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-ac", "1",
                 "-c:a", "libgsm", "-f", "gsm", str(gsm)])
        _ffmpeg(["-f", "gsm", "-ar", "8000", "-i", str(gsm), "-ar", str(RATE), "-ac", "1",
                 "-c:a", "pcm_s16le", str(Path(tmp) / "out.wav")])
        (Path(tmp) / "out.wav").replace(target)


def _ffmpeg(args: list[str]) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _write(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    audio.write_pcm(path, (np.clip(samples, -1, 1) * 32767).astype(np.int16))


def make(kind: str, folder: Path, minutes: float, seed: int = 0, tracks: bool = False) -> tuple[Path, dict]:
    """The conversation's WAV and truth (made once, then reused from `folder`)."""
    name = f"{kind}-{minutes:g}min-{seed}"
    wav, truth_path = folder / f"{name}.wav", folder / f"{name}.json"
    if not (wav.exists() and truth_path.exists()):
        style = STYLES[kind]
        truth = render(script(style, minutes, seed), style, wav, folder / f"{name}-tracks" if tracks else None)
        truth_path.write_text(json.dumps(truth) + "\n", encoding="utf-8")
    return wav, json.loads(truth_path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conversation", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=list(STYLES))
    parser.add_argument("out", type=Path, help="the WAV to write (its truth goes beside it as .json)")
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracks", type=Path, help="also write each person's clean track here")
    args = parser.parse_args(argv)
    style = STYLES[args.kind]
    truth = render(script(style, args.minutes, args.seed), style, args.out, args.tracks)
    args.out.with_suffix(".json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"{args.out}: {truth['duration']:.1f} s, {len(truth['turns'])} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
