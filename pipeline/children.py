"""Child processes (ffmpeg, yt-dlp) that end with publish, however it ends.

A publish killed with SIGKILL cannot stop its children, so they are started under
util-linux's `setpriv --pdeathsig KILL`: the kernel kills them when publish goes (where
setpriv is missing they run plainly, as before). Otherwise an orphaned download or encode
would go on writing into the project while the next publish cleans up after it.

A publish killed in the instant between starting a child and the child's setting of that
signal leaves it running all the same (seen: a download that went on into the folder the
next publish had just cleared, which yt-dlp made again). Python children (yt-dlp) are
therefore started through this module, which sets the signal and then checks that publish
is still its parent before it runs anything.
"""

from __future__ import annotations

import ctypes
import functools
import os
import runpy
import shutil
import signal
import sys

PR_SET_PDEATHSIG = 1  # prctl(2)


def tied(command: list[str]) -> list[str]:
    """`command`, to run so that it is killed when this process dies."""
    return [_setpriv(), "--pdeathsig", "KILL", "--", *command] if _setpriv() else command


def tied_python(module: str, args: list[str]) -> list[str]:
    """`python -m module args`, to run so that it is killed when this process dies, and
    never starts when this process died before it could be tied (Linux; elsewhere plainly)."""
    return [sys.executable, "-m", "pipeline.children", str(os.getpid()), module, *args]


@functools.cache
def _setpriv() -> str | None:
    return shutil.which("setpriv")


def _run_tied(parent: int, module: str, args: list[str]) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: no death signal to set
        pass
    else:
        if os.getppid() != parent:  # publish died before the signal was set
            sys.exit(1)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _run_tied(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
