"""Whether the machine was busy while a benchmark timed something: the CPU other processes
used meanwhile, from /proc/stat (the load average lags: a run at full speed leaves the next
one starting at 2 on 2 cores)."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from pathlib import Path


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), or 0 where
    there is no /proc."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# A run during which other processes used more than this share of one core is flagged busy;
# runs shorter than SHORTEST_JUDGED seconds are not judged.
OTHERS_AT_MOST = 0.2
SHORTEST_JUDGED = 1.0


def others_share(busy_before: float, own_cpu: float, wall: float) -> float | None:
    """The share of one core other processes used over `wall` seconds (all busy CPU since
    busy_before less `own_cpu`); None when it cannot be judged: no /proc/stat, or a run
    shorter than SHORTEST_JUDGED (/proc/stat counts hundredths of a second)."""
    if not busy_before or wall < SHORTEST_JUDGED:
        return None
    return max(0.0, busy_cpu_seconds() - busy_before - own_cpu) / wall


@contextlib.contextmanager
def others_watched(result: dict):
    """Around timings made in this process: put into `result` the share of a core other
    processes used meanwhile ('others') and 'busy' above OTHERS_AT_MOST (this process's CPU
    and its waited-for children's are its own). Not for timings with a browser: on an idle
    machine the reader benchmark read 0.81 of a core as others, Chromium's own processes
    (started by Playwright's driver) not all being counted as this process's."""
    def own() -> float:
        return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                     resource.getrusage(resource.RUSAGE_CHILDREN)))

    busy_before, own_before, started = busy_cpu_seconds(), own(), time.monotonic()
    yield result
    share = others_share(busy_before, own() - own_before, time.monotonic() - started)
    if share is not None:
        result.update(others=round(share, 2), busy="BUSY" if share > OTHERS_AT_MOST else "")
