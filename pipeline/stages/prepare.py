"""Prepare: turn the fetched source into what later stages and the page need.

- audio.wav: 16 kHz mono PCM for speech recognition;
- video.mp4: H.264/AAC with +faststart for self-hosted video (remuxed, not re-encoded, when
  the source already is H.264/AAC), or audio.m4a for audio-only sources;
- poster.jpg: a frame for the player before it starts.
YouTube sources keep YouTube's player, so only the audio is prepared for them.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import ffmpeg

from pipeline import audio
from pipeline.children import tied
from pipeline.config import Card
from pipeline.errors import MediaError
from pipeline.files import atomic_path
from pipeline.model import Fetched, Prepared
from pipeline.stamps import Stamps
from pipeline.stages.fetch import is_youtube

log = logging.getLogger(__name__)

MAX_HEIGHT = 720
# Settings that change the outputs: part of the stage's key.
SETTINGS = {"rate": audio.SAMPLE_RATE, "max_height": MAX_HEIGHT, "crf": 23, "audio_bitrate": "128k"}


def run(card: Card, fetched: Fetched) -> Prepared:
    """The prepare stage for one interview (YouTube sources keep YouTube's player)."""
    return prepare(card.folder, fetched.path, fetched.sha256, youtube=is_youtube(card.source))


def prepare(folder: Path, source: Path, source_sha: str, *, youtube: bool = False) -> Prepared:
    """Make audio.wav, the web media and the poster, unless they are already made from this source."""
    stamps, key = Stamps(folder), stage_key(folder, source_sha, youtube)
    done = last_prepared(folder)
    if done and stamps.is_fresh("prepare", key, [p for p in (done.audio, done.media, done.poster) if p]):
        return done
    info = probe(source)
    video = _video_stream(info)
    sound = next((s for s in info["streams"] if s.get("codec_type") == "audio"), None)
    if sound is None:
        raise MediaError(f"{source}: has no audio track, so there is nothing to transcribe. "
                         "Use a recording with sound.")
    duration = _duration(info, source)
    kind = "youtube" if youtube else "video" if video else "audio"
    log.info("%s: preparing %s (%s, %.0f s)", folder.name, source.name, kind, duration)
    result = Prepared(kind, duration, folder / "audio.wav", None, None,
                      video and int(video["width"]), video and int(video["height"]))
    _extract_audio(source, result.audio, duration)
    if kind == "video":
        result = replace(result, media=folder / "video.mp4", poster=folder / "poster.jpg")
        _web_video(source, result.media, video, sound)
        _poster(source, result.poster, duration)
    elif kind == "audio":
        result = replace(result, media=folder / "audio.m4a")
        _web_audio(source, result.media, sound)
    stamps.record("prepare", key, result=result.to_dict())
    return result


def last_prepared(folder: Path) -> Prepared | None:
    """What the last finished prepare made in this folder, or None."""
    result = Stamps(folder).read("prepare").get("result")
    return Prepared.from_dict(folder, result) if result else None


def stage_key(folder: Path, source_sha: str, youtube: bool) -> str:
    """What prepared media depend on: the source's content, our settings, the ffmpeg build."""
    return Stamps(folder).key(source=source_sha, youtube=youtube, ffmpeg=ffmpeg_version(), **SETTINGS)


def probe(path: Path) -> dict:
    """ffprobe's view of a file; a clear MediaError when it is not media at all."""
    _require_ffmpeg()
    try:
        info = ffmpeg.probe(str(path))
    except ffmpeg.Error as e:
        raise MediaError(f"{path}: ffprobe cannot read it as audio or video (not a media file, "
                         f"or truncated). Replace the file.\n  ffprobe said: {_tail(e.stderr)}") from e
    if not info.get("streams"):
        raise MediaError(f"{path}: contains no audio or video streams. Replace the file.")
    return info


@functools.cache
def ffmpeg_version() -> str:
    _require_ffmpeg()
    out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def _require_ffmpeg() -> None:
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe")):
        raise MediaError("ffmpeg and ffprobe are not installed. Install them "
                         "(Debian/Ubuntu: sudo apt-get install ffmpeg) or run `make publish`, "
                         "which installs them.")


def _video_stream(info: dict) -> dict | None:
    # Cover art in an MP3/M4A is an attached picture, not a video.
    return next((s for s in info["streams"] if s.get("codec_type") == "video"
                 and not s.get("disposition", {}).get("attached_pic")), None)


def _duration(info: dict, source: Path) -> float:
    try:
        return float(info["format"]["duration"])
    except (KeyError, ValueError):
        raise MediaError(f"{source}: its length cannot be read (the file may be truncated). "
                         "Replace the file.") from None


def _run(stream, source: Path, what: str) -> None:
    """Run an ffmpeg-python command (killed with publish); a MediaError saying what failed."""
    done = subprocess.run(tied(stream.overwrite_output().compile()), capture_output=True)
    if done.returncode == 0:
        return
    if b"No space left on device" in done.stderr:
        raise MediaError(f"{source}: the disk is full, so ffmpeg could not write the {what} "
                         f"in {source.parent}: free some space and publish again; nothing "
                         "half-written was kept.")
    raise MediaError(f"{source}: ffmpeg could not make the {what} (the file may be damaged "
                     f"or truncated).\n  ffmpeg said: {_tail(done.stderr)}")


def _extract_audio(source: Path, target: Path, duration: float) -> None:
    with atomic_path(target) as tmp:
        out = ffmpeg.input(str(source)).output(str(tmp), format="wav", vn=None, ac=1,
                                               ar=audio.SAMPLE_RATE, acodec="pcm_s16le")
        _run(out, source, "16 kHz audio")
        _check_complete(source, tmp, duration)  # before it replaces the last good audio


def _check_complete(source: Path, wav: Path, duration: float) -> None:
    """ffmpeg decodes a truncated file without complaint: compare what it got with the
    length the file claims, and refuse rather than publish half an interview."""
    got = audio.duration(wav)
    if duration - got > max(2.0, 0.05 * duration):
        raise MediaError(f"{source}: the file says it lasts {duration:.0f} s but only {got:.0f} s "
                         "could be read: it is truncated or damaged. Copy or download it again.")


def _web_video(source: Path, target: Path, video: dict, sound: dict) -> None:
    remux = (video.get("codec_name") == "h264" and sound.get("codec_name") == "aac"
             and int(video.get("height", 0)) <= MAX_HEIGHT
             and video.get("pix_fmt") == "yuv420p")
    with atomic_path(target) as tmp:
        src = ffmpeg.input(str(source))
        common = {"format": "mp4", "movflags": "+faststart"}
        if remux:
            out = ffmpeg.output(src.video, src.audio, str(tmp), c="copy", **common)
        else:
            scaled = src.video.filter("scale", -2, f"min({MAX_HEIGHT},ih)")
            out = ffmpeg.output(scaled, src.audio, str(tmp), vcodec="libx264", preset="veryfast",
                                crf=SETTINGS["crf"], pix_fmt="yuv420p", acodec="aac",
                                audio_bitrate=SETTINGS["audio_bitrate"], **common)
        log.info("%s: %s web video", source.parent.name, "remuxing" if remux else "encoding")
        _run(out, source, "web video")


def _web_audio(source: Path, target: Path, sound: dict) -> None:
    with atomic_path(target) as tmp:
        codec = {"acodec": "copy"} if sound.get("codec_name") == "aac" else \
            {"acodec": "aac", "audio_bitrate": SETTINGS["audio_bitrate"]}
        out = ffmpeg.input(str(source)).output(str(tmp), format="ipod", vn=None,
                                               movflags="+faststart", **codec)
        _run(out, source, "web audio")


def _poster(source: Path, target: Path, duration: float) -> None:
    with atomic_path(target) as tmp:
        out = ffmpeg.input(str(source), ss=min(5.0, duration / 10)).output(
            str(tmp), format="image2", vcodec="mjpeg", vframes=1, **{"q:v": 3})
        _run(out, source, "poster image")


def _tail(stderr: bytes | None, lines: int = 3) -> str:
    text = (stderr or b"").decode("utf-8", "replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "(no message)"
