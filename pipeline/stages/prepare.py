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
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Callable

import ffmpeg
import numpy as np

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
    if card.sources:
        return prepare_tracks(card, fetched.sha256)
    return prepare(card.folder, fetched.path, fetched.sha256, youtube=is_youtube(card.source))


def begin(card: Card, fetched: Fetched) -> tuple[Prepared, Callable[[], None]]:
    """run(), returning once audio.wav is made: the page's media (the web video or audio and
    the poster) are made meanwhile, by ffmpeg in the background, and the function returned
    waits for them (raising their MediaError). Transcription needs only audio.wav, and AAC
    for the page of a 2-hour WAV took 58 s on one core, with the other idle."""
    if card.sources:
        return prepare_tracks(card, fetched.sha256), _nothing
    return _prepare(card.folder, fetched.path, fetched.sha256, youtube=is_youtube(card.source))


def prepare(folder: Path, source: Path, source_sha: str, *, youtube: bool = False) -> Prepared:
    """Make audio.wav, the web media and the poster, unless they are already made from this source."""
    prepared, page_media = _prepare(folder, source, source_sha, youtube=youtube)
    page_media()
    return prepared


def _prepare(folder: Path, source: Path, source_sha: str, *, youtube: bool) -> tuple[Prepared, Callable[[], None]]:
    stamps, key = Stamps(folder), stage_key(folder, source_sha, youtube)
    done = last_prepared(folder)
    if done and stamps.is_fresh("prepare", key, [p for p in (done.audio, done.media, done.poster) if p]):
        return done, _nothing
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
    elif kind == "audio":
        result = replace(result, media=folder / "audio.m4a")

    def page_media() -> None:
        if kind == "video":
            _web_video(source, result.media, video, sound)
            _poster(source, result.poster, duration)
        elif kind == "audio":
            _web_audio(source, result.media, sound)
        # Recorded once every output is there: an interrupted publish prepares again.
        stamps.record("prepare", key, result=result.to_dict())

    if kind == "youtube":  # YouTube's player: no media of our own to make
        page_media()
        return result, _nothing
    made = ThreadPoolExecutor(1, thread_name_prefix=f"page-media-{folder.name}")
    pending = made.submit(page_media)
    made.shutdown(wait=False)
    _in_background.add(pending)
    pending.add_done_callback(_in_background.discard)
    return result, pending.result


def _nothing() -> None:
    pass


# Recordings made one per person may differ in length by this much (tools stop each file a
# moment apart); more means they do not start together, and who spoke when would be wrong.
TRACK_SLACK = 1.0  # seconds, or TRACK_SLACK_SHARE of the longest, whichever is more
TRACK_SLACK_SHARE = 0.01
SILENT_DBFS = -55.0  # a track whose loudest moments stay below this has nobody on it


def prepare_tracks(card: Card, sources_sha: str) -> Prepared:
    """One recording per person (the card's `sources`): each track as 16 kHz mono WAV for the
    speakers stage, checked to be there, of one length and not silent; their mix as
    audio.wav (for transcription) and audio.m4a (for the page)."""
    folder = card.folder
    stamps, key = Stamps(folder), stage_key(folder, sources_sha, False)
    done = last_prepared(folder)
    if done and done.tracks and stamps.is_fresh(
            "prepare", key, [done.audio, done.media, *(path for _, path in done.tracks)]):
        # Who is on which track may have been renamed on the card: that needs no ffmpeg work.
        return replace(done, tracks=tuple((t.speaker, path) for t, (_, path) in zip(card.sources, done.tracks)))
    log.info("%s: preparing %d tracks, one per person", folder.name, len(card.sources))
    tracks, lengths = [], {}
    for n, track in enumerate(card.sources, 1):
        source, wav = folder / track.file, folder / f"track-{n}.wav"
        info = probe(source)
        sound = next((s for s in info["streams"] if s.get("codec_type") == "audio"), None)
        if sound is None:
            raise MediaError(f"{source}: {track.speaker}'s recording has no audio track ({card.path}). "
                             "Give the file with that person's sound.")
        if track.channel and track.channel > int(sound.get("channels", 1)):
            raise MediaError(f"{source}: the card gives channel {track.channel} to {track.speaker}, but the "
                             f"file has {sound.get('channels', 1)} channel(s) ({card.path}).")
        _extract_audio(source, wav, _duration(info, source), channel=track.channel)
        _check_not_silent(source, wav, track, card)
        tracks.append((track.speaker, wav))
        lengths[track.file + (f" (channel {track.channel})" if track.channel else "")] = audio.duration(wav)
    _check_lengths(card, lengths)
    result = Prepared("audio", max(lengths.values()), folder / "audio.wav", folder / "audio.m4a", None,
                      tracks=tuple(tracks))
    _mix(card, [wav for _, wav in tracks], result.audio)
    _web_audio(result.audio, result.media, {"codec_name": "pcm_s16le"})
    stamps.record("prepare", key, result=result.to_dict())
    return result


