"""The site's own search: the search page, and Pagefind's index of the rendered pages."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.config import Site
from pipeline.errors import SearchError
from pipeline.files import write_text
from pipeline.project import Project
from pipeline.search.database import DATABASE
from pipeline.site.render import environment
from pipeline.stamps import package_version

PAGEFIND_DIR = "pagefind"


def render_page(project: Project, site: Site) -> None:
    """site/search/index.html: the search form, enhanced by Pagefind in the browser."""
    page = environment(project).get_template("search.html").render(
        site=site, root="../", database=DATABASE.as_posix())
    write_text(project.site / "search" / "index.html", page)


def index_site(folder: Path) -> bool:
    """Run Pagefind over the rendered pages; skipped when no page changed. True if it ran."""
    pages = sorted(p for p in folder.rglob("*.html")
                   if not any(part.startswith(".") or part == PAGEFIND_DIR
                              for part in p.relative_to(folder).parts))
    digest = hashlib.sha256(_pagefind_version().encode())
    for page in pages:
        digest.update(page.relative_to(folder).as_posix().encode() + b"\0" + page.read_bytes() + b"\0")
    stamp = folder / PAGEFIND_DIR / "pagefind-entry.json"
    stamp_key = folder / PAGEFIND_DIR / ".source-hash"
    if stamp.exists() and stamp_key.exists() and stamp_key.read_text().strip() == digest.hexdigest():
        return False
    _run_pagefind(folder)
    write_text(stamp_key, digest.hexdigest() + "\n")
    return True


def _pagefind() -> Path:
    try:
        from pagefind_bin import get_executable

        return get_executable()
    except (ImportError, FileNotFoundError) as e:
        raise SearchError(f"The Pagefind program is missing ({e}); reinstall the pipeline "
                          "(`make setup`; it comes from the pagefind[bin] package).") from None


def _pagefind_version() -> str:
    return package_version("pagefind_bin")


def _run_pagefind(folder: Path) -> None:
    """Index into a fresh folder, then swap it in: readers never see half an index."""
    fresh = Path(tempfile.mkdtemp(prefix=".pagefind-", dir=folder))
    old = folder / f".{PAGEFIND_DIR}-old"
    try:
        proc = subprocess.run([str(_pagefind()), "--site", str(folder), "--output-path", str(fresh),
                               "--silent"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SearchError(f"Pagefind could not index {folder}: "
                              f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
        shutil.rmtree(old, ignore_errors=True)
        if (folder / PAGEFIND_DIR).exists():
            os.replace(folder / PAGEFIND_DIR, old)
        os.replace(fresh, folder / PAGEFIND_DIR)
        for path in (folder / PAGEFIND_DIR).rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (folder / PAGEFIND_DIR).chmod(0o755)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
