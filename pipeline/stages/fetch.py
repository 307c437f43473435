"""Fetch: get the interview's media into media/SLUG/.

URLs go through yt-dlp's command line (YouTube, web pages with a <video> or og:video, direct
media links) into source.<ext>, with info.json kept beside it, and with the publisher's own
captions when there are any: subtitles a person made (never automatic ones) or a page's
<track>, as captions.<language>.<vtt|srt>. Local files are taken as they are, with a
.vtt/.srt of the same name beside them. Either way provenance.json records where the media
came from, its sha256 and the captions found (creator_captions.py decides whether to use them).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pipeline.children import tied
from pipeline.config import Card, DownloadSettings
from pipeline.errors import FetchError
from pipeline.files import read_json, sha256_text, write_json
from pipeline.model import Fetched
from pipeline.stages import creator_captions
from pipeline.stamps import Stamps

log = logging.getLogger(__name__)

# Self-hosted video need not be larger than 720p; for YouTube we embed YouTube's own
# player, so only the audio is needed for the transcript.
VIDEO_FORMAT = "bv*[height<=720]+ba/b[height<=720]/bv*+ba/b"
AUDIO_FORMAT = "ba/b"
YOUTUBE_HOSTS = ("youtube.com", "youtu.be", "youtube-nocookie.com")


def run(card: Card, limits: DownloadSettings) -> Fetched:
    """Make sure the card's media is on disk; download URLs only when not done before."""
    if card.sources:
        return _take_tracks(card)
    if not card.is_url:
        return _take_local(card)
    stamps, key = Stamps(card.folder), stage_key(card)
    provenance = read_json(card.folder / "provenance.json", {})
    done = card.folder / provenance.get("file", "source.missing")
    if stamps.is_fresh("fetch", key, [done]):
        if "captions" not in provenance:  # fetched before captions were: only they are fetched
            provenance = {**provenance, "captions": _only_captions(card, limits)}
            write_json(card.folder / "provenance.json", provenance)
        return Fetched(done, provenance)
    fetched = _download(card, limits)
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
    provenance = {"file": path.name, "sha256": stamps.digest(path), "origin": "local file",
                  "captions": creator_captions.beside(path)}
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


def _download(card: Card, limits: DownloadSettings) -> Fetched:
    import yt_dlp

    log.info("%s: downloading %s", card.slug, card.source)
    # Download into a scratch folder and move the finished file in: an interrupted download
    # never leaves a half file where a finished one is expected.
    with tempfile.TemporaryDirectory(prefix=".download-", dir=card.folder) as scratch:
        found = _run_yt_dlp(card, Path(scratch), limits)
        info = read_json(Path(scratch) / "source.info.json", {}) or {}
        files = [f for f in found if f.exists()] or sorted(
            f for f in Path(scratch).glob("source.*") if not f.name.endswith((".json", ".part")))
        if not files:
            raise FetchError(f"{card.slug}: yt-dlp finished but left no media file for {card.source}")
        downloaded = files[0]
        for old in card.folder.glob("source.*"):
            old.unlink()
        target = card.folder / downloaded.name
        shutil.move(downloaded, target)
        kept = _captions(card, Path(scratch), limits, Path(scratch) / "source.info.json")

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
        "captions": kept,
    }
    write_json(card.folder / "info.json", info)
    write_json(card.folder / "provenance.json", provenance)
    return Fetched(target, provenance)


def _only_captions(card: Card, limits: DownloadSettings) -> list[dict]:
    """The captions of a source downloaded before captions were fetched: the page is read
    again, the media is not downloaded again."""
    log.info("%s: looking for the publisher's captions of %s", card.slug, card.source)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=card.folder) as scratch:
        try:
            _run_yt_dlp(card, Path(scratch), limits, ["--skip-download"])
        except FetchError as e:
            log.warning("%s: the page could not be read again for its captions (%s); the "
                        "recogniser's words are used", card.slug, e.message.splitlines()[-1].strip())
            return []
        return _captions(card, Path(scratch), limits, Path(scratch) / "source.info.json")


