"""`pipeline serve` as a real process: a large file is streamed, never read whole."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

GIB = 1 << 30


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


def test_a_1_gib_video_is_streamed_in_chunks(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><title>x</title>")
    with open(site / "big.mp4", "wb") as f:  # sparse: costs no disk
        f.truncate(GIB)
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(tmp_path), "serve",
                               "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        url = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)[1]
        before = peak_rss_mb(server.pid)
        # What a browser asks for first: the whole file, as a range.
        request = urllib.request.Request(url + "big.mp4", headers={"Range": "bytes=0-"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 206
            assert response.headers["Content-Range"] == f"bytes 0-{GIB - 1}/{GIB}"
            received = 0
            while chunk := response.read(1 << 20):
                received += len(chunk)
        assert received == GIB
        with urllib.request.urlopen(url + "big.mp4") as response:  # and without a range
            assert int(response.headers["Content-Length"]) == GIB
            response.read(1 << 24)
        peak = peak_rss_mb(server.pid)
        print(f"\nserve: peak RSS {before:.0f} MB before, {peak:.0f} MB after sending 1 GiB")
        assert peak < 100, f"the server held {peak:.0f} MB while sending a 1 GiB file"
    finally:
        server.terminate()
        server.wait(timeout=10)
