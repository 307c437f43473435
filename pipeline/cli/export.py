"""`pipeline export`: every turn (or word) of every published interview, as CSV or JSON lines."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="csv: a header and a row per turn; jsonl: a JSON object per line.")
@click.option("--words", is_flag=True,
              help="Every word with its start, end and the recogniser's probability: a CSV row per "
                   "word, or a `words` list in each JSON line.")
@click.option("--slug", "slugs", multiple=True, metavar="SLUG", help="Only this interview (repeat for more).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of the standard output.")
@click.pass_obj
def command(project, fmt: str, words: bool, slugs: tuple[str, ...], output: Path | None) -> None:
    """Export every turn of every published interview for research tools.

    Each turn has its interview (slug, title, date), speaker, start and end (seconds), text
    and a permanent link to it; newest interview first, each in time order.

    \b
    Examples:
      pipeline export --format csv -o turns.csv
      pipeline export --format jsonl --words --slug council-leader-blogging
    """
    from pipeline.config import load_site
    from pipeline.search import export

    site = load_site(project.root)
    interviews, problems = export.published(project, slugs)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if not interviews and not problems:
        raise click.ClickException(f"No published interview in {project.root}: run `pipeline publish` first.")
    records = export.turn_records(interviews, site.base_url, words)
    lines = export.as_jsonl(records) if fmt == "jsonl" else export.as_csv(records, words)
    try:
        export.write(lines, output, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # `pipeline export | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    what = f"{len(interviews)} interview(s)" + (f" to {output}" if output else "")
    click.echo(f"exported {what}" + (f"; {len(problems)} could not be read" if problems else ""), err=True)
    if problems:
        sys.exit(1)
