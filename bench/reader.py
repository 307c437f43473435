"""The reader's page on a long interview: how fast it appears on a phone, and how it behaves.

    python -m bench.reader                    # the 60-minute interview, spoken and transcribed
    python -m bench.reader --quick            # its page from the generated text (no Whisper)
    python -m bench.reader --templates DIR    # the same page with other templates, to compare

The 60-minute interview is bench/interview.py's (espeak-ng), made into a video and published
for real once (Whisper, speakers, chapters, quotes: minutes on a shared 2-core machine) into
.bench/reader-60/; each run re-renders its page with the current templates. --quick builds
the page the tests use instead: the same generated interview's text as the transcript, word
times at espeak's pace, and every stage after transcription run for real (generated_project).

Measured in Debian's Chromium with Lighthouse's phone emulation (375 x 812, 4x CPU slowdown,
1.6 Mbps down, 150 ms round trips; the goals of issue 16):
- largest contentful paint (goal < 1.5 s), from `pipeline serve` (files as they are) and from
  a server that compresses HTML, CSS and JavaScript as static hosts do;
- one minute of follow-along at 4x speed: the longest task (goal: none over 100 ms);
and, as tests/test_reader.py checks the generated page: the player in view at ten scroll
positions, a manual scroll that holds, ?t= in view, the first desktop screen and the number
of Tab stops, so that the generated page and the transcribed one can be compared.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.browser import chromium
from bench.interview import interview_turns, make_interview

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"
SLUG = "a-long-interview"
TITLE = "An hour with Helen Ward: housing, budgets and the town hall"
# Lighthouse's mobile settings ("slow 4G" and a mid-range phone's CPU).
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8,
           "uploadThroughput": 750e3 / 8}
CPU_SLOWDOWN = 4
GOAL_LCP_MS = 1500
GOAL_LONGEST_TASK_MS = 100

# ---------------------------------------------------------------------------- the interview


def spoken_turns(minutes: float) -> list[dict]:
    """bench/interview.py's turns with the times espeak-ng gives them, near enough: about
    2.85 words a second, by length (a letter is 1/15 s), 0.3 s between sentences, and the
    script's pauses between turns (0.6 s, or the turn's own)."""
    turns, t = [], 0.0
    for n, turn in enumerate(interview_turns(minutes)):
        t += turn.get("pause", 0.6 if n else 0.0)
        words, start = [], t
        for word in turn["text"].split():
            length = (len(word) + 1) / 15
            words.append((t, t + length * 0.9, word))
            t += length + (0.3 if word[-1] in ".?!" else 0.0)
        turns.append({**turn, "start": start, "end": words[-1][1], "words": words})
    return turns


def generated_transcript(minutes: float):
    """The generated interview as a transcript: a segment a sentence, with word times."""
    from pipeline.model import Segment, Transcript, Word

    segments = []
    for turn in spoken_turns(minutes):
        sentence = []
        for k, (start, end, text) in enumerate(turn["words"]):
            sentence.append(Word(round(start, 3), round(end, 3), " " + text, 0.9))
            if text[-1] in ".?!" or k == len(turn["words"]) - 1:
                segments.append(Segment(sentence[0].start, sentence[-1].end,
                                        " ".join(w.word.strip() for w in sentence), turn["speaker"],
                                        sentence))
                sentence = []
    duration = round(segments[-1].end + 1.0, 3)
    return Transcript("en", duration, "faster-whisper", "tiny.en", segments)


def still_video(target: Path, seconds: float) -> Path:
    """A playable H.264/AAC MP4 of `seconds`: a still frame (1 fps) and silence, made in
    seconds whatever its length (a real 60-minute interview's page needs a 60-minute player)."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "color=c=0x1d2533:s=640x360:r=1",
                    "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", f"{seconds:.3f}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-crf", "35",
                    "-c:a", "aac", "-b:a", "24k", "-movflags", "+faststart", str(target)], check=True)
    return target


