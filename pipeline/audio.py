"""The prepared audio: one reader and writer of the 16 kHz mono 16-bit WAV that prepare makes
and that transcription and speakers read (and the benchmark and tests write).

Read in windows for transcription, so memory stays flat however long the interview; read
whole for the voices (a few MB a minute as float32).
"""

from __future__ import annotations

import contextlib
import wave
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.errors import MediaError

SAMPLE_RATE = 16000
# Where to look for a quiet place to cut a window: this many seconds before its end.
CUT_SEARCH = 20.0


@contextlib.contextmanager
def open_wav(path: Path, rate: int | None = SAMPLE_RATE) -> Iterator[wave.Wave_read]:
    """The WAV opened for reading, checked to be mono 16-bit PCM (at `rate`, unless None)."""
    try:
        w = wave.open(str(path), "rb")
    except (OSError, wave.Error, EOFError) as e:
        raise MediaError(f"{path} is not a readable WAV file ({e}). Delete it and publish again, "
                         "so the prepare stage makes it anew.") from e
    with w:
        if (w.getnchannels(), w.getsampwidth()) != (1, 2) or rate and w.getframerate() != rate:
            raise MediaError(f"{path}: expected {rate or 'any'} Hz mono 16-bit audio; delete it "
                             "and publish again so the prepare stage makes it anew.")
        yield w


def duration(path: Path) -> float:
    """Length in seconds."""
    with open_wav(path, rate=None) as w:
        return w.getnframes() / w.getframerate()


def read_pcm(path: Path, rate: int | None = SAMPLE_RATE) -> np.ndarray:
    """Every sample as int16."""
    with open_wav(path, rate) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def read_samples(path: Path) -> np.ndarray:
    """Every sample of the prepared audio as float32 in [-1, 1)."""
    samples = read_pcm(path).astype(np.float32)
    samples *= 1 / 32768  # in place (a power of two: exactly the division): no second copy
    return samples


def write_pcm(path: Path, pcm: np.ndarray | bytes, rate: int = SAMPLE_RATE) -> None:
    """Write int16 samples as a mono WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm if isinstance(pcm, (bytes, bytearray)) else pcm.astype("<i2").tobytes())


def windows(path: Path, seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """(offset seconds, float32 samples) of the prepared audio, window by window, each cut
    at the quietest 100 ms near its end so no word is cut in half."""
    with open_wav(path) as w:
        size, offset = int(seconds * SAMPLE_RATE), 0
        carry = np.zeros(0, dtype=np.int16)
        while True:
            block = np.concatenate([carry, np.frombuffer(w.readframes(size - len(carry)), "<i2")])
            if len(block) < size:  # the end of the file
                if len(block):
                    yield offset / SAMPLE_RATE, block.astype(np.float32) / 32768.0
                return
            cut = quiet_cut(block, min(CUT_SEARCH, seconds / 2))
            yield offset / SAMPLE_RATE, block[:cut].astype(np.float32) / 32768.0
            carry, offset = block[cut:], offset + cut


def quiet_pieces(samples: np.ndarray, seconds: float) -> Iterator[tuple[int, np.ndarray]]:
    """(offset in samples, piece) of about `seconds` each, cut at the quietest 100 ms near the end."""
    size, offset = int(seconds * SAMPLE_RATE), 0
    while len(samples) - offset > size:
        cut = quiet_cut(samples[offset:offset + size], min(CUT_SEARCH, seconds / 2))
        yield offset, samples[offset:offset + cut]
        offset += cut
    yield offset, samples[offset:]


def quiet_cut(block: np.ndarray, search: float) -> int:
    """The sample index, within the last `search` seconds of block, of its quietest 100 ms."""
    frame = SAMPLE_RATE // 10
    tail = block[-int(search * SAMPLE_RATE):].astype(np.float32)
    energy = (tail[: len(tail) // frame * frame].reshape(-1, frame) ** 2).mean(axis=1)
    return len(block) - len(tail) + int(np.argmin(energy)) * frame + frame // 2
