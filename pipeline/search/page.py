"""The site's search page: site/search/index.html, which reads the static index that
site_index.py writes beside it."""

from __future__ import annotations

import shutil

from pipeline.config import Site
from pipeline.files import write_text
from pipeline.project import Project
from pipeline.search.database import DATABASE
from pipeline.search.metadata import METADATA
from pipeline.site.render import environment


def render_page(project: Project, site: Site) -> None:
    """site/search/index.html: the search form and the results, filled in by search.js."""
    page = environment(project).get_template("search.html").render(
        site=site, root="../", database=DATABASE.as_posix(), metadata=METADATA.as_posix())
    write_text(project.site / "search" / "index.html", page)
    # The Pagefind index that earlier versions wrote: stale now, and it would be deployed.
    for old in ("pagefind", ".pagefind-old"):
        shutil.rmtree(project.site / old, ignore_errors=True)
    for leftover in project.site.glob(".pagefind-*"):
        shutil.rmtree(leftover, ignore_errors=True)