def _card(folder: Path, source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "interview.yaml").write_text(
        f"title: {json.dumps(TITLE)}\ndate: 2026-01-15\nsource: {source}\n"
        "interviewer: Daniel Hughes\nguests: [Helen Ward]\ntags: [local government, housing]\n"
        "intro: |\n  Helen Ward, who leads Northfield Borough Council, answers an hour of questions\n"
        "  about housing, the budget, the libraries and the buses. *Both voices are generated.*\n",
        encoding="utf-8")


def generated_project(root: Path, minutes: float = 60) -> Path:
    """A project with one `minutes`-long interview whose transcript is the generated text
    (no speech recognition: seconds, not minutes), and whose every other part is real: the
    video (ffmpeg), fetch and prepare, corrections, captions, chapters, quotes, the page
    and the search index. Returns the project folder; its page is site/a-long-interview/."""
    from pipeline import search
    from pipeline.build import Heard, Report, finish
    from pipeline.config import load_card, load_site
    from pipeline.project import Project
    from pipeline.site.render import render_site
    from pipeline.stages import fetch, prepare

    transcript = generated_transcript(minutes)
    folder = root / "media" / SLUG
    folder.mkdir(parents=True, exist_ok=True)
    still_video(folder / "interview.mp4", transcript.duration)
    _card(folder, "interview.mp4")
    project, site = Project(root), load_site(root)
    card = load_card(folder)
    fetched = fetch.run(card, site.download)
    prepared = prepare.run(card, fetched)
    out = project.transcript_folder(card.slug)
    post = finish(project, Heard(card, fetched, prepared, out, transcript, {}), Report())
    render_site(project, site, [post])
    search.publish(project, site, [post])
    return root


def transcribed_project(minutes: float = 60) -> Path:
    """The generated interview spoken by espeak-ng, as a video, published for real (Whisper
    and all) once into .bench/reader-MINUTES/; later runs only render it again."""
    from bench.synth import make_video

    root = OUT / f"reader-{minutes:g}"
    wav, _ = make_interview(OUT, minutes)
    video = OUT / f"{wav.stem}.mp4"
    if not video.exists():
        print(f"making {video} ...", file=sys.stderr)
        make_video(wav, video, title=TITLE)
    folder = root / "media" / SLUG
    if not (folder / video.name).exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.link(video, folder / video.name)
    _card(folder, video.name)
    first = not (root / "transcripts" / SLUG).is_dir()
    print(f"publishing {root}{' (the first time: transcription, minutes)' if first else ''} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pipeline", "-C", str(root), "-q", "publish"], check=True, cwd=ROOT)
    return root


def with_templates(project: Path, templates: Path) -> Path:
    """A copy of a published project whose pages are rendered with other templates."""
    copy = Path(tempfile.mkdtemp(prefix="reader-templates-", dir=OUT))
    shutil.copytree(project, copy / "project", copy_function=os.link, ignore=shutil.ignore_patterns("site"))
    shutil.copytree(templates, copy / "project" / "templates")
    subprocess.run([sys.executable, "-m", "pipeline", "-C", str(copy / "project"), "-q", "publish"],
                   check=True, cwd=ROOT)
    return copy / "project"

# ---------------------------------------------------------------------------- what the tests check too

# The player's box (the video, however it is pinned) is wholly inside the viewport.
PLAYER_IN_VIEW = """() => { const r = document.getElementById('player').getBoundingClientRect();
    return r.width > 0 && r.top >= -1 && r.left >= -1 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1; }"""


def scroll_positions(page, count: int = 10) -> list[int]:
    """`count` scroll positions from the top of the page to the bottom."""
    height = page.evaluate("document.documentElement.scrollHeight - innerHeight")
    return [round(height * k / (count - 1)) for k in range(count)]


def player_in_view_while_scrolling(page) -> list[bool]:
    """At each of ten scroll positions, top to bottom: is the playing player in view?"""
    seen = []
    for y in scroll_positions(page):
        page.evaluate(f"window.scrollTo(0, {y})")
        try:
            page.wait_for_function(PLAYER_IN_VIEW, timeout=1000)
            seen.append(True)
        except Exception:
            seen.append(False)
    return seen


