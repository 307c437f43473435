"""Publishing on a cluster against threads here, and the cost of the client's own part.

    python -m bench.cluster [--quick]

Eight new 3-minute interviews (the generated two-voice interview of bench/interview.py,
one copy each), published with `--jobs 2` (threads in one process, today's local default)
and with `--scheduler local` (a LocalCluster of two single-thread worker processes), each a
whole `pipeline publish` command on a fresh copy of the project, three times each (the
fastest counts; the median, the load and the CPU others used are shown); then the
client's ordered part (corrections to quotes, render, search) per interview, from a publish
in this process with each stage timed (after a rename on every card: new work, no model work), so the README can say where the limit lies at
archive scale (goal: processes >= 1.15x threads on 2 cores). --quick: two interviews, once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.engines import OUT, REPEATS, _timed, measure_command, repeated, timing
from bench.interview import make_interview

CARD = "title: Talk {n}\ndate: 2026-01-{day:02d}\nsource: talk.wav\ninterviewer: Daniel Hughes\nguests: [Helen Ward]\n"


def archive(folder: Path, wav: Path, count: int) -> Path:
    """A project of `count` new interviews, each a copy of the generated one."""
    for n in range(count):
        media = folder / "media" / f"talk-{n + 1:02d}"
        media.mkdir(parents=True)
        shutil.copyfile(wav, media / "talk.wav")
        (media / "interview.yaml").write_text(CARD.format(n=n + 1, day=n + 1))
    return folder


def timed_command(project: Path, *args: str) -> dict:
    """A whole `pipeline publish` of a fresh copy of `project`: each run starts from nothing.
    The last run's copy is kept as published(project)."""
    copy = published(project)
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy)
    return measure_command([sys.executable, "-m", "pipeline", "-C", str(copy), "-q", "publish", *args])


def published(project: Path) -> Path:
    return project.with_name(f"{project.name}-published")


def client_part(project: Path) -> dict[str, float]:
    """Seconds in each ordered stage, render and search, for a publish in this process."""
    from pipeline import build, search, stages
    from pipeline.project import Project

    times: dict[str, float] = {}
    for stage in ("corrections", "export", "chapters", "quotes"):
        module = getattr(stages, stage)
        module.run = _timed(module.run, times, stage)
    build.render_site = _timed(build.render_site, times, "render")
    search.publish = _timed(search.publish, times, "search")
    report = build.publish(Project(project), jobs=2)
    assert not report.failed, report.failed
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two interviews instead of eight, one run each")
    parser.add_argument("--repeats", type=int, help=f"runs of each way (default {REPEATS})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    count = 2 if args.quick else 8
    wav, truth = make_interview(OUT, 3)
    audio = truth["duration"] * count
    repeats = args.repeats or (1 if args.quick else REPEATS)
    rows, runs, loads = {}, {}, {"before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="cluster-", dir=OUT) as scratch:
        projects = {}
        for name, options in (("threads (--jobs 2)", ["--jobs", "2"]),
                              ("LocalCluster, 2 single-thread processes", ["--scheduler", "local", "--jobs", "2"])):
            projects[name] = archive(Path(scratch) / name.split()[0].lower().strip(","), wav, count)
            runs[name] = repeated(lambda: timed_command(projects[name], *options), repeats)
            rows[name] = runs[name]["wall_s"]
        # The client's part for new work without the model's: every interviewer renamed on
        # the card, so export, chapters, quotes, the pages and the database all change.
        renamed = Path(scratch) / "renamed"
        shutil.copytree(published(projects["threads (--jobs 2)"]), renamed)
        for card in renamed.glob("media/*/interview.yaml"):
            card.write_text(card.read_text().replace("Daniel Hughes", "Daniel Hughes-Jones"))
        times = client_part(renamed)
    loads["after"] = os.getloadavg()
    threads, local = rows.values()
    ordered = sum(times.get(s, 0.0) for s in ("corrections", "export", "chapters", "quotes"))
    result = {"interviews": count, "audio_s": round(audio, 1), "wall_s": rows,
              "runs": {name: timing(run) for name, run in runs.items()},
              # CPU of the fastest run, the workers' included (reaped children), and the cores
              # that kept busy: near the machine's count, no way of running can be much faster.
              "cpu_s": {name: run["cpu_s"] for name, run in runs.items()},
              "ratio_processes_over_threads": round(threads / local, 2), "goal_ratio": 1.15,
              "client_s_per_interview": {"ordered stages": round(ordered / count, 3),
                                         "render": round(times.get("render", 0) / count, 3),
                                         "search": round(times.get("search", 0) / count, 3)},
              "load_average": loads, "cpus": os.cpu_count()}
    print(f"cluster: {count} new interviews, {audio / 60:.0f} min of audio in all "
          f"(load average {loads['before'][0]:.2f} before, {loads['after'][0]:.2f} after)")
    for name, wall in rows.items():
        run = runs[name]
        print(f"  {name:44s} {wall:7.2f} s  {audio / wall:5.1f}x real time  CPU {run['cpu_s']:.1f} s, "
              f"{run['cpu_s'] / wall:.2f} cores busy  (fastest of {run['runs']}, median "
              f"{run['wall_median']} s; others {run.get('others', 0)} core {run.get('busy', '')}; "
              f"load {run['load']})")
    print(f"  processes / threads: {result['ratio_processes_over_threads']}x (goal >= 1.15x)")
    print("  the client's own part, per interview: " + ", ".join(
        f"{k} {v * 1000:.0f} ms" for k, v in result["client_s_per_interview"].items()))
    (OUT / "cluster.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
