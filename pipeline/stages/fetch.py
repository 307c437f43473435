"""Fetch: get the interview's media into media/SLUG/.

URLs go through yt-dlp's Python API (YouTube, web pages with a <video> or og:video, direct
media links) into source.<ext>, with info.json kept beside it. Local files are taken as
they are. Either way provenance.json records where the media came from and its sha256.
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from pipeline.config import Card
from pipeline.errors import FetchError
from pipeline.files import read_json, sha256_text, write_json
from pipeline.model import Fetched
from pipeline.stamps import Stamps

log = logging.getLogger(__name__)

# Self-hosted video need not be larger than 720p; for YouTube we embed YouTube's own
# player, so only the audio is needed for the transcript.
VIDEO_FORMAT = "bv*[height<=720]+ba/b[height<=720]/bv*+ba/b"
AUDIO_FORMAT = "ba/b"
YOUTUBE_HOSTS = ("youtube.com", "youtu.be", "youtube-nocookie.com")


def run(card: Card) -> Fetched:
    """Make sure the card's media is on disk; download URLs only when not done before."""
    if card.sources:
        return _take_tracks(card)
    if not card.is_url:
        return _take_local(card)
    stamps, key = Stamps(card.folder), stage_key(card)
    provenance = read_json(card.folder / "provenance.json", {})
    done = card.folder / provenance.get("file", "source.missing")
    if stamps.is_fresh("fetch", key, [done]):
        return Fetched(done, provenance)
    fetched = _download(card)
    stamps.record("fetch", key, file=fetched.path.name)
    return fetched


def stage_key(card: Card) -> str:
    """What a download depends on: the URL and the format we ask for."""
    return Stamps(card.folder).key(url=card.source, format=_format_for(card.source))


def is_youtube(url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in YOUTUBE_HOSTS)


def _format_for(url: str) -> str:
    return AUDIO_FORMAT if is_youtube(url) else VIDEO_FORMAT


def _take_local(card: Card) -> Fetched:
    path = card.folder / card.source
    stamps = Stamps(card.folder)
    provenance = {"file": path.name, "sha256": stamps.digest(path), "origin": "local file"}
    write_json(card.folder / "provenance.json", provenance)
    return Fetched(path, provenance)


def _take_tracks(card: Card) -> Fetched:
    """Recordings made one per person: each file's hash, and one hash of them all (with who
    is on which, so renaming a track's speaker prepares nothing again but relabels)."""
    stamps = Stamps(card.folder)
    tracks = [{"speaker": t.speaker, "file": t.file, "channel": t.channel,
               "sha256": stamps.digest(card.folder / t.file)} for t in card.sources]
    provenance = {"file": tracks[0]["file"], "origin": "local files, one per person",
                  "sha256": sources_digest(tracks), "tracks": tracks}
    write_json(card.folder / "provenance.json", provenance)
    return Fetched(card.folder / tracks[0]["file"], provenance)


def sources_digest(tracks: list[dict]) -> str:
    """One content hash for recordings made one per person: their files and channels."""
    return sha256_text(json.dumps([[t["file"], t["channel"], t["sha256"]] for t in tracks]))


def source_digest(card: Card) -> str | None:
    """The content hash of the card's media, without fetching anything: the local file's,
    the tracks', or the one recorded at download (None when not downloaded yet)."""
    stamps = Stamps(card.folder)
    if card.sources:
        return sources_digest([{"file": t.file, "channel": t.channel,
                                "sha256": stamps.digest(card.folder / t.file)} for t in card.sources])
    if not card.is_url:
        return stamps.digest(card.folder / card.source)
    provenance = read_json(card.folder / "provenance.json", {})
    return provenance.get("sha256") if provenance.get("url") == card.source else None


def _download(card: Card) -> Fetched:
    import yt_dlp

    log.info("%s: downloading %s", card.slug, card.source)
    # Download into a scratch folder and move the finished file in: an interrupted download
    # never leaves a half file where a finished one is expected.
    with tempfile.TemporaryDirectory(prefix=".download-", dir=card.folder) as scratch:
        options = {
            "outtmpl": {"default": "source.%(ext)s"},
            "paths": {"home": scratch, "temp": scratch},
            "format": _format_for(card.source),
            "merge_output_format": "mp4",
            "noplaylist": True,
            "playlist_items": "1",
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "color": "no_color",
            "socket_timeout": 20,
            "retries": 2,
            "fragment_retries": 2,
            "logger": _YtDlpLogger(card.slug),
            "progress_hooks": [_Progress(card.slug)],
        }
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                info = ydl.sanitize_info(ydl.extract_info(card.source, download=True))
        except yt_dlp.utils.DownloadError as e:
            raise FetchError(_explain(card, str(e))) from e
        if info.get("_type") == "playlist":
            info = (info.get("entries") or [None])[0] or info
        files = [Path(d["filepath"]) for d in info.get("requested_downloads") or [] if d.get("filepath")]
        files = [f for f in files if f.exists()] or sorted(Path(scratch).glob("source.*"))
        if not files:
            raise FetchError(f"{card.slug}: yt-dlp finished but left no media file for {card.source}")
        downloaded = files[0]
        for old in card.folder.glob("source.*"):
            old.unlink()
        target = card.folder / downloaded.name
        shutil.move(downloaded, target)

    provenance = {
        "origin": "url",
        "url": card.source,
        "webpage_url": info.get("webpage_url"),
        "extractor": info.get("extractor_key") or info.get("extractor"),
        "id": info.get("id"),
        "title": info.get("title"),
        "yt_dlp_version": yt_dlp.version.__version__,
        "file": target.name,
        "sha256": Stamps(card.folder).digest(target),
        "fetched_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json(card.folder / "info.json", info)
    write_json(card.folder / "provenance.json", provenance)
    return Fetched(target, provenance)


def _explain(card: Card, message: str) -> str:
    """Turn yt-dlp's error into what the editor should know and do."""
    message = message.removeprefix("ERROR: ").strip()
    if "Unsupported URL" in message:
        hint = "the page has no video or audio that yt-dlp can find; link to the video page or the media file itself"
    elif "404" in message or "Not Found" in message:
        hint = "the address was not found (HTTP 404); check the URL in the card"
    elif any(s in message for s in ("Connection refused", "Name or service not known",
                                    "Temporary failure in name resolution", "timed out",
                                    "Network is unreachable", "Failed to resolve")):
        hint = "the server could not be reached; check the URL and your network, then publish again"
    else:
        hint = "check that the URL opens in a browser and plays"
    return f"{card.slug}: could not download {card.source} ({card.path}): {hint}.\n  yt-dlp said: {message}"


class _YtDlpLogger:
    """Route yt-dlp's messages to our log instead of its own stdout/stderr printing."""

    def __init__(self, slug: str):
        self.slug = slug

    def debug(self, message: str) -> None:
        log.debug("%s: yt-dlp: %s", self.slug, message)

    info = debug

    def warning(self, message: str) -> None:
        log.debug("%s: yt-dlp warning: %s", self.slug, message)

    def error(self, message: str) -> None:
        log.debug("%s: yt-dlp error: %s", self.slug, message)


class _Progress:
    """Report download progress every 10 %, not on every chunk."""

    def __init__(self, slug: str):
        self.slug, self.reported = slug, -10

    def __call__(self, status: dict) -> None:
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if status.get("status") != "downloading" or not total:
            return
        percent = int(100 * status.get("downloaded_bytes", 0) / total)
        if percent >= self.reported + 10:
            self.reported = percent - percent % 10
            log.info("%s: downloaded %d%% of %.1f MB", self.slug, percent, total / 1e6)