def _check_not_silent(source: Path, wav: Path, track, card: Card) -> None:
    samples = audio.read_pcm(wav).astype(np.float32) / 32768.0
    size = audio.SAMPLE_RATE // 10
    blocks = samples[:len(samples) // size * size].reshape(-1, size) if len(samples) >= size else samples[None, :]
    loudest = float(np.percentile(np.sqrt((blocks.astype(np.float64) ** 2).mean(1)), 99)) if len(samples) else 0.0
    if 20 * np.log10(max(loudest, 1e-10)) < SILENT_DBFS:
        where = f"channel {track.channel} of " if track.channel else ""
        raise MediaError(f"{source}: {where}{track.speaker}'s recording is silent (its loudest moments are "
                         f"below {SILENT_DBFS:.0f} dBFS), so nobody could be heard on it ({card.path}). Check "
                         "that the card names the right file (and channel) for each person.")


def _check_lengths(card: Card, lengths: dict[str, float]) -> None:
    longest, shortest = max(lengths.values()), min(lengths.values())
    if longest - shortest > max(TRACK_SLACK, TRACK_SLACK_SHARE * longest):
        listed = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in lengths.items())
        raise MediaError(f"{card.folder}: the recordings in 'sources' differ in length ({listed}; "
                         f"{card.path}). Recordings made one per person must start together and last as "
                         "long, or who spoke when would be wrong: export them again from the recording "
                         "tool, or trim them to the same start and length.")


def _mix(card: Card, wavs: list[Path], target: Path) -> None:
    """The tracks added together (not averaged: each keeps its level), limited below full scale."""
    with atomic_path(target) as tmp:
        inputs = [ffmpeg.input(str(w)) for w in wavs]
        mixed = ffmpeg.filter(inputs, "amix", inputs=len(inputs), duration="longest", normalize=0)
        out = mixed.filter("alimiter", limit=0.95).output(str(tmp), format="wav", ac=1,
                                                           ar=audio.SAMPLE_RATE, acodec="pcm_s16le")
        _run(out, card.folder, "mix of the tracks")


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


# The ffmpeg commands at work, and whether publish is stopping (Ctrl-C): see stop().
_running: set[subprocess.Popen] = set()
_in_background: set[Future] = set()
_stopping = threading.Event()


def stop() -> None:
    """Publish was interrupted: end every ffmpeg prepare is running (the page's media made
    in the background too) and start no other, then wait for their threads, which remove
    their temporary files. The process ends next, so no later publish in it prepares."""
    _stopping.set()
    for process in list(_running):
        process.terminate()
    wait(list(_in_background), timeout=10)
    for _ in range(100):  # and the other interviews' ffmpeg, ended above, to be reaped
        if not _running:
            break
        time.sleep(0.05)


def _run(stream, source: Path, what: str) -> None:
    """Run an ffmpeg-python command (killed with publish); a MediaError saying what failed."""
    if _stopping.is_set():
        raise MediaError(f"{source}: publish is stopping, so the {what} was not made.")
    with subprocess.Popen(tied(stream.overwrite_output().compile()), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        _running.add(process)
        try:
            _, stderr = process.communicate()
        finally:
            _running.discard(process)
    if process.returncode == 0:
        return
    if b"No space left on device" in stderr:
        raise MediaError(f"{source}: the disk is full, so ffmpeg could not write the {what} "
                         f"in {source.parent}: free some space and publish again; nothing "
                         "half-written was kept.")
    raise MediaError(f"{source}: ffmpeg could not make the {what} (the file may be damaged "
                     f"or truncated).\n  ffmpeg said: {_tail(stderr)}")


def _extract_audio(source: Path, target: Path, duration: float, channel: int | None = None) -> None:
    """16 kHz mono WAV of the source: all its channels mixed, or only `channel` (1 = left),
    checked to hold the whole of it before it replaces the last good one."""
    with atomic_path(target) as tmp:
        sound = ffmpeg.input(str(source)).audio
        if channel:
            sound = sound.filter("channelmap", map=str(channel - 1), channel_layout="mono")
        out = sound.output(str(tmp), format="wav", ac=1, ar=audio.SAMPLE_RATE, acodec="pcm_s16le")
        _run(out, source, "16 kHz audio")
        _check_complete(source, tmp, duration)


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
