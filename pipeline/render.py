"""Render: the static site (jinja2, autoescaped) from the published posts.

site/SLUG/index.html (the post with its media, captions, chapters, quotes and transcript)
with the media and transcript files beside it; site/index.html (newest first); a page per
tag under site/tags/; 404.html; the Atom and RSS feeds and sitemap.xml (pipeline.feeds);
and the shared static files. Text from cards and transcripts is untrusted: templates
autoescape it, the intro's Markdown is rendered without raw HTML and then sanitised, and
the JSON-LD is escaped so that no text can end its script element.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import jinja2
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from pipeline import feeds
from pipeline.config import Site
from pipeline.export import clock
from pipeline.files import copy_file, write_bytes, write_text
from pipeline.model import turns
from pipeline.project import DEFAULT_TEMPLATES, Project

if TYPE_CHECKING:
    from pipeline.publish import Post

# Files published beside each page, in the order the Downloads list shows them.
DOWNLOADS = (
    ("transcript.txt", "Transcript", "plain text"),
    ("transcript.vtt", "Captions", "WebVTT"),
    ("transcript.srt", "Subtitles", "SRT"),
    ("transcript.json", "Transcript with word timings", "JSON"),
    ("chapters.json", "Chapters", "JSON"),
    ("chapters.vtt", "Chapters", "WebVTT"),
)
TRANSCRIPT_FILES = tuple(name for name, _, _ in DOWNLOADS)
MEDIA_TYPES = {"video": "video/mp4", "audio": "audio/mp4"}
SUMMARY_CHARS = 200
# A transcript paragraph on the page: shorter than the export's, so that a reader can find
# a moment by its time even before speakers are labelled.
PARAGRAPH_SECONDS = 40.0


@dataclass
class Page:
    """One post as the site shows it: its address, its files and the words that sum it up."""

    post: "Post"
    url: str  # absolute address of the post page, from site.base_url
    files: dict[str, str]  # "media", "poster" or a transcript file name -> name beside the page
    sizes: dict[str, int]  # the same keys -> bytes
    summary: str
    chapters: list[dict] = field(default_factory=list)  # start, end, title; sorted

    @property
    def media_type(self) -> str | None:
        return MEDIA_TYPES.get(self.post.prepared.kind) if "media" in self.files else None

    def link(self, role: str) -> str | None:
        """Absolute address of a file beside the page, or None when it is not published."""
        return self.url + self.files[role] if role in self.files else None

    @property
    def intro_html(self) -> Markup:
        return markdown(self.post.card.intro)

    @property
    def image(self) -> str | None:
        """A picture for link previews and search results."""
        if "poster" in self.files:
            return self.link("poster")
        video = youtube_id(self.post)
        return f"https://i.ytimg.com/vi/{video}/hqdefault.jpg" if video else None


def render_site(project: Project, site: Site, posts: list["Post"]) -> None:
    """Write every post page, the index, tag pages, 404, feeds, sitemap and static files."""
    env = environment(project)
    posts = sorted(posts, key=lambda p: (p.card.date, p.card.title), reverse=True)
    pages = [_page(project, site, post) for post in posts]
    for page in pages:
        _render_post(env, project, site, page)
    tags = tag_index(pages)
    _write_page(env, project.site / "index.html", "index.html", site=site, pages=pages, root="./")
    _render_tags(env, project, site, tags)
    _write_page(env, project.site / "404.html", "404.html", site=site,
                root=urlparse(site.base_url).path or "/")
    write_text(project.site / "feed.xml", feeds.atom(site, pages))
    write_text(project.site / "rss.xml", feeds.rss(site, pages))
    write_text(project.site / "sitemap.xml", feeds.sitemap(site, pages, [tag_slug(t) for t in tags]))
    write_text(project.site / "robots.txt", f"User-agent: *\nAllow: /\n\nSitemap: {site.base_url}sitemap.xml\n")
    _copy_static(project)


def environment(project: Project) -> jinja2.Environment:
    """Templates from the project's own templates/ first, then the defaults."""
    folders = [str(p) for p in dict.fromkeys([project.templates, DEFAULT_TEMPLATES]) if p.is_dir()]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folders), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined,
                             # Compiled templates kept in the temp folder (keyed by their source):
                             # compiling them took a quarter of a no-op publish.
                             bytecode_cache=jinja2.FileSystemBytecodeCache())
    env.filters["clock"] = clock
    env.filters["iso_duration"] = iso_duration
    env.filters["markdown"] = markdown
    env.filters["tag_slug"] = tag_slug
    env.filters["long_date"] = lambda day: f"{day.day} {day:%B %Y}"
    return env