def start_playing(page, rate: float = 1.0) -> None:
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.evaluate(f"(() => {{ const p = document.getElementById('player'); p.playbackRate = {rate}; return p.play(); }})()")
    page.wait_for_function("!document.getElementById('player').paused")


def scrolled_away_holds(page, seconds: float = 10) -> dict:
    """While it plays and follows along, the reader scrolls up (a wheel): then `seconds` of
    playback must not move the page, the "back" button must show, and pressing it must bring
    back the moment being said (and hide the button)."""
    page.mouse.move(page.viewport_size["width"] * 0.75, page.viewport_size["height"] / 2)
    page.mouse.wheel(0, -page.viewport_size["height"])
    page.wait_for_timeout(700)  # the wheel's own scroll ends
    before = page.evaluate("scrollY")
    spoken = page.evaluate("document.getElementById('player').currentTime")
    page.wait_for_function(f"document.getElementById('player').currentTime >= {spoken + seconds}",
                           timeout=seconds * 1000 + 30_000)
    after = page.evaluate("scrollY")
    back = page.get_by_role("button", name="Back to the current moment")
    shown = back.is_visible()
    if shown:
        back.click()
        page.wait_for_function("""() => { const t = document.querySelector('.turn.current');
            if (!t) return false; const r = t.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }""")
    return {"moved_px": abs(after - before), "played_s": seconds, "back_shown": shown,
            "back_hidden_after": shown and not back.is_visible()}


def moment_in_view_ms(page, url: str, seconds: float) -> float | None:
    """Open the page at ?t=SECONDS: how long until the turn holding that moment is in view."""
    started = time.monotonic()
    page.goto(f"{url}?t={seconds:g}", wait_until="commit")
    page.wait_for_function(f"""() => {{
        const turns = [...document.querySelectorAll('.turns .turn[data-start]')];
        const t = turns.filter(li => +li.dataset.start <= {seconds} + 0.05).pop();
        if (!t) return false;
        const r = t.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight && t.classList.contains('current'); }}""", timeout=10_000)
    return round((time.monotonic() - started) * 1000)


def first_screen(page) -> dict:
    """What the first screen shows: the player (wholly), and how many turns (wholly)."""
    return page.evaluate("""() => {
        const inside = (el) => { const r = el.getBoundingClientRect();
            return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; };
        return {player: inside(document.getElementById('player')),
                turns: [...document.querySelectorAll('.turns .turn')].filter(inside).length}; }""")


