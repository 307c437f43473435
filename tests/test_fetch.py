"""Fetch through yt-dlp from a local HTTP server: a direct MP4, a page with <video>, and
servers that are slow, endless or redirect somewhere they should not."""

import functools
import http.server
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import http_server, write_card
from pipeline.children import tied
from pipeline.config import DownloadSettings, load_card
from pipeline.errors import FetchError
from pipeline.files import sha256_file
from pipeline.stages import fetch as fetch_stage


def fetch(card, limits=DownloadSettings()):
    return fetch_stage.run(card, limits)


def serve(folder):
    """Serve a folder on 127.0.0.1 on a free port for the duration of the block."""
    return http_server(functools.partial(QuietHandler, directory=str(folder)))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web(short_speech, tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    shutil.copyfile(short_speech["mp4"], root / "talk.mp4")
    (root / "page.html").write_text(
        "<!DOCTYPE html><html><head><title>Helen Ward on blogging</title></head><body>"
        "<h1>Helen Ward on blogging</h1><video controls src=\"talk.mp4\"></video></body></html>")
    (root / "og.html").write_text(
        "<!DOCTYPE html><html><head><title>Helen Ward</title>"
        "<meta property=\"og:video\" content=\"/talk.mp4\">"
        "<meta property=\"og:video:type\" content=\"video/mp4\"></head>"
        "<body><p>Watch the interview.</p></body></html>")
    (root / "nothing.html").write_text("<!DOCTYPE html><html><body><p>No video here.</p></body></html>")
    with serve(root) as url:
        yield url, root


def test_direct_mp4(web, project):
    url, root = web
    card = load_card(write_card(project, "direct", f"{url}/talk.mp4"))
    fetched = fetch(card)
    assert fetched.path.name == "source.mp4"
    assert fetched.sha256 == sha256_file(root / "talk.mp4")
    provenance = json.loads((card.folder / "provenance.json").read_text())
    assert provenance["url"] == f"{url}/talk.mp4"
    assert provenance["extractor"] and provenance["yt_dlp_version"]
    assert (card.folder / "info.json").exists()
    assert not list(card.folder.glob(".download-*")), "scratch folder left behind"


def test_page_with_video_element(web, project):
    url, root = web
    card = load_card(write_card(project, "page", f"{url}/page.html"))
    fetched = fetch(card)
    assert fetched.sha256 == sha256_file(root / "talk.mp4")
    assert fetched.provenance["webpage_url"].endswith("/page.html")


def test_page_with_og_video(web, project):
    url, root = web
    card = load_card(write_card(project, "og", f"{url}/og.html"))
    assert fetch(card).sha256 == sha256_file(root / "talk.mp4")


def test_second_fetch_does_not_download_again(web, project):
    url, root = web
    card = load_card(write_card(project, "again", f"{url}/talk.mp4"))
    first = fetch(card)
    mtime = first.path.stat().st_mtime_ns
    (root / "talk.mp4").rename(root / "moved.mp4")  # a new download would now fail
    try:
        second = fetch(card)
    finally:
        (root / "moved.mp4").rename(root / "talk.mp4")
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("path, message", [
    ("/missing.mp4", "HTTP 404"),
    ("/nothing.html", "no video or audio"),
])
def test_bad_urls_explain_themselves(web, project, path, message):
    url, _ = web
    card = load_card(write_card(project, "bad", url + path))
    with pytest.raises(FetchError) as caught:
        fetch(card)
    assert message in caught.value.message
    assert "bad:" in caught.value.message and url + path in caught.value.message
    assert not list(card.folder.glob("source.*"))


def test_unreachable_server(project):
    card = load_card(write_card(project, "offline", "http://127.0.0.1:9/interview.mp4"))
    with pytest.raises(FetchError, match="could not be reached"):
        fetch(card)



class DripHandler(http.server.BaseHTTPRequestHandler):
    """A media file sent `RATE` bytes a second (a stalled or overloaded server), or a redirect."""

    rate = 1
    body = b"\0" * 100_000

    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            for at in range(0, len(self.body), self.rate):
                self.wfile.write(self.body[at:at + self.rate])
                self.wfile.flush()
                time.sleep(1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def drip(rate: int):
    return http_server(type("Drip", (DripHandler,), {"rate": rate}))


def test_a_stalled_download_is_stopped(project):
    with drip(rate=1) as url:  # one byte a second
        card = load_card(write_card(project, "stalled", f"{url}/talk.mp4"))
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(card, DownloadSettings(min_rate=1000, min_rate_seconds=3))
        assert time.monotonic() - started < 30
    assert "slower than 1000 bytes a second for 3 s" in caught.value.message
    assert "stalled:" in caught.value.message and f"{url}/talk.mp4" in caught.value.message
    assert not list(card.folder.glob(".download-*")) and not list(card.folder.glob("source.*"))


def test_a_download_past_its_deadline_is_stopped(project):
    with drip(rate=5000) as url:  # fast enough, but 20 s for the whole file
        card = load_card(write_card(project, "endless", f"{url}/talk.mp4"))
        with pytest.raises(FetchError) as caught:
            fetch(card, DownloadSettings(timeout=3, min_rate=100, min_rate_seconds=2))
    assert "took more than 3 s (download.timeout in site.yaml)" in caught.value.message
    assert not list(card.folder.glob(".download-*"))


def test_a_redirect_to_a_local_file_is_refused(project):
    with drip(rate=1) as url:
        card = load_card(write_card(project, "sneaky", f"{url}/redirect.mp4"))
        with pytest.raises(FetchError) as caught:
            fetch(card)
    assert "file://" in caught.value.message and "never" in caught.value.message
    assert not list(card.folder.glob("source.*"))


def test_a_slow_source_does_not_hold_up_the_others(project, short_speech, run_cli):
    from conftest import add_interview

    (project / "site.yaml").write_text("download: {min_rate: 1000, min_rate_seconds: 3}\n")
    add_interview(project, "local", short_speech["mp3"])
    with drip(rate=1) as url:
        write_card(project, "stalled", f"{url}/talk.mp4")
        result = run_cli(project, "publish", "--jobs", "2")
    assert result.exit_code == 1
    assert "FAILED stalled" in result.stderr and "slower than 1000 bytes a second" in result.stderr
    assert (project / "site" / "local" / "index.html").exists()


def _gone(pid: int, seconds: float = 10.0) -> bool:
    """Whether process `pid` has ended (or is a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            return True
        if "\nState:\tZ" in state:
            return True
        time.sleep(0.05)
    return False


def test_a_child_ends_with_publish_and_never_outlives_it():
    """ffmpeg and yt-dlp run tied to publish (pipeline.children): killed with it, and not
    started at all when publish died before the child could be tied (an orphan download
    once went on writing into the folder the next publish had just cleared)."""
    orphan = subprocess.run([sys.executable, "-m", "pipeline.children", "1", sys.executable, "-c", "print('ran')"],
                            capture_output=True, text=True, timeout=60)
    assert (orphan.returncode, orphan.stdout) == (1, "")
    missing = subprocess.run(tied(["no-such-program-here"]), capture_output=True, text=True, timeout=60)
    assert missing.returncode == 127 and "no-such-program-here: cannot run it" in missing.stderr
    publish = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time\n"
         "from pipeline.children import tied\n"
         "child = subprocess.Popen(tied([sys.executable, '-m', 'http.server', '--bind', '127.0.0.1', '0']))\n"
         "print(child.pid, flush=True)\n"
         "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    child = int(publish.stdout.readline())
    time.sleep(1.0)  # the child is serving by now
    assert not _gone(child, 0.1)
    publish.kill()
    publish.wait(timeout=30)
    assert _gone(child), "the child outlived the publish that started it"
