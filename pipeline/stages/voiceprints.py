"""Voice prints: the people of the archive, recognised by voice in later interviews.

Once a person is named in an interview (by its card, or by an editor's correction of its
transcript.txt), the mean of their voice's embeddings is kept as their voice print in
`voiceprints/SLUG.json` at the project root, beside the voices of that interview. When the
speakers stage names the voices of another interview, each person known from the others is
looked for among its voices: a host who interviews many guests is named by voice, not by who
speaks first, and the log says who was recognised and how sure.

Voice prints are biometric data. They stay in the project folder (never in site/, never in a
feed), are not committed by the project's .gitignore, and `voiceprints: false` in site.yaml
turns them off: nothing is then written or read (delete the folder to remove old ones).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.files import read_json, write_text

log = logging.getLogger(__name__)

FOLDER = "voiceprints"


def project_folder(root: Path, keep: bool) -> Path | None:
    """Where a project keeps its voice prints (None: site.yaml's `voiceprints` turned them off)."""
    return root / FOLDER if keep else None
# Cosine similarity of two voice prints of one person in different recordings over the same
# kind of line, measured on the generated interviews (the same espeak voice): 0.973 to 0.993;
# of different people 0.62 to 0.957 (two espeak men of neighbouring variants). So a card's
# person is recognised at 0.965 or more, and only when no other voice of the interview is
# within MARGIN of it; someone not on the card (an unnamed voice) only at SURE. The same
# person over a telephone line measured 0.85 against their studio print: a line that
# different is not recognised (the card's roles name the voices then).
SAME_PERSON = 0.965
MARGIN = 0.02
SURE = 0.975
MIN_SECONDS = 5.0  # a voice heard less than this gives no voice print
_UNNAMED = re.compile(r"^Speaker \d+$")


@dataclass
class Recognised:
    name: str
    similarity: float
    runner_up: float  # the next most similar voice of this interview (or -1)


class Registry:
    """The voice prints of one project (None folder: turned off)."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @property
    def on(self) -> bool:
        return self.folder is not None

    def people(self, except_slugs: set[str]) -> dict[str, np.ndarray]:
        """Every named person's voice print from the other interviews (weighted by speech)."""
        sums: dict[str, np.ndarray] = {}
        for path in sorted(self.folder.glob("*.json")) if self.on and self.folder.is_dir() else []:
            if path.stem in except_slugs:
                continue
            data = read_json(path, {})
            for voice, name in data.get("names", {}).items():
                vector = data.get("voices", {}).get(voice)
                seconds = data.get("seconds", {}).get(voice, 0.0)
                if vector and seconds >= MIN_SECONDS and is_person(name):
                    sums[name] = sums.get(name, 0) + seconds * np.asarray(vector, dtype=np.float64)
        return {name: _unit(total) for name, total in sums.items()}

    def voices(self, slug: str) -> dict[str, np.ndarray]:
        """This interview's own voice prints (voice id -> print), as last remembered."""
        data = read_json(self.folder / f"{slug}.json", {}) if self.on else {}
        return {voice: np.asarray(vector) for voice, vector in data.get("voices", {}).items()}

    def keep(self, slug: str, prints: dict[str, list[float]], seconds: dict[str, float]) -> None:
        """Keep this interview's voice prints (who they are is not known yet)."""
        if self.on:
            _write(self.folder / f"{slug}.json", {"voices": prints, "seconds": seconds, "names": {}})

    def name(self, slug: str, names: dict[str, str]) -> None:
        """Record who this interview's voices are (only real names count)."""
        path = self.folder / f"{slug}.json" if self.on else None
        data = read_json(path, {}) if path else {}
        named = {voice: name for voice, name in names.items() if is_person(name) and voice in data.get("voices", {})}
        if data and data.get("names") != named:
            _write(path, {**data, "names": named})

    def path(self, slug: str) -> Path | None:
        return self.folder / f"{slug}.json" if self.on else None

    def recognise(self, slug: str, card_people: list[str], unsettled: set[str] = frozenset()) -> dict[str, Recognised]:
        """Voice id -> who it is, for the voices of this interview that sound like someone
        known from the others (but the `unsettled` ones): the card's people when sure
        enough, anyone else only when very sure. Each person and each voice at most once,
        the most alike pairs first."""
        voices, people = self.voices(slug), self.people({slug, *unsettled})
        if not voices or not people:
            return {}
        ids = list(voices)
        similarity = {(v, p): float(voices[v] @ print_) for v in ids for p, print_ in people.items()}
        found: dict[str, Recognised] = {}
        for (voice, person), value in sorted(similarity.items(), key=lambda kv: -kv[1]):
            if voice in found or person in {r.name for r in found.values()}:
                continue
            others = [similarity[(v, person)] for v in ids if v != voice]
            runner_up = max(others, default=-1.0)
            needed = SAME_PERSON if person in card_people else SURE
            if value >= needed and value - runner_up >= MARGIN:
                found[voice] = Recognised(person, round(value, 3), round(runner_up, 3))
        return found


def is_person(name: str | None) -> bool:
    """A real name, not the placeholder of a voice nobody named."""
    return bool(name) and not _UNNAMED.match(name)


def _write(path: Path, data: dict) -> None:
    """One line: 256 numbers a voice would be 256 lines pretty-printed."""
    write_text(path, json.dumps(data, ensure_ascii=False) + "\n")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), 1e-12)
