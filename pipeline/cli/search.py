"""`pipeline search QUERY`: every moment a transcript says it, with its link."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click


@click.command("search")
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
def command(project, query: tuple[str, ...], speaker, guest, tag, date_from, date_to,
            slug, fmt: str, limit: int, context: int, db: Path | None) -> None:
    """Search every transcript for words, phrases and speakers; print each moment with its link.

    QUERY is FTS5 syntax: words, "exact phrases", prefix*, AND, OR, NOT, NEAR(a b, 5).
    Words match their other forms (blog finds blogging). Best matches first; a query that
    more than 5,000 turns match is listed newest first.

    \b
    Examples:
      pipeline search library
      pipeline search '"plain words"' --guest ward --format json
      pipeline search 'blog* NOT press' --from 2026 --to 2026-12 --format csv > hits.csv
    """
    from pipeline.search import formats
    from pipeline.search.database import database_path
    from pipeline.search.query import COMMON_TURNS, Filters, UnknownFilter, date_bound, search

    bounds = {}
    for name, value, end in (("--from", date_from, False), ("--to", date_to, True)):
        try:
            bounds[name] = date_bound(value, end) if value else None
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint=name) from None
    filters = Filters(speaker=speaker, guest=guest, tag=tag, date_from=bounds["--from"],
                      date_to=bounds["--to"], slug=slug)
    try:
        results = search(db or database_path(project), " ".join(query), filters, limit, context)
    except UnknownFilter as e:
        raise click.BadParameter(e.message, param_hint=e.option) from None
    if results.note:
        click.echo(f"Note: {results.note}", err=True)
    if results.newest_first:
        click.echo(f"Note: more than {COMMON_TURNS:,} turns match, too many to rank by relevance; "
                   "the newest are listed first.", err=True)
    if fmt == "json":
        click.echo(formats.as_json(results.hits), nl=False)
    elif fmt == "csv":
        click.echo(formats.as_csv(results.hits), nl=False)
    else:
        color = not click.utils.should_strip_ansi(sys.stdout)
        highlight = (lambda s: click.style(s, bold=True, reverse=True)) if color else (lambda s: f"[{s}]")
        width = shutil.get_terminal_size((120, 24)).columns
        click.echo(formats.as_table(results.hits, width, highlight), nl=False)
    more = "; there may be more (raise --limit)" if len(results.hits) == limit else ""
    click.echo(f"{len(results.hits)} hit(s) for {results.query}{more}", err=True)
