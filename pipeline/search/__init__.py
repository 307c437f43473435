"""Search: the researchers' SQLite database, `pipeline search`, and the site's search page.

site/data/transcripts.db (built with sqlite-utils, so `datasette` or `sqlite-utils search`
open it with no configuration) holds three tables, each with an FTS5 index (porter stemming):

  interviews  one row per interview: slug, title, date, year, interviewer, guests, tags,
              speakers, intro, duration, turns, first_id, url
  turns       one row per paragraph of the page: slug, title, date, speaker, guests, tags,
              start, end, anchor (the turn's id on the page), text, url (a permanent link to
              it), and word_starts (when each word of `text` is spoken, so a hit has its
              exact moment)
  chapters    one row per chapter: slug, title, start, end, url

rows.py makes the rows (the page's turns, their anchors and links), shared with the export and
citations; database.py builds the database incrementally after each publish (an interview
whose card, transcript and chapters did not change is left as it is) and replaces it
atomically; metadata.py writes Datasette's metadata beside it; query.py searches it;
formats.py prints the hits; cite.py formats citations; export.py writes turns and words as
CSV or JSON lines; page.py writes the site's search page and site_index.py the static
index it reads.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable

from pipeline.config import Site
from pipeline.model import Post
from pipeline.project import Project
from pipeline.search.database import Stats, build, database_path

log = logging.getLogger(__name__)


def publish(project: Project, site: Site, posts: list[Post], keep: Iterable[str] = ()) -> Stats:
    """The search step of a publish: update the database and its Datasette metadata, write
    the search page and the site's search index."""
    from pipeline.search import metadata, site_index
    from pipeline.search.page import render_page  # the site's templates: jinja2

    started = time.monotonic()
    path = database_path(project)
    stats = build(path, posts, site.base_url, keep)
    metadata.write(project.site, site)
    render_page(project, site)
    indexed = site_index.build(path, project.site)
    log.info("search: database %s (%s) in %.1f s; site index %s", path, stats,
             time.monotonic() - started, "rebuilt" if indexed else "unchanged")
    return stats
