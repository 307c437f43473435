"""Serve: preview the built site on this machine as a web host would serve it.

Python's own http.server ignores byte ranges, and without them browsers cannot seek in
media, so `?t=` links would start at 0. This server answers ranges, serves the site under
the path of site.yaml's base_url, answers unknown addresses with the site's 404 page, and
never follows a link out of site/. Files are streamed in chunks, never read whole: a browser
asks for `bytes=0-` of a video, which for a 1 GB file would otherwise cost 1 GB of memory.

It is Starlette's StaticFiles under uvicorn, the studio's own stack (the studio serves the
built site with the same app under /site/): StaticFiles answers single and multiple ranges,
streams in 64 KB chunks, and resolves every path inside site/ (links out are not found).
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def site_app(site: Path, prefix: str = "/"):
    """The site folder as a web host serves it, at PREFIX, with its 404 page (an ASGI app)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import FileResponse, PlainTextResponse
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    async def not_found(request, exc: HTTPException):
        page = site / "404.html"
        if exc.status_code == 404 and page.is_file():
            return FileResponse(page, status_code=404, media_type="text/html")
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    files = StaticFiles(directory=site, html=True, check_dir=False)  # links out: not found
    return Starlette(routes=[Mount(prefix.rstrip("/"), app=files)],
                     exception_handlers={HTTPException: not_found})


class SiteServer:
    """A uvicorn server on a socket bound at once (so port 0 names its port at once), with the
    methods of http.server's servers: serve_forever(), shutdown(), server_close()."""

    def __init__(self, app, host: str, port: int):
        import uvicorn

        self.socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
        except OSError:
            self.socket.close()
            raise
        self.socket.listen(128)
        self.server_address = self.socket.getsockname()[:2]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                    lifespan="off"))
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        self.server.should_exit = True
        self._stopped.wait(10)

    def server_close(self) -> None:
        self.socket.close()


def make_server(site: Path, host: str = "127.0.0.1", port: int = 8000, prefix: str = "/") -> SiteServer:
    """A server for the site folder at http://HOST:PORT/PREFIX (port 0 picks a free one)."""
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return SiteServer(site_app(site, prefix), host, port)
