"""`pipeline status`: where each interview stands, without doing any work."""

from __future__ import annotations

import click


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.pass_obj
def command(project, fmt: str) -> None:
    """Show each interview's stages (done, stale, failed), hand edits and what runs next."""
    import dataclasses
    import json

    from pipeline.status import STAGES, status

    rows = status(project)
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