def markdown(text: str) -> Markup:
    """Markdown to safe HTML: raw HTML is not passed through, links keep only safe schemes."""
    html_text = MarkdownIt("commonmark", {"html": False}).render(text or "")
    return Markup(nh3.clean(html_text, url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def plain_text(html_text: str) -> str:
    """The words of an HTML fragment, without its tags, on one line."""
    return " ".join(html.unescape(nh3.clean(str(html_text), tags=set())).split())


def summary(post: "Post", limit: int = SUMMARY_CHARS) -> str:
    """One or two sentences about the post: the intro's first paragraph, or the transcript's start."""
    first = (post.card.intro or "").strip().split("\n\n")[0]
    text = plain_text(markdown(first)) or post.transcript.text.strip()
    if not text:
        names = ", ".join(post.card.guests)
        text = f"An interview with {names}." if names else post.card.title
    return textwrap.shorten(text, width=limit, placeholder=" …")


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration, as schema.org wants: PT1M5S."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def tag_slug(tag: str) -> str:
    """The address of a tag's page: 'Local Government' -> 'local-government'."""
    ascii_text = unicodedata.normalize("NFKD", tag).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:  # a tag in a script with no ASCII letters keeps a stable, unique address
        slug = "tag-" + tag.encode("utf-8").hex()[:16]
    return slug


def tag_index(pages: list[Page]) -> dict[str, list[Page]]:
    """Pages by tag (tags that differ only in case or punctuation are one), by name."""
    found: dict[str, tuple[str, list[Page]]] = {}
    for page in pages:
        for tag in dict.fromkeys(page.post.card.tags):
            found.setdefault(tag_slug(tag), (tag, []))[1].append(page)
    return {name: listed for name, listed in sorted(found.values(), key=lambda x: x[0].casefold())}


def youtube_id(post: "Post") -> str | None:
    """The video id of a YouTube source, from yt-dlp's provenance or the URL itself."""
    if post.prepared.kind != "youtube":
        return None
    if (post.provenance.get("extractor") or "").lower().startswith("youtube") and post.provenance.get("id"):
        return post.provenance["id"]
    url = urlparse(post.card.source)
    if url.hostname and url.hostname.endswith("youtu.be"):
        return url.path.strip("/") or None
    return (parse_qs(url.query).get("v") or [url.path.rstrip("/").rsplit("/", 1)[-1]])[0]


def chapter_list(post: "Post") -> list[dict]:
    """The post's chapters as plain dicts (start, end, title), sorted, each with an end."""
    items = []
    for chapter in post.chapters or []:
        start, title = _seconds(_get(chapter, "start")), _get(chapter, "title")
        if start is None or not title:
            continue
        items.append({"start": start, "end": _seconds(_get(chapter, "end")), "title": str(title)})
    items.sort(key=lambda c: c["start"])
    for chapter, after in zip(items, items[1:] + [None]):
        if chapter["end"] is None or chapter["end"] <= chapter["start"]:
            chapter["end"] = after["start"] if after else max(post.prepared.duration, chapter["start"])
    return items


def clips(page: Page) -> list[dict]:
    """schema.org Clips from the chapters: whole seconds, one per start, each a ?t= link."""
    result, starts = [], set()
    for chapter in page.chapters:
        start = math.floor(chapter["start"])
        if start in starts:
            continue
        starts.add(start)
        result.append({"@type": "Clip", "name": chapter["title"], "startOffset": start,
                       "endOffset": max(math.ceil(chapter["end"]), start + 1),
                       "url": f"{page.url}?t={start}"})
    return result


def structured_data(page: Page, site: Site) -> dict:
    """JSON-LD for the recording: a VideoObject (an AudioObject for audio-only posts) with
    Clips from the chapters and a SeekToAction, as Google's key moments read them."""
    post, card = page.post, page.post.card
    video = youtube_id(post)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "AudioObject" if post.prepared.kind == "audio" else "VideoObject",
        "name": card.title,
        "description": page.summary,
        "uploadDate": f"{card.date.isoformat()}T00:00:00+00:00",
        "duration": iso_duration(post.prepared.duration),
        "inLanguage": card.language,
        "url": page.url,
    }
    if page.image:
        data["thumbnailUrl"] = [page.image]
    if video:
        data["embedUrl"] = f"https://www.youtube.com/embed/{video}"
    elif page.link("media"):
        data["contentUrl"] = page.link("media")
        data["encodingFormat"] = page.media_type
    if card.tags:
        data["keywords"] = ", ".join(card.tags)
    if site.author:
        data["publisher"] = {"@type": "Organization", "name": site.author}
    if parts := clips(page):
        data["hasPart"] = parts
    data["potentialAction"] = {"@type": "SeekToAction",
                               "target": f"{page.url}?t={{seek_to_second_number}}",
                               "startOffset-input": "required name=seek_to_second_number"}
    return data


def json_script(data) -> Markup:
    """JSON for a <script> data block: '<', '>' and '&' escaped so no text can close it."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def downloads(page: Page) -> list[dict]:
    """The files a reader can take away: transcript formats, chapters and the recording."""
    items = [{"href": name, "label": label, "format": kind, "size": page.sizes[name]}
             for name, label, kind in DOWNLOADS if name in page.files]
    if "media" in page.files:
        label = "Video" if page.post.prepared.kind == "video" else "Audio"
        items.append({"href": page.files["media"], "label": label,
                      "format": Path(page.files["media"]).suffix.lstrip(".").upper(),
                      "size": page.sizes["media"]})
    return items


def _seconds(value) -> float | None:
    """Seconds from a number or a clock time ('1:30', '1:02:03'); None when it is neither."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?|(\d+:)?\d+:\d\d(\.\d+)?", value.strip()):
        return sum(float(part) * 60 ** i for i, part in enumerate(reversed(value.strip().split(":"))))
    return None