def _captions(card: Card, scratch: Path, limits: DownloadSettings, info: Path) -> list[dict]:
    """The publisher's captions, from what yt-dlp found on the page (its info.json: the page
    is not read again), moved into the card's folder. A run of its own, so that a broken
    captions link never stops the media (yt-dlp fails a whole download for one)."""
    if not info.is_file():
        return []
    try:
        _run_yt_dlp(card, scratch, limits, [*CAPTION_OPTIONS, "--skip-download"], load=info)
    except FetchError as e:
        log.warning("%s: the publisher's captions could not be downloaded (%s); the recogniser's "
                    "words are used", card.slug, e.message.splitlines()[-1].strip())
        return []
    return creator_captions.keep(creator_captions.downloaded(scratch), card.folder)


# yt-dlp runs in a process of its own so that a stalled or endless download can be stopped
# (a read of a server that sends one byte a second never returns to yt-dlp's own hooks); it
# dies with publish (pipeline.children).
POLL = 0.25  # seconds between looks at the download


# The publisher's captions: every language a person wrote (a site's automatic captions
# never: they are a recogniser's words, and worse than ours), as WebVTT or SRT when offered.
# --write-info-json is off for that run: it would rewrite the info.json being read.
CAPTION_OPTIONS = ["--write-subs", "--no-write-auto-subs", "--sub-langs", "all,-live_chat",
                   "--sub-format", "vtt/srt/best", "--no-write-info-json"]


def _run_yt_dlp(card: Card, scratch: Path, limits: DownloadSettings, extra: list[str] = (),
                load: Path | None = None) -> list[Path]:
    """Download with yt-dlp's command line into `scratch`, within the time and rate limits:
    the card's URL, or what an info.json (`load`) describes; return the media files it made."""
    args = ["--ignore-config", "--quiet", "--no-warnings", "--no-progress", "--color", "no_color",
            "--no-playlist", "--playlist-items", "1", "--format", _format_for(card.source),
            "--merge-output-format", "mp4", "--socket-timeout", "20", "--retries", "2",
            "--fragment-retries", "2", "--paths", f"home:{scratch}", "--paths", f"temp:{scratch}",
            "--output", "source.%(ext)s", "--write-info-json", "--no-write-playlist-metafiles",
            *extra, "--print", "after_move:filepath",
            *(["--load-info-json", str(load)] if load else ["--", card.source])]
    out, err = scratch / ".yt-dlp.out", scratch / ".yt-dlp.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        child = subprocess.Popen(tied([sys.executable, "-m", "yt_dlp", *args]),
                                 stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        try:
            _watch(card, child, scratch, limits)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
    if child.returncode != 0:
        said = err.read_text(errors="replace").strip().splitlines() or ["(yt-dlp said nothing)"]
        raise FetchError(_explain(card, next((l for l in reversed(said) if l.startswith("ERROR:")),
                                             said[-1])))
    return [Path(line) for line in out.read_text().splitlines() if line.strip()]


def _watch(card: Card, child: subprocess.Popen, scratch: Path, limits: DownloadSettings) -> None:
    """Wait for the download; stop it past the deadline, or when it has been slower than the
    minimum rate over the last window of seconds."""
    started = time.monotonic()
    sizes: list[tuple[float, int]] = [(0.0, 0)]  # (seconds since start, bytes so far)
    reported = 0
    while child.poll() is None:
        time.sleep(POLL)
        now, size = time.monotonic() - started, _bytes_in(scratch)
        sizes.append((now, size))
        if now > limits.timeout:
            raise FetchError(f"{card.slug}: the download of {card.source} ({card.path}) took more "
                             f"than {limits.timeout} s (download.timeout in site.yaml) and was "
                             f"stopped after {size / 1e6:.1f} MB; the server may be overloaded. "
                             "Publish again later, or raise download.timeout.")
        window = limits.min_rate_seconds
        if now >= window:
            then = next(b for t, b in reversed(sizes) if t <= now - window)
            if size - then < limits.min_rate * window:
                raise FetchError(f"{card.slug}: the download of {card.source} ({card.path}) was "
                                 f"slower than {limits.min_rate} bytes a second for {window} s "
                                 f"(download.min_rate in site.yaml), so it was stopped after "
                                 f"{size / 1e6:.1f} MB. The server may be overloaded or the link "
                                 "stalled: publish again later.")
            sizes = [(t, b) for t, b in sizes if t >= now - window - 1]
        if size - reported >= 10_000_000:
            log.info("%s: downloaded %.0f MB", card.slug, size / 1e6)
            reported = size


