"""Files, shared by every stage: atomic writes, content hashes, editors' text files, and
the rule that no link leads a read or a write out of the project.

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

from pipeline.errors import PipelineError


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
    """Read JSON the pipeline wrote, or return `default` when the file is missing or
    unreadable. The pipeline never writes a link, so a link here is refused, not followed."""
    if path.is_symlink():
        raise PipelineError(f"{path} is a link, but the pipeline writes its own files there, "
                            "never links: delete it and publish again.")
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


def read_editor_text(path: Path) -> str:
    """A text file an editor wrote (a card, site.yaml, transcript.txt): UTF-8, with or without
    the byte-order mark some editors put first. Anything else is a clear PipelineError."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data.count(b"\0") > len(data) // 4:
            found = "UTF-16 text"
        else:
            found = f"not UTF-8 text (byte {e.start + 1} is 0x{data[e.start]:02x}; perhaps Latin-1 or Windows-1252)"
        raise PipelineError(f"{path}: the file is {found}. Save it as UTF-8 (in most editors: "
                            "Save As, then Encoding: UTF-8) and publish again; nothing was "
                            "changed.") from None


def within(path: Path, root: Path, what: str = "") -> Path:
    """`path` with its links resolved, which must lie inside `root` (also resolved): a link
    out of the project would let a build publish any file it can read, or write anywhere."""
    resolved, top = path.resolve(), root.resolve()
    if resolved != top and top not in resolved.parents:
        raise PipelineError(f"{path}{f' ({what})' if what else ''} is a link to {resolved}, outside "
                            f"{root}, and links out of it are never followed (they could publish "
                            "any file this machine can read). Put the file itself there.")
    return resolved
