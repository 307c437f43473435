"""Publish: every stage for every interview, then the site, as one list of steps.

    card -> fetch -> prepare -> transcribe -> speakers      (expensive: interviews in parallel)
         -> [the publisher's captions] -> corrections -> export -> review -> chapters
         -> quotes                                          (in card order)
    -> render the site -> the search database and index

One interview failing is recorded and the others still publish; the caller decides what
to print and which exit code to give.

The expensive stages of several interviews run at the same time, one interview per core: on
2 cores two interviews at once took 0.75x the time of one after the other (`make bench`).
The rest runs one interview after another, in card order, so what an interview's quotes see
of the others never depends on timing.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import search
from pipeline.cluster import Cluster
from pipeline.config import Card, Site, glossary, load_card, load_site, transcribe_settings
from pipeline.errors import PipelineError
from pipeline.files import read_json, write_bytes, write_json
from pipeline.model import Fetched, Post, Prepared, Transcript
from pipeline.project import Project
from pipeline.site.render import render_site
from pipeline.stages import (PUBLISHED_CARD, STAMPED, chapters, corrections, creator_captions,
                             export, fetch, prepare, quotes, review, speakers, stamps_of,
                             transcribe)
from pipeline.stages import voiceprints as voiceprint_registry

log = logging.getLogger(__name__)


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
    """Ctrl-C during a publish: says what was cut short and what had finished."""

    def __init__(self, doing: str, report: Report):
        super().__init__(doing)
        self.doing, self.report = doing, report


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
            jobs: int = 0, scheduler: str = "") -> Report:
    """Publish the named interviews (all when none are named) and rebuild the site. `jobs`:
    interviews whose expensive stages run at once (0: one per core); `scheduler`: a Dask
    scheduler's address (or "local") to run them on instead of threads here."""
    started = time.monotonic()
    site = load_site(project.root)
    report, posts = Report(), []
    folders = _select(project, slugs, report)
    scheduler = scheduler or site.cluster
    with project.lock():
        _remove_leftovers(project)
        doing, heard = "", []
        runner = _Threads(project, site, jobs) if scheduler in ("", "none") else \
            Cluster(scheduler, project, site, jobs)
        try:
            heard = runner.start(folders, force)
            for n, (folder, hearing) in enumerate(zip(folders, heard)):
                later = {f.name for f in folders[n + 1:]}  # their voice prints are not settled yet
                with _failures(report, folder.name):
                    posts.append(finish(project, runner.result(hearing), report, site, later))
                    report.published.append(folder.name)
                runner.working.discard(folder.name)
                _remember_failure(folder, report.failed.get(folder.name))
            runner.close()
            # A worker killed mid-interview leaves its temporary files in the shared folder
            # (the page's media are made beside transcription): every writer is done now.
            _remove_leftovers(project)
            # Interviews not published now (not asked for, or failed) keep their last good page.
            posts += _last_published(project, report)
            doing = "rendering the site"
            log.info("site: rendering %d post(s)", len(posts))
            with _failures(report, "site"):
                render_site(project, site, posts)
            doing = "updating the search database and index"
            log.info("search: updating the database and the site's index")
            with _failures(report, "search index"):  # the pages are written; only search is behind
                search.publish(project, site, posts, keep=report.failed)
        except KeyboardInterrupt:
            runner.cancel(heard)
            prepare.stop()  # its ffmpeg commands, the page's media in the background among them
            _remove_temporary_files(project)  # of a thread stopped mid-write too
            busy = [f.name for f in folders if f.name in runner.working]
            raise Interrupted(f"working on {', '.join(busy)}" if busy else doing or "starting",
                              report) from None
    report.seconds = time.monotonic() - started
    report.site = project.site / "index.html"
    return report


