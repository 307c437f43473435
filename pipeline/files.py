"""Atomic writes and content hashes, shared by every stage.

An interrupted run must leave the last good output, never half a file: everything is
written to a temporary file in the same folder and then renamed over the target.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp-{target.suffix.lstrip('.')}",
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    # mkstemp makes the file private (0600); published files must be readable like any
    # other file the user creates, so apply the usual umask instead.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> bool:
    """Write atomically; skip the write (keeping the mtime) when nothing changed."""
    if target.exists() and target.read_bytes() == data:
        return False
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return True


def write_text(target: Path, text: str) -> bool:
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, data) -> bool:
    """Write JSON atomically, pretty-printed and stable so diffs stay readable."""
    return write_text(target, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def read_json(path: Path, default=None):
    """Read JSON, or return `default` when the file is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def copy_file(source: Path, target: Path) -> None:
    """Copy atomically (a hard link when possible: site media need not take double space)."""
    if target.exists() and os.path.samefile(source, target):
        return
    with atomic_path(target) as tmp:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


def sha256_file(path: Path) -> str:
    """Content hash of a file, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
