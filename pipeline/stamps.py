"""Stage stamps: skip a stage when nothing it was made from has changed.

Each stage records a key (a hash of its input files' contents, the settings that matter and
the tool versions) next to its outputs. A later run with the same key and all outputs
present does nothing. Content hashes, not modification times, decide; the size and mtime
only let us avoid re-reading a large unchanged file to hash it again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipeline.files import atomic_path, read_json, sha256_file, write_json


@functools.cache
def package_version(package: str) -> str:
    """An installed package's version, for stage keys (a new version re-runs the stage).
    Cached: reading package metadata costs about 2 ms, and every interview asks again."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


class Stamps:
    """The stamps of one folder (media/SLUG or transcripts/SLUG), kept in its .stamps/."""

    def __init__(self, folder: Path):
        self.dir = folder / ".stamps"
        self._hashes = None

    def digest(self, path: Path) -> str:
        """sha256 of a file, remembered by (size, mtime) so unchanged files are not re-read."""
        if self._hashes is None:
            self._hashes = read_json(self.dir / "hashes.json", {})
        stat = path.stat()
        seen = self._hashes.get(path.name)
        if seen and seen[:2] == [stat.st_size, stat.st_mtime_ns]:
            return seen[2]
        sha = sha256_file(path)
        self._hashes[path.name] = [stat.st_size, stat.st_mtime_ns, sha]
        write_json(self.dir / "hashes.json", self._hashes)
        return sha

    def remember(self, hashes: dict[Path, str]) -> None:
        """Record the hashes of files just written, so digest() need not read them back."""
        if self._hashes is None:
            self._hashes = read_json(self.dir / "hashes.json", {})
        for path, sha in hashes.items():
            stat = path.stat()
            self._hashes[path.name] = [stat.st_size, stat.st_mtime_ns, sha]
        write_json(self.dir / "hashes.json", self._hashes)

    def key(self, *, files: list[Path] = (), **settings) -> str:
        """A key from input file contents and settings (any JSON-able values)."""
        ingredients = {"files": [self.digest(f) for f in files], "settings": settings}
        return hashlib.sha256(json.dumps(ingredients, sort_keys=True, default=str).encode()).hexdigest()

    def is_fresh(self, stage: str, key: str, outputs: list[Path]) -> bool:
        """True when the stage last ran with this key and its outputs are all still there."""
        stamp = read_json(self.dir / f"{stage}.json", {})
        return stamp.get("key") == key and all(p.exists() for p in outputs)

    def record(self, stage: str, key: str, **details) -> None:
        """Remember that the stage finished with this key (written last, after its outputs)."""
        # Always rewritten, so its mtime tells that the stage ran (see `ran_at`).
        with atomic_path(self.dir / f"{stage}.json") as tmp:
            tmp.write_text(json.dumps({"key": key, **details}, indent=1) + "\n", encoding="utf-8")

    def ran_at(self, stage: str) -> int | None:
        """When the stage last finished (mtime of its stamp), or None."""
        try:
            return (self.dir / f"{stage}.json").stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def read(self, stage: str) -> dict:
        return read_json(self.dir / f"{stage}.json", {})
