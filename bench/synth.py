"""Synthesize spoken interviews with espeak-ng, for tests, the benchmark and the bundled sample.

Needs the `espeak-ng`, `ffmpeg` and `ffprobe` programs; WAV files are read and written with
the pipeline's own audio module.

    python -m bench.synth SCRIPT.yaml --video OUT.mp4 --truth OUT.json [--audio OUT.wav]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from pipeline import audio

# Samples below this (of 32767) count as silence when trimming espeak's padding;
# espeak pads with exact zeros, but resampling leaves faint ringing around them.
_SILENCE_LEVEL = 100
# Keep a little room around each utterance so plosives are not clipped.
_TRIM_MARGIN = 0.02


def _run(cmd: list[str], *, input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run a tool (never through a shell) and raise RuntimeError with its stderr on failure."""
    try:
        proc = subprocess.run(cmd, input=input_text, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise RuntimeError(f"{cmd[0]} is not installed or not on PATH") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc


def speak(text: str, voice: str, wav_path: Path, *, speed: int = 160, pitch: int | None = None) -> float:
    """Speak text with espeak-ng into a 16-bit mono 22050 Hz WAV; return its duration in seconds."""
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav_path)]
    if pitch is not None:
        cmd += ["-p", str(pitch)]
    # Text goes in on stdin so quotes, dashes or a leading "-" are never parsed as options.
    _run(cmd + ["--stdin"], input_text=text)
    return audio.duration(Path(wav_path))


def _voice_settings(spec: str | dict) -> dict:
    """Normalise a voices entry to keyword arguments for speak()."""
    if isinstance(spec, str):
        return {"voice": spec}
    settings = {"voice": spec["voice"]}
    for key in ("speed", "pitch"):
        if spec.get(key) is not None:
            settings[key] = int(spec[key])
    return settings


def _trimmed_pcm(wav_path: Path, rate: int) -> bytes:
    """Return the mono 16-bit samples of wav_path with leading/trailing silence cut to a small margin."""
    samples = audio.read_pcm(wav_path, rate)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_LEVEL)
    if not len(loud):
        return b""
    margin = int(_TRIM_MARGIN * rate)
    return samples[max(0, loud[0] - margin): loud[-1] + margin + 1].astype("<i2").tobytes()


def utterance(text: str, voice: str | dict, rate: int = 16000, scratch: Path | None = None) -> np.ndarray:
    """One utterance in one voice as int16 samples at `rate`, with espeak's padding trimmed."""
    with tempfile.TemporaryDirectory(prefix="synth-", dir=scratch) as tmp:
        raw, resampled = Path(tmp) / "raw.wav", Path(tmp) / f"{rate}.wav"
        speak(text, wav_path=raw, **_voice_settings(voice))
        _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(raw),
              "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", str(resampled)])
        # espeak pads each utterance with ~0.35 s of silence; trimming it makes the pauses
        # what the script says and start/end hug the actual speech.
        return np.frombuffer(_trimmed_pcm(resampled, rate), "<i2")


def synthesize_interview(turns: list[dict], voices: dict[str, str | dict], out_audio: Path, *,
                         pause: float = 0.6, rate: int = 16000) -> dict:
    """Speak each turn in its speaker's voice, join with `pause` s of silence into one WAV; return truth timings."""
    out_audio = Path(out_audio)
    missing = sorted({t["speaker"] for t in turns} - set(voices))
    if missing:
        raise ValueError(f"no voice given for speaker(s): {', '.join(missing)}")

    truth_turns = []
    pcm = bytearray()
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        for i, turn in enumerate(turns):
            speech = utterance(turn["text"], voices[turn["speaker"]], rate, Path(tmp)).tobytes()

            # The default pause sits between turns; a turn's own pause applies even to the first.
            gap = turn.get("pause", pause if i > 0 else 0.0)
            pcm += b"\x00\x00" * int(round(float(gap) * rate))
            start = len(pcm) // 2
            pcm += speech
            end = len(pcm) // 2
            truth_turns.append({"speaker": turn["speaker"], "text": turn["text"],
                                "start": round(start / rate, 3), "end": round(end / rate, 3)})

    # Writing the joined samples ourselves keeps every start/end an exact sample position.
    out_audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_pcm(out_audio, bytes(pcm), rate)
    return {"duration": round(len(pcm) // 2 / rate, 3), "turns": truth_turns}


def _find_font() -> str | None:
    """Return a DejaVu Sans font file if one can be found, else None."""
    if shutil.which("fc-match"):
        proc = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True)
        # fc-match always answers with *some* font; only trust it when it is DejaVu.
        if proc.returncode == 0 and "DejaVu" in proc.stdout and Path(proc.stdout).is_file():
            return proc.stdout
    found = sorted(Path("/usr/share/fonts").glob("**/DejaVuSans.ttf"))
    return str(found[0]) if found else None


def _has_drawtext() -> bool:
    """Tell whether this ffmpeg was built with the drawtext filter (needs libfreetype)."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True)
    return any(line.split()[1:2] == ["drawtext"] for line in proc.stdout.splitlines())


def _filter_path(path: Path) -> str:
    """Escape a path for use as an ffmpeg filter option value."""
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def _media_duration(path: Path) -> float:
    """Return a media file's duration in seconds via ffprobe."""
    proc = _run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                 "-of", "default=noprint_wrappers=1:nokey=1", str(path)])
    return float(proc.stdout.strip())


