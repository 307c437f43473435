"""Publish: every stage for every interview, then the site, as one list of steps.

    card -> fetch -> prepare -> transcribe -> speakers      (expensive: interviews in parallel)
         -> corrections -> export -> chapters -> quotes     (in card order)
    -> render the site -> the search database and index

One interview failing is recorded and the others still publish; the caller decides what
to print and which exit code to give.

The expensive stages of several interviews run at the same time, one interview per core: on
2 cores two interviews at once took 0.75x the time of one after the other (`make bench`).
The rest runs one interview after another, in card order, so what an interview's quotes see
of the others never depends on timing.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import search
from pipeline.config import Card, Site, load_card, load_site, transcribe_settings
from pipeline.errors import PipelineError
from pipeline.files import read_json, write_json
from pipeline.model import Fetched, Post, Prepared, Transcript
from pipeline.project import Project
from pipeline.site.render import render_site
from pipeline.stages import (chapters, corrections, export, fetch, prepare, quotes, speakers,
                             stamps_of, transcribe)
from pipeline.stages.voiceprints import FOLDER as voiceprints_folder

log = logging.getLogger(__name__)

# The stages whose work the summary reports (a no-op publish runs none of them).
EXPENSIVE = ("fetch", "prepare", "transcribe", "speakers")


@dataclass
class Report:
    published: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    work: dict[str, list[str]] = field(default_factory=dict)  # slug -> stages that ran
    seconds: float = 0.0
    site: Path | None = None

    @property
    def skipped(self) -> list[str]:
        return [s for s in self.published if not self.work.get(s)]


class Interrupted(Exception):
    """Ctrl-C during a publish: says which interviews were cut short and what had finished."""

    def __init__(self, working: list[str], report: Report):
        super().__init__(", ".join(working))
        self.working, self.report = working, report


@dataclass
class Heard:
    """What the expensive stages made of one interview."""

    card: Card
    fetched: Fetched
    prepared: Prepared
    out: Path
    machine: Transcript
    before: dict[str, int]  # when each expensive stage last ran, before this publish
    voiceprints: Path | None = None  # the project's voice prints (None: site.yaml turned them off)


def publish(project: Project, slugs: tuple[str, ...] = (), force: bool = False,
            jobs: int = 0) -> Report:
    """Publish the named interviews (all when none are named) and rebuild the site. `jobs`:
    interviews whose expensive stages run at once (0: one per core)."""
    started = time.monotonic()
    site = load_site(project.root)
    report, posts = Report(), []
    folders = _select(project, slugs, report)
    with project.lock():
        _remove_leftovers(project)
        working: set[str] = set()  # started and not yet finished

        def hear_one(folder: Path) -> Heard:
            working.add(folder.name)
            return hear(project, folder, site, force)

        heard = _in_parallel(hear_one, folders, jobs or os.cpu_count() or 1)
        for n, (folder, hearing) in enumerate(zip(folders, heard)):
            try:
                later = {f.name for f in folders[n + 1:]}  # their voice prints are not settled yet
                posts.append(finish(project, hearing.result(), report, later))
                report.published.append(folder.name)
            except KeyboardInterrupt:
                raise Interrupted([f.name for f in folders if f.name in working], report) from None
            except PipelineError as e:
                report.failed[folder.name] = e.message
            except Exception as e:  # a bug must not block the other interviews either
                log.exception("%s: failed with an internal error", folder.name)
                report.failed[folder.name] = f"internal error: {type(e).__name__}: {e}"
            working.discard(folder.name)
            _remember_failure(folder, report.failed.get(folder.name))
        posts += _previously_published(project, slugs, report)
        render_site(project, site, posts)
        try:
            search.publish(project, site, posts, keep=report.failed)
        except PipelineError as e:  # the pages are written; only search is out of date
            report.failed["search index"] = e.message
            log.error("search: failed: %s", e.message)
    report.seconds = time.monotonic() - started
    report.site = project.site / "index.html"
    return report


def hear(project: Project, folder: Path, site: Site, force: bool = False) -> Heard:
    """card -> fetch -> prepare -> transcribe -> speakers: the stages that cost minutes."""
    card = load_card(folder)
    before = _stage_stamps(project, card)
    fetched = fetch.run(card)
    prepared = prepare.run(card, fetched)
    out = project.transcript_folder(card.slug)
    machine = transcribe.run(card, transcribe_settings(site, card), fetched, prepared, out, force)
    voiceprints = project.root / voiceprints_folder if site.voiceprints else None
    machine = speakers.run(card, prepared, machine, out, voiceprints)
    return Heard(card, fetched, prepared, out, machine, before, voiceprints)


def finish(project: Project, heard: Heard, report: Report, later: set[str] = frozenset()) -> Post:
    """voices recognised -> corrections -> export -> chapters -> quotes, for an interview whose
    expensive stages ran (`later`: interviews published after it in this run)."""
    card, out = heard.card, heard.out
    machine = speakers.recognise(card, heard.machine, out, heard.voiceprints, later)
    transcript = corrections.run(card, machine, out)
    card = corrections.renamed_people(card, transcript, out)  # an editor's renames reach the page
    speakers.learn(card, transcript, out, heard.voiceprints)  # ... and name the voice prints
    export.run(card, transcript, out)
    found = chapters.run(card, transcript, out)
    picked = quotes.run(card, transcript, out, archive=project.transcripts)
    after = _stage_stamps(project, card)
    report.work[card.slug] = [stage for stage in after if after[stage] != heard.before.get(stage)]
    return Post(card, heard.prepared, transcript, heard.fetched.provenance, out, found, picked)


def load_post(project: Project, folder: Path) -> Post:
    """A post as last published, from its stamps and files, without running any stage."""
    card = load_card(folder)
    prepared = prepare.last_prepared(folder)
    if prepared is None:
        raise KeyError("prepare")  # never published: not on the index
    out = project.transcript_folder(card.slug)
    transcript = Transcript.from_dict(read_json(out / "transcript.json"))
    card = corrections.renamed_people(card, transcript, out)
    return Post(card, prepared, transcript, read_json(folder / "provenance.json", {}), out,
                chapters.load(out), quotes.load(out))


def _select(project: Project, slugs: tuple[str, ...], report: Report) -> list[Path]:
    folders = project.card_folders()
    if not slugs:
        return folders
    known = {f.name: f for f in folders}
    for slug in slugs:
        if slug not in known:
            report.failed[slug] = (f"no interview card at {project.media / slug / 'interview.yaml'}; "
                                   f"create one with `pipeline new {slug} --source ...`")
    return [known[s] for s in slugs if s in known]


def _remove_leftovers(project: Project) -> None:
    """A killed run leaves its temporary files (never a half-written output): clear them.
    Safe because we hold the project lock, so no other run is writing."""
    for folder in (project.media, project.transcripts, project.site):
        for path in folder.glob("**/.*.tmp-*") if folder.is_dir() else []:
            path.unlink(missing_ok=True)
        for path in folder.glob("*/.download-*") if folder.is_dir() else []:
            shutil.rmtree(path, ignore_errors=True)


def _remember_failure(folder: Path, message: str | None) -> None:
    """Keep the last error for `pipeline status`; a success clears it."""
    path = folder / ".stamps" / "failed.json"
    if message:
        write_json(path, {"error": message, "at": time.strftime("%Y-%m-%d %H:%M:%S")})
    else:
        path.unlink(missing_ok=True)


def _in_parallel(work, items: list, jobs: int) -> list:
    """work(item) for every item, `jobs` at a time, each result (or error) in a Future. After
    Ctrl-C the CLI exits at once without waiting for the threads (every output is written
    atomically, so work cut short leaves nothing half-made)."""
    if jobs <= 1 or len(items) <= 1:  # one at a time, each when asked for
        return [_Lazy(work, item) for item in items]
    pool = ThreadPoolExecutor(min(jobs, len(items)), thread_name_prefix="publish")
    futures = [pool.submit(work, item) for item in items]
    pool.shutdown(wait=False)  # the threads end when the queue is empty
    return futures


class _Lazy:
    """A Future-like result that does its work when first asked for."""

    def __init__(self, work, item):
        self.work, self.item = work, item

    def result(self):
        return self.work(self.item)


def _stage_stamps(project: Project, card: Card) -> dict[str, int]:
    """When each expensive stage last ran: one whose time changed during the run did work."""
    stamps = {}
    for stage in EXPENSIVE:
        if ran := stamps_of(project, card.slug, stage).ran_at(stage):
            stamps[stage] = ran
    return stamps


def _previously_published(project: Project, slugs: tuple[str, ...], report: Report) -> list[Post]:
    """When only some interviews are published, keep the others' pages on the index."""
    if not slugs:
        return []
    posts = []
    for folder in project.card_folders():
        if folder.name in slugs or folder.name in report.failed:
            continue
        try:
            posts.append(load_post(project, folder))
        except (PipelineError, KeyError, TypeError, OSError):
            continue  # never published yet: it simply is not on the index
    return posts