def tab_stops(page, limit: int = 3000) -> int:
    """How many times Tab is pressed to go through the whole page once."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen, first = 0, None
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = page.evaluate("""() => { const a = document.activeElement;
            return a === document.body ? null : a.tagName + '#' + (a.id || '') + (a.getAttribute('href') || '') +
              [...a.parentNode.children].indexOf(a) + (a.closest('li') ? a.closest('li').id : ''); }""")
        if here is None or here == first:
            break
        first = first or here
        seen += 1
    return seen

# ---------------------------------------------------------------------------- measurements


@contextlib.contextmanager
def served(project: Path, compress: bool):
    """The built site over HTTP on 127.0.0.1: `pipeline serve` (a real process), or, with
    `compress`, the same app behind Starlette's GZipMiddleware, compressing text as static
    hosts do. Yields the page's URL."""
    if not compress:
        server = subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(project), "serve",
                                   "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            url = re.search(r"at (http://127\.0\.0\.1:\d+/\S*)", server.stderr.readline())[1]
            yield f"{url}{SLUG}/"
        finally:
            server.terminate()
            server.wait(timeout=10)
        return
    from starlette.middleware.gzip import GZipMiddleware

    from pipeline.site.serve import SiteServer, site_app

    # The same app `pipeline serve` runs, compressing text as static hosts do (level 6).
    httpd = SiteServer(GZipMiddleware(site_app(project / "site"), minimum_size=500, compresslevel=6),
                       "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{SLUG}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def phone(browser, throttled: bool = True):
    """A fresh phone-sized context and page (no cache), throttled like Lighthouse's phone."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttled:
        cdp.send("Network.emulateNetworkConditions", NETWORK)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return context, page


PAINT = """() => new Promise((resolve) => {
    new PerformanceObserver((list) => {
        const last = list.getEntries().at(-1), el = last.element;
        resolve({lcp_ms: Math.round(last.startTime), size_px: last.size,
                 element: el ? el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                   (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') : null,
                 fcp_ms: Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime || 0),
                 html_bytes: performance.getEntriesByType('navigation')[0].transferSize,
                 load_ms: Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)});
    }).observe({type: 'largest-contentful-paint', buffered: true});
})"""


def paint(browser, url: str, runs: int) -> dict:
    """Largest contentful paint on the phone, `runs` times from a cold cache: the median."""
    results = []
    for _ in range(runs):
        context, page = phone(browser)
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_timeout(1500)
        results.append(page.evaluate(PAINT))
        context.close()
    lcps = [r["lcp_ms"] for r in results]
    return {**results[-1], "lcp_ms": statistics.median(lcps), "lcp_runs_ms": lcps}


LONG_TASKS = """() => { window.__long = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(Math.round(e.duration)); })
      .observe({type: 'longtask'}); }"""


def follow_along(browser, url: str, seconds: float = 60, rate: float = 4, traced: bool = False) -> dict:
    """One minute of follow-along at 4x speed on the throttled phone: its long tasks, as
    the Long Tasks API sees them (wall time, which other work on a shared machine's cores
    stretches), or, `traced`, the CPU time of the main thread's longest tasks from a trace.
    Under 4x CPU throttling a task's CPU time is what its wall time is on an idle machine:
    Chromium throttles by keeping the thread busy (a loop of 22 ms of CPU took 99 ms of CPU
    throttled, and 256 ms of wall time at a load of 7.7 on 2 cores)."""
    context, page = phone(browser)
    page.goto(url, wait_until="load", timeout=120_000)
    page.wait_for_timeout(2000)  # what loading costs is not what following costs
    page.evaluate(LONG_TASKS)
    page.evaluate("""() => { window.__scrolls = 0; addEventListener('scroll', () => window.__scrolls++, {passive: true}); }""")
    trace = Path(tempfile.mkstemp(prefix="reader-trace-", suffix=".json", dir=OUT)[1]) if traced else None
    if trace:
        browser.start_tracing(page=page, path=str(trace), categories=["toplevel"])
    start_playing(page, rate)
    spoken = page.evaluate("document.getElementById('player').currentTime")
    page.wait_for_timeout(seconds * 1000)
    if trace:
        browser.stop_tracing()
    done = page.evaluate("""() => ({tasks: window.__long, scrolls: window.__scrolls,
        t: document.getElementById('player').currentTime, y: scrollY})""")
    context.close()
    result = {"seconds": seconds, "rate": rate, "played_s": round(done["t"] - spoken, 1),
              "scroll_events": done["scrolls"]}
    if trace:
        cpu = _main_thread_cpu(trace)
        trace.unlink()
        return {**result, "longest_task_cpu_ms": cpu[0] if cpu else 0, "tasks_over_50_cpu_ms": sum(c > 50 for c in cpu),
                "next_longest_cpu_ms": cpu[1:5]}
    tasks = done["tasks"]
    return {**result, "long_tasks": len(tasks), "longest_task_ms": max(tasks, default=0), "long_task_ms": tasks}


def _main_thread_cpu(trace: Path) -> list[float]:
    """The CPU time (ms) of each task of the page's main thread, longest first."""
    events = json.loads(trace.read_text())["traceEvents"]
    main = {(e["pid"], e["tid"]) for e in events
            if e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    return sorted((round(e.get("tdur", 0) / 1000) for e in events
                   if e.get("name") == "ThreadControllerImpl::RunTask" and (e["pid"], e["tid"]) in main),
                  reverse=True)


def behaviour(browser, url: str) -> dict:
    """The checks tests/test_reader.py makes, on this page."""
    found = {}
    for width, height in ((375, 812), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(url)
        start_playing(page)
        found[f"player_in_view_{width}"] = sum(player_in_view_while_scrolling(page))
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
        page.wait_for_timeout(300)
        found[f"scrolled_away_{width}"] = scrolled_away_holds(page)
        found[f"moment_75_ms_{width}"] = moment_in_view_ms(page, url, 75)
        if width == 1280:
            page.goto(url)
            page.wait_for_load_state("load")
            found["first_screen_1280"] = first_screen(page)
            found["tab_stops"] = tab_stops(page)
            found["turns"] = page.locator(".turns .turn").count()
            found["chapters"] = page.locator(".chapters li").count()
        context.close()
    return found


def measure(project: Path, runs: int) -> dict:

    page_file = project / "site" / SLUG / "index.html"
    html = page_file.read_bytes()
    result = {"html_kb": round(len(html) / 1024), "html_gzip_kb": round(len(gzip.compress(html, 6)) / 1024),
              "load_average_before": os.getloadavg()}
    with chromium() as browser:
        for compress in (False, True):
            with served(project, compress) as url:
                name = "gzip" if compress else "serve"
                print(f"  paint ({name}) ...", file=sys.stderr, flush=True)
                result[f"paint_{name}"] = paint(browser, url, runs)
                if not compress:
                    print("  one minute of follow-along at 4x, twice (the second traced) ...", file=sys.stderr, flush=True)
                    result["follow_along"] = follow_along(browser, url)
                    result["follow_along_cpu"] = follow_along(browser, url, traced=True)
                    print("  behaviour ...", file=sys.stderr, flush=True)
                    result["behaviour"] = behaviour(browser, url)
        browser.close()
    result["load_average_after"] = os.getloadavg()
    return result


def report(name: str, r: dict) -> str:
    lines = [f"reader page ({name}): {r['html_kb']} KB of HTML ({r['html_gzip_kb']} KB compressed)"]
    for key in ("paint_serve", "paint_gzip"):
        p = r[key]
        lines.append(f"  phone, {'pipeline serve' if key == 'paint_serve' else 'compressed'}: largest contentful "
                     f"paint {p['lcp_ms']} ms (runs {p['lcp_runs_ms']}; goal < {GOAL_LCP_MS}), first paint "
                     f"{p['fcp_ms']} ms, element {p['element']}, load {p['load_ms']} ms")
    f, c = r["follow_along"], r["follow_along_cpu"]
    lines.append(f"  follow-along, {f['seconds']:g} s at {f['rate']:g}x ({f['played_s']} s played, {f['scroll_events']} "
                 f"scroll events): longest task {f['longest_task_ms']} ms of wall time (goal < {GOAL_LONGEST_TASK_MS}; "
                 f"{f['long_tasks']} over 50 ms: {f['long_task_ms']}); traced, the longest took "
                 f"{c['longest_task_cpu_ms']} ms of CPU (then {c['next_longest_cpu_ms']}), which is its time on an idle machine")
    lines.append("  behaviour: " + json.dumps(r["behaviour"]))
    lines.append(f"  load average {r['load_average_before'][0]:.2f} before, {r['load_average_after'][0]:.2f} after "
                 f"(on {os.cpu_count()} cores)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.reader", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the page from the generated text (no Whisper)")
    parser.add_argument("--minutes", type=float, default=60, help="length of the interview (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="page loads for the paint figures (default 3)")
    parser.add_argument("--templates", type=Path, help="render the page with these templates instead")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    OUT.mkdir(exist_ok=True)
    scratch = None
    if args.quick:
        scratch = Path(tempfile.mkdtemp(prefix="reader-", dir=OUT))
        project = generated_project(scratch, args.minutes)
    else:
        project = transcribed_project(args.minutes)
    if args.templates:
        project = with_templates(project, args.templates)
    name = ("generated" if args.quick else "transcribed") + (f", templates {args.templates}" if args.templates else "")
    try:
        result = {"page": name, "minutes": args.minutes, **measure(project, args.runs)}
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        if args.templates:
            shutil.rmtree(project.parent, ignore_errors=True)
    print(report(name, result))
    out = OUT / f"reader{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
