"""Child processes (ffmpeg, yt-dlp) that end with publish, however it ends.

A publish killed with SIGKILL cannot stop its children, so they are started under
util-linux's `setpriv --pdeathsig KILL`: the kernel kills them when publish goes (where
setpriv is missing they run plainly, as before). Otherwise an orphaned download or encode
would go on writing into the project while the next publish cleans up after it.
"""

from __future__ import annotations

import functools
import shutil


def tied(command: list[str]) -> list[str]:
    """`command`, to run so that it is killed when this process dies."""
    return [_setpriv(), "--pdeathsig", "KILL", "--", *command] if _setpriv() else command


@functools.cache
def _setpriv() -> str | None:
    return shutil.which("setpriv")
