"""Fetch through yt-dlp from a local HTTP server: a direct MP4 and a page with <video>."""

import contextlib
import functools
import http.server
import json
import shutil
import threading

import pytest

from pipeline.config import load_card
from pipeline.errors import FetchError
from pipeline.stages.fetch import run as fetch
from pipeline.files import sha256_file

from conftest import write_card


@contextlib.contextmanager
def serve(folder):
    """Serve a folder on 127.0.0.1 on a free port for the duration of the block."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


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
