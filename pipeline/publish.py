"""Publish: run every stage for every interview, then build the site.

Reads as the data flow: card -> fetch -> prepare -> transcribe -> speakers -> export -> render.
One interview failing is recorded and the others still publish; the caller decides what
to print and which exit code to give.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import export, fetch, media, render, speakers, transcribe
from pipeline.cache import Stamps
from pipeline.config import Card, Site, load_card, load_site
from pipeline.errors import PipelineError
from pipeline.files import read_json, sha256_text, write_json, write_text
from pipeline.model import Transcript
from pipeline.project import Project

log = logging.getLogger(__name__)


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
    """Ctrl-C during a publish: says which interview was cut short and what had finished."""

    def __init__(self, slug: str, report: Report):
        super().__init__(slug)
        self.slug, self.report = slug, report


def publish(project: Project, slugs: tuple[str, ...] = ()) -> Report:
    """Publish the named interviews (all when none are named) and rebuild the site."""
    started = time.monotonic()
    site = load_site(project.root)
    report, posts = Report(), []
    folders = _select(project, slugs, report)
    with project.lock():
        for folder in folders:
            try:
                posts.append(_publish_one(project, folder, site, report))
                report.published.append(folder.name)
            except KeyboardInterrupt:
                raise Interrupted(folder.name, report) from None
            except PipelineError as e:
                report.failed[folder.name] = e.message
                log.error("%s: failed: %s", folder.name, e.message)
            except Exception as e:  # a bug must not block the other interviews either
                log.exception("%s: failed with an internal error", folder.name)
                report.failed[folder.name] = f"internal error: {type(e).__name__}: {e}"
        posts += _previously_published(project, site, slugs, report)
        render.render_site(project, site, posts)
    report.seconds = time.monotonic() - started
    report.site = project.site / "index.html"
    return report


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


def _publish_one(project: Project, folder: Path, site: Site, report: Report) -> Post:
    card = load_card(folder)
    work = report.work.setdefault(card.slug, [])
    before = _stage_stamps(project, card)
    fetched = fetch.fetch(card)
    prepared = media.prepare(card.folder, fetched.path, fetched.sha256,
                             youtube=fetch.is_youtube(card.source))
    out = project.transcript_folder(card.slug)
    transcript = _transcribe(card, site, fetched, prepared, out)
    transcript = speakers.label(card, prepared.audio, transcript, out)
    _export(card, transcript, out)
    after = _stage_stamps(project, card)
    work += [stage for stage in after if after[stage] != before.get(stage)]
    return Post(card, prepared, transcript, fetched.provenance, out)


def _transcribe(card: Card, site: Site, fetched: fetch.Fetched, prepared: media.Prepared,
                out: Path) -> Transcript:
    """The transcribe stage: skipped when source, audio settings and model are unchanged."""
    stamps = Stamps(out)
    settings = site.transcribe
    key = stamps.key(source=fetched.sha256, audio=media.SETTINGS["rate"], language=card.language,
                     settings=settings.__dict__, identity=transcribe.model_identity(settings))
    path = out / "transcript.json"
    if stamps.is_fresh("transcribe", key, [path]):
        return Transcript.from_dict(read_json(path))
    log.info("%s: transcribing %.0f s of audio with %s", card.slug, prepared.duration, settings.model)
    transcript = transcribe.transcribe(prepared.audio, settings, card.language, label=card.slug)
    if not transcript.segments:
        log.warning("%s: no speech found in %s; the post will say so", card.slug, fetched.path.name)
    write_json(path, transcript.to_dict())
    stamps.record("transcribe", key)
    return transcript


def _export(card: Card, transcript: Transcript, out: Path) -> None:
    """Write captions and text; never overwrite a file an editor has changed."""
    stamps = Stamps(out)
    written = stamps.read("export").get("files", {})
    for name, text in export.render_all(transcript).items():
        target = out / name
        if target.exists() and written.get(name) and sha256_text(target.read_text("utf-8")) != written[name]:
            if sha256_text(text) != written[name]:
                log.warning("%s: %s was edited by hand; keeping the edit, not overwriting it",
                            card.slug, target)
            continue
        write_text(target, text)
        written[name] = sha256_text(text)
    stamps.record("export", "", files=written)


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
            posts.append(_cached_post(project, folder))
        except (PipelineError, KeyError, TypeError, OSError):
            continue  # never published yet: it simply is not on the index
    return posts


def _cached_post(project: Project, folder: Path) -> Post:
    card = load_card(folder)
    prepared = media._from_dict(folder, Stamps(folder).read("prepare")["result"])
    out = project.transcript_folder(card.slug)
    transcript = Transcript.from_dict(read_json(out / "transcript.json"))
    return Post(card, prepared, transcript, read_json(folder / "provenance.json", {}), out)
