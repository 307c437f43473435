"""Render: the static site (jinja2, autoescaped) from the published posts.

site/SLUG/index.html (the post with its media, captions, chapters, quotes and transcript)
with the media and transcript files beside it; site/index.html (newest first); a page per
tag under site/tags/; 404.html; the Atom and RSS feeds and sitemap.xml (feeds.py); and the
shared static files. What each page shows is worked out in pages.py; the JSON-LD goes
through Jinja's `tojson`, which escapes it so that no text can end its script element.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import jinja2

from pipeline.config import Site
from pipeline.files import copy_file, within, write_bytes, write_text
from pipeline.links import moment_query
from pipeline.model import Post
from pipeline.project import Project
from pipeline.site import feeds
from pipeline.search import cite
from pipeline.search.rows import page_turns
from pipeline.site.pages import (TRANSCRIPT_FILES, Page, downloads, iso_duration, markdown,
                                 post_language, structured_data, summary, tag_index, tag_slug,
                                 transcript_parts, youtube_id)
from pipeline.timecode import clock

# The templates that ship with the pipeline (package data); a project's own templates/
# overrides them file by file.
DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_site(project: Project, site: Site, posts: list[Post]) -> None:
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
    env.filters["moment_query"] = moment_query
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "indent": 1}
    return env


def _page(project: Project, site: Site, post: Post) -> Page:
    files, sizes = _publish_files(post, project.page_folder(post.card.slug))
    return Page(post, f"{site.base_url}{post.card.slug}/", files, sizes, summary(post),
                post_language(post, site))


def _render_post(env: jinja2.Environment, project: Project, site: Site, page: Page) -> None:
    post = page.post
    turns = page_turns(post.transcript)  # the paragraphs, with anchors and word times
    _write_page(env, project.page_folder(post.card.slug) / "index.html", "post.html",
                site=site, post=post, card=post.card, media=post.prepared, files=page.files,
                page=page, turns=turns, youtube_id=youtube_id(post),
                parts=transcript_parts(turns, post.chapters, post.card.interviewer),
                chapters=post.chapters, downloads=downloads(page),
                citation=cite.page_data(post.card, site, [t.speaker for t in turns]),
                jsonld=structured_data(page, site), root="../")


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


def _publish_files(post: Post, folder: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Put the media and transcript files beside the page; return their names and sizes."""
    files, sizes = {}, {}
    sources = [("media", post.prepared.media), ("poster", post.prepared.poster)]
    sources += [(name, post.transcript_folder / name) for name in TRANSCRIPT_FILES]
    for role, path in sources:
        target = folder / path.name if path else None
        if path and path.exists():
            within(path, path.parent, "a file published beside the page")
            copy_file(path, target)
            files[role], sizes[role] = path.name, path.stat().st_size
        elif target and role in TRANSCRIPT_FILES and target.exists():
            target.unlink()  # e.g. chapters removed: do not offer the old file
    return files, sizes


def _copy_static(project: Project) -> None:
    for folder in (DEFAULT_TEMPLATES / "static", project.templates / "static"):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            write_bytes(project.site / "static" / path.name, path.read_bytes())
