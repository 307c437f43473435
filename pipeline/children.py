"""Child processes (ffmpeg, yt-dlp) that end with publish, however it ends.

A publish killed with SIGKILL cannot stop its children. Left running, an orphaned download or
encode would go on writing into the project while the next publish cleans up after it (seen:
a download that went on into the folder the next publish had just cleared, which yt-dlp made
again). So every child starts through this module (`python -m pipeline.children PID
COMMAND...`). It asks the kernel to kill it when publish goes (prctl's PR_SET_PDEATHSIG,
kept across exec), then checks that publish is still its parent, and only then becomes the
command. util-linux's `setpriv --pdeathsig`, used before, cannot make that check: a publish
killed in the instant between starting a child and the child's setting of the signal left
the child running all the same. Where prctl is missing (not Linux) the command runs plainly.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # prctl(2)


def tied(command: list[str]) -> list[str]:
    """`command`, to run so that it is killed when this process dies, and never starts when
    this process died before it could be tied."""
    return [sys.executable, "-m", "pipeline.children", str(os.getpid()), *command]


def _become(parent: int, command: list[str]) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: no death signal to set
        pass
    else:
        if os.getppid() != parent:  # publish died before the signal was set
            sys.exit(1)
    try:
        os.execvp(command[0], command)
    except OSError as e:  # as a shell says it, with its exit code
        print(f"{command[0]}: cannot run it: {e.strerror}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    _become(int(sys.argv[1]), sys.argv[2:])
