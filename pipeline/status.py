"""Status: where each interview stands, without doing any work.

For every stage, in the order publish runs them: done, stale (its inputs changed since it
ran), not run yet, waiting (it depends on what an earlier stage will make), or failed. Each
stage is compared by the key it would record now (its own stage_key), against the transcript
publish would make now (the machine's words, named from the card, with the editor's
corrections), so "done" means publish would skip it. corrections says whether there are
hand edits and whether they are published. Also: which edited files are not published yet,
the review (reviewed or not, places the studio's queue still holds, the last edit), what
publish would run next, and the last error.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Card, glossary, load_card, load_site, transcribe_settings
from pipeline.errors import PipelineError
from pipeline.files import read_json
from pipeline.model import Transcript
from pipeline.project import Project
from pipeline.stages import (PUBLISHED_CARD, chapters, corrections, fetch, prepare, quotes,
                             speakers, stamps_of, transcribe)
from pipeline.stages import voiceprints as voiceprint_registry
from pipeline.stamps import Stamps

STAGES = ("fetch", "prepare", "transcribe", "speakers", "corrections", "export", "chapters", "quotes")
TO_RUN = ("not run", "stale", "failed", "to publish")  # what makes a stage publish's next


@dataclass
class InterviewStatus:
    slug: str
    title: str = ""
    stages: dict[str, str] = field(default_factory=dict)
    transcript: str = "none"  # none, machine-made, corrected by hand
    unpublished: list[str] = field(default_factory=list)  # edited files publish has not used yet
    reviewed: bool = False
    to_check: int | None = None  # places left in the studio's review queue (None: nothing heard yet)
    last_edit: str | None = None  # when the editor's transcript.txt or the card last changed
    next: str = "nothing"
    error: str | None = None


def status(project: Project) -> list[InterviewStatus]:
    """The state of every interview in the project."""
    site = load_site(project.root)
    return [one(project, folder, site) for folder in project.card_folders()]


def one(project: Project, folder: Path, site, count: bool = True) -> InterviewStatus:
    """The state of the interview whose card is in `folder`; `count`: also the places its
    review queue holds (which loads its transcript)."""
    result = InterviewStatus(folder.name)
    result.error = read_json(folder / ".stamps" / "failed.json", {}).get("error")
    try:
        card = load_card(folder)
    except PipelineError as e:
        result.stages = {stage: "blocked" for stage in STAGES}
        result.next, result.error = "fix the card", e.message
        return result
    result.title, result.reviewed = card.title, card.reviewed
    out = project.transcript_folder(card.slug)
    result.stages = _early_stages(project, card, out, site)
    try:
        if all(state in ("done", "local file", "local files") for state in result.stages.values()):
            result.stages.update(_later_stages(project, card, out, site))
    except PipelineError as e:  # the editor's transcript.txt cannot be read: say so before publish does
        result.stages["corrections"], result.error = "failed", e.message
    for stage in STAGES:
        result.stages.setdefault(stage, "waiting")
    if result.error and not any(state == "failed" for state in result.stages.values()):
        failed = next((s for s in STAGES if result.stages[s] in ("not run", "stale", "waiting")), "transcribe")
        result.stages[failed] = "failed"
    result.next = next((s for s in STAGES if result.stages[s] in TO_RUN), "nothing")
    txt = out / corrections.EDITABLE
    edited = corrections.edited_transcript(out) is not None
    result.transcript = "corrected by hand" if edited else "machine-made" if txt.exists() else "none"
    if result.stages["corrections"] == "to publish":
        result.unpublished.append(str(txt.relative_to(project.root)))
    if _card_changed(card):
        result.unpublished.append(str(card.path.relative_to(project.root)))
    result.last_edit = _last_edit([txt, card.path] if edited else [card.path])
    if count and result.stages["speakers"] in ("done", "stale") and result.stages["corrections"] != "failed":
        result.to_check = to_check(project, card)
    return result


def _early_stages(project: Project, card: Card, out: Path, site) -> dict[str, str]:
    """fetch, prepare and transcribe, each by its stage key."""
    source_sha = fetch.source_digest(card)
    keys = {
        "fetch": lambda: fetch.stage_key(card),
        "prepare": lambda: source_sha and prepare.stage_key(card.folder, source_sha,
                                                            fetch.is_youtube(card.source)),
        "transcribe": lambda: source_sha and transcribe.stage_key(
            out, source_sha, card.language, transcribe_settings(site, card)),
    }
    states = {}
    for stage, key in keys.items():
        stamp = stamps_of(project, card.slug, stage).read(stage)
        if stage == "fetch" and not card.is_url:
            states[stage] = "local files" if card.sources else "local file"
        elif not stamp:
            states[stage] = "not run"
        else:
            states[stage] = "done" if stamp.get("key") == key() else "stale"
    return states


def _later_stages(project: Project, card: Card, out: Path, site) -> dict[str, str]:
    """speakers to quotes, by the keys they would record for the transcript that publish
    would make now; those that depend on a stage that must run first are left out (waiting)."""
    from pipeline.studio.document import machine_transcript

    raw = read_json(out / transcribe.MACHINE_TRANSCRIPT)
    prepared = prepare.last_prepared(card.folder)
    if raw is None or prepared is None:
        return {}
    machine = Transcript.from_dict(raw)
    stamp = Stamps(out).read("speakers")
    voiceprints = voiceprint_registry.project_folder(project.root, site.voiceprints)
    if machine.segments and stamp.get("key") != speakers.stage_key(card, prepared, machine, out, voiceprints):
        return {"speakers": "stale" if stamp else "not run"}
    states = {"speakers": "done"}
    named = machine_transcript(out, card)
    edited = corrections.corrected(card, named, out) if machine.segments else None
    published = edited or named
    exported = Stamps(out).read("export").get("transcript") == published.digest()
    states["corrections"] = "no edits" if edited is None else "done" if exported else "to publish"
    states["export"] = "done" if exported else "stale" if Stamps(out).read("export") else "not run"
    keys = {"chapters": lambda: chapters.stage_key(card, published, out, site.language),
            "quotes": lambda: quotes.stage_key(card, published, out, glossary(site, card))}
    for stage, key in keys.items():
        stamp = Stamps(out).read(stage)
        states[stage] = "done" if stamp.get("key") == key() else "stale" if stamp else "not run"
    return states


def to_check(project: Project, card: Card) -> int | None:
    """How many places the studio's review queue still holds (None before a transcript)."""
    from pipeline.studio import document, review

    try:
        return len(review.queue(document.load(project, card)))
    except PipelineError:
        return None


def _card_changed(card: Card) -> bool:
    """The card differs from the one the interview last published with."""
    kept = card.folder / ".stamps" / PUBLISHED_CARD
    return kept.is_file() and kept.read_bytes() != card.path.read_bytes()


def _last_edit(files: list[Path]) -> str | None:
    times = [p.stat().st_mtime for p in files if p.is_file()]
    if not times:
        return None
    return datetime.datetime.fromtimestamp(max(times)).strftime("%Y-%m-%d %H:%M")

