"""The command line: `pipeline new`, `publish`, `status`, `serve` and `search`.

Data goes to stdout, progress and logs to stderr. Exit codes: 0 all well, 1 something
failed (each failure named), 2 a usage mistake, 130 interrupted.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import click

from pipeline.config import CARD_NAME, RESERVED_SLUGS, SLUG_PATTERN, card_template
from pipeline.project import Project

# Names that prepare and fetch write into the card's folder: a supplied file must not clash.
DERIVED_NAMES = ("audio.wav", "audio.m4a", "video.mp4", "poster.jpg", "info.json", "provenance.json")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "-C", "root", type=click.Path(file_okay=False, path_type=Path),
              default=".", show_default=True, help="Project folder holding media/, transcripts/ and site/.")
@click.option("-v", "--verbose", count=True, help="Show more detail (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Show only warnings, errors and the summary.")
@click.pass_context
def cli(ctx: click.Context, root: Path, verbose: int, quiet: bool) -> None:
    """Publish interview videos as accessible, searchable blog posts."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    if verbose < 2:  # libraries' own chatter is noise unless debugging
        for name in ("faster_whisper", "httpx", "huggingface_hub"):
            logging.getLogger(name).setLevel(logging.WARNING)
    ctx.obj = Project(root.resolve())


@cli.command()
@click.argument("slug")
@click.option("--source", "-s", required=True,
              help="An http(s) URL of the interview, or a local audio/video file to copy in.")
@click.option("--title", "-t", help="Title of the post (you can edit it in the card later).")
@click.option("--date", "-d", type=click.DateTime(["%Y-%m-%d"]), help="Interview date, YYYY-MM-DD (default: today).")
@click.pass_obj
def new(project: Project, slug: str, source: str, title: str | None, date) -> None:
    """Create a card for a new interview: media/SLUG/interview.yaml.

    \b
    Example:
      pipeline new council-blogging --source https://example.org/interview.mp4 --title "Why I blog"
    """
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        raise click.BadParameter("use lower-case letters, digits and '-' (it becomes the post's "
                                 "address), e.g. 'helen-ward-on-blogging', and not one of the "
                                 f"site's own folders ({', '.join(sorted(RESERVED_SLUGS))})",
                                 param_hint="SLUG")
    folder = project.media / slug
    if (folder / CARD_NAME).exists():
        raise click.ClickException(f"{folder / CARD_NAME} already exists; edit it instead.")
    scheme = urlparse(source).scheme.lower()
    if scheme in ("http", "https"):
        card_source = source
    elif len(scheme) > 1:
        raise click.BadParameter(f"only http and https URLs can be fetched, not '{scheme}:'",
                                 param_hint="--source")
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise click.BadParameter(f"no such file: {source}", param_hint="--source")
        card_source = path.name if path.name not in DERIVED_NAMES else f"original-{path.name}"
        folder.mkdir(parents=True, exist_ok=True)
        if path.resolve() != (folder / card_source).resolve():
            shutil.copyfile(path, folder / card_source)
    title = title or _title_from(card_source)
    day = (date or datetime.datetime.now()).date()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CARD_NAME).write_text(card_template(title, card_source, day), encoding="utf-8")
    click.echo(str(folder / CARD_NAME))
    click.echo(f"Created {folder / CARD_NAME}: fill in the guests, interviewer and intro, then run "
               "`make publish`.", err=True)


@cli.command()
@click.argument("slugs", nargs=-1)
@click.option("--force", is_flag=True,
              help="Transcribe again even when nothing changed. A corrected transcript.txt is "
                   "kept; the new text is written beside it as transcript.retranscribed.txt.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Interviews fetched, prepared and transcribed at the same time; 0 means one "
                   "per CPU core.")
@click.pass_obj
def publish(project: Project, slugs: tuple[str, ...], force: bool, jobs: int) -> None:
    """Fetch, prepare, transcribe and render every interview (or only SLUGS), then the site.

    Stages whose inputs have not changed are skipped, so running it again is cheap.
    """
    from pipeline.publish import Interrupted, publish as run_publish

    try:
        report = run_publish(project, slugs, force=force, jobs=jobs)
    except Interrupted as stop:
        click.echo(f"Interrupted while working on {', '.join(stop.working)}: nothing half-written was kept. "
                   f"Finished before that: {', '.join(stop.report.published) or 'none'}. "
                   "Run publish again to continue.", err=True)
        _exit_now(130)
    for slug, message in report.failed.items():
        click.echo(f"FAILED {slug}: {message}", err=True)
    click.echo(_summary(report), err=True)
    sys.exit(1 if report.failed else 0)


