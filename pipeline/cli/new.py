"""`pipeline new SLUG --source URL|FILE`: write a card for a new interview; `pipeline new
--feed URL`: a card for every entry of a podcast feed or a playlist not carded yet."""

from __future__ import annotations

import datetime
import html
import shutil
from pathlib import Path
from urllib.parse import urlparse

import click

# Names that prepare and fetch write into the card's folder: a supplied file must not clash.
DERIVED_NAMES = ("audio.wav", "audio.m4a", "video.mp4", "poster.jpg", "info.json", "provenance.json")


@click.command("new")
@click.argument("slug", required=False)
@click.option("--source", "-s",
              help="An http(s) URL of the interview, or a local audio/video file to copy in.")
@click.option("--feed", metavar="URL",
              help="A podcast feed (RSS or Atom) or a playlist page: a card for each entry that "
                   "has none yet (run it again as the feed grows). No SLUG then.")
@click.option("--title", "-t", help="Title of the post (default: the page's own title, or the file name).")
@click.option("--date", "-d", type=click.DateTime(["%Y-%m-%d"]),
              help="Interview date, YYYY-MM-DD (default: the page's date, or today).")
@click.option("--interviewer", "-i", help="Name of the person asking the questions.")
@click.option("--guest", "-g", "guests", multiple=True, help="A person interviewed (repeat for each).")
@click.option("--language", "-l", metavar="CODE",
              help="Spoken language (`en`, `fr`, `de`, `cy`, ...), or `auto` to have it detected "
                   "(default: en).")
@click.pass_obj
def command(project, slug: str | None, source: str | None, feed: str | None, title: str | None,
            date, interviewer: str | None, guests: tuple[str, ...], language: str | None) -> None:
    """Create a card for a new interview: media/SLUG/interview.yaml.

    \b
    Examples:
      pipeline new council-blogging --source https://example.org/interview.mp4 --guest "Helen Ward"
      pipeline new --feed https://example.org/podcast.xml --interviewer "Daniel Hughes"
      pipeline new entretien --source entretien.mp4 --language fr

    \b
    A local file's captions of the same name (talk.vtt, talk.en.srt) are copied in beside it:
    they become the transcript's words (see "The publisher's captions" in the README).
    """
    people = {"interviewer": interviewer or "", "guests": list(guests)}
    if language:
        from pipeline.languages import problem

        if why := problem(language, spoken=True):
            raise click.BadParameter(why, param_hint="--language")
        people["language"] = language
    if feed:
        if slug or source:
            raise click.UsageError("--feed makes a card per entry: give it without SLUG or --source.")
        _from_feed(project, feed, people)
        return
    if not slug or not source:
        raise click.UsageError("give a SLUG and --source (or --feed URL for a whole feed).")
    _one(project, slug, source, title, date, people)


def _one(project, slug: str, source: str, title: str | None, date, people: dict) -> None:
    from pipeline.config import CARD_NAME, RESERVED_SLUGS, SLUG_PATTERN

    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        raise click.BadParameter("use lower-case letters, digits and '-' (it becomes the post's "
                                 "address), e.g. 'helen-ward-on-blogging', and not one of the "
                                 f"site's own folders ({', '.join(sorted(RESERVED_SLUGS))})",
                                 param_hint="SLUG")
    folder = project.media / slug
    if (folder / CARD_NAME).exists():
        raise click.ClickException(f"{folder / CARD_NAME} already exists; edit it instead.")
    scheme = urlparse(source).scheme.lower()
    page = {}
    if scheme in ("http", "https"):
        card_source, page = source, _page(source) if not (title and date) else {}
    elif len(scheme) > 1:
        raise click.BadParameter(f"only http and https URLs can be fetched, not '{scheme}:'",
                                 param_hint="--source")
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise click.BadParameter(f"no such file: {source}", param_hint="--source")
        _check_media(path)
        card_source = path.name if path.name not in DERIVED_NAMES else f"original-{path.name}"
        folder.mkdir(parents=True, exist_ok=True)
        if path.resolve() != (folder / card_source).resolve():
            shutil.copyfile(path, folder / card_source)
            _copy_captions(path, folder, Path(card_source).stem)
    title = title or page.get("title") or _title_from(card_source)
    day = date.date() if date else page.get("date") or datetime.date.today()
    _write(folder, title, card_source, day, people)
    click.echo(str(folder / CARD_NAME))
    click.echo(f"Created {folder / CARD_NAME}: fill in the guests, interviewer and intro, then run "
               "`make publish`.", err=True)


