"""`pipeline new SLUG --source URL|FILE`: write a card for a new interview."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from urllib.parse import urlparse

import click

# Names that prepare and fetch write into the card's folder: a supplied file must not clash.
DERIVED_NAMES = ("audio.wav", "audio.m4a", "video.mp4", "poster.jpg", "info.json", "provenance.json")


@click.command("new")
@click.argument("slug")
@click.option("--source", "-s", required=True,
              help="An http(s) URL of the interview, or a local audio/video file to copy in.")
@click.option("--title", "-t", help="Title of the post (you can edit it in the card later).")
@click.option("--date", "-d", type=click.DateTime(["%Y-%m-%d"]), help="Interview date, YYYY-MM-DD (default: today).")
@click.pass_obj
def command(project, slug: str, source: str, title: str | None, date) -> None:
    """Create a card for a new interview: media/SLUG/interview.yaml.

    \b
    Example:
      pipeline new council-blogging --source https://example.org/interview.mp4 --title "Why I blog"
    """
    from pipeline.config import CARD_NAME, RESERVED_SLUGS, SLUG_PATTERN, card_template

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


def _title_from(name: str) -> str:
    stem = Path(urlparse(name).path).stem or "interview"
    return stem.replace("-", " ").replace("_", " ").strip().capitalize()
