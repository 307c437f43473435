"""Benchmark: the speakers stage's time as a share of transcription time (goal: under 15 %).

    .venv/bin/python -m bench.speakers

Uses the bundled sample and the generated second interview (tests/scripts/cycling.yaml).
Prints wall and CPU seconds; the first stage run in a process includes loading torch and the
encoder (about 2 s), so the warm figure is what a long interview or a batch sees.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bench.synth import load_script, synthesize_interview
from pipeline.audio import read_samples
from pipeline.config import TranscribeSettings
from pipeline.stages import speakers
from pipeline.stages.transcribe import transcribe

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def stage(audio: Path, transcript, count: int):
    voices = speakers.find_voices(read_samples(audio), count)
    return speakers.unit_voices(transcript, voices)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample.wav"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(ROOT / "media/council-leader-blogging/interview.mp4"),
                        "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(sample)], check=True)
        script = load_script(ROOT / "tests/scripts/cycling.yaml")
        cycling = Path(tmp) / "cycling.wav"
        synthesize_interview(script["turns"], script["voices"], cycling, pause=script.get("pause", 0.6))
        transcribe(sample, TranscribeSettings(), "en")  # load the model once, outside the timings
        rows = []
        for name, audio in (("sample", sample), ("cycling", cycling)):
            transcript, t_wall, t_cpu = timed(transcribe, audio, TranscribeSettings(), "en")
            for run in ("first" if name == "sample" else "warm", "warm"):
                _, s_wall, s_cpu = timed(stage, audio, transcript, 2)
                rows.append((name, transcript.duration, run, t_wall, s_wall, t_cpu, s_cpu))
    print(f"{'audio':8s} {'length':>7s} {'run':5s} {'transcribe':>11s} {'speakers':>9s} {'share':>6s}"
          f" {'cpu share':>9s}")
    for name, length, run, t_wall, s_wall, t_cpu, s_cpu in rows:
        print(f"{name:8s} {length:6.0f}s {run:5s} {t_wall:10.1f}s {s_wall:8.1f}s {s_wall / t_wall:6.1%}"
              f" {s_cpu / t_cpu:9.1%}")
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
