"""`pipeline edit` as a real process: the guards of a local server that writes files.

Each guard is tried with raw HTTP requests (http.client, so every header is the test's own):
127.0.0.1 only unless asked otherwise, the token on every request, the Host header (DNS
rebinding), writes only by POST with the CSRF token and the studio's own origin, no path
from the browser used as a file path, 404 for a missing interview or another project's.
A refused request changes no file.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import wer
from conftest import add_interview, ctrl_c_as_in_a_terminal
from pipeline.files import sha256_file


class Studio:
    """A running `pipeline edit`, its address and key, and raw requests to it."""

    def __init__(self, project: Path, *args: str):
        self.project = project
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "-C", str(project), "edit", "--port", "0",
             "--no-browser", "--no-second-opinion", *args],
            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=ctrl_c_as_in_a_terminal)
        lines = []
        while not (match := re.search(r"http://127\.0\.0\.1:(\d+)/\S*\?token=([0-9a-f]+)", "".join(lines))):
            line = self.process.stderr.readline()
            assert line, f"pipeline edit did not start: {''.join(lines)}"
            lines.append(line)
        self.port, self.token = int(match[1]), match[2]
        self.cookie = f"pipeline-studio-{self.port}={self.token}"
        self.csrf = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                host: str | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    def get(self, path: str, **kw):
        return self.request("GET", path, headers={"Cookie": self.cookie, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, data, headers: dict | None = None, **kw):
        if self.csrf is None:
            page = self.get("/").body.decode()
            self.csrf = re.search(r'name="studio-csrf" content="([0-9a-f]+)"', page)[1]
        sent = {"Cookie": self.cookie, "Content-Type": "application/json", "X-Studio-CSRF": self.csrf,
                "Origin": f"http://127.0.0.1:{self.port}", **(headers or {})}
        return self.request("POST", path, json.dumps(data).encode(), headers={k: v for k, v in sent.items() if v},
                            **kw)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture(scope="module")
def projects(tmp_path_factory, short_speech):
    """Two published projects, each with its own interview."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    made = {}
    for name, slug in (("one", "plain-words"), ("two", "other-talk")):
        root = tmp_path_factory.mktemp(name)
        add_interview(root, slug, short_speech["mp3"])
        result = CliRunner().invoke(cli, ["-C", str(root), "-q", "publish"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        made[slug] = root
    return made


@pytest.fixture(scope="module")
def studio(projects):
    running = Studio(projects["plain-words"])
    yield running
    assert running.stop() == 130  # Ctrl-C: the CLI's "Interrupted." and 130
    assert "Interrupted" in running.process.stderr.read()


@pytest.fixture(scope="module")
def other(projects):
    running = Studio(projects["other-talk"])
    yield running
    running.stop()


def transcript(projects) -> Path:
    return projects["plain-words"] / "transcripts" / "plain-words" / "transcript.txt"


PAGES = ["/", "/i/plain-words/", "/i/plain-words/data", "/i/plain-words/media", "/i/plain-words/publish",
         "/static/studio.js", "/site/plain-words/"]


def test_it_listens_on_127_0_0_1_only_unless_asked(studio, projects):
    assert studio.process.poll() is None
    # --bind names the one address to listen on; "everywhere" is refused as a usage mistake.
    refused = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(projects["plain-words"]),
                              "edit", "--bind", "0.0.0.0", "--no-browser"], capture_output=True, text=True)
    assert refused.returncode == 2 and "would listen everywhere" in refused.stderr
    missing = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(projects["plain-words"]),
                              "edit", "no-such-talk", "--no-browser"], capture_output=True, text=True)
    assert missing.returncode == 2 and "no interview card" in missing.stderr and "plain-words" in missing.stderr
    assert "Traceback" not in refused.stderr + missing.stderr


@pytest.mark.parametrize("path", PAGES)
def test_every_request_needs_the_token(studio, path):
    assert studio.request("GET", path).status == 403
    wrong = studio.request("GET", path, headers={"Cookie": f"pipeline-studio-{studio.port}={'0' * 48}"})
    assert wrong.status == 403 and b"pipeline edit" in wrong.body
    assert studio.get(path).status == 200


def test_the_printed_address_sets_a_strict_cookie_and_leaves_the_address_bar(studio):
    response = studio.request("GET", f"/i/plain-words/?token={studio.token}")
    assert response.status == 303 and response.getheader("Location") == "/i/plain-words/"
    cookie = response.getheader("Set-Cookie")
    assert f"pipeline-studio-{studio.port}={studio.token}" in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert studio.request("GET", "/?token=" + "f" * 48).status == 403


def test_another_studios_key_does_not_open_this_one(studio, other):
    theirs = {"Cookie": other.cookie.replace(str(other.port), str(studio.port))}
    assert studio.request("GET", "/", headers=theirs).status == 403
    assert studio.request("GET", f"/?token={other.token}").status == 403


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}", ""])
def test_the_host_header_is_checked(studio, host):
    """DNS rebinding: a page whose name now points at 127.0.0.1 sends its own name as Host."""
    response = studio.get("/", host=host.format(port=studio.port))
    assert response.status == 400
    assert studio.get("/", host=f"localhost:{studio.port}").status == 200