def _bytes_in(folder: Path) -> int:
    """What has arrived so far: the size of everything in the scratch folder."""
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except FileNotFoundError:  # renamed while we looked
            pass
    return total


def _explain(card: Card, message: str) -> str:
    """Turn yt-dlp's error into what the editor should know and do."""
    message = message.removeprefix("ERROR: ").strip()
    if "file://" in message or "No connection adapters" in message:
        hint = ("the address redirects to a local file or another kind of address (file://...), "
                "which is never fetched: only http and https media are; check the URL")
    elif "Unsupported URL" in message:
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


# --- Before a card exists: what a page says about itself, and the entries of a feed -----------

@dataclass(frozen=True)
class Entry:
    """One interview a feed or a playlist lists."""

    url: str
    title: str
    date: datetime.date | None
    description: str


def page_metadata(url: str, seconds: int = 30) -> Entry:
    """What yt-dlp reads of a page without downloading its media (title, date, description),
    or a FetchError saying why it could not."""
    info = _yt_dlp_json(url, ["--no-playlist"], seconds)
    if info.get("extractor") in ("generic", "html5"):  # they number a page's media: "Title (1)"
        info["title"] = re.sub(r" \(1\)$", "", info.get("title") or "")
    return _entry({**info, "url": url})


def feed_entries(url: str, seconds: int = 60) -> tuple[str, list[Entry]]:
    """(title, entries) of a podcast feed (RSS or Atom) or a playlist page: through yt-dlp,
    which knows RSS and many sites' playlists; Atom (which it does not read) with feedparser."""
    try:
        info = _yt_dlp_json(url, ["--flat-playlist", "--yes-playlist"], seconds)
    except FetchError as error:
        found = _atom_entries(url)
        if found is None:
            raise error
        return found
    if info.get("_type") != "playlist":
        raise FetchError(f"{url} is one interview, not a feed or a playlist: add it with "
                         "`pipeline new SLUG --source URL`.")
    return info.get("title") or "", [_entry(e) for e in info.get("entries") or [] if e.get("url")]


def _entry(info: dict) -> Entry:
    from yt_dlp.utils import unsmuggle_url

    url, _ = unsmuggle_url(info["url"])  # yt-dlp tucks an RSS item's guid into the URL
    return Entry(url, (info.get("title") or "").strip(), _date_of(info), info.get("description") or "")


def _date_of(info: dict) -> datetime.date | None:
    if info.get("timestamp"):
        return datetime.datetime.fromtimestamp(info["timestamp"], datetime.timezone.utc).date()
    if day := info.get("upload_date"):
        return datetime.date(int(day[:4]), int(day[4:6]), int(day[6:8]))
    return None


def _atom_entries(url: str) -> tuple[str, list[Entry]] | None:
    import feedparser

    feed = feedparser.parse(url)
    if not feed.entries:
        return None
    entries = []
    for item in feed.entries:
        media = next((link.href for link in item.get("links", []) if link.get("rel") == "enclosure"),
                     item.get("link"))
        day = item.get("published_parsed") or item.get("updated_parsed")
        if media:
            entries.append(Entry(media, item.get("title", "").strip(),
                                 datetime.date(*day[:3]) if day else None,
                                 item.get("summary", "")))
    return feed.feed.get("title", ""), entries


def _yt_dlp_json(url: str, options: list[str], seconds: int) -> dict:
    try:
        done = subprocess.run(tied([sys.executable, "-m", "yt_dlp", "--ignore-config", "--quiet",
                                    "--no-warnings", "--dump-single-json", "--socket-timeout", "20",
                                    *options, "--", url]),
                              capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise FetchError(f"{url} did not answer within {seconds} s; check it opens in a browser") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines() or ["(yt-dlp said nothing)"]
        message = next((l for l in reversed(said) if l.startswith("ERROR:")), said[-1])
        raise FetchError(f"could not read {url}: {message.removeprefix('ERROR: ')}")
    return json.loads(done.stdout)
