"""Publish: run every stage for every interview, then build the site.

Reads as the data flow: card -> fetch -> prepare -> transcribe -> speakers -> export ->
chapters and quotes -> render.
One interview failing is recorded and the others still publish; the caller decides what
to print and which exit code to give.

The expensive stages (fetch to speakers) of several interviews run at the same time, one
interview per core: on 2 cores two interviews at once took 0.75x the time of one after the
other (`make bench`). The rest runs one interview after another, in card order, so what an
interview's quotes see of the others never depends on timing.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import (chapters, corrections, export, fetch, media, quotes, render, search,
                      speakers, transcribe)
from pipeline.cache import Stamps
from pipeline.config import Card, Site, load_card, load_site, transcribe_settings
from pipeline.errors import PipelineError
from pipeline.files import read_json, write_json, write_text
from pipeline.model import Transcript
from pipeline.project import Project

log = logging.getLogger(__name__)

# The recogniser's own output; transcript.json is the published truth (after corrections).
MACHINE_TRANSCRIPT = "transcript.machine.json"


@dataclass
class Post:
    """Everything the page of one interview is made from."""

    card: Card
    prepared: media.Prepared
    transcript: Transcript
    provenance: dict
    transcript_folder: Path
    chapters: list = field(default_factory=list)  # filled by the chapters stage
    quotes: list = field(default_factory=list)  # filled by the quotes stage


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

        def hear(folder: Path) -> Heard:
            working.add(folder.name)
            return _hear(project, folder, site, force)

        heard = _in_parallel(hear, folders, jobs or os.cpu_count() or 1)
        for folder, hearing in zip(folders, heard):
            try:
                posts.append(_publish_one(project, hearing.result(), report))
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
        posts += _previously_published(project, site, slugs, report)
        render.render_site(project, site, posts)
        try:
            search.publish(project, site, posts, keep=report.failed)
        except PipelineError as e:  # the pages are written; only search is out of date
            report.failed["search index"] = e.message
            log.error("search: failed: %s", e.message)
    report.seconds = time.monotonic() - started
    report.site = project.site / "index.html"
    return report


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


def _in_parallel(work, items: list, jobs: int) -> list:
    """work(item) for every item, `jobs` at a time, each result (or error) in a Future. After
    Ctrl-C the CLI exits at once without waiting for the threads (every output is written
    atomically, so work cut short leaves nothing half-made)."""
    if jobs <= 1 or len(items) <= 1:  # one at a time, each when asked for: as before
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


@dataclass
class Heard:
    """What the expensive stages made of one interview."""

    card: Card
    fetched: fetch.Fetched
    prepared: media.Prepared
    out: Path
    machine: Transcript
    before: dict[str, int]  # when each expensive stage last ran, before this publish


def _hear(project: Project, folder: Path, site: Site, force: bool) -> Heard:
    """card -> fetch -> prepare -> transcribe -> speakers: the stages that cost minutes."""
    card = load_card(folder)
    before = _stage_stamps(project, card)
    fetched = fetch.fetch(card)
    prepared = media.prepare(card.folder, fetched.path, fetched.sha256,
                             youtube=fetch.is_youtube(card.source))
    out = project.transcript_folder(card.slug)
    machine = _transcribe(card, site, fetched, prepared, out, force)
    machine = speakers.label(card, prepared.audio, machine, out)
    return Heard(card, fetched, prepared, out, machine, before)


def _publish_one(project: Project, heard: Heard, report: Report) -> Post:
    """corrections -> export -> chapters and quotes, for an interview whose stages ran."""
    card, out = heard.card, heard.out
    transcript = _corrected(card, heard.machine, out)
    export.write_files(out, transcript, card.slug)
    post_chapters = chapters.build(card, transcript, out)
    post_quotes = quotes.build(card, transcript, out, archive=project.transcripts)
    after = _stage_stamps(project, card)
    report.work[card.slug] = [stage for stage in after if after[stage] != heard.before.get(stage)]
    return Post(card, heard.prepared, transcript, heard.fetched.provenance, out, post_chapters,
                post_quotes)


def _transcribe(card: Card, site: Site, fetched: fetch.Fetched, prepared: media.Prepared,
                out: Path, force: bool = False) -> Transcript:
    """The machine's transcript: skipped when source, audio settings and model are unchanged."""
    stamps, settings = Stamps(out), transcribe_settings(site, card)
    key = transcribe.stage_key(out, fetched.sha256, card.language, settings)
    path = out / MACHINE_TRANSCRIPT
    if not force and stamps.is_fresh("transcribe", key, [path]):
        return Transcript.from_dict(read_json(path))
    log.info("%s: transcribing %.0f s of audio with %s", card.slug, prepared.duration, settings.model)
    transcript = transcribe.transcribe(prepared.audio, settings, card.language, label=card.slug)
    if not transcript.segments:
        log.warning("%s: no speech found in %s; the post will say so", card.slug, fetched.path.name)
    write_json(path, transcript.to_dict())
    stamps.record("transcribe", key)
    if force and corrections.edited_transcript(out):
        beside = out / "transcript.retranscribed.txt"
        write_text(beside, export.WriteTXT().render(transcript))
        log.warning("%s: re-transcribed into %s; your corrected transcript.txt is kept and still "
                    "used. Copy what you want from the new file.", card.slug, beside)
    return transcript


def _corrected(card: Card, machine: Transcript, out: Path) -> Transcript:
    """The editor's corrected text when there is one: from then on it is the truth."""
    edited = corrections.edited_transcript(out)
    if not edited:
        return machine
    names = {card.interviewer, *card.guests} | {s.speaker for s in machine.segments if s.speaker}
    paragraphs = corrections.parse(edited.read_text(encoding="utf-8"), edited, names - {None, ""})
    log.info("%s: using the corrected %s (%d paragraphs)", card.slug, edited, len(paragraphs))
    return corrections.apply(machine, paragraphs)


def _stage_stamps(project: Project, card: Card) -> dict[str, int]:
    """When each expensive stage last ran: one whose time changed during the run did work."""
    stamps = {}
    for folder in (card.folder, project.transcript_folder(card.slug)):
        for stage in ("fetch", "prepare", "transcribe", "speakers"):
            if ran := Stamps(folder).ran_at(stage):
                stamps[stage] = ran
    return stamps


def _previously_published(project: Project, site: Site, slugs: tuple[str, ...],
                          report: Report) -> list[Post]:
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


def load_post(project: Project, folder: Path) -> Post:
    """A post as last published, from its stamps and files, without running any stage."""
    card = load_card(folder)
    prepared = media.last_prepared(folder)
    if prepared is None:
        raise KeyError("prepare")  # never published: not on the index
    out = project.transcript_folder(card.slug)
    transcript = Transcript.from_dict(read_json(out / "transcript.json"))
    return Post(card, prepared, transcript, read_json(folder / "provenance.json", {}), out,
                chapters.load(out), quotes.load(out))