class _Threads:
    """The expensive stages on this machine: `jobs` interviews at a time, each in a thread
    (0: one per core). After Ctrl-C the CLI exits at once without waiting for the threads
    (every output is written atomically, so work cut short leaves nothing half-made)."""

    def __init__(self, project: Project, site: Site, jobs: int):
        self.project, self.site, self.jobs = project, site, jobs or os.cpu_count() or 1
        self.working: set[str] = set()  # started and not yet finished

    def start(self, folders: list[Path], force: bool) -> list:
        def work(folder: Path) -> Heard:
            self.working.add(folder.name)
            return hear(self.project, folder, self.site, force)

        if self.jobs <= 1 or len(folders) <= 1:  # one at a time, each when asked for
            return [_Lazy(work, folder) for folder in folders]
        pool = ThreadPoolExecutor(min(self.jobs, len(folders)), thread_name_prefix="publish")
        futures = [pool.submit(work, folder) for folder in folders]
        pool.shutdown(wait=False)  # the threads end when the queue is empty
        return futures

    @staticmethod
    def result(future) -> Heard:
        return future.result()

    def cancel(self, futures: list) -> None:
        pass

    def close(self) -> None:
        pass


class _Lazy:
    """A Future-like result that does its work when first asked for."""

    def __init__(self, work, item):
        self.work, self.item = work, item

    def result(self):
        return self.work(self.item)


@contextlib.contextmanager
def _failures(report: Report, name: str):
    """Record a failure of one interview (or of the site's build) instead of stopping: the
    others still publish. A user can act on every message; a bug is logged with its trace."""
    try:
        yield
    except PipelineError as e:
        report.failed[name] = e.message
    except OSError as e:  # a full disk, a read-only folder: the user's to fix, said plainly
        report.failed[name] = file_problem(e)
    except sqlite3.Error as e:
        full = "full" in str(e)
        report.failed[name] = (f"the search database could not be written ({e}): "
                               + ("free some space and publish again" if full else "publish again"))
    except Exception as e:  # a bug must not block the other interviews either
        log.exception("%s: failed with an internal error", name)
        report.failed[name] = f"internal error: {type(e).__name__}: {e}"
    if name in report.failed and name in ("site", "search index"):
        log.error("%s: failed: %s", name, report.failed[name])


def file_problem(error: OSError) -> str:
    """What to tell the user about a file that could not be written or read."""
    # A rename names both files: the one it was to replace is the user's.
    named = error.filename2 or error.filename
    where = Path(named) if named else None
    if where and where.name.startswith(".") and ".tmp-" in where.name:
        where = where.parent  # a temporary file of an atomic write: name its folder
    if error.errno == errno.ENOSPC:
        return (f"the disk is full (writing {where}): free some space and publish again; "
                "nothing half-written was kept")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"cannot write {where}: {error.strerror}. Make it writable for this user and "
                "publish again")
    if error.errno == errno.EISDIR:
        return f"{where} is a folder where a file must go: move it away and publish again"
    return f"{where}: {error.strerror}"


def hear(project: Project, folder: Path, site: Site, force: bool = False) -> Heard:
    """card -> fetch -> prepare -> transcribe -> speakers: the stages that cost minutes."""
    card = load_card(folder)
    before = _stage_stamps(project, card)
    fetched = fetch.run(card, site.download)
    out = project.transcript_folder(card.slug)
    settings = transcribe_settings(site, card)
    new_words = force or not transcribe.is_fresh(card, settings, fetched, out)
    if new_words:
        transcribe.load_soon(settings, card.language, then=chapters.load_libraries)
    # The page's media are made while the words are heard (they need only audio.wav).
    prepared, page_media = prepare.begin(card, fetched)
    try:
        # New words always need their voices: find those while the words are being heard.
        ahead = speakers.listen_ahead(card, prepared) if new_words else None
        machine = transcribe.run(card, settings, fetched, prepared, out, force)
        voiceprints = voiceprint_registry.project_folder(project.root, site.voiceprints)
        machine = speakers.run(card, prepared, machine, out, voiceprints, ahead)
    except Exception:  # (Ctrl-C goes on at once: publish then stops prepare's ffmpeg)
        with contextlib.suppress(Exception):  # the first failure is the one to report
            page_media()  # waited for all the same: no ffmpeg outlives its interview
        raise
    page_media()
    return Heard(card, fetched, prepared, out, machine, before, voiceprints)