def test_writes_need_post_the_csrf_token_and_this_origin(studio, projects):
    before = sha256_file(transcript(projects))
    data = json.loads(studio.get("/i/plain-words/data").body)
    paragraphs = [{**p, "text": p["text"] + " Zanzibar"} for p in data["paragraphs"]]
    body = {"paragraphs": paragraphs, "version": data["versions"]["transcript"]}
    attempts = {
        "no CSRF token": {"X-Studio-CSRF": ""},
        "a wrong CSRF token": {"X-Studio-CSRF": "0" * 32},
        "a form's content type": {"Content-Type": "application/x-www-form-urlencoded"},
        "another site's origin": {"Origin": "http://evil.example"},
        "a cross-site fetch": {"Sec-Fetch-Site": "cross-site"},
    }
    for what, headers in attempts.items():
        response = studio.post("/i/plain-words/transcript", body, headers)
        assert response.status == 403, what
    for method in ("PUT", "DELETE", "PATCH"):
        assert studio.request(method, "/i/plain-words/transcript", b"{}",
                              headers={"Cookie": studio.cookie}).status == 405
    assert studio.get("/i/plain-words/transcript").status == 405  # a GET never writes
    assert sha256_file(transcript(projects)) == before
    saved = studio.post("/i/plain-words/transcript", body)
    assert saved.status == 200, saved.body
    assert "Zanzibar" in transcript(projects).read_text()


@pytest.mark.parametrize("path", [
    "/i/no-such-talk/", "/i/no-such-talk/data", "/i/other-talk/", "/i/other-talk/data",
    "/i/other-talk/media", "/i/..%2f..%2fetc/data", "/i/plain-words/../../etc/passwd",
    "/static/app.py", "/static/..%2fapp.py", "/site/../media/plain-words/interview.yaml",
    "/site/%2e%2e/media/plain-words/interview.yaml", "/media/plain-words/short.mp3",
])
def test_no_path_from_the_browser_reaches_a_file(studio, path):
    """Another project's interview, a missing one, and anything that looks like a path are 404."""
    response = studio.get(path)
    assert response.status == 404, (path, response.body[:200])
    assert b"interview.yaml" not in response.body or path.startswith("/site")
    assert b"title:" not in response.body


def test_writes_to_a_missing_or_other_interview_are_404(studio):
    for slug in ("no-such-talk", "other-talk"):
        assert studio.post(f"/i/{slug}/transcript", {"paragraphs": []}).status == 404
        assert studio.post(f"/i/{slug}/card", {"changes": {"reviewed": True}}).status == 404


def test_a_link_in_the_site_to_a_file_outside_is_never_followed(studio, projects, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("PIPELINE_TEST_SECRET")
    link = projects["plain-words"] / "site" / "plain-words" / "leak.txt"
    link.symlink_to(secret)
    try:
        response = studio.get("/site/plain-words/leak.txt")
        assert response.status == 404 and b"PIPELINE_TEST_SECRET" not in response.body
    finally:
        link.unlink()


def test_media_is_served_with_byte_ranges(studio, projects):
    response = studio.get("/i/plain-words/media", headers={"Range": "bytes=100-199"})
    assert response.status == 206 and len(response.body) == 100
    media = projects["plain-words"] / "media" / "plain-words" / "audio.m4a"
    assert response.getheader("Content-Range") == f"bytes 100-199/{media.stat().st_size}"
    assert response.body == media.read_bytes()[100:200]


def test_a_broken_card_is_named_not_a_traceback(studio, projects):
    card = projects["plain-words"] / "media" / "plain-words" / "interview.yaml"
    before = card.read_bytes()
    card.write_text(before.decode().replace("title:", "titel:"))
    try:
        page = studio.get("/i/plain-words/", headers={"Accept": "text/html"})
        assert page.status == 422 and b"did you mean &#39;title&#39;" in page.body
        assert b"Traceback" not in page.body
        data = studio.get("/i/plain-words/data")
        assert data.status == 422 and "did you mean 'title'" in json.loads(data.body)["error"]
        listed = studio.get("/")
        assert listed.status == 200 and b"The card needs fixing" in listed.body
    finally:
        card.write_bytes(before)


def test_the_second_recogniser_listens_in_the_background(projects):
    from pipeline.studio import second

    if not second.installed():
        pytest.fail(f"{', '.join(second.PACKAGES)} are not installed: run `make test` first")
    out = projects["other-talk"] / "transcripts" / "other-talk"
    (out / second.FILE).unlink(missing_ok=True)
    running = Studio(projects["other-talk"], "--second-opinion")
    try:
        assert json.loads(running.get("/i/other-talk/data").body)["second"] == "missing"
        assert json.loads(running.post("/i/other-talk/second", {}).body)["state"] == "running"
        deadline = time.monotonic() + 240
        while (state := json.loads(running.get("/i/other-talk/data").body)["second"]) == "running":
            assert time.monotonic() < deadline, "the second recogniser took over 4 minutes on 10 s"
            time.sleep(1)
        assert state == "done"
        heard = json.loads((out / second.FILE).read_text())["transcript"]
        assert wer.recall("Why should senior managers write a blog every week?",
                          " ".join(s["text"] for s in heard["segments"])) > 0.7
    finally:
        running.stop()