def _get(item, name: str, default=None):
    """A field of a chapter or quote, whether it is a dict or an object."""
    return item.get(name, default) if isinstance(item, dict) else getattr(item, name, default)


def _page(project: Project, site: Site, post: "Post") -> Page:
    files, sizes = _publish_files(post, project.site / post.card.slug)
    page = Page(post, f"{site.base_url}{post.card.slug}/", files, sizes, summary(post))
    page.chapters = chapter_list(post)
    return page


def _render_post(env: jinja2.Environment, project: Project, site: Site, page: Page) -> None:
    post = page.post
    _write_page(env, project.site / post.card.slug / "index.html", "post.html",
                site=site, post=post, card=post.card, media=post.prepared, files=page.files,
                page=page, turns=turns(post.transcript, max_length=PARAGRAPH_SECONDS), youtube_id=youtube_id(post),
                chapters=page.chapters, downloads=downloads(page),
                jsonld=json_script(structured_data(page, site)), root="../")


def _render_tags(env: jinja2.Environment, project: Project, site: Site,
                 tags: dict[str, list[Page]]) -> None:
    folder = project.site / "tags"
    _write_page(env, folder / "index.html", "tags.html", site=site, tags=tags, root="../")
    for tag, pages in tags.items():
        _write_page(env, folder / tag_slug(tag) / "index.html", "tag.html",
                    site=site, tag=tag, pages=pages, root="../../")
    # A tag no post carries any more must not keep a page that lists stale posts.
    keep = {tag_slug(t) for t in tags}
    for old in folder.iterdir():
        if old.is_dir() and old.name not in keep:
            shutil.rmtree(old)


def _write_page(env: jinja2.Environment, target: Path, template: str, **context) -> None:
    write_text(target, env.get_template(template).render(**context))


def _publish_files(post: "Post", folder: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Put the media and transcript files beside the page; return their names and sizes."""
    files, sizes = {}, {}
    sources = [("media", post.prepared.media), ("poster", post.prepared.poster)]
    sources += [(name, post.transcript_folder / name) for name in TRANSCRIPT_FILES]
    for role, path in sources:
        target = folder / path.name if path else None
        if path and path.exists():
            copy_file(path, target)
            files[role], sizes[role] = path.name, path.stat().st_size
        elif target and role in TRANSCRIPT_FILES and target.exists():
            target.unlink()  # e.g. chapters removed: do not offer the old file
    return files, sizes


def _copy_static(project: Project) -> None:
    for folder in (DEFAULT_TEMPLATES / "static", project.templates / "static"):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            write_bytes(project.site / "static" / path.name, path.read_bytes())
