"""The second opinion: the interview heard again by another recogniser, for the review queue.

Where two recognisers hear different words, one of them is wrong, and the confident
mistakes Whisper's word probability cannot show are among them: on the generated interviews
the words where tiny.en and base disagree are 8 % of the words and hold 73 % of tiny.en's
mistakes, where tiny.en's least sure 10 % hold 53 % (`python -m bench.review`).

Whisper base (multilingual) is the shipped one (pipeline.stages.models: two registry
packages, its model.bin joined once into the model cache, checked). It runs
through the transcribe stage's own windows, speech clips and checks, on the audio that
prepare made, and its words are kept in transcripts/SLUG/transcript.second.json with the key
they were made from (the audio's content, the model, the method), so each recording is heard
again once. It takes about a sixth of the recording's length on 2 busy cores; the studio
runs it in the background and the queue uses it once it is there.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import replace
from pathlib import Path

from pipeline.config import TranscribeSettings
from pipeline.files import read_json, write_json
from pipeline.model import Transcript, Word
from pipeline.stages import models
from pipeline.stamps import Stamps

log = logging.getLogger(__name__)

PACKAGES = models.BASE.packages
FILE = "transcript.second.json"
VERSION = 1  # part of the key: raise it when the second opinion should be heard again


def installed() -> bool:
    """True when both halves of the model are installed (the pipeline's own dependencies)."""
    return all(importlib.util.find_spec(p.replace("-", "_")) for p in PACKAGES)


def key(out: Path, audio: Path) -> str:
    """What the second opinion depends on: the audio's content, the model, the method."""
    from pipeline.stages.transcribe import METHOD

    return Stamps(out).key(files=[audio], models=models.versions(models.BASE.name),
                           method=METHOD, version=VERSION)


def load(out: Path, audio: Path) -> list[Word] | None:
    """The second recogniser's words for this recording, or None when it has not run yet."""
    data = read_json(out / FILE)
    if not data or not audio.is_file() or data.get("key") != key(out, audio):
        return None
    return [w for s in Transcript.from_dict(data["transcript"]).segments for w in s.words]


def run(out: Path, audio: Path, language: str, settings: TranscribeSettings, label: str = "") -> list[Word]:
    """Hear the recording again with Whisper base and keep its words (transcript.second.json)."""
    from pipeline.stages import transcribe

    found = load(out, audio)
    if found is not None:
        return found
    log.info("%s: a second recogniser (Whisper base) is listening, for the review queue", label)
    base = replace(settings, engine="faster-whisper", model=models.BASE.name)
    transcript = transcribe.transcribe(audio, base, language, label=label)
    write_json(out / FILE, {"key": key(out, audio), "model": "whisper base",
                            "transcript": transcript.to_dict()})
    return [w for s in transcript.segments for w in s.words]