def make_video(audio: Path, out_video: Path, *, title: str = "", size: str = "640x360") -> None:
    """Make a small H.264/AAC MP4 (+faststart) of a still title card with the audio."""
    out_video = Path(out_video)
    out_video.parent.mkdir(parents=True, exist_ok=True)
    width = int(size.split("x")[0])
    # Cut the endless colour source at the audio's length rather than relying on -shortest,
    # which at 1 fps can overshoot by up to a frame.
    duration = _media_duration(Path(audio))

    with tempfile.TemporaryDirectory(prefix="synth-video-") as tmp:
        vf = ["format=yuv420p"]
        font = _find_font() if title else None
        if font and _has_drawtext():
            # Title text goes through a file so no quoting of user text in the filtergraph is needed.
            text_file = Path(tmp) / "title.txt"
            text_file.write_text("\n".join(textwrap.wrap(title, 34)), encoding="utf-8")
            fontsize = max(14, width // 24)
            vf.insert(0, f"drawtext=fontfile={_filter_path(Path(font))}:textfile={_filter_path(text_file)}"
                         f":fontcolor=white:fontsize={fontsize}:line_spacing={fontsize // 2}"
                         f":x=(w-text_w)/2:y=(h-text_h)/2")
        _run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
              "-f", "lavfi", "-i", f"color=c=0x1d2533:s={size}:r=1",
              "-i", str(audio),
              "-map", "0:v", "-map", "1:a", "-t", f"{duration:.3f}",
              "-vf", ",".join(vf),
              "-c:v", "libx264", "-preset", "medium", "-tune", "stillimage", "-crf", "30", "-r", "1",
              "-c:a", "aac", "-b:a", "48k", "-ac", "1",
              "-movflags", "+faststart", str(out_video)])


def load_script(path: Path) -> dict:
    """Load an interview script (YAML, or JSON by extension) with title, voices and turns."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix.lower() == ".json":
        script = json.loads(text)
    else:
        import yaml  # imported here so the rest of the module needs only the standard library

        script = yaml.safe_load(text)
    for key in ("voices", "turns"):
        if key not in script:
            raise ValueError(f"{path}: script has no '{key}'")
    return script


def main(argv: list[str] | None = None) -> int:
    """Command line: synthesize a script into an MP4 plus its truth JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.synth", description=__doc__.splitlines()[0])
    parser.add_argument("script", type=Path, help="interview script (YAML)")
    parser.add_argument("--video", type=Path, required=True, help="output MP4")
    parser.add_argument("--truth", type=Path, required=True, help="output JSON of turn timings")
    parser.add_argument("--audio", type=Path, help="also keep the joined WAV here")
    parser.add_argument("--pause", type=float, default=0.6, help="default silence between turns (s)")
    parser.add_argument("--rate", type=int, default=16000, help="sample rate of the joined WAV")
    args = parser.parse_args(argv)

    script = load_script(args.script)
    with tempfile.TemporaryDirectory(prefix="synth-main-") as tmp:
        audio = args.audio or Path(tmp) / "interview.wav"
        truth = synthesize_interview(script["turns"], script["voices"], audio,
                                     pause=float(script.get("pause", args.pause)), rate=args.rate)
        make_video(audio, args.video, title=script.get("title", ""))

    args.truth.parent.mkdir(parents=True, exist_ok=True)
    record = {"title": script.get("title", ""), **truth}
    args.truth.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.video}: {truth['duration']:.1f} s, {len(truth['turns'])} turns; truth in {args.truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