def _copy_captions(source: Path, folder: Path, stem: str) -> None:
    """The publisher's captions beside a local file, kept beside its copy under its name."""
    from pipeline.stages.creator_captions import beside

    for found in beside(source):
        name = stem + found["file"][len(source.stem):]
        shutil.copyfile(source.parent / found["file"], folder / name)
        click.echo(f"Copied the captions {found['file']} as {folder / name}: their words will be "
                   "the transcript's.", err=True)


def _from_feed(project, url: str, people: dict) -> None:
    from pipeline.config import CARD_NAME, slug_for
    from pipeline.errors import FetchError
    from pipeline.stages.fetch import feed_entries

    try:
        name, entries = feed_entries(url)
    except FetchError as e:
        raise click.ClickException(f"{e.message}. --feed takes a podcast feed (RSS or Atom) or a "
                                   "playlist page.") from None
    carded = _carded_sources(project)
    taken = {folder.name for folder in project.media.iterdir()} if project.media.is_dir() else set()
    made = 0
    for entry in entries:
        if entry.url in carded:
            continue
        slug = slug_for(entry.title or "interview", taken)
        taken.add(slug)
        _write(project.media / slug, entry.title or slug, entry.url,
               entry.date or datetime.date.today(), {**people, "intro": _plain(entry.description)})
        click.echo(str(project.media / slug / CARD_NAME))
        made += 1
    click.echo(f"{name or url}: {made} new card(s), {len(entries) - made} already carded. Fill in "
               "the guests, then run `make publish`.", err=True)


def _write(folder: Path, title: str, source: str, day: datetime.date, fields: dict) -> None:
    from pipeline.config import CARD_NAME, card_template
    from pipeline.files import write_text

    fields = {k: v for k, v in fields.items() if v}
    write_text(folder / CARD_NAME, card_template(title, source, day, **fields))


def _page(url: str) -> dict:
    """The title and date a page gives itself; nothing (and a note) when it cannot be read."""
    from pipeline.errors import FetchError
    from pipeline.stages.fetch import page_metadata

    try:
        page = page_metadata(url)
    except FetchError as e:
        click.echo(f"Note: {e.message}; the card's title and date are guesses, edit them.", err=True)
        return {}
    return {"title": page.title, "date": page.date}


def _check_media(path: Path) -> None:
    """Refuse now, not at publish, a file that is neither audio nor video."""
    from pipeline.errors import MediaError
    from pipeline.stages.prepare import probe

    try:
        streams = probe(path)["streams"]
    except MediaError as e:
        raise click.BadParameter(e.message, param_hint="--source") from None
    if not any(s.get("codec_type") in ("audio", "video") for s in streams):
        raise click.BadParameter(f"{path} holds no audio or video.", param_hint="--source")


def _carded_sources(project) -> set[str]:
    """The sources the project's cards already name (a card broken now is read as text)."""
    from pipeline.config import read_yaml

    found = set()
    for folder in project.card_folders():
        data, _ = read_yaml(folder / "interview.yaml")
        if isinstance(data, dict) and isinstance(data.get("source"), str):
            found.add(data["source"].strip())
    return found


def _plain(description: str) -> str:
    """A feed's description (often HTML) as plain paragraphs for the card's Markdown intro."""
    import nh3

    text = html.unescape(nh3.clean(description.replace("</p>", "\n\n").replace("<br>", "\n"), tags=set()))
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def _title_from(name: str) -> str:
    stem = Path(urlparse(name).path).stem or "interview"
    return stem.replace("-", " ").replace("_", " ").strip().capitalize()
