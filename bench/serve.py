"""The preview server's memory while Chromium plays a 1 GB video (goal: peak RSS < 100 MB).

    python -m bench.serve [--size-mb 1024]

A browser first asks for `bytes=0-` of a video, then seeks with more ranges: a server that
read each range whole would hold the file in memory. The video (noise, H.264 at a very high
bitrate, so it is large but short) is made once into .bench/; the server is a real
`pipeline serve` process and the player Debian's Chromium, which plays it from the start,
then seeks to the middle and near the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import chromium

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"


def big_video(size_mb: int) -> Path:
    """A playable MP4 of at least `size_mb` MB: a noise clip, stream-copied end to end."""
    target = OUT / f"big-{size_mb}mb.mp4"
    if target.exists():
        return target
    OUT.mkdir(exist_ok=True)
    clip = OUT / "noise-clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=25,noise=alls=100:allf=t", "-f", "lavfi", "-i",
                    "sine=frequency=440", "-t", "20", "-c:v", "libx264", "-preset", "ultrafast",
                    "-qp", "1", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)], check=True)
    copies = -(-size_mb * 2**20 // clip.stat().st_size)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("".join(f"file '{clip}'\n" for _ in range(copies)))
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                    listing.name, "-c", "copy", "-movflags", "+faststart", str(target)], check=True)
    os.unlink(listing.name)
    return target


def peak_rss_mb(pid: int) -> float:
    return int(re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())[1]) / 1024


def measure(video: Path) -> dict:

    project = Path(tempfile.mkdtemp(prefix="serve-", dir=OUT))  # beside the video: a hard link
    site = project / "site"
    site.mkdir()
    os.link(video, site / "big.mp4")
    (site / "index.html").write_text('<!DOCTYPE html><html lang="en"><title>big</title>'
                                     '<video id="v" src="big.mp4" muted autoplay controls></video>')
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(project), "serve",
                               "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+/)", server.stderr.readline())[1]
        with chromium() as browser:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("document.getElementById('v').currentTime > 3", timeout=60_000)
            duration = page.evaluate("document.getElementById('v').duration")
            played = []
            for at in (duration / 2, duration - 5):
                page.evaluate(f"document.getElementById('v').currentTime = {at}")
                page.wait_for_function(f"document.getElementById('v').currentTime > {at + 2}",
                                       timeout=60_000)
                played.append(round(at))
            browser.close()
        return {"size_mb": round(video.stat().st_size / 2**20), "duration_s": round(duration),
                "seeked_to_s": played, "server_peak_rss_mb": round(peak_rss_mb(server.pid), 1),
                "goal_mb": 100, "load_average": os.getloadavg()}
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(project, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the video (default 1024)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(f"making (or reusing) a {args.size_mb} MB video in {OUT}/ ...", file=sys.stderr)
    started = time.monotonic()
    result = measure(big_video(args.size_mb))
    result["seconds"] = round(time.monotonic() - started, 1)
    print(f"serve: Chromium played a {result['size_mb']} MB video ({result['duration_s']} s, seeking "
          f"to {result['seeked_to_s']} s); the server's peak RSS was {result['server_peak_rss_mb']} MB "
          f"(goal < {result['goal_mb']} MB); load average {result['load_average'][0]:.2f}")
    (OUT / "serve.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
