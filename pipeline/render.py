"""Render: the static site (jinja2, autoescaped) from the published posts.

site/SLUG/index.html (the post with its media, captions and transcript), the media and
transcript files beside it, site/index.html (newest first) and the shared static files.
Text from cards and transcripts is untrusted: templates autoescape it, and the intro's
Markdown is rendered without raw HTML and then sanitised.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import jinja2
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from pipeline.config import Site
from pipeline.export import clock
from pipeline.files import copy_file, write_bytes, write_text
from pipeline.model import turns
from pipeline.project import DEFAULT_TEMPLATES, Project

if TYPE_CHECKING:
    from pipeline.publish import Post

TRANSCRIPT_FILES = ("transcript.vtt", "transcript.srt", "transcript.txt", "transcript.json")


def render_site(project: Project, site: Site, posts: list["Post"]) -> None:
    """Write every post page, the index and the static files into site/."""
    env = environment(project)
    posts = sorted(posts, key=lambda p: (p.card.date, p.card.title), reverse=True)
    for post in posts:
        _render_post(env, project, site, post)
    write_text(project.site / "index.html", env.get_template("index.html").render(
        site=site, posts=posts, root="./"))
    _copy_static(project)


def environment(project: Project) -> jinja2.Environment:
    """Templates from the project's own templates/ first, then the defaults."""
    folders = [str(p) for p in dict.fromkeys([project.templates, DEFAULT_TEMPLATES]) if p.is_dir()]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folders), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["clock"] = clock
    env.filters["iso_duration"] = iso_duration
    env.filters["markdown"] = markdown
    return env


def markdown(text: str) -> Markup:
    """Markdown to safe HTML: raw HTML is not passed through, links keep only safe schemes."""
    html = MarkdownIt("commonmark", {"html": False}).render(text or "")
    return Markup(nh3.clean(html, url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration, as schema.org wants: PT1M5S."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def youtube_id(post: "Post") -> str | None:
    """The video id of a YouTube source, from yt-dlp's provenance or the URL itself."""
    if post.prepared.kind != "youtube":
        return None
    if post.provenance.get("extractor", "").lower().startswith("youtube") and post.provenance.get("id"):
        return post.provenance["id"]
    url = urlparse(post.card.source)
    if url.hostname and url.hostname.endswith("youtu.be"):
        return url.path.strip("/") or None
    return (parse_qs(url.query).get("v") or [url.path.rstrip("/").rsplit("/", 1)[-1]])[0]


def _render_post(env: jinja2.Environment, project: Project, site: Site, post: "Post") -> None:
    folder = project.site / post.card.slug
    files = _publish_files(post, folder)
    page = env.get_template("post.html").render(
        site=site, post=post, card=post.card, media=post.prepared, files=files,
        turns=turns(post.transcript), youtube_id=youtube_id(post), root="../")
    write_text(folder / "index.html", page)


def _publish_files(post: "Post", folder: Path) -> dict[str, str]:
    """Put the media and transcript files beside the page; return their names by role."""
    files = {}
    for role, path in (("media", post.prepared.media), ("poster", post.prepared.poster)):
        if path and path.exists():
            copy_file(path, folder / path.name)
            files[role] = path.name
    for name in TRANSCRIPT_FILES:
        source = post.transcript_folder / name
        if source.exists():
            copy_file(source, folder / name)
            files[name] = name
    return files


def _copy_static(project: Project) -> None:
    for folder in (DEFAULT_TEMPLATES / "static", project.templates / "static"):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            write_bytes(project.site / "static" / path.name, path.read_bytes())
