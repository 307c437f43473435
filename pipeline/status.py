"""Status: where each interview stands, without doing any work.

For each stage: done, stale (its inputs changed since it ran), not run yet, or failed;
whether the transcript was corrected by hand; what publish would run next; the last error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import load_card, load_site, transcribe_settings
from pipeline.errors import PipelineError
from pipeline.files import read_json
from pipeline.project import Project
from pipeline.stages import corrections, fetch, prepare, stamps_of, transcribe

STAGES = ("fetch", "prepare", "transcribe")


@dataclass
class InterviewStatus:
    slug: str
    stages: dict[str, str] = field(default_factory=dict)
    transcript: str = "none"  # none, machine-made, corrected by hand
    next: str = "nothing"
    error: str | None = None


def status(project: Project) -> list[InterviewStatus]:
    """The state of every interview in the project."""
    site = load_site(project.root)
    return [_one(project, folder, site) for folder in project.card_folders()]


def _one(project: Project, folder: Path, site) -> InterviewStatus:
    result = InterviewStatus(folder.name)
    result.error = read_json(folder / ".stamps" / "failed.json", {}).get("error")
    try:
        card = load_card(folder)
    except PipelineError as e:
        result.stages = {stage: "blocked" for stage in STAGES}
        result.next, result.error = "fix the card", e.message
        return result
    out = project.transcript_folder(card.slug)
    source_sha = fetch.source_digest(card)
    keys = {
        "fetch": fetch.stage_key(card) if card.is_url else None,
        "prepare": source_sha and prepare.stage_key(folder, source_sha, fetch.is_youtube(card.source)),
        "transcribe": source_sha and transcribe.stage_key(
            out, source_sha, card.language, transcribe_settings(site, card)),
    }
    for stage in STAGES:
        stamp = stamps_of(project, card.slug, stage).read(stage)
        if stage == "fetch" and not card.is_url:
            state = "local files" if card.sources else "local file"
        elif not stamp:
            state = "not run"
        else:
            state = "done" if stamp.get("key") == keys[stage] else "stale"
        result.stages[stage] = state
    if result.error:
        failed = next((s for s in STAGES if result.stages[s] in ("not run", "stale")), "transcribe")
        result.stages[failed] = "failed"
    result.next = next((s for s in STAGES if result.stages[s] in ("not run", "stale", "failed")), "nothing")
    txt = out / "transcript.txt"
    result.transcript = ("corrected by hand" if corrections.edited_transcript(out)
                         else "machine-made" if txt.exists() else "none")
    return result
