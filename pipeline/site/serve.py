"""Serve: preview the built site on this machine as a web host would serve it.

Python's own http.server ignores byte ranges, and without them browsers cannot seek in
media, so `?t=` links would start at 0. This server answers ranges, serves the site under
the path of site.yaml's base_url, answers unknown addresses with the site's 404 page, and
never follows a link out of site/. Files are streamed in chunks, never read whole: a browser
asks for `bytes=0-` of a video, which for a 1 GB file would otherwise cost 1 GB of memory.
"""

from __future__ import annotations

import functools
import http.server
import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single byte ranges, under a path prefix, with the site's 404 page."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if path == self.prefix.rstrip("/"):
            path = self.prefix
        if not path.startswith(self.prefix):
            return os.path.join(self.directory, ".not-found")  # outside the site
        found = super().translate_path("/" + path[len(self.prefix):])
        # Never follow a link out of the site: answer as if nothing were there.
        real, top = os.path.realpath(found), os.path.realpath(self.directory)
        if real != top and not real.startswith(top + os.sep):
            return os.path.join(self.directory, ".not-found")
        return found

    def send_head(self):
        path = self.translate_path(self.path)
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if not match or not (match[1] or match[2]) or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        first = int(match[1]) if match[1] else max(size - int(match[2]), 0)
        last = min(int(match[2]), size - 1) if match[1] and match[2] else size - 1
        if first > last:
            self.send_error(416, "Range not satisfiable")
            return None
        body = _Slice(open(path, "rb"), first, last - first + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(body.left))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return body  # copied to the socket in chunks by copyfile(), then closed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        log.debug("serve: " + format, *args)


class _Slice:
    """A byte range of an open file, read in chunks (shutil.copyfileobj asks for 64 KB)."""

    def __init__(self, file, first: int, length: int):
        self.file, self.left = file, length
        file.seek(first)

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Browsers drop media connections they no longer need; that is not an error.
        log.debug("serve: connection from %s ended early", client_address[0])


def make_server(site: Path, host: str = "127.0.0.1", port: int = 8000, prefix: str = "/") -> SiteServer:
    """A server for the site folder at http://HOST:PORT/PREFIX (port 0 picks a free one)."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    handler = type("Handler", (SiteHandler,), {"prefix": prefix})
    return SiteServer((host, port), functools.partial(handler, directory=str(site)))
