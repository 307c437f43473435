"""`pipeline export`: every turn of every published interview (or every word, with its time
and the recogniser's probability) as CSV or JSON lines, for R, pandas, spreadsheets and
concordancers. The rows are the database's (rows.py), read from the published transcripts.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.config import CARD_NAME, load_card
from pipeline.errors import PipelineError
from pipeline.files import read_json
from pipeline.links import moment_url, page_url
from pipeline.model import Transcript
from pipeline.search.rows import page_turns

TURN_FIELDS = ["slug", "title", "date", "speaker", "start", "end", "text", "url"]
WORD_FIELDS = ["slug", "title", "date", "speaker", "turn_start", "index", "word", "start", "end",
               "probability", "url"]


@dataclass
class Published:
    """One interview as published: its card and its transcript."""

    card: object
    transcript: Transcript


def published(project, slugs: tuple[str, ...] = ()) -> tuple[list[Published], list[str]]:
    """The published interviews (newest first), and a problem for each one that cannot be read."""
    folders = project.card_folders()
    known = {f.name for f in folders}
    problems = [f"no interview card at {project.media / s / CARD_NAME}" for s in slugs if s not in known]
    found = []
    for folder in folders:
        if slugs and folder.name not in slugs:
            continue
        path = project.transcript_folder(folder.name) / "transcript.json"
        if not path.is_file():
            if slugs:
                problems.append(f"{folder.name} is not published yet: run `pipeline publish {folder.name}`")
            continue
        try:
            card = load_card(folder)
            transcript = Transcript.from_dict(read_json(path))
        except PipelineError as e:
            problems.append(e.message)
            continue
        except (TypeError, KeyError, AttributeError) as e:
            problems.append(f"{path} is not a transcript this version can read ({e}); run `pipeline publish`")
            continue
        found.append(Published(card, transcript))
    found.sort(key=lambda p: (p.card.date, p.card.slug), reverse=True)
    return found, problems


def turn_records(interviews: list[Published], base_url: str, words: bool = False) -> Iterator[dict]:
    """One dict per turn (with its words when asked): the export's rows."""
    for item in interviews:
        card, page = item.card, page_url(base_url, item.card.slug)
        for turn in page_turns(item.transcript):
            record = {"slug": card.slug, "title": card.title, "date": card.date.isoformat(),
                      "speaker": turn.speaker, "start": round(turn.start, 2), "end": round(turn.end, 2),
                      "text": turn.text, "url": moment_url(page, turn.start, turn.end, turn.anchor)}
            if words:
                record["words"] = [{"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3),
                                    "probability": round(w.probability, 4),
                                    "url": moment_url(page, w.start, turn=turn.anchor)}
                                   for w in turn.words if w.word.strip()]
            yield record


def as_jsonl(records: Iterator[dict]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"


def as_csv(records: Iterator[dict], words: bool = False) -> Iterator[str]:
    """CSV with a header: a row per turn, or (words) a row per word with its turn's columns."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=WORD_FIELDS if words else TURN_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        if words:
            for n, word in enumerate(record["words"]):
                writer.writerow({"slug": record["slug"], "title": record["title"], "date": record["date"],
                                 "speaker": record["speaker"], "turn_start": record["start"], "index": n,
                                 **word})
        else:
            writer.writerow(record)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def write(lines: Iterator[str], target: Path | None, stream) -> int:
    """Write to `target` atomically (or to `stream`); returns the number of characters."""
    from pipeline.files import atomic_path

    count = 0
    if target is None:
        for line in lines:
            stream.write(line)
            count += len(line)
        return count
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        for line in lines:
            f.write(line)
            count += len(line)
    return count
