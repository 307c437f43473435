"""`pipeline cite SLUG MOMENT`: a citation of a moment, as the post page gives it."""

from __future__ import annotations

import re

import click


@click.command("cite")
@click.argument("slug")
@click.argument("moment")
@click.option("--format", "fmt", type=click.Choice(["text", "bibtex", "csl-json", "link", "all"]),
              default="text", show_default=True, help="What to print.")
@click.pass_obj
def command(project, slug: str, moment: str, fmt: str) -> None:
    """Cite a moment of an interview: who said it, in which interview, on which site, when,
    and a permanent link that starts the recording there.

    MOMENT is a time (1:06, 01:06:30 or 66 seconds: the whole turn said then) or a span
    (1:06-1:12: those words, said by the speaker of the turn at its start).

    \b
    Examples:
      pipeline cite council-leader-blogging 1:10
      pipeline cite council-leader-blogging 1:06-1:12 --format bibtex
    """
    from pipeline.config import load_site
    from pipeline.search.cite import FORMATS, cite
    from pipeline.search.export import published

    start, end = _moment(moment)
    found, problems = published(project, (slug,))
    if not found:
        names = [f.name for f in project.card_folders()]
        hint = _nearest(slug, names)
        raise click.BadParameter(problems[0] + (f". Did you mean {hint!r}?" if hint else ""), param_hint="SLUG")
    item = found[0]
    if start > item.transcript.duration:
        from pipeline.timecode import clock

        raise click.BadParameter(f"{moment!r} is after the end of {slug} ({clock(item.transcript.duration)} long)",
                                 param_hint="MOMENT")
    if not any(s.text.strip() for s in item.transcript.segments):
        raise click.ClickException(f"{slug} has no transcript to cite (no speech was found).")
    result = cite(item, load_site(project.root), start, end)
    if fmt == "all":
        for name in (*FORMATS, "link"):
            click.echo(f"{name}:\n{result[name]}\n")
    else:
        click.echo(result[fmt])


def _moment(text: str) -> tuple[float, float | None]:
    from pipeline.timecode import parse_time

    parts = re.split(r"\s*(?:-|–|\.\.)\s*(?=\d)", text.strip(), maxsplit=1)
    times = [parse_time(p) for p in parts]
    if any(t is None for t in times):
        raise click.BadParameter(f"{text!r} is not a time: write 1:06, 01:06:30, 66 (seconds) or a "
                                 "span such as 1:06-1:12", param_hint="MOMENT")
    if len(times) == 2 and times[1] <= times[0]:
        raise click.BadParameter(f"{text!r} ends before it starts", param_hint="MOMENT")
    return times[0], times[1] if len(times) == 2 else None


def _nearest(slug: str, names: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(slug, names, n=1, cutoff=0.6)
    return close[0] if close else None
