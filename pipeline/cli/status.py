"""`pipeline status`: where each interview stands, without doing any work."""

from __future__ import annotations

import textwrap

import click

# How a state reads in the table (the JSON keeps its own words): corrections with no hand
# edits has nothing to do, as a stage that is done.
_SHOWN = {"no edits": "done", "to publish": "edited, not published"}


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.pass_obj
def command(project, fmt: str) -> None:
    """Show each interview's stages (done, stale, failed), edits not yet published, its
    review (places left to check) and what publish runs next."""
    import dataclasses
    import json

    from pipeline.status import status

    rows = status(project)
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=1))
        return
    if not rows:
        click.echo(f"No interviews yet in {project.media}/. Add one with `pipeline new`.", err=True)
        return
    click.echo("\n\n".join(_block(r) for r in rows))


def _block(r) -> str:
    """One interview: its stages grouped by state, then the transcript, review and next step."""
    lines = [f"{r.slug}" + (f": {r.title}" if r.title else "")]
    by_state: dict[str, list[str]] = {}
    for stage, state in r.stages.items():
        by_state.setdefault(_SHOWN.get(state, state), []).append(stage)
    stages = "; ".join(f"{state}: {', '.join(names)}" for state, names in by_state.items())
    lines += _field("stages", stages)
    transcript = r.transcript + (f", last edit {r.last_edit}" if r.last_edit and r.transcript != "none" else "")
    lines += _field("transcript", transcript)
    if r.unpublished:
        lines += _field("not published", ", ".join(r.unpublished) + " changed since the last publish")
    review = "reviewed" if r.reviewed else "not reviewed"
    if r.to_check is not None:
        review += f"; {r.to_check} place{'s' * (r.to_check != 1)} to check in the studio (pipeline edit {r.slug})"
    lines += _field("review", review)
    lines += _field("next", "nothing" if r.next == "nothing" else
                    "fix the card" if r.next == "fix the card" else
                    f"{r.next} (pipeline publish {r.slug})")
    if r.error:
        lines += _field("last error", r.error)
    return "\n".join(lines)


def _field(name: str, text: str) -> list[str]:
    """`  name:  text`, the text wrapped under itself (and its own lines kept)."""
    head = f"  {name + ':':15}"
    out = []
    for n, line in enumerate(text.splitlines() or [""]):
        wrapped = textwrap.wrap(line, 96 - len(head), break_on_hyphens=False) or [""]
        out += [(head if n == 0 and k == 0 else " " * len(head)) + part for k, part in enumerate(wrapped)]
    return out