def finish(project: Project, heard: Heard, report: Report, site: Site | None = None,
           later: set[str] = frozenset()) -> Post:
    """voices recognised -> captions -> corrections -> export -> review -> chapters -> quotes,
    for an interview whose expensive stages ran (`later`: interviews published after it in this
    run). The words are an editor's (transcript.txt), else the publisher's captions, else the
    recogniser's."""
    card, out, site = heard.card, heard.out, site or Site()
    project.page_folder(card.slug)  # a link out of site/ is refused before anything is written
    machine = speakers.recognise(card, heard.machine, out, heard.voiceprints, later)
    # Names the recogniser was unsure of, spelt as the glossary has them (as the studio does).
    machine = review.respelt(machine, glossary(site, card))
    words = creator_captions.run(card, heard.fetched, machine)
    transcript = corrections.run(card, words, out)
    card = corrections.renamed_people(card, transcript, out)  # an editor's renames reach the page
    speakers.learn(card, transcript, out, heard.voiceprints)  # ... and name the voice prints
    export.run(card, transcript, out)
    terms = glossary(site, card)
    review.run(card, transcript, out, terms)
    found = chapters.run(card, transcript, out, site_language=site.language)
    picked = quotes.run(card, transcript, out, archive=project.transcripts, glossary=terms)
    _remember_card(card)
    after = _stage_stamps(project, card)
    ran = [stage for stage in after if after[stage] != heard.before.get(stage)]
    if transcript is not machine and "export" in ran:  # captions or a correction applied
        ran.insert(ran.index("export"), "captions" if transcript.text_from == "captions"
                   else "corrections")
    report.work[card.slug] = ran
    return Post(card, heard.prepared, transcript, heard.fetched.provenance, out, found, picked)


def load_post(project: Project, folder: Path) -> Post:
    """A post as last published, from its stamps and files, without running any stage: its
    card as it was then (see _remember_card), so a card broken since changes nothing."""
    kept = folder / ".stamps" / PUBLISHED_CARD
    card = load_card(folder, kept, check_source=False) if kept.is_file() else load_card(folder)
    prepared = prepare.last_prepared(folder)
    if prepared is None:
        raise KeyError("prepare")  # never published: not on the index
    out = project.transcript_folder(card.slug)
    published = read_json(out / "transcript.json")
    if published is None:
        raise KeyError("transcript")  # never published: not on the index
    transcript = Transcript.from_dict(published)
    card = corrections.renamed_people(card, transcript, out)
    return Post(card, prepared, transcript, read_json(folder / "provenance.json", {}), out,
                chapters.load(out), quotes.load(out))


def _remember_card(card: Card) -> None:
    """Keep the card as it was when its interview last published, for load_post."""
    write_bytes(card.folder / ".stamps" / PUBLISHED_CARD, card.path.read_bytes())


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
    _remove_temporary_files(project)
    for folder in (project.media, project.transcripts, project.site):
        for path in folder.glob("*/.download-*") if folder.is_dir() else []:
            shutil.rmtree(path, ignore_errors=True)
    for pattern in ("search/.index-*", ".pagefind-*"):  # a site index killed before its swap
        for path in project.site.glob(pattern) if project.site.is_dir() else []:
            shutil.rmtree(path, ignore_errors=True)


def _remove_temporary_files(project: Project) -> None:
    """The temporary files of atomic writes (an interrupted one leaves its own)."""
    for folder in (project.media, project.transcripts, project.site):
        for path in folder.glob("**/.*.tmp-*") if folder.is_dir() else []:
            path.unlink(missing_ok=True)


def _remember_failure(folder: Path, message: str | None) -> None:
    """Keep the last error for `pipeline status`; a success clears it."""
    path = folder / ".stamps" / "failed.json"
    if message:
        write_json(path, {"error": message, "at": time.strftime("%Y-%m-%d %H:%M:%S")})
    else:
        path.unlink(missing_ok=True)


def _stage_stamps(project: Project, card: Card) -> dict[str, int]:
    """When each stage last ran: one whose time changed during the run did work."""
    stamps = {}
    for stage in STAMPED:
        if ran := stamps_of(project, card.slug, stage).ran_at(stage):
            stamps[stage] = ran
    return stamps


def _last_published(project: Project, report: Report) -> list[Post]:
    """Every other interview as last published: not asked for this time, or failed now (its
    page, listings and feed entries stay as they were)."""
    posts = []
    for folder in project.card_folders():
        if folder.name in report.published:
            continue
        try:
            posts.append(load_post(project, folder))
        except (PipelineError, KeyError, TypeError, OSError):
            continue  # never published yet: it simply is not on the index
        if folder.name in report.failed:
            log.info("%s: its last published page stays on the site", folder.name)
    return posts
