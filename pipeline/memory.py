"""What glibc's malloc keeps of freed memory (elsewhere these calls do nothing).

glibc holds on to memory a program has freed, to hand it out again quickly. After a
recording is transcribed that is hundreds of megabytes no later stage reuses, while the
voices of the same recording need as much again: on 2 hours with base the peak was the
sum of both.
"""

from __future__ import annotations

import ctypes
import functools
import os

# glibc's mallopt() parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


@functools.cache
def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc
        return None


def give_back_freed() -> None:
    """Return the freed heap to the system (after transcription: 590 MB of 1270 on 30 minutes
    with base)."""
    if _glibc():
        _glibc().malloc_trim(0)


@functools.cache
def keep_freed_for_reuse() -> None:
    """Undo, in a Dask worker, what the nanny does to malloc: it starts workers with
    MALLOC_TRIM_THRESHOLD_=65536, which also turns off glibc's growing mmap threshold, so
    every array of the audio, the spectrograms and the decoder's buffers was mapped from the
    kernel and unmapped again (`make bench`: 18 s of system time against 3 s in threads, the
    cluster 1.5x slower). Freed memory is kept for reuse instead, up to 256 MB."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not _glibc():
        return
    _glibc().mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest
    _glibc().mallopt(M_TRIM_THRESHOLD, 256 << 20)