def _exit_now(code: int) -> None:
    """Exit without the interpreter's shutdown: after Ctrl-C, interviews publishing at the same
    time may still be decoding (their outputs are written atomically, so nothing is lost), and
    a Ctrl-C during `import torch` made torch's exit handlers kill the process with SIGINT
    instead of our exit code."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.pass_obj
def status(project: Project, fmt: str) -> None:
    """Show each interview's stages (done, stale, failed), hand edits and what runs next."""
    import dataclasses
    import json

    from pipeline.status import STAGES, status as read_status

    rows = read_status(project)
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=1))
        return
    if not rows:
        click.echo(f"No interviews yet in {project.media}/. Add one with `pipeline new`.", err=True)
        return
    width = max(len("interview"), *(len(r.slug) for r in rows))
    click.echo(f"{'interview':{width}}  " + "".join(f"{s:12}" for s in STAGES) + f"{'transcript':19}next")
    for r in rows:
        click.echo(f"{r.slug:{width}}  " + "".join(f"{r.stages[s]:12}" for s in STAGES)
                   + f"{r.transcript:19}{r.next}")
        if r.error:
            click.echo(f"{'':{width}}  last error: " + r.error.replace("\n", f"\n{'':{width}}  "))


@cli.command()
@click.option("--port", "-p", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--bind", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.pass_obj
def serve(project: Project, port: int, bind: str) -> None:
    """Preview the built site (site/) in a browser, with seeking, ?t= links and the 404 page.

    The site is served under the path of site.yaml's base_url. Stop with Ctrl-C.
    """
    from pipeline.config import load_site
    from pipeline.serve import make_server

    if not (project.site / "index.html").is_file():
        raise click.ClickException(f"There is no site in {project.site} yet: run `pipeline publish` first.")
    prefix = urlparse(load_site(project.root).base_url).path
    try:
        server = make_server(project.site, bind, port, prefix)
    except OSError as e:
        raise click.ClickException(f"Cannot listen on {bind}:{port}: {e.strerror}. "
                                   "Choose another port with --port.") from e
    click.echo(f"Serving {project.site} at http://{bind}:{server.server_address[1]}{prefix} "
               "(Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--speaker", help="Only turns by this speaker (part of the name, any case).")
@click.option("--guest", help="Only interviews with this guest (part of the name, any case).")
@click.option("--tag", help="Only interviews with this tag (the whole tag, any case).")
@click.option("--from", "date_from", metavar="DATE", help="Only interviews on or after DATE: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--to", "date_to", metavar="DATE", help="Only interviews on or before DATE: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--slug", help="Only this interview.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="table for reading; json and csv (with URLs) for other tools.")
@click.option("--limit", "-n", type=click.IntRange(1), default=20, show_default=True, help="Most hits to show.")
@click.option("--context", "-c", type=click.IntRange(0), default=8, show_default=True,
              help="Words to show either side of the match.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="Search this database instead of the project's site/data/transcripts.db.")
@click.pass_obj
def search_command(project: Project, query: tuple[str, ...], speaker, guest, tag, date_from, date_to,
                   slug, fmt: str, limit: int, context: int, db: Path | None) -> None:
    """Search every transcript for words, phrases and speakers; print each moment with its link.

    QUERY is FTS5 syntax: words, "exact phrases", prefix*, AND, OR, NOT, NEAR(a b, 5).
    Words match their other forms (blog finds blogging). Best matches first.

    \b
    Examples:
      pipeline search library
      pipeline search '"plain words"' --guest "Helen Ward" --format json
      pipeline search 'blog* NOT press' --from 2024 --to 2025-06 --format csv > hits.csv
    """
    from pipeline import search as engine

    bounds = {}
    for name, value, end in (("--from", date_from, False), ("--to", date_to, True)):
        try:
            bounds[name] = engine.date_bound(value, end) if value else None
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint=name) from None
    filters = engine.Filters(speaker=speaker, guest=guest, tag=tag, date_from=bounds["--from"],
                             date_to=bounds["--to"], slug=slug)
    results = engine.search(db or engine.database_path(project), " ".join(query), filters, limit, context)
    if results.note:
        click.echo(f"Note: {results.note}", err=True)
    if fmt == "json":
        click.echo(engine.format_json(results.hits), nl=False)
    elif fmt == "csv":
        click.echo(engine.format_csv(results.hits), nl=False)
    else:
        color = not click.utils.should_strip_ansi(sys.stdout)
        highlight = (lambda s: click.style(s, bold=True, reverse=True)) if color else (lambda s: f"[{s}]")
        width = shutil.get_terminal_size((120, 24)).columns
        click.echo(engine.format_table(results.hits, width, highlight), nl=False)
    more = "; there may be more (raise --limit)" if len(results.hits) == limit else ""
    click.echo(f"{len(results.hits)} hit(s) for {results.query}{more}", err=True)


def _summary(report) -> str:
    worked = [s for s in report.published if report.work.get(s)]
    parts = [f"published {len(report.published)} interview(s) in {report.seconds:.1f} s"]
    if worked:
        parts.append("work done: " + "; ".join(f"{s} ({', '.join(report.work[s])})" for s in worked))
    if report.skipped:
        parts.append(f"{len(report.skipped)} unchanged (no download, ffmpeg or model work)")
    if report.failed:
        parts.append(f"{len(report.failed)} failed: {', '.join(report.failed)}")
    return "; ".join(parts) + f". Site: {report.site}"


def _title_from(name: str) -> str:
    stem = Path(urlparse(name).path).stem or "interview"
    return stem.replace("-", " ").replace("_", " ").strip().capitalize()


def main() -> None:
    cli(prog_name="pipeline")
