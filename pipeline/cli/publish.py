"""`pipeline publish [SLUG ...]`: run every stage that needs to, then build the site."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import click

from pipeline.cli.exits import exit_now


@click.command("publish")
@click.argument("slugs", nargs=-1)
@click.option("--force", is_flag=True,
              help="Transcribe again even when nothing changed. A corrected transcript.txt is "
                   "kept; the new text is written beside it as transcript.retranscribed.txt.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Interviews fetched, prepared and transcribed at the same time; 0 means one "
                   "per CPU core (with --scheduler local: the number of worker processes).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Send the expensive stages to a Dask scheduler (tcp://host:8786; workers "
                   "started with `dask worker ADDRESS` share the project folder), or 'local' for "
                   "worker processes on this machine, or 'none'. Default: site.yaml's cluster.")
@click.pass_obj
def command(project, slugs: tuple[str, ...], force: bool, jobs: int, scheduler: str | None) -> None:
    """Fetch, prepare, transcribe and render every interview (or only SLUGS), then the site.

    Stages whose inputs have not changed are skipped, so running it again is cheap.
    """
    from pipeline.build import Interrupted, publish

    try:
        report = publish(project, slugs, force=force, jobs=jobs, scheduler=scheduler or "")
    except Interrupted as stop:
        click.echo(f"Interrupted while {stop.doing}: nothing half-written was kept. "
                   f"Finished before that: {', '.join(stop.report.published) or 'none'}. "
                   "Run publish again to continue.", err=True)
        exit_now(130)
    except KeyboardInterrupt:  # before the work began (reading the settings, the lock)
        click.echo("Interrupted before anything was published. Run publish again.", err=True)
        exit_now(130)
    for slug, message in report.failed.items():
        click.echo(f"FAILED {slug}: {message}", err=True)
    click.echo(summary(report, preview(project)), err=True)
    sys.exit(1 if report.failed else 0)


def summary(report, preview: str = "") -> str:
    """The last line of a publish: what was published, what work was done, what failed, and
    how to look at the site."""
    worked = [s for s in report.published if report.work.get(s)]
    parts = [f"published {len(report.published)} interview(s) in {report.seconds:.1f} s"]
    if worked:
        parts.append("work done: " + "; ".join(f"{s} ({', '.join(report.work[s])})" for s in worked))
    if report.skipped:
        parts.append(f"{len(report.skipped)} unchanged (no download, ffmpeg or model work)")
    if report.failed:
        parts.append(f"{len(report.failed)} failed: {', '.join(report.failed)}")
    return "; ".join(parts) + "." + (f" {preview}" if preview else "")


def preview(project) -> str:
    """How to look at the site: `pipeline serve` and its address (site.yaml's base_url path).
    Opening index.html as a file, or Python's http.server, cannot seek in the recording."""
    if not (project.site / "index.html").is_file():
        return ""
    from pipeline.config import load_site
    from pipeline.errors import PipelineError

    try:
        path = urlparse(load_site(project.root).base_url).path or "/"
    except PipelineError:
        path = "/"
    folder = "" if project.root.resolve() == Path.cwd().resolve() else f" -C {shlex.quote(str(project.root))}"
    return f"Preview the site: {_program()}{folder} serve, then open http://127.0.0.1:8000{path}"


def _program() -> str:
    """The command to run the pipeline again, as it was run now."""
    run = Path(sys.argv[0])
    if run.name == "__main__.py":  # python -m pipeline
        python = Path(sys.executable)
        return f"{_short(python) if shutil.which(python.name) != str(python) else python.name} -m pipeline"
    if run.name != "pipeline" or shutil.which("pipeline") == str(run.resolve()):
        return "pipeline"
    return _short(run)


def _short(path: Path) -> str:
    """A path as short as it can be written from here."""
    relative = os.path.relpath(path)
    return shlex.quote(relative if not relative.startswith("..") else str(path))

