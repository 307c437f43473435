"""A project folder: media/ (cards and media), transcripts/, site/, optional site.yaml and
templates/. Commands work on the folder they are run in, like mkdocs or pelican."""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.config import CARD_NAME
from pipeline.errors import LockedError
from pipeline.files import within

@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def card_folders(self) -> list[Path]:
        """Every media/SLUG folder holding a card, in name order."""
        if not self.media.is_dir():
            return []
        return sorted(p.parent for p in self.media.glob(f"*/{CARD_NAME}"))

    def transcript_folder(self, slug: str) -> Path:
        """transcripts/SLUG, which must not be a link out of transcripts/."""
        folder = self.transcripts / slug
        within(folder, self.transcripts, "an interview's transcripts")
        return folder

    def page_folder(self, slug: str) -> Path:
        """site/SLUG, which must not be a link out of site/ (the build writes into it)."""
        folder = self.site / slug
        within(folder, self.site, "an interview's page folder")
        return folder

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the project's lock: two publishes at once would interleave their writes."""
        path = self.root / ".pipeline.lock"
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise LockedError(f"Another publish is running in {self.root} (process {holder}). "
                                  "Wait for it to finish, then run the command again.") from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
